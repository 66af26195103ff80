-- Promote a child to the head of one session (an API call with the child's access token).
-- It never revokes (see the module docs of `store`).
-- KEYS[1] session key; ARGV[1] parent hash, ARGV[2] child hash, ARGV[3] now (ms).
-- Returns {0} unauthorised (gone), {1} promoted, {2} already promoted, {3} deferred (the
-- child is one of several), {4} stale, {5} a session of layout 1 (refused).
local key = KEYS[1]
local f = redis.call('HMGET', key, 'v', 'e', 'h', 'c', 'g')
if not f[1] then return {0} end
if f[1] == '1' then return {5} end
if f[1] ~= '2' then return redis.error_reply('TSR_CORRUPT unknown session layout version') end
local e = tonumber(f[2])
local g = tonumber(f[5])
if not e or not g or type(f[3]) ~= 'string' or type(f[4]) ~= 'string' then
  return redis.error_reply('TSR_CORRUPT malformed session')
end
if e <= tonumber(ARGV[3]) then
  redis.call('DEL', key)
  return {0}
end
local parent, child = ARGV[1], ARGV[2]
local head = f[3]
if head == child then return {2} end
if head ~= parent then return {4} end
local children = cjson.decode(f[4])
local found = false
for _, v in ipairs(children) do
  if v == child then found = true end
end
if not found then return {4} end
if #children > 1 then return {3} end
redis.call('HSET', key, 'h', child, 'g', string.format('%d', g + 1), 'c', '[]')
return {1}
