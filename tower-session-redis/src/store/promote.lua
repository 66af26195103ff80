-- Promote a child to the head of one session.
-- KEYS[1] session key; ARGV[1] parent hash, ARGV[2] child hash, ARGV[3] now (ms),
-- ARGV[4] max retired.
-- Returns {0} unauthorised (or gone), {1} promoted, {2} already promoted,
-- {3, user} theft: the parent or the child had been retired (session deleted).
local key = KEYS[1]
local f = redis.call('HMGET', key, 'v', 'e', 'h', 'c', 'r', 'u')
if not f[1] then return {0} end
if f[1] ~= '1' then return redis.error_reply('TSR_CORRUPT unknown session layout version') end
local e = tonumber(f[2])
if not e or type(f[3]) ~= 'string' or type(f[4]) ~= 'string' or type(f[5]) ~= 'string' or type(f[6]) ~= 'string' then
  return redis.error_reply('TSR_CORRUPT malformed session')
end
if e <= tonumber(ARGV[3]) then
  redis.call('DEL', key)
  return {0}
end
local parent, child = ARGV[1], ARGV[2]
local head = f[3]
if head == child then return {2} end
local children = cjson.decode(f[4])
local retired = cjson.decode(f[5])
local function contains(list, x)
  for _, v in ipairs(list) do
    if v == x then return true end
  end
  return false
end
if head == parent and contains(children, child) then
  -- As a rotation's promotion: the other children, then the old head, are retired.
  for _, v in ipairs(children) do
    if v ~= child then table.insert(retired, v) end
  end
  table.insert(retired, head)
  local max = tonumber(ARGV[4])
  if #retired > max then
    local kept = {}
    for i = #retired - max + 1, #retired do kept[#kept + 1] = retired[i] end
    retired = kept
  end
  redis.call('HSET', key, 'h', child, 'c', '[]', 'r', cjson.encode(retired))
  return {1}
end
if contains(retired, parent) or contains(retired, child) then
  redis.call('DEL', key)
  return {3, f[6]}
end
return {0}
