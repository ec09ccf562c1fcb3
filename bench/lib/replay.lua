-- wrk script: each thread sends, once each and in order, the raw HTTP requests of its own file
-- (REPLAY_PREFIX .. thread number .. ".txt", written by bench/lib/iam.py createuser: one request
-- per line, CRLF written as TAB). REPLAY_PREFIX is set by the line run.sh puts before this file.
-- A thread that runs out of requests sends an unsigned one, which Rampart refuses (403): the run
-- then counts as failed rather than replaying a request already answered.
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
end

local requests = {}
local next_index = 1

function init(args)
  local path = REPLAY_PREFIX .. thread_number .. ".txt"
  local file = assert(io.open(path, "r"))
  for line in file:lines() do
    requests[#requests + 1] = line:gsub("\t", "\r\n")
  end
  file:close()
end

function request()
  local raw = requests[next_index]
  if raw == nil then
    return wrk.format("POST", "/", { ["Content-Type"] = "application/x-www-form-urlencoded" },
      "Action=CreateUser&Version=2010-05-08&UserName=out-of-presigned-requests")
  end
  requests[next_index] = nil
  next_index = next_index + 1
  return raw
end
