#!/usr/bin/env python3
"""Evaluates the Terraform's local values with Terraform itself, without the google provider.

    python eval_locals.py REPO WORK_DIR [NAME=VALUE ...]

Nothing here can be planned (the provider cannot be downloaded), but most of what the
configuration computes (the SLO filters, the PromQL of the memory alerts, the sidecar's
RunMonitoring configuration, the admin listener's address) is local values over variables
and monitoring/slos.yaml. This copies terraform/variables.tf and every local value that does
not depend on a resource or data source into WORK_DIR, with an output for each, applies that
provider-less module with the given variables (-var NAME=VALUE, HCL syntax) and prints the
outputs as one JSON object {local name: value}. Local values that depend on a resource are
left out, and listed under "__left_out__".

The locals blocks are cut out of the .tf text by a small HCL scanner (strings, template
interpolations, brackets, comments): python-hcl2 cannot write HCL back faithfully.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys


class Scanner:
    def __init__(self, text):
        self.text = text

    def skip_string(self, i):
        """text[i] is the opening quote; returns the index after the closing one."""
        i += 1
        while i < len(self.text):
            c = self.text[i]
            if c == "\\":
                i += 2
            elif c == '"':
                return i + 1
            elif self.text.startswith("${", i) or self.text.startswith("%{", i):
                i = self.skip_to_close(i + 2)
            else:
                i += 1
        raise ValueError("unterminated string")

    def skip_comment(self, i):
        if self.text.startswith("/*", i):
            return self.text.index("*/", i) + 2
        end = self.text.find("\n", i)
        return len(self.text) if end < 0 else end

    def is_comment(self, i):
        return self.text[i] == "#" or self.text.startswith("//", i) or self.text.startswith("/*", i)

    def skip_to_close(self, i):
        """Returns the index after the `}` that closes an interpolation opened before i."""
        return self.scan(i, at_newline=False)

    def expression_end(self, i):
        """The end of an attribute's expression starting at i: a newline outside brackets."""
        return self.scan(i, at_newline=True)

    def scan(self, i, at_newline):
        """Skips strings, comments and nested brackets from i; stops after the bracket that
        closes one opened before i or, when at_newline, at a newline or comment outside
        brackets."""
        depth = 0
        while i < len(self.text):
            c = self.text[i]
            if c == '"':
                i = self.skip_string(i)
                continue
            if self.text.startswith("<<", i):
                raise ValueError("heredocs are not supported")
            if self.is_comment(i):
                if at_newline and depth == 0:
                    return i
                i = self.skip_comment(i)
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0 and not at_newline:
                    return i + 1
                depth -= 1
            elif c == "\n" and depth == 0 and at_newline:
                return i
            i += 1
        if at_newline:
            return i
        raise ValueError("unterminated interpolation")

    def locals_attributes(self):
        """{name: expression text} of every top-level locals block."""
        found = {}
        for m in re.finditer(r"(?m)^locals\s*\{", self.text):
            i = m.end()
            while True:
                while i < len(self.text) and (self.text[i].isspace() or self.is_comment(i)):
                    i = self.skip_comment(i) if self.is_comment(i) else i + 1
                if self.text[i] == "}":
                    break
                attr = re.compile(r"(\w+)\s*=\s*").match(self.text, i)
                if not attr:
                    raise ValueError(f"cannot read the locals block at offset {i}")
                end = self.expression_end(attr.end())
                found[attr.group(1)] = self.text[attr.end():end].strip()
                i = end
        return found


RESOURCE_REFERENCE = re.compile(r"(?<![\w.])(data\.\w+\.\w+|google_\w+\.\w+)")


def main(repo, work, assignments):
    tf = os.path.join(repo, "terraform")
    attributes = {}
    for path in sorted(glob.glob(os.path.join(tf, "*.tf"))):
        with open(path) as f:
            attributes.update(Scanner(f.read()).locals_attributes())

    left_out = {n for n, e in attributes.items() if RESOURCE_REFERENCE.search(e)}
    changed = True
    while changed:
        changed = False
        for name, expr in attributes.items():
            if name not in left_out and any(
                dep in left_out for dep in re.findall(r"(?<![\w.])local\.(\w+)", expr)
            ):
                left_out.add(name)
                changed = True
    kept = {n: e for n, e in attributes.items() if n not in left_out}

    shutil.rmtree(work, ignore_errors=True)
    module = os.path.join(work, "terraform")
    os.makedirs(module)
    shutil.copytree(os.path.join(repo, "monitoring"), os.path.join(work, "monitoring"))
    shutil.copy(os.path.join(tf, "variables.tf"), module)
    with open(os.path.join(module, "locals.tf"), "w") as f:
        f.write("locals {\n")
        for name, expr in kept.items():
            f.write(f"  {name} = {expr}\n")
        f.write("}\n")
        for name in kept:
            f.write(f'output "{name}" {{\n  value = local.{name}\n}}\n')

    env = dict(os.environ, TF_IN_AUTOMATION="1", TF_CLI_CONFIG_FILE=os.devnull)
    args = [a for kv in assignments for a in ("-var", kv)]
    for command in (
        ["terraform", "init", "-input=false", "-no-color"],
        ["terraform", "apply", "-auto-approve", "-input=false", "-lock=false", "-no-color", *args],
    ):
        run = subprocess.run(command, cwd=module, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            sys.stderr.write(run.stderr or run.stdout)
            return run.returncode
    out = subprocess.run(
        ["terraform", "output", "-json", "-no-color"],
        cwd=module, env=env, capture_output=True, text=True, check=True,
    )
    values = {name: v["value"] for name, v in json.loads(out.stdout).items()}
    values["__left_out__"] = sorted(left_out)
    print(json.dumps(values, indent=1))
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
