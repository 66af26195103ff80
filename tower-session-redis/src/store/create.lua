-- Write a new session: replace whatever the key held, set the fields, expire it with its
-- refresh token. One key, so one slot: atomic on a single node and on a cluster.
-- KEYS[1] session key; ARGV[1] expiry (ms since the epoch); ARGV[2..] field, value, ...
local key = KEYS[1]
redis.call('DEL', key)
redis.call('HSET', key, unpack(ARGV, 2))
redis.call('PEXPIREAT', key, ARGV[1])
return 1
