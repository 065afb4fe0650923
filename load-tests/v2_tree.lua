-- One row in V2 asking for predict_proba, to a tree model of tests/python/trees/bench_trees.py
-- (three numeric columns): MODEL names it (default forest). WRK_PATH overrides the path (the
-- ceiling answers POST /).
wrk.method = "POST"
wrk.path = os.getenv("WRK_PATH") or ("/v2/models/" .. (os.getenv("MODEL") or "forest") .. "/infer")
wrk.body = '{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP64","data":[14.7193,1.10458,2]}],"outputs":[{"name":"predict_proba"}]}'
wrk.headers["Content-Type"] = "application/json"
-- A bearer token from env TOKEN (an identity token for a deployed service), if set.
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
