-- 100 rows of model-files/x_test.csv in one V2 request, with predict and predict_proba.
-- The CSV is read from $X_TEST_CSV, else model-files/x_test.csv relative to the working folder.
local path = os.getenv("X_TEST_CSV") or "model-files/x_test.csv"
local file = assert(io.open(path, "r"), "cannot open " .. path)
local rows = {}
for line in file:lines() do
  line = line:gsub("\r", "")
  if #rows == 100 then break end
  rows[#rows + 1] = "[" .. line .. "]"
end
file:close()
assert(#rows == 100, path .. " has fewer than 100 rows")
wrk.method = "POST"
wrk.path = "/v2/models/pickle_model/infer"
wrk.body = '{"inputs":[{"name":"x","shape":[100,37],"datatype":"FP64","data":[' ..
  table.concat(rows, ",") .. ']}],"outputs":[{"name":"predict"},{"name":"predict_proba"}]}'
wrk.headers["Content-Type"] = "application/json"
-- A bearer token from env TOKEN (an identity token for a deployed service), if set.
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
