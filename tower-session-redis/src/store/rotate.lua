-- Rotate a refresh token of one session (see the module docs of `store`).
-- KEYS[1] session key
-- ARGV[1] presented hash, ARGV[2] new child hash, ARGV[3] new expiry (ms),
-- ARGV[4] now (ms), ARGV[5] max children, ARGV[6] max retired,
-- ARGV[7] index horizon to record when the expiry passes the current one (ms)
-- Returns {0} gone, {1} unknown token, {2, user} theft (session deleted),
-- {3, user, tenant, payload or nil, bump} rotated (bump = 1: the user index must be
-- extended).
local key = KEYS[1]
local f = redis.call('HMGET', key, 'v', 'e', 'h', 'c', 'r', 'x', 'u', 'p', 't')
if not f[1] then return {0} end
if f[1] ~= '1' then return redis.error_reply('TSR_CORRUPT unknown session layout version') end
local e = tonumber(f[2])
if not e or type(f[3]) ~= 'string' or type(f[4]) ~= 'string' or type(f[5]) ~= 'string' or type(f[7]) ~= 'string' or type(f[9]) ~= 'string' then
  return redis.error_reply('TSR_CORRUPT malformed session')
end
if e <= tonumber(ARGV[4]) then
  redis.call('DEL', key)
  return {0}
end
local presented = ARGV[1]
local head = f[3]
local children = cjson.decode(f[4])
local retired = cjson.decode(f[5])
local function contains(list, x)
  for _, v in ipairs(list) do
    if v == x then return true end
  end
  return false
end
-- JSON array of hashes ('[]' when empty: cjson would write '{}').
local function encode(list)
  if #list == 0 then return '[]' end
  return cjson.encode(list)
end
if head == presented then
  if #children >= tonumber(ARGV[5]) then table.remove(children, 1) end
  table.insert(children, ARGV[2])
elseif contains(children, presented) then
  -- Promotion: the other children, then the old head, are retired (oldest dropped first).
  for _, v in ipairs(children) do
    if v ~= presented then table.insert(retired, v) end
  end
  table.insert(retired, head)
  local max = tonumber(ARGV[6])
  if #retired > max then
    local kept = {}
    for i = #retired - max + 1, #retired do kept[#kept + 1] = retired[i] end
    retired = kept
  end
  head = presented
  children = {ARGV[2]}
elseif contains(retired, presented) then
  redis.call('DEL', key)
  return {2, f[7]}
else
  return {1}
end
local bump = 0
local x = tonumber(f[6]) or 0
local fields = {'h', head, 'c', encode(children), 'r', encode(retired), 'e', ARGV[3]}
if tonumber(ARGV[3]) > x then
  bump = 1
  table.insert(fields, 'x')
  table.insert(fields, ARGV[7])
end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIREAT', key, ARGV[3])
return {3, f[7], f[9], f[8], bump}
