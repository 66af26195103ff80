-- Promote a child to the head of one session.
-- KEYS[1] session key; ARGV[1] parent hash, ARGV[2] child hash, ARGV[3] now (ms),
-- ARGV[4] max retired.
-- Returns 0 unauthorised (or gone), 1 promoted, 2 already promoted.
local key = KEYS[1]
local f = redis.call('HMGET', key, 'v', 'e', 'h', 'c', 'r')
if not f[1] then return 0 end
if f[1] ~= '1' then return redis.error_reply('TSR_CORRUPT unknown session layout version') end
local e = tonumber(f[2])
if not e or type(f[3]) ~= 'string' or type(f[4]) ~= 'string' or type(f[5]) ~= 'string' then
  return redis.error_reply('TSR_CORRUPT malformed session')
end
if e <= tonumber(ARGV[3]) then
  redis.call('DEL', key)
  return 0
end
local head = f[3]
if head == ARGV[2] then return 2 end
if head ~= ARGV[1] then return 0 end
local found = false
for _, v in ipairs(cjson.decode(f[4])) do
  if v == ARGV[2] then found = true break end
end
if not found then return 0 end
local retired = cjson.decode(f[5])
if #retired >= tonumber(ARGV[4]) then table.remove(retired, 1) end
table.insert(retired, head)
redis.call('HSET', key, 'h', ARGV[2], 'c', '[]', 'r', cjson.encode(retired))
return 1
