-- Revoke one session.
-- KEYS[1] session key; ARGV[1] now (ms); ARGV[2] '1' to revoke only if the session
-- belongs to ARGV[3], '0' otherwise.
-- Returns {0} when there was no live session (an expired one is deleted too),
-- {1, user} when a live session was revoked.
local key = KEYS[1]
local f = redis.call('HMGET', key, 'v', 'e', 'u')
if not f[1] then return {0} end
-- Layout 1 sessions (refused everywhere else) can still be revoked.
if f[1] ~= '1' and f[1] ~= '2' then return redis.error_reply('TSR_CORRUPT unknown session layout version') end
local e = tonumber(f[2])
if not e or type(f[3]) ~= 'string' then return redis.error_reply('TSR_CORRUPT malformed session') end
if ARGV[2] == '1' and f[3] ~= ARGV[3] then return {0} end
redis.call('DEL', key)
if e <= tonumber(ARGV[1]) then return {0} end
return {1, f[3]}
