-- wrk script: many signed-in users toggle their upvotes on a few papers at once.
-- USERS names a file of "session-token csrf-token" lines, PAPERS a file of paper ids. Each
-- request is the next (user, paper) pair, threads starting at different pairs, sent as
-- POST /api/papers/<id>/upvote with the user's session cookie and CSRF header. Every
-- successful answer says whether it added or removed the vote, so the sum of those per paper
-- is how far its stored count must have moved; done() writes it to RESULTS as
-- "paper-id moved-by" lines, then "status N count" lines for every answer status seen.
local users, papers = {}, {}
for line in io.lines(os.getenv("USERS")) do
  local session, csrf = line:match("^(%S+)%s+(%S+)$")
  if session then users[#users + 1] = { session = session, csrf = csrf } end
end
for line in io.lines(os.getenv("PAPERS")) do
  if #line > 0 then papers[#papers + 1] = line end
end

local threads = {}
local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("start", thread_count * 7919)
  table.insert(threads, thread)
end

function init()
  next_pair = start or 0
  moved = {}     -- paper id -> votes added minus votes removed
  statuses = {}  -- status -> answers
end

function request()
  next_pair = next_pair + 1
  local user = users[next_pair % #users + 1]
  local paper = papers[math.floor(next_pair / #users) % #papers + 1]
  -- An empty body, not none: wrk.format sets Content-Length only for a body.
  return wrk.format("POST", "/api/papers/" .. paper .. "/upvote", {
    ["Cookie"] = "paperboy_session=" .. user.session,
    ["X-CSRF-Token"] = user.csrf,
  }, "")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 200 then return end
  local paper = body:match('"paper":"([^"]+)"')
  local voted = body:match('"voted":(%a+)')
  if paper and voted then
    moved[paper] = (moved[paper] or 0) + (voted == "true" and 1 or -1)
  end
end

function done(summary, latency, requests)
  local total_moved, total_statuses = {}, {}
  for _, thread in ipairs(threads) do
    for paper, change in pairs(thread:get("moved")) do
      total_moved[paper] = (total_moved[paper] or 0) + change
    end
    for status, count in pairs(thread:get("statuses")) do
      total_statuses[status] = (total_statuses[status] or 0) + count
    end
  end
  local out = assert(io.open(os.getenv("RESULTS"), "w"))
  for paper, change in pairs(total_moved) do out:write(paper, " ", change, "\n") end
  for status, count in pairs(total_statuses) do out:write("status ", status, " ", count, "\n") end
  out:close()
end
