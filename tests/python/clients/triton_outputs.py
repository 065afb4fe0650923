"""Triton's own Python client (tritonclient[http,grpc]) on a classifier of several outputs:
binary tensors over REST and raw contents over gRPC, as the client decodes them.

    python triton_outputs.py HTTP_HOST:PORT GRPC_HOST:PORT MODEL ROWS_CSV

ROWS_CSV has a header and numeric columns. Prints one JSON report per protocol: the datatype
and shape of each output and what as_numpy gave (BYTES decoded as UTF-8); the Rust test
(tests/api/clients.rs) compares it with scikit-learn's answers.
"""

import json
import sys

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient


def report(module, client, model, x):
    tensor = module.InferInput("x", list(x.shape), "FP64")
    tensor.set_data_from_numpy(x)
    names = ("predict", "predict_proba")
    result = client.infer(model, [tensor], outputs=[module.InferRequestedOutput(n) for n in names])
    out = {}
    for name in names:
        array = result.as_numpy(name)
        if array.dtype == object:
            array = np.vectorize(lambda b: b.decode("utf-8"), otypes=[object])(array)
        out[name] = {"shape": list(array.shape), "data": array.tolist()}
    return out


def main():
    http_url, grpc_url, model, csv = sys.argv[1:5]
    x = np.loadtxt(csv, delimiter=",", skiprows=1, ndmin=2)
    json.dump({
        "http": report(httpclient, httpclient.InferenceServerClient(url=http_url), model, x),
        "grpc": report(grpcclient, grpcclient.InferenceServerClient(url=grpc_url), model, x),
    }, sys.stdout)


if __name__ == "__main__":
    main()
