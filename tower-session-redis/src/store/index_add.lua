-- Record a session in its user's index (a sorted set: member = handle, score = a time
-- at or after which the session is certainly expired), drop members that are certainly
-- expired, and let the index key expire with its last member.
-- KEYS[1] user index key; ARGV[1] handle; ARGV[2] score (ms); ARGV[3] now (ms).
local key = KEYS[1]
local current = redis.call('ZSCORE', key, ARGV[1])
if not current or tonumber(current) < tonumber(ARGV[2]) then
  redis.call('ZADD', key, ARGV[2], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if top[2] then redis.call('PEXPIREAT', key, top[2]) end
return 1
