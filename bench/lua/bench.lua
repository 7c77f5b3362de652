-- One wrk script for every scenario, so the load generator is the same for all servers.
-- Environment:
--   BENCH_METHOD  GET (default) or POST
--   BENCH_ETAG    sent as If-None-Match on GETs (the 304 run)
--   BENCH_BODY    POST body kind: "vetted" or "isso" (distinct author, email and text each time)
--   BENCH_SITE, BENCH_ARTICLE, BENCH_RUN   site, article and a run tag mixed into every body
--   BENCH_EXPECT  status class that counts as success: "2xx" (default) or "304"
-- At the end it prints one line "BENCH_JSON {...}" that bench/loadgen.py parses.

local method = os.getenv("BENCH_METHOD") or "GET"
local etag = os.getenv("BENCH_ETAG")
local body_kind = os.getenv("BENCH_BODY") or "vetted"
local site = os.getenv("BENCH_SITE") or "bench"
local article = os.getenv("BENCH_ARTICLE") or "/bench/write"
local run = os.getenv("BENCH_RUN") or "0"
local expect = os.getenv("BENCH_EXPECT") or "2xx"

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Random word mixes: bodies differing only by a number would be caught as near-duplicates.
local words = {"budget", "rail", "line", "school", "plan", "river", "election", "housing",
  "report", "trade", "talks", "library", "council", "mayor", "minister", "teacher", "nurse",
  "doctor", "farmer", "market", "price", "cost", "tax", "road", "bridge", "bus", "train",
  "station", "harbour", "airport", "park", "garden", "forest", "water", "power", "grid", "solar",
  "wind", "coal", "energy", "bill", "rent", "wage", "job", "factory", "office", "shop", "street",
  "village", "town", "city", "county", "region", "border", "court", "judge", "law", "vote",
  "party", "debate", "poll", "survey", "study", "data", "figure", "chart", "number", "source",
  "reporter", "editor", "article", "quote", "interview", "photo", "story", "week", "month",
  "year", "morning", "evening", "summer", "winter", "rain", "storm", "flood", "drought", "heat",
  "fire", "health", "clinic", "hospital", "queue", "delay", "strike", "union", "pension",
  "grant", "fund", "loan", "debt", "bank", "inflation", "growth", "export", "deal", "treaty",
  "summit", "speech", "promise", "target", "result", "impact"}
local openers = {"I think", "Honestly,", "Good point about", "Not sure about",
  "Thanks for covering", "My neighbour says", "Interesting take on", "I disagree with",
  "Worth adding that"}

local function random_text()
  local picked = {}
  for i = 1, 14 do picked[i] = words[math.random(#words)] end
  return openers[math.random(#openers)] .. " the " .. table.concat(picked, " ") .. "."
end

function init(args)
  math.randomseed(os.time() * 1000 + tid * 7919)
  counter = 0
  unexpected = 0
  statuses = {}
  headers = {}
  if etag then headers["If-None-Match"] = etag end
  if method == "POST" then headers["Content-Type"] = "application/json" end
  if method == "GET" then plain = wrk.format("GET", nil, headers) end
end

local function next_body()
  counter = counter + 1
  local who = string.format("%s-%d-%d", run, tid, counter)
  local text = random_text()
  local name = "Reader " .. who
  local email = "reader-" .. who .. "@example.org"
  if body_kind == "isso" then
    return string.format('{"text": "%s", "author": "%s", "email": "%s", "title": "Bench"}',
                         text, name, email)
  end
  return string.format('{"site": "%s", "article": "%s", "name": "%s", "email": "%s", "body": "%s"}',
                       site, article, name, email, text)
end

function request()
  if plain then return plain end
  return wrk.format("POST", nil, headers, next_body())
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local ok
  if expect == "304" then ok = status == 304 else ok = status >= 200 and status < 300 end
  if not ok then unexpected = unexpected + 1 end
end

-- wrk keeps per-thread Lua states apart; done() collects through thread:get().
function done(summary, latency, requests)
  local bad, codes = 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("unexpected") or 0)
    local s = thread:get("statuses") or {}
    for code, n in pairs(s) do codes[tostring(code)] = (codes[tostring(code)] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(codes) do table.insert(parts, string.format('"%s": %d', code, n)) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "unexpected": %d, "statuses": {%s}, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, bad, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout))
end
