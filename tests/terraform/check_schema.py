#!/usr/bin/env python3
"""Checks Terraform against the google provider's real schema, without Google Cloud.

    python check_schema.py JSII TERRAFORM_DIR [TERRAFORM_DIR ...]

JSII is the `.jsii` type information of the npm package @cdktf/provider-google (installed
under target/ by tests/terraform/ensure_tools.sh). That package is generated from the
provider's own schema, so it stands in for `terraform validate`, which needs the provider
binary and cannot run here. For every directory, every resource, data source and provider
block is checked:

- every attribute and nested block exists at its level (inside `dynamic` blocks too), and is
  written as what it is (an attribute with `=`, a block without);
- every required attribute and block is set;
- a literal given to a list or map attribute is a list or map, and a literal given to a
  single-valued attribute is not;
- a literal string given to an attribute whose documentation lists its possible values is one
  of them;
- every `TYPE.NAME.ATTRIBUTE` reference names a declared resource or data source and an
  attribute the provider exports, and every `var.X` and `local.X` is declared;
- the schema's provider version satisfies the version constraint of `required_providers`.

Meta-arguments are Terraform's own, not the provider's: count, for_each, depends_on, provider
and lifecycle (its arguments and pre/postconditions) on resources and data sources; alias on
provider blocks.

Prints JSON on stdout: the schema's versions, and per directory the counts checked and the
errors (each `file:line: address: message`). Exits 1 when any directory has an error.

How the jsii types map to Terraform (read from the package): each resource is a class whose
base is cdktf.TerraformResource (cdktf.TerraformDataSource for data sources,
cdktf.TerraformProvider for the provider); its summary links the registry page and names the
Terraform type (`{@link https://registry.terraform.io/.../docs/resources/cloud_run_v2_service
google_cloud_run_v2_service}`). The class's initializer takes a `config` interface: its
properties are the arguments. A property whose type is (a list of) another interface of the
package is a nested block, described by that interface in turn; any other type is an
attribute. A property without `optional` is required. Its Terraform name is the anchor of its
registry link (`#max_instance_request_concurrency`), which also covers the few that cdktf
renames (`build` becomes `buildAttribute`); the handful without a link fall back to
camelCase -> snake_case. Exported attributes are the class's getters (camelCase).
"""

import difflib
import glob
import json
import os
import re
import sys

import hcl2
from hcl2.utils import SerializationOptions

PACKAGE = "@cdktf/provider-google"
ROOT_BASES = {
    "cdktf.TerraformResource": "resource",
    "cdktf.TerraformDataSource": "data",
    "cdktf.TerraformProvider": "provider",
}
REGISTRY_LINK = re.compile(
    r"\{@link https://registry\.terraform\.io/providers/hashicorp/google/([0-9.]+)/docs"
    r"(?:/(?:resources|data-sources)/\w+)? (\w+)\}"
)
ANCHOR = re.compile(r"#(\w+) \w+#\w+\}")
POSSIBLE_VALUES = re.compile(r"Possible values: \[([^\]]*)\]")

# Terraform's own arguments (the language, not the provider).
RESOURCE_META = {"count", "for_each", "depends_on", "provider"}
PROVIDER_META = {"alias"}


def language_block(attributes, blocks=None):
    """A block of the Terraform language itself, in the shape Schema.block returns."""
    return {
        "attributes": {
            name: {"required": required, "type": {}, "nested": None, "possible_values": None}
            for name, required in attributes.items()
        },
        "blocks": {
            name: {"required": False, "type": {}, "nested": nested, "possible_values": None}
            for name, nested in (blocks or {}).items()
        },
    }


CONDITION = language_block({"condition": True, "error_message": True})
LIFECYCLE = {
    "resource": language_block(
        {
            "create_before_destroy": False,
            "prevent_destroy": False,
            "ignore_changes": False,
            "replace_triggered_by": False,
        },
        {"precondition": CONDITION, "postcondition": CONDITION},
    ),
    "data": language_block({}, {"precondition": CONDITION, "postcondition": CONDITION}),
}
DYNAMIC_ARGUMENTS = {"for_each", "iterator", "labels", "content"}


def snake_case(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def camel_case(name):
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class Schema:
    """The provider's resources, data sources and provider block, read from the .jsii."""

    def __init__(self, jsii_path):
        with open(jsii_path) as f:
            assembly = json.load(f)
        if assembly.get("name") != PACKAGE:
            raise SystemExit(f"{jsii_path} is {assembly.get('name')}, not {PACKAGE}")
        self.package_version = assembly["version"]
        self.types = assembly["types"]
        self.roots = {"resource": {}, "data": {}, "provider": {}}
        self.provider_version = None
        for t in self.types.values():
            kind = ROOT_BASES.get(t.get("base"))
            if kind is None:
                continue
            link = REGISTRY_LINK.search(t["docs"]["summary"])
            if link is None:
                raise SystemExit(f"{t['fqn']}: no registry link names its Terraform type")
            self.provider_version = link.group(1)
            config = next(p for p in t["initializer"]["parameters"] if p["name"] == "config")
            self.roots[kind][link.group(2)] = {"config": config["type"]["fqn"], "class": t}
        self._blocks = {}

    def block(self, fqn):
        """{"attributes": {name: prop}, "blocks": {name: prop}} of a config interface (or of
        a block of the language, given as such)."""
        if isinstance(fqn, dict):
            return fqn
        if fqn not in self._blocks:
            attributes, blocks = {}, {}
            for prop in self.types[fqn].get("properties", []):
                docs = prop["docs"].get("summary", "") + " " + prop["docs"].get("remarks", "")
                anchor = ANCHOR.search(docs)
                name = anchor.group(1) if anchor else snake_case(prop["name"])
                nested = self._nested_fqn(prop["type"])
                values = POSSIBLE_VALUES.search(docs)
                entry = {
                    "required": not prop.get("optional", False),
                    "type": prop["type"],
                    "nested": nested,
                    "possible_values": re.findall(r'"([^"]*)"', values.group(1)) if values else None,
                }
                (blocks if nested else attributes)[name] = entry
            self._blocks[fqn] = {"attributes": attributes, "blocks": blocks}
        return self._blocks[fqn]

    def _nested_fqn(self, jsii_type):
        if "fqn" in jsii_type:
            fqn = jsii_type["fqn"]
            return fqn if fqn.startswith(PACKAGE + ".") else None
        if "collection" in jsii_type:
            return self._nested_fqn(jsii_type["collection"]["elementtype"])
        if "union" in jsii_type:
            for member in jsii_type["union"]["types"]:
                found = self._nested_fqn(member)
                if found:
                    return found
        return None

    def exported(self, kind, tf_type):
        """camelCase names of what a resource or data source exports (its getters)."""
        cls = self.roots[kind][tf_type]["class"]
        return {p["name"] for p in cls.get("properties", []) if not p.get("static")}


def unquote(value):
    if isinstance(value, str) and len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def is_block(value):
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, dict) and v.get("__is_block__") for v in value
    )


def is_expression(value):
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def literal_kind(value):
    """'list', 'map', 'scalar', or None for an expression (its type is unknown here)."""
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    if is_expression(value):
        return None
    return "scalar"


def expected_kind(jsii_type):
    if "collection" in jsii_type:
        return "list" if jsii_type["collection"]["kind"] == "array" else "map"
    if "primitive" in jsii_type:
        return "map" if jsii_type["primitive"] == "json" else "scalar"
    if "union" in jsii_type:
        kinds = {expected_kind(t) for t in jsii_type["union"]["types"]} - {None}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def body_items(body):
    return [(k, v) for k, v in body.items() if not k.startswith("__")]


class Checker:
    def __init__(self, schema, directory):
        self.schema = schema
        self.directory = directory
        self.counts = {
            "resources": 0,
            "data_sources": 0,
            "provider_blocks": 0,
            "attributes": 0,
            "blocks": 0,
            "dynamic_blocks": 0,
            "meta_arguments": 0,
            "possible_values": 0,
            "references": 0,
        }
        self.errors = []
        self.declared = {"resource": set(), "data": set(), "var": set(), "local": set()}
        self.where = ""
        self.line = 0
        self.lines = {}

    def error(self, address, message):
        self.errors.append(f"{self.where}:{self.line}: {address}: {message}")

    def run(self):
        files = sorted(glob.glob(os.path.join(self.directory, "*.tf")))
        if not files:
            self.errors.append(f"{self.directory}: no .tf files")
        docs = []
        options = SerializationOptions(with_comments=False)
        for path in files:
            with open(path) as f:
                text = f.read()
            name = os.path.basename(path)
            docs.append((name, hcl2.loads(text, serialization_options=options)))
            # python-hcl2 keeps no line numbers: errors name the line of their root block.
            for number, line in enumerate(text.splitlines(), 1):
                root = re.match(r'(resource|data|provider|output|variable)\s+"([^"]+)"(?:\s+"([^"]+)")?', line)
                if root:
                    self.lines[(name,) + root.groups()] = number
                if re.match(r"locals\s*\{", line):
                    self.lines.setdefault((name, "locals"), []).append(number)
                if re.match(r"\s*required_providers\s*\{", line):
                    self.lines[(name, "required_providers")] = number
        for _, doc in docs:
            self.collect_declarations(doc)
        for name, doc in docs:
            self.where = name
            self.line = self.lines.get((name, "required_providers"), 0)
            for block in doc.get("terraform", []):
                self.check_required_providers(block)
            for entry in doc.get("provider", []):
                for ptype, body in entry.items():
                    self.check_root("provider", unquote(ptype), None, body)
            for kind in ("resource", "data"):
                for entry in doc.get(kind, []):
                    for rtype, named in entry.items():
                        for rname, body in named.items():
                            if rname.startswith("__"):
                                continue
                            self.check_root(kind, unquote(rtype), unquote(rname), body)
            self.check_references(doc)
        return {"dir": self.directory, **self.counts, "errors": self.errors}

    def collect_declarations(self, doc):
        for kind in ("resource", "data"):
            for entry in doc.get(kind, []):
                for rtype, named in entry.items():
                    for rname in named:
                        if not rname.startswith("__"):
                            self.declared[kind].add(f"{unquote(rtype)}.{unquote(rname)}")
        for entry in doc.get("variable", []):
            self.declared["var"].update(unquote(k) for k in entry if not k.startswith("__"))
        for entry in doc.get("locals", []):
            self.declared["local"].update(k for k in entry if not k.startswith("__"))

    def check_required_providers(self, block):
        for required in block.get("required_providers", []):
            google = required.get("google")
            if not isinstance(google, dict):
                continue
            constraint = unquote(google.get("version", ""))
            if constraint and not satisfies(self.schema.provider_version, constraint):
                self.error(
                    "terraform.required_providers.google",
                    f"the schema is provider {self.schema.provider_version}, which "
                    f"`version = \"{constraint}\"` does not admit",
                )

    def check_root(self, kind, tf_type, name, body):
        address = tf_type if kind == "provider" else f"{'data.' if kind == 'data' else ''}{tf_type}.{name}"
        self.line = self.lines.get((self.where, kind, tf_type, name), 0)
        lookup = self.schema.roots[kind]
        if kind == "provider" and tf_type != "google":
            self.error(f"provider.{tf_type}", "no schema for this provider")
            return
        if kind == "provider":
            tf_type = next(iter(lookup))
        if tf_type not in lookup:
            close = difflib.get_close_matches(tf_type, list(lookup), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.error(address, f"the google provider has no {kind} type {tf_type}{hint}")
            return
        self.counts[{"resource": "resources", "data": "data_sources", "provider": "provider_blocks"}[kind]] += 1
        meta = PROVIDER_META if kind == "provider" else RESOURCE_META
        lifecycle = None if kind == "provider" else LIFECYCLE[kind]
        self.check_body(body, self.schema.block(lookup[tf_type]["config"]), address, meta, lifecycle)

    def check_body(self, body, schema, address, meta=(), lifecycle=None):
        attributes, blocks = schema["attributes"], schema["blocks"]
        seen = set()
        for key, value in body_items(body):
            if key in meta and key not in attributes:
                self.counts["meta_arguments"] += 1
                continue
            if key == "lifecycle" and lifecycle is not None:
                self.counts["meta_arguments"] += 1
                for b in value if is_block(value) else []:
                    self.check_body(b, lifecycle, f"{address}.lifecycle")
                continue
            if key == "dynamic" and isinstance(value, list):
                for dynamic in value:
                    for label, dyn_body in body_items(dynamic):
                        seen.add(self.check_dynamic(unquote(label), dyn_body, blocks, f"{address}"))
                continue
            seen.add(key)
            if key in blocks:
                if not is_block(value):
                    self.error(f"{address}.{key}", f"is a block: write `{key} {{ ... }}`, not `{key} = ...`")
                    continue
                nested = self.schema.block(blocks[key]["nested"])
                for b in value:
                    self.counts["blocks"] += 1
                    self.check_body(b, nested, f"{address}.{key}")
            elif key in attributes:
                if is_block(value):
                    self.error(f"{address}.{key}", f"is an attribute: write `{key} = ...`, not a block")
                    continue
                self.counts["attributes"] += 1
                self.check_value(attributes[key], value, f"{address}.{key}")
            else:
                known = list(attributes) + list(blocks)
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.error(f"{address}.{key}", f"no such attribute or block here{hint}")
        for name, prop in list(attributes.items()) + list(blocks.items()):
            if prop["required"] and name not in seen:
                what = "block" if name in blocks else "attribute"
                self.error(address, f"the required {what} {name} is not set")

    def check_dynamic(self, label, body, blocks, address):
        where = f"{address}.dynamic.{label}"
        if label not in blocks:
            close = difflib.get_close_matches(label, list(blocks), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.error(where, f"no such block here{hint}")
            return label
        self.counts["dynamic_blocks"] += 1
        keys = {k for k, _ in body_items(body)}
        for key in sorted(keys - DYNAMIC_ARGUMENTS):
            self.error(where, f"{key} is not an argument of a dynamic block")
        for key in ("for_each", "content"):
            if key not in keys:
                self.error(where, f"a dynamic block needs {key}")
        nested = self.schema.block(blocks[label]["nested"])
        for content in body.get("content", []) if is_block(body.get("content")) else []:
            self.counts["blocks"] += 1
            self.check_body(content, nested, f"{where}.content")
        return label

    def check_value(self, prop, value, address):
        want, got = expected_kind(prop["type"]), literal_kind(value)
        if want and got and want != got:
            self.error(address, f"takes a {want}, given a {got}")
        if prop["possible_values"] and isinstance(value, str) and got == "scalar":
            self.counts["possible_values"] += 1
            if unquote(value) not in prop["possible_values"]:
                self.error(address, f"{value} is not one of {prop['possible_values']}")
        elif prop["possible_values"] and is_expression(value):
            # A conditional between literals: each arm must be a possible value.
            arms = re.fullmatch(r'\$\{[^?"]+\? "([^"]*)" : "([^"]*)"\}', value)
            for arm in arms.groups() if arms else ():
                self.counts["possible_values"] += 1
                if arm not in prop["possible_values"]:
                    self.error(address, f'"{arm}" is not one of {prop["possible_values"]}')

    def check_references(self, doc):
        """References anywhere in a file, each error on the line of its top-level block."""
        for kind, entries in doc.items():
            for index, entry in enumerate(entries if isinstance(entries, list) else []):
                for label, body in body_items(entry) if kind != "locals" else [(None, entry)]:
                    if kind in ("resource", "data"):
                        for name, inner in body_items(body):
                            self.line = self.lines.get((self.where, kind, unquote(label), unquote(name)), 0)
                            self.check_strings(inner)
                        continue
                    if kind == "locals":
                        lines = self.lines.get((self.where, "locals"), [])
                        self.line = lines[index] if index < len(lines) else 0
                    else:
                        self.line = self.lines.get((self.where, kind, unquote(label), None), 0)
                    self.check_strings(body)

    def check_strings(self, value):
        for text in strings_in(value):
            for expr in re.findall(r"\$\{(.*)\}", text, flags=re.S):
                self.check_expression(expr)

    def check_expression(self, expr):
        # Template strings inside the expression keep their interpolations: only the literal
        # text between them is dropped (it names nothing).
        expr = re.sub(r'"(?:[^"\\$]|\\.|\$(?!\{))*"', '""', expr)
        for var in re.findall(r"(?<![\w.])var\.(\w+)", expr):
            self.counts["references"] += 1
            if var not in self.declared["var"]:
                self.error(f"var.{var}", "no such variable is declared")
        for local in re.findall(r"(?<![\w.])local\.(\w+)", expr):
            self.counts["references"] += 1
            if local not in self.declared["local"]:
                self.error(f"local.{local}", "no such local value is declared")
        pattern = r"(?<![\w.])(data\.)?(google_\w+)\.(\w+)(?:\[[^\]]*\])?(?:\.(\w+))?"
        for data, tf_type, name, attribute in re.findall(pattern, expr):
            kind = "data" if data else "resource"
            address = f"{data}{tf_type}.{name}"
            self.counts["references"] += 1
            if f"{tf_type}.{name}" not in self.declared[kind]:
                self.error(address, f"no such {kind} is declared")
                continue
            if attribute and tf_type in self.schema.roots[kind]:
                exported = self.schema.exported(kind, tf_type)
                camel = camel_case(attribute)
                if camel not in exported and camel + "Attribute" not in exported:
                    self.error(f"{address}.{attribute}", f"{tf_type} exports no {attribute}")


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if not k.startswith("__"):
                yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def satisfies(version, constraints):
    """Terraform's version constraint syntax (`~> 6.14`, `>= 5, < 7`, `= 6.50.0`)."""

    def parts(v):
        return [int(x) for x in v.split(".")]

    have = parts(version)
    for constraint in constraints.split(","):
        op, want = re.fullmatch(r"\s*(~>|>=|<=|!=|=|>|<)?\s*([0-9.]+)\s*", constraint).groups()
        op = op or "="
        want_parts = parts(want)
        padded = want_parts + [0] * (len(have) - len(want_parts))
        if op == "~>":
            prefix = want_parts[:-1] if len(want_parts) > 1 else want_parts
            ok = have >= padded and have[: len(prefix)] == prefix
        else:
            ok = {
                "=": have == padded,
                "!=": have != padded,
                ">": have > padded,
                ">=": have >= padded,
                "<": have < padded,
                "<=": have <= padded,
            }[op]
        if not ok:
            return False
    return True


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    schema = Schema(argv[1])
    results = [Checker(schema, d).run() for d in argv[2:]]
    print(json.dumps({
        "package": PACKAGE,
        "package_version": schema.package_version,
        "provider_version": schema.provider_version,
        "results": results,
    }, indent=1))
    for r in results:
        for e in r["errors"]:
            print(f"{r['dir']}/{e}", file=sys.stderr)
        print(
            f"{r['dir']}: {r['attributes']} attributes and {r['blocks']} blocks "
            f"({r['dynamic_blocks']} dynamic) in {r['resources']} resources, "
            f"{r['data_sources']} data sources and {r['provider_blocks']} provider blocks; "
            f"{r['meta_arguments']} meta-arguments, {r['possible_values']} enumerated values, "
            f"{r['references']} references; {len(r['errors'])} errors "
            f"(google provider {schema.provider_version}, {PACKAGE} {schema.package_version})",
            file=sys.stderr,
        )
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
