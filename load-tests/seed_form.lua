-- The seed's request: 37 one-hot features as the form field x (POST /).
wrk.method = "POST"
wrk.body = "x=[0,1,0,0,0,1,0,1,0,0,0,1,0,0,0,1,0,1,0,1,0,1,0,0,0,1,0,0,0,1,0,0,0,1,0,0,0]"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
