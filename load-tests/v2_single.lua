-- One row in the V2 inference protocol: POST /v2/models/pickle_model/infer. WRK_PATH overrides
-- the path (the ceiling answers POST /).
wrk.method = "POST"
wrk.path = os.getenv("WRK_PATH") or "/v2/models/pickle_model/infer"
wrk.body = '{"inputs":[{"name":"x","shape":[1,37],"datatype":"FP64","data":[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]}]}'
wrk.headers["Content-Type"] = "application/json"
-- A bearer token from env TOKEN (an identity token for a deployed service), if set.
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
