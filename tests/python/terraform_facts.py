#!/usr/bin/env python3
"""Facts about the Terraform in terraform/ that the consistency test checks against skserve.

    python terraform_facts.py REPO

Parses every .tf file with python-hcl2 (nothing is planned or applied) and monitoring/slos.yaml,
and prints JSON:
  env_vars       names of the environment variables the Cloud Run container gets
  probe_paths    HTTP paths of the startup and liveness probes
  metric_types   every Cloud Monitoring metric type named in a filter
  slo_for_each   the for_each of google_monitoring_slo
  slos_source    the expression local.slos is built from
  slo_kinds      kinds the SLO resource has an SLI block for
  burn_windows   local.burn_windows: tier -> [{long, short, burn}]
  alert_for_each the for_each of the burn-rate alert policy
  spec           monitoring/slos.yaml as loaded
"""

import glob
import json
import os
import re
import sys

import hcl2
import yaml


def unquote(value):
    """python-hcl2 keeps string literals quoted and expressions in ${...}."""
    if isinstance(value, str):
        if value.startswith('"') and value.endswith('"'):
            return value[1:-1]
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
    return value


def resources(docs, kind):
    for doc in docs:
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                if unquote(rtype) == kind:
                    for name, body in named.items():
                        yield unquote(name), body


def locals_of(docs):
    merged = {}
    for doc in docs:
        for block in doc.get("locals", []):
            merged.update({k: v for k, v in block.items() if not k.startswith("__")})
    return merged


def main(repo):
    tf_dir = os.path.join(repo, "terraform")
    files = sorted(glob.glob(os.path.join(tf_dir, "*.tf")))
    docs = []
    for path in files:
        with open(path) as f:
            docs.append(hcl2.load(f))
    text = "".join(open(p).read() for p in files)

    env_vars, probe_paths = [], []
    for _, body in resources(docs, "google_cloud_run_v2_service"):
        for template in body.get("template", []):
            for container in template.get("containers", []):
                env_vars += [unquote(e["name"]) for e in container.get("env", [])]
                for probe in ("startup_probe", "liveness_probe"):
                    for p in container.get(probe, []):
                        for get in p.get("http_get", []):
                            probe_paths.append(unquote(get["path"]))

    slo_for_each, slo_kinds = None, []
    for _, body in resources(docs, "google_monitoring_slo"):
        slo_for_each = unquote(body.get("for_each"))
        for dynamic in body.get("dynamic", []):
            for _, block in dynamic.items():
                match = re.search(r'each\.value\.kind == \\?"(\w+)\\?"', str(block.get("for_each")))
                if match:
                    slo_kinds.append(match.group(1))

    alert_for_each = None
    for name, body in resources(docs, "google_monitoring_alert_policy"):
        if name == "burn_rate":
            alert_for_each = unquote(body.get("for_each"))

    local = locals_of(docs)
    burn_windows = {
        tier: [{k: unquote(v) for k, v in w.items()} for w in windows]
        for tier, windows in local.get("burn_windows", {}).items()
    }

    with open(os.path.join(repo, "monitoring", "slos.yaml")) as f:
        spec = yaml.safe_load(f)

    print(json.dumps({
        "env_vars": env_vars,
        "probe_paths": probe_paths,
        "metric_types": sorted(set(re.findall(r'metric\.type=\\"([^\\"]+)\\"', text))),
        "slo_for_each": slo_for_each,
        "slos_source": unquote(local.get("slo_spec")),
        "slo_kinds": slo_kinds,
        "burn_windows": burn_windows,
        "alert_for_each": alert_for_each,
        "spec": spec,
    }, indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
