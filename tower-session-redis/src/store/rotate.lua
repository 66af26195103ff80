-- Rotate a refresh token of one session (see the module docs of `store`).
-- KEYS[1] session key
-- ARGV[1] presented hash, ARGV[2] presented generation, ARGV[3] presented family hash,
-- ARGV[4] new child hash, ARGV[5] new expiry (ms), ARGV[6] now (ms), ARGV[7] max children,
-- ARGV[8] index horizon to record when the expiry passes the current one (ms)
-- Returns {0} gone, {1} unknown token, {2, user} theft (session deleted),
-- {3, user, tenant, payload or nil, bump, created (ms) or nil, session data or nil} rotated
-- (bump = 1: the user index must be extended), {4} a session of layout 1 (refused).
local key = KEYS[1]
local f = redis.call('HMGET', key, 'v', 'e', 'h', 'c', 'g', 'x', 'u', 'p', 't', 'f', 'k', 'd')
if not f[1] then return {0} end
if f[1] == '1' then return {4} end
if f[1] ~= '2' then return redis.error_reply('TSR_CORRUPT unknown session layout version') end
local e = tonumber(f[2])
local g = tonumber(f[5])
if not e or not g or type(f[3]) ~= 'string' or type(f[4]) ~= 'string' or type(f[7]) ~= 'string' or type(f[9]) ~= 'string' or type(f[10]) ~= 'string' then
  return redis.error_reply('TSR_CORRUPT malformed session')
end
if e <= tonumber(ARGV[6]) then
  redis.call('DEL', key)
  return {0}
end
-- Not a token of this session (for example one made up from the public handle): never
-- revoke.
if f[10] ~= ARGV[3] then return {1} end
local presented = ARGV[1]
local head = f[3]
local children = cjson.decode(f[4])
local function contains(list, x)
  for _, v in ipairs(list) do
    if v == x then return true end
  end
  return false
end
if head == presented then
  if #children >= tonumber(ARGV[7]) then table.remove(children, 1) end
  table.insert(children, ARGV[4])
elseif contains(children, presented) then
  -- Promotion: the old head and the other children become earlier tokens.
  head = presented
  g = g + 1
  children = {ARGV[4]}
elseif tonumber(ARGV[2]) <= g then
  -- An earlier token of this family came back.
  redis.call('DEL', key)
  return {2, f[7]}
else
  return {1}
end
local bump = 0
local x = tonumber(f[6]) or 0
local fields = {'h', head, 'g', string.format('%d', g), 'c', cjson.encode(children), 'e', ARGV[5]}
if tonumber(ARGV[5]) > x then
  bump = 1
  table.insert(fields, 'x')
  table.insert(fields, ARGV[8])
end
redis.call('HSET', key, unpack(fields))
redis.call('PEXPIREAT', key, ARGV[5])
return {3, f[7], f[9], f[8], bump, f[11], f[12]}
