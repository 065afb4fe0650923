-- One row of named, raw columns in KServe V1 to the challenge Pipeline
-- (ColumnTransformer(OneHotEncoder) + LogisticRegression), which encodes it itself.
-- WRK_PATH overrides the path (the ceiling answers POST /).
wrk.method = "POST"
wrk.path = os.getenv("WRK_PATH") or "/v1/models/challenge_pipeline:predict"
wrk.body = '{"instances":[{"OPERA":"Grupo LATAM","TIPOVUELO":"I","MES":7}]}'
wrk.headers["Content-Type"] = "application/json"
-- A bearer token from env TOKEN (an identity token for a deployed service), if set.
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
