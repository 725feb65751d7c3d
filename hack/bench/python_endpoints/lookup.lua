-- wrk script: POST lookups of random customer ids (0 to 999,999).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  return wrk.format(nil, nil, nil, string.format('{"data": {"customer_id": %d}}', math.random(0, 999999)))
end
