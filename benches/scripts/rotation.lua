-- wrk script for wrk-rotation.sh: GET /sessioninfo on api2 in header mode.
-- MODE=steady: every request carries the token of key k0 (known to the verifier).
-- MODE=rotation: every other request carries the token of the key published this second
-- (line now - t0 + 1 of TOKENS), whose kid the verifier has not seen: the first such
-- request each second waits for one shared JWKS fetch over TLS; the others carry k0.
local mode = os.getenv("MODE") or "steady"
local dir = os.getenv("DIR")
local host = os.getenv("HOST_HEADER")
local t0 = tonumber(io.open(dir .. "/t0"):read("*l"))
local reqs = {}
for line in io.lines(dir .. "/tokens.txt") do
  reqs[#reqs + 1] = wrk.format("GET", "/sessioninfo", {
    ["Host"] = host,
    ["authorization"] = "Bearer " .. line,
    ["st-auth-mode"] = "header",
  })
end
local n = 0
request = function()
  n = n + 1
  local i = 1
  if mode == "rotation" and n % 2 == 0 then
    i = os.time() - t0 + 1
    if i < 1 then i = 1 end
    if i > #reqs then i = #reqs end
  end
  return reqs[i]
end
