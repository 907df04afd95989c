-- Argo CD health check for herd.dev/LoadTest (argocd-cm key
-- resource.customizations.health.herd.dev_LoadTest). Tested by
-- tests/chart/argocd_health_test.py against sample statuses with lua5.4.
--
--   no status yet / stale observedGeneration     -> Progressing
--   scheduled with an invalid cron               -> Degraded
--   Validated=False (scenario does not compile)  -> Degraded
--   one-shot: run not Complete                   -> Progressing (phase, Degraded agents noted)
--             Complete, ThresholdsPassed=True    -> Healthy
--             Complete otherwise                 -> Degraded (reason: message)
--   scheduled: a run live                        -> Progressing
--              last run's verdict not Passed     -> Degraded
--              otherwise                         -> Healthy (next run time)
local hs = {}

local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then return nil end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then return c end
  end
  return nil
end

local function describe(c)
  if c == nil then return "" end
  local m = c.reason or ""
  if c.message ~= nil and c.message ~= "" then m = m .. ": " .. c.message end
  return m
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for herd-operator"
  return hs
end
if obj.metadata.generation ~= nil and status.observedGeneration ~= nil
    and status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for herd-operator to observe the latest spec"
  return hs
end

local validated = condition("Validated")
if validated ~= nil and validated.status == "False" then
  hs.status = "Degraded"
  hs.message = describe(validated)
  return hs
end

local live = status.runId ~= nil and status.phase ~= nil and (status.phase == "Pending" or status.phase == "Starting" or status.phase == "Running" or status.phase == "Stopping")
local complete = condition("Complete")

if obj.spec ~= nil and obj.spec.schedule ~= nil then
  if status.reason == "InvalidSchedule" then
    hs.status = "Degraded"
    hs.message = "InvalidSchedule: " .. (status.message or "")
    return hs
  end
  if live then
    hs.status = "Progressing"
    hs.message = "Run " .. status.runId .. " " .. status.phase
    return hs
  end
  local last = status.history ~= nil and status.history[1] or nil
  if last ~= nil and last.verdict ~= nil and last.verdict ~= "Passed" then
    hs.status = "Degraded"
    hs.message = "Last run " .. (last.runId or "") .. " " .. last.verdict
    if last.reason ~= nil then hs.message = hs.message .. " (" .. last.reason .. ")" end
    return hs
  end
  hs.status = "Healthy"
  hs.message = "Scheduled; next run " .. (status.nextScheduleTime or "not planned")
  return hs
end

if complete == nil or complete.status ~= "True" then
  hs.status = "Progressing"
  if status.phase == nil then
    hs.message = "Waiting for herd-operator"
    return hs
  end
  hs.message = "Run " .. (status.runId or "") .. " " .. status.phase
  local degraded = condition("Degraded")
  if degraded ~= nil and degraded.status == "True" then
    hs.message = hs.message .. "; " .. describe(degraded)
  end
  return hs
end

local passed = condition("ThresholdsPassed")
if passed ~= nil and passed.status == "True" then
  hs.status = "Healthy"
  hs.message = "Run " .. (status.runId or "") .. " passed"
  return hs
end
hs.status = "Degraded"
if passed ~= nil then
  hs.message = describe(passed)
else
  hs.message = (status.reason or status.phase) .. ": " .. (status.message or "")
end
return hs
