-- wrk script: POST lookup-multi requests of 100 random customer ids (0 to 999,999) each.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local items = {}
  for i = 1, 100 do
    items[i] = string.format('{"data": {"customer_id": %d}}', math.random(0, 999999))
  end
  return wrk.format(nil, nil, nil, '{"items": [' .. table.concat(items, ",") .. ']}')
end
