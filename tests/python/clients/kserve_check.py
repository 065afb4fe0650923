"""KServe's Python SDK (`kserve`) against a running skserve: InferenceRESTClient (V2, binary
and JSON tensors) and InferenceGRPCClient.

    python kserve_check.py HTTP_BASE_URL GRPC_HOST:PORT MODEL X_TEST_CSV

Prints one JSON report of what the clients got; the Rust test (tests/api/clients.rs) compares
it with scikit-learn's answers.
"""

import asyncio
import json
import sys

import httpx
import numpy as np
from kserve import (
    InferenceGRPCClient,
    InferenceRESTClient,
    InferInput,
    InferRequest,
    RESTConfig,
)
from kserve.protocol.infer_type import RequestedOutput

ROWS = (1, 5, 1000)


def request(model, x, datatype, binary):
    tensor = InferInput(name="x", shape=list(x.shape), datatype=datatype)
    tensor.set_data_from_numpy(x, binary_data=binary)
    outputs = [
        RequestedOutput("predict", parameters={"binary_data": binary}),
        RequestedOutput("predict_proba", parameters={"binary_data": binary}),
    ]
    return InferRequest(model_name=model, infer_inputs=[tensor], request_outputs=outputs)


def answer(response):
    out = {o.name: o.as_numpy() for o in response.outputs}
    return {
        "predict": out["predict"].reshape(-1).tolist(),
        "predict_proba": out["predict_proba"].tolist(),
    }


async def rest_report(base, model, x_all):
    client = InferenceRESTClient(RESTConfig(protocol="v2"))
    out = {
        "live": await client.is_server_live(base),
        "ready": await client.is_server_ready(base),
        "model_ready": await client.is_model_ready(base, model),
        "infer": [],
    }
    for n in ROWS:
        for binary in (True, False):
            response = await client.infer(base, request(model, x_all[:n], "FP64", binary), model_name=model)
            out["infer"].append({"rows": n, "datatype": "FP64", "binary": binary, **answer(response)})
    response = await client.infer(
        base, request(model, x_all[:5].astype(np.float32), "FP32", True), model_name=model)
    out["infer"].append({"rows": 5, "datatype": "FP32", "binary": True, **answer(response)})
    try:
        await client.infer(base, request(model, x_all[:1, :36], "FP64", True), model_name=model)
        out["wrong_width"] = None
    except httpx.HTTPStatusError as e:
        out["wrong_width"] = {"status": str(e.response.status_code), "message": str(e)}
    await client.close()
    return out


async def grpc_report(url, model, x_all):
    client = InferenceGRPCClient(url=url, retries=0)
    out = {
        "live": await client.is_server_live(),
        "ready": await client.is_server_ready(),
        "model_ready": await client.is_model_ready(model),
        "infer": [],
    }
    for n in ROWS:
        response = await client.infer(request(model, x_all[:n], "FP64", True))
        out["infer"].append({"rows": n, "datatype": "FP64", "binary": True, **answer(response)})
    response = await client.infer(request(model, x_all[:5].astype(np.float32), "FP32", True))
    out["infer"].append({"rows": 5, "datatype": "FP32", "binary": True, **answer(response)})
    try:
        await client.infer(request(model, x_all[:1, :36], "FP64", True))
        out["wrong_width"] = None
    except Exception as e:  # grpc.aio.AioRpcError
        out["wrong_width"] = {"status": str(e.code()), "message": e.details()}
    await client.close()
    return out


async def main():
    base, grpc_url, model, csv = sys.argv[1:5]
    x_all = np.loadtxt(csv, delimiter=",", max_rows=max(ROWS))
    result = {
        "http": await rest_report(base, model, x_all),
        "grpc": await grpc_report(grpc_url, model, x_all),
    }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    asyncio.run(main())
