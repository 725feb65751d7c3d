-- Argo CD health of a ServiceDeployment (apideployer.dev): Degraded when Stalled or Degraded,
-- Progressing while the controller has not observed the generation or is reconciling, Healthy
-- when Ready. Argo CD gives custom resources no health without such a check.
hs = {}
if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"; hs.message = "Waiting for the controller"; return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"; hs.message = "Waiting for the controller to observe generation " .. obj.metadata.generation; return hs
end
local ready = nil
local reconciling = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Stalled" and c.status == "True" then hs.status = "Degraded"; hs.message = (c.reason or "") .. ": " .. (c.message or ""); return hs end
    if c.type == "Degraded" and c.status == "True" then hs.status = "Degraded"; hs.message = c.message or ""; return hs end
    if c.type == "Reconciling" and c.status == "True" then reconciling = c end
    if c.type == "Ready" then ready = c end
  end
end
if reconciling ~= nil then hs.status = "Progressing"; hs.message = reconciling.message or ""; return hs end
if ready ~= nil and ready.status == "True" then hs.status = "Healthy"; hs.message = ready.message or ""; return hs end
hs.status = "Progressing"; hs.message = "Waiting for Ready"; return hs
