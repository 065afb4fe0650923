"""Triton's own Python client (tritonclient[http,grpc]) against a running skserve, with the
client's defaults: binary tensors over REST, raw contents over gRPC.

    python triton_check.py HTTP_HOST:PORT GRPC_HOST:PORT MODEL X_TEST_CSV

Prints one JSON report of what the client got (booleans, metadata, the arrays as_numpy gave,
the message of each refusal); the Rust test (tests/api/clients.rs) compares it with
scikit-learn's answers. Exits non-zero only when the client itself fails unexpectedly.
"""

import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

ROWS = (1, 5, 1000)


def infer(module, client, model, x, datatype, binary):
    """One infer call; `binary` None leaves every tensor option at the client's default."""
    tensor = module.InferInput("x", list(x.shape), datatype)
    if binary is None or module is grpcclient:
        tensor.set_data_from_numpy(x)
        outputs = None if binary is None else [
            module.InferRequestedOutput("predict"),
            module.InferRequestedOutput("predict_proba"),
        ]
    else:
        tensor.set_data_from_numpy(x, binary_data=binary)
        outputs = [
            module.InferRequestedOutput("predict", binary_data=binary),
            module.InferRequestedOutput("predict_proba", binary_data=binary),
        ]
    result = client.infer(model, [tensor], outputs=outputs)
    answer = {"predict": result.as_numpy("predict").reshape(-1).tolist()}
    proba = result.as_numpy("predict_proba")
    answer["predict_proba"] = None if proba is None else proba.tolist()
    return answer


def report(module, client, model, x_all):
    out = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(model),
    }
    if module is grpcclient:
        out["server_metadata"] = client.get_server_metadata(as_json=True)
        out["model_metadata"] = client.get_model_metadata(model, as_json=True)
    else:
        out["server_metadata"] = client.get_server_metadata()
        out["model_metadata"] = client.get_model_metadata(model)
    calls = []
    modes = (True, False) if module is httpclient else (True,)
    for n in ROWS:
        for binary in modes:
            x = x_all[:n]
            calls.append({"rows": n, "datatype": "FP64", "binary": binary,
                          **infer(module, client, model, x, "FP64", binary)})
    calls.append({"rows": 5, "datatype": "FP32", "binary": True,
                  **infer(module, client, model, x_all[:5].astype(np.float32), "FP32", True)})
    calls.append({"rows": 5, "datatype": "FP64", "binary": None,
                  **infer(module, client, model, x_all[:5], "FP64", None)})
    out["infer"] = calls
    try:
        infer(module, client, model, x_all[:1, :36], "FP64", None)
        out["wrong_width"] = None
    except InferenceServerException as e:
        out["wrong_width"] = {"status": str(e.status()), "message": e.message()}
    return out


def main():
    http_url, grpc_url, model, csv = sys.argv[1:5]
    x_all = np.loadtxt(csv, delimiter=",", max_rows=max(ROWS))
    result = {
        "http": report(httpclient, httpclient.InferenceServerClient(url=http_url), model, x_all),
        "grpc": report(grpcclient, grpcclient.InferenceServerClient(url=grpc_url), model, x_all),
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
