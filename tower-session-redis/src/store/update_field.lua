-- Replace one JSON field of one live session: its payload (`p`) or its session data (`d`).
-- KEYS[1] session key; ARGV[1] the JSON object; ARGV[2] now (ms); ARGV[3] the field, 'p' or 'd'.
-- Returns 1 when updated, 0 when there is no live session (or one of layout 1, refused).
local key = KEYS[1]
local field = ARGV[3]
if field ~= 'p' and field ~= 'd' then return redis.error_reply('TSR_BAD_FIELD ' .. tostring(field)) end
local f = redis.call('HMGET', key, 'v', 'e')
if not f[1] then return 0 end
if f[1] == '1' then return 0 end
if f[1] ~= '2' then return redis.error_reply('TSR_CORRUPT unknown session layout version') end
local e = tonumber(f[2])
if not e then return redis.error_reply('TSR_CORRUPT malformed session') end
if e <= tonumber(ARGV[2]) then
  redis.call('DEL', key)
  return 0
end
redis.call('HSET', key, field, ARGV[1])
return 1
