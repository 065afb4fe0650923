#!/usr/bin/env python3
"""Facts about the Terraform in terraform/ that the consistency test checks against skserve.

    python terraform_facts.py REPO

Parses every .tf file with python-hcl2 (nothing is planned or applied) and monitoring/slos.yaml,
and prints JSON:
  containers     the Cloud Run service's containers: {name, image, depends_on (a list, or
                 the expression that makes it), env (name -> value as written), probe_paths,
                 ports, volume_mounts, startup_probe}
  resources      every resource and data source as parsed, by TYPE.NAME (data.TYPE.NAME),
                 strings unquoted
  volumes        the service's volumes, as parsed
  env_vars       names of the environment variables the skserve container gets
  probe_paths    HTTP paths of the skserve container's startup and liveness probes
  project_roles  roles granted on the project (google_project_iam_member)
  secret_grants  [{secret_id, role, member}] of google_secret_manager_secret_iam_member
  metric_types   every Cloud Monitoring metric type named in a filter
  slo_for_each   the for_each of google_monitoring_slo
  slos_source    the expression local.slos is built from
  slo_kinds      kinds the SLO resource has an SLI block for
  burn_windows   local.burn_windows: tier -> [{long, short, burn}]
  alert_for_each the for_each of the burn-rate alert policy
  memory_alert   {for_each, condition}: the memory objective's PromQL alert policy
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


def body_items(body):
    return [(k, v) for k, v in body.items() if not k.startswith("__")]


def strip(value):
    """A parsed block without python-hcl2's markers, its strings unquoted."""
    if isinstance(value, dict):
        return {unquote(k): strip(v) for k, v in body_items(value)}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return unquote(value)


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

    containers, volumes = [], []
    for _, body in resources(docs, "google_cloud_run_v2_service"):
        for template in body.get("template", []):
            volumes += [strip(v) for v in template.get("volumes", [])]
            for container in template.get("containers", []):
                depends_on = container.get("depends_on", [])
                containers.append({
                    "name": unquote(container.get("name")),
                    "image": unquote(container.get("image")),
                    "depends_on": unquote(depends_on) if isinstance(depends_on, str)
                    else [unquote(d) for d in depends_on],
                    "env": {unquote(e["name"]): unquote(e["value"]) for e in container.get("env", [])},
                    "probe_paths": [
                        unquote(get["path"])
                        for probe in ("startup_probe", "liveness_probe")
                        for p in container.get(probe, [])
                        for get in p.get("http_get", [])
                    ],
                    "ports": [p.get("container_port") for p in container.get("ports", [])],
                    "volume_mounts": [strip(m) for m in container.get("volume_mounts", [])],
                    "startup_probe": [strip(p) for p in container.get("startup_probe", [])],
                })
    skserve = [c for c in containers if c["name"] == "skserve"]
    env_vars = list(skserve[0]["env"]) if skserve else []
    probe_paths = skserve[0]["probe_paths"] if skserve else []

    project_roles = sorted(unquote(b["role"]) for _, b in resources(docs, "google_project_iam_member"))
    secret_grants = [
        {k: unquote(b[k]) for k in ("secret_id", "role", "member")}
        for _, b in resources(docs, "google_secret_manager_secret_iam_member")
    ]

    slo_for_each, slo_kinds = None, []
    for _, body in resources(docs, "google_monitoring_slo"):
        slo_for_each = unquote(body.get("for_each"))
        for dynamic in body.get("dynamic", []):
            for _, block in dynamic.items():
                match = re.search(r'each\.value\.kind == \\?"(\w+)\\?"', str(block.get("for_each")))
                if match:
                    slo_kinds.append(match.group(1))

    alert_for_each, memory_alert = None, None
    for name, body in resources(docs, "google_monitoring_alert_policy"):
        if name == "burn_rate":
            alert_for_each = unquote(body.get("for_each"))
        if name == "memory_burn_rate":
            memory_alert = {
                "for_each": unquote(body.get("for_each")),
                "conditions": [k for c in body.get("conditions", []) for k, _ in body_items(c)
                               if k.startswith("condition_")],
            }

    local = locals_of(docs)
    burn_windows = {
        tier: [{k: unquote(v) for k, v in w.items()} for w in windows]
        for tier, windows in local.get("burn_windows", {}).items()
    }

    every = {}
    for doc in docs:
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        prefix = "data." if kind == "data" else ""
                        every[f"{prefix}{unquote(rtype)}.{unquote(name)}"] = strip(body)

    with open(os.path.join(repo, "monitoring", "slos.yaml")) as f:
        spec = yaml.safe_load(f)

    print(json.dumps({
        "containers": containers,
        "volumes": volumes,
        "env_vars": env_vars,
        "probe_paths": probe_paths,
        "project_roles": project_roles,
        "secret_grants": secret_grants,
        "metric_types": sorted(set(re.findall(r'metric\.type=\\"([^\\"]+)\\"', text))),
        "slo_for_each": slo_for_each,
        "slos_source": unquote(local.get("slo_spec")),
        "slo_kinds": slo_kinds,
        "burn_windows": burn_windows,
        "alert_for_each": alert_for_each,
        "memory_alert": memory_alert,
        "resources": every,
        "spec": spec,
    }, indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
