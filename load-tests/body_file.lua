-- POST the body in $BODY_FILE (read once, as bytes) to $WRK_PATH (default: V2 infer of
-- pickle_model) with Content-Type $CONTENT_TYPE (default application/json) and, when
-- $HEADER_LENGTH is set, Inference-Header-Content-Length: the V2 binary tensor extension's
-- JSON length. load-tests/protocols.sh writes the bodies.
local path = assert(os.getenv("BODY_FILE"), "set BODY_FILE")
local file = assert(io.open(path, "rb"), "cannot open " .. path)
wrk.body = file:read("*a")
file:close()
wrk.method = "POST"
wrk.path = os.getenv("WRK_PATH") or "/v2/models/pickle_model/infer"
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/json"
local header_length = os.getenv("HEADER_LENGTH")
if header_length and header_length ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = header_length
end
-- A bearer token from env TOKEN (an identity token for a deployed service), if set.
local token = os.getenv("TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
