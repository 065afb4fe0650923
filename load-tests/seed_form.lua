-- The seed's request: 37 one-hot features as the form field x (POST /).
wrk.method = "POST"
wrk.body = "x=[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
-- A bearer token from env TOKEN (an identity token for a deployed service), if set.
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
