-- wrk script: each request takes the next path of the file named by PATHS (one path a line),
-- so a run visits many papers and queries instead of one cached answer.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do
  if #line > 0 then paths[#paths + 1] = line end
end
local next_index = 0

request = function()
  next_index = next_index % #paths + 1
  return wrk.format("GET", paths[next_index])
end

-- wrk 4 adds synthetic samples to its latency histogram for coordinated omission (every
-- sample above twice the mean interval between a connection's requests is repeated at that
-- interval below it), so its percentiles are not the requests' own latencies: say how many.
function done(summary, latency, requests)
  local samples = 0
  for i = 1, #latency do
    local _, count = latency(i)
    samples = samples + count
  end
  io.write(string.format("wrk latency samples: %d for %d requests\n", samples, summary.requests))
end
