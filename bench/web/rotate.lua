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
