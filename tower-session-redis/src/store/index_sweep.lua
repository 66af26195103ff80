-- Drop the members of a user index that are certainly expired; return the others.
-- KEYS[1] user index key; ARGV[1] now (ms).
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
