-- wrk script: GET the path of the URL with the access tokens of N signed-in users in turn
-- (one token per line in the file given after `--`), each in the same three-cookie header
-- as wrk.sh's one-token mode: `sAccessToken=<token>; prefs=<61 B>; _ga=<318 B>`.
-- The requests are formatted once in init, so a request costs wrk the same for 1 or 100k
-- tokens. Environment: WRK_HOST (Host header), WRK_PREFS and WRK_GA (the two other cookies).
local requests = {}
local next_index = 1

function init(args)
  local host = os.getenv("WRK_HOST")
  local prefs = os.getenv("WRK_PREFS")
  local ga = os.getenv("WRK_GA")
  for token in io.lines(args[1]) do
    if #token > 0 then
      requests[#requests + 1] = wrk.format("GET", wrk.path, {
        ["Host"] = host,
        ["Cookie"] = "sAccessToken=" .. token .. "; prefs=" .. prefs .. "; _ga=" .. ga,
      })
    end
  end
  if #requests == 0 then
    error("no tokens in " .. tostring(args[1]))
  end
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end
