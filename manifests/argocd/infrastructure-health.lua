-- Argo CD health of an Infrastructure (apideployer.dev): Healthy when every target answered
-- the last probe, Degraded when some did not or the infrastructure is Stalled.
hs = {}
if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"; hs.message = "Not probed yet"; return hs
end
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Stalled" and c.status == "True" then hs.status = "Degraded"; hs.message = c.message or ""; return hs end
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" and c.status == "True" then hs.status = "Healthy"; hs.message = c.message or ""; return hs end
    if c.type == "Ready" then hs.status = "Degraded"; hs.message = c.message or ""; return hs end
  end
end
hs.status = "Progressing"; hs.message = "Not probed yet"; return hs
