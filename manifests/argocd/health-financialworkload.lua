-- Argo CD health check for FinancialWorkload (finance.compliance.dev/v1alpha1).
--
-- Reads the status the operator writes (kstatus conventions): status.observedGeneration and
-- the metav1.Condition list (Ready, Reconciled, Compliant, Drifted, ...). In order:
--   Progressing  the operator has not seen the current generation yet, or Ready is missing,
--                Unknown, or False with reason Progressing (pods still rolling out);
--   Degraded     Compliant is False (the spec breaks the baseline), Drifted is True (a
--                managed field differs and is not healed: audit mode), Stalled is True, or
--                Ready is False for any other reason (InvalidSpec, ApplyFailed, ...);
--   Progressing  (also) Reconciling is True.
-- kstatus (Flux, kpt) reads the same status as Failed, InProgress and Current: the operator
-- sets Stalled=True whenever this script says Degraded, Reconciling=True for Progressing.
--   Healthy      Ready is True at the current generation.
-- Written for Lua 5.1 (Argo CD runs gopher-lua); tests/cluster/test_health.py runs it.

local MAX_MESSAGE = 240

local function short(text)
  if text == nil then
    return ""
  end
  if string.len(text) > MAX_MESSAGE then
    return string.sub(text, 1, MAX_MESSAGE - 3) .. "..."
  end
  return text
end

local function describe(prefix, condition)
  local reason = condition.reason or "NoReason"
  local message = condition.message or ""
  if message == "" then
    return short(prefix .. " (" .. reason .. ")")
  end
  return short(prefix .. " (" .. reason .. "): " .. message)
end

local function health(status, message)
  return { status = status, message = message }
end

local generation = obj.metadata.generation or 0
if obj.status == nil or obj.status.observedGeneration == nil then
  return health("Progressing", "Waiting for the operator to report status")
end
local observed = obj.status.observedGeneration
if observed < generation then
  return health("Progressing", string.format(
    "Waiting for the operator to observe generation %d (status is for %d)", generation, observed))
end

local conditions = {}
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    conditions[condition.type] = condition
  end
end

local compliant = conditions["Compliant"]
if compliant ~= nil and compliant.status == "False" then
  return health("Degraded", describe("Not compliant", compliant))
end
local drifted = conditions["Drifted"]
if drifted ~= nil and drifted.status == "True" then
  return health("Degraded", describe("Drifted", drifted))
end

-- Stalled and Reconciling as kstatus reads them (Flux, kpt), so both tools agree.
local stalled = conditions["Stalled"]
if stalled ~= nil and stalled.status == "True" then
  return health("Degraded", describe("Stalled", stalled))
end
local reconciling = conditions["Reconciling"]
if reconciling ~= nil and reconciling.status == "True" then
  return health("Progressing", describe("Reconciling", reconciling))
end

local ready = conditions["Ready"]
if ready == nil then
  return health("Progressing", "Waiting for the Ready condition")
end
if ready.observedGeneration ~= nil and ready.observedGeneration < generation then
  return health("Progressing", "Ready condition is from an older generation")
end
if ready.status == "True" then
  return health("Healthy", short(ready.message or "Ready"))
end
if ready.status == "False" and ready.reason ~= "Progressing" then
  return health("Degraded", describe("Not ready", ready))
end
return health("Progressing", describe("Not ready yet", ready))
