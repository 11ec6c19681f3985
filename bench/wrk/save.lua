-- wrk script: answer saves as participants make them (bench/wrk_save.py runs it).
--
--   wrk -t 24 -c 24 -d 10s -s bench/wrk/save.lua URL -- ROUND_ID LOGIN_PREFIX PASSWORD
--
-- Each wrk thread is one participant (LOGIN_PREFIX<n>@bench.vn, n from 0): it logs in through
-- the API, starts (or resumes) an attempt on ROUND_ID, then PUTs answers with the session
-- cookie and the X-CSRFToken header, each to a question and option picked at random. Login
-- and start are sent again by any connection that asks for a request before their answers
-- came back (a login or a start that resumes is harmless); every save after that is counted
-- apart, so done() prints the saves a second and the saves that were not 200.

local threads = {}

function setup(thread)
  thread:set("number", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  round_id, prefix, password = args[1], args[2], args[3]
  login = prefix .. number .. "@bench.vn"
  state = "login"
  cookie, token, attempt = nil, nil, nil
  questions = {} -- {id = question id, options = {option ids}}
  saves, refused, other = 0, 0, 0
  math.randomseed(os.time() + number)
end

local function json_string(text)
  return '"' .. text:gsub('[\\"]', "\\%0") .. '"'
end

function request()
  local headers = { ["Content-Type"] = "application/json" }
  if cookie then
    headers["Cookie"] = cookie
    headers["X-CSRFToken"] = token
  end
  if state == "login" then
    local body = '{"login":' .. json_string(login) .. ',"password":' .. json_string(password) .. "}"
    return wrk.format("POST", "/api/v1/login", headers, body)
  elseif state == "start" then
    return wrk.format("POST", "/api/v1/rounds/" .. round_id .. "/attempts", headers, "{}")
  end
  local question = questions[math.random(#questions)]
  local option = question.options[math.random(#question.options)]
  local path = "/api/v1/attempts/" .. attempt .. "/answers/" .. question.id
  return wrk.format("PUT", path, headers, '{"option_ids":[' .. option .. "]}")
end

local function parse_attempt(body)
  -- Flask's JSON: compact, keys sorted ("deadline", "grace_seconds", "id", …, "questions").
  local id = body:match('"grace_seconds":%d+,"id":(%d+)')
  local parsed = {}
  for question, options in body:gmatch('{"id":(%d+),"multiple":%a+,"options":%[(.-)%]') do
    local ids = {}
    for option in options:gmatch('{"id":(%d+),') do
      ids[#ids + 1] = option
    end
    parsed[#parsed + 1] = { id = question, options = ids }
  end
  return id, parsed
end

function response(status, headers, body)
  if state == "login" then
    if status == 200 then
      cookie = headers["Set-Cookie"]:match("^([^;]+)")
      token = body:match('"csrf_token":"([^"]+)"')
      state = "start"
    end
  elseif state == "start" then
    if status == 200 or status == 201 then
      attempt, questions = parse_attempt(body)
      if attempt and #questions > 0 then
        state = "save"
      end
    end
  elseif status == 200 then
    saves = saves + 1
  elseif status == 409 or status == 422 then
    refused = refused + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local saves, refused, other = 0, 0, 0
  for _, thread in ipairs(threads) do
    saves = saves + thread:get("saves")
    refused = refused + thread:get("refused")
    other = other + thread:get("other")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "SAVES %d in %.2f s: %.1f saves/s; refused %d; other %d; requests %d; errors %d\n",
    saves, seconds, saves / seconds, refused, other, summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
  ))
end
