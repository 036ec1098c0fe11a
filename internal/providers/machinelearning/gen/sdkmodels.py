#!/usr/bin/python3
"""Writes sdkmodels_gen.go: the request and response shapes of each api-version
that azure-ai-ml 1.4.0 calls, read from the REST models its generated clients
carry (azure/ai/ml/_restclient/v*/models/_models_py3.py, Debian's python3-azure).

For every api-version it records
  - the resource types of Microsoft.MachineLearningServices/workspaces and
    below that its operations serve, each with the model of its GET response,
    PUT body and PATCH body (from the operations' _deserialize and
    _serialize.body calls and their URL templates);
  - every model reachable from those, member by member: JSON name, msrest
    type, enum, required, read-only; whether it takes members beyond those
    (msrest's additional_properties); and the discriminator and subtypes of
    polymorphic models. Members msrest flattens ("properties.description")
    are put back into the nested object the wire has;
  - the values of the enums those members use.

Run through go generate in internal/providers/machinelearning (needs
/usr/bin/python3 with python3-azure; pydash, which azure.ai.ml imports, comes
from testdata/python). The output is deterministic: members in the order of
the model, models and enums sorted.
"""

import argparse
import enum
import importlib
import inspect
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ beside the shim
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "testdata", "python"))

import azure.ai.ml  # noqa: E402  (after the pydash shim is on the path)

PACKAGES = ["v2022_01_01_preview", "v2022_02_01_preview", "v2022_05_01", "v2022_10_01", "v2022_10_01_preview"]
NAMESPACE = "Microsoft.MachineLearningServices"

# The swagger names of the objects msrest flattens into their parent (the
# nested object's own name appears in .NET's error messages).
FLATTENED = {
    "Workspace": "WorkspaceProperties",
    "WorkspaceUpdateParameters": "WorkspacePropertiesUpdateParameters",
    "ClusterUpdateParameters": "ClusterUpdateProperties",
    "PrivateEndpointConnection": "PrivateEndpointConnectionProperties",
    "PrivateLinkResource": "PrivateLinkResourceProperties",
    "SharedPrivateLinkResource": "SharedPrivateLinkResourceProperty",
}

PRIMITIVES = {"str", "bool", "int", "long", "float", "object", "iso-8601", "duration", "date", "bytearray", "rfc-1123", "unix-time"}


def api_version(package):
    return package[1:].replace("_", "-", 2).replace("_", "-")


def arm_type(url):
    """The resource type a URL template addresses, or None (collections, actions, other namespaces)."""
    prefix = "/providers/" + NAMESPACE + "/"
    i = url.find(prefix)
    if i < 0 or not url.endswith("}"):
        return None
    segs = url[i + len(prefix):].split("/")
    if len(segs) % 2 or segs[0] != "workspaces":
        return None
    return NAMESPACE + "/" + "/".join(segs[0::2])


def operations(package):
    """{arm type: {"get"|"put"|"patch": model name}} from the operations classes."""
    ops = importlib.import_module(f"azure.ai.ml._restclient.{package}.operations")
    out = {}
    for _, cls in inspect.getmembers(ops, inspect.isclass):
        for name, fn in inspect.getmembers(cls, inspect.isfunction):
            md = getattr(fn, "metadata", None)
            if not md:
                continue
            t = arm_type(md["url"])
            if t is None:
                continue
            src = inspect.getsource(fn)
            if name == "get":
                verb, m = "get", re.search(r"_deserialize\('(\w+)', pipeline_response\)", src)
            elif name in ("create", "create_or_update", "_create_or_update_initial"):
                verb, m = "put", re.search(r"_serialize\.body\(\w+, '(\w+)'\)", src)
            elif name in ("update", "_update_initial"):
                verb, m = "patch", re.search(r"_serialize\.body\(\w+, '(\w+)'\)", src)
            else:
                continue
            if m:
                out.setdefault(t, {})[verb] = m.group(1)
    return out


def split_key(key):
    """msrest keys use '.' for flattening and '\\.' for a dot in a name."""
    return [p.replace("\\.", ".") for p in re.split(r"(?<!\\)\.", key)]


class Reader:
    def __init__(self, package):
        self.models = importlib.import_module(f"azure.ai.ml._restclient.{package}.models._models_py3")
        self.enum_module = importlib.import_module(
            f"azure.ai.ml._restclient.{package}.models._azure_machine_learning_workspaces_enums")
        self.out = {}  # model name -> dict
        self.enums = {}

    def enum_of(self, cls, attr):
        m = re.search(r":vartype %s: str or ~[\w.]+\.(\w+)\b" % re.escape(attr), cls.__doc__ or "")
        if not m:
            return ""
        e = getattr(self.enum_module, m.group(1), None)
        if not (inspect.isclass(e) and issubclass(e, enum.Enum)):
            return ""
        self.enums[e.__name__] = [v.value for v in e]
        return e.__name__

    def visit_type(self, typ):
        while typ[:1] in ("[", "{"):
            typ = typ[1:-1]
        if typ not in PRIMITIVES:
            self.visit(typ)

    def visit(self, name):
        if name in self.out:
            return
        cls = getattr(self.models, name)
        self.out[name] = None  # being visited
        validation = getattr(cls, "_validation", {})
        own, nested, open_ = [], {}, False
        for attr, a in cls._attribute_map.items():
            if a["key"] == "":
                # msrest's additional_properties: members beyond the listed ones are allowed.
                open_ = True
                continue
            parts = split_key(a["key"])
            v = validation.get(attr, {})
            member = {
                "name": parts[-1], "type": a["type"], "enum": self.enum_of(cls, attr) if a["type"] == "str" else "",
                "required": bool(v.get("required")), "readOnly": bool(v.get("readonly")),
            }
            if len(parts) == 1:
                own.append(member)
            elif len(parts) == 2:
                nested.setdefault(parts[0], []).append(member)
            else:
                raise SystemExit(f"{name}.{attr}: flattened more than one level: {a['key']}")
            self.visit_type(a["type"])
        for parent, members in nested.items():
            sub = FLATTENED.get(name, name + parent[:1].upper() + parent[1:])
            self.out[sub] = {"members": members, "discriminator": "", "subtypes": {}, "open": False}
            own.append({"name": parent, "type": sub, "enum": "", "required": False, "readOnly": False})
        disc, subtypes = "", {}
        sm = cls.__dict__.get("_subtype_map")
        if sm:
            (attr, values), = sm.items()
            disc = split_key(cls._attribute_map[attr]["key"])[-1]
            subtypes = dict(values)
            for sub in values.values():
                self.visit(sub)
        self.out[name] = {"members": own, "discriminator": disc, "subtypes": subtypes, "open": open_}


def go_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def model_literal(m):
    """The Go composite literal of model m."""
    parts = []
    if m["open"]:
        parts.append("open: true")
    if m["discriminator"]:
        subs = ", ".join(f"{go_string(k)}: {go_string(v)}" for k, v in sorted(m["subtypes"].items()))
        parts.append(f"discriminator: {go_string(m['discriminator'])}")
        parts.append(f"subtypes: map[string]string{{{subs}}}")
    lines = []
    for mb in m["members"]:
        fields = [f"name: {go_string(mb['name'])}", f"typ: {go_string(mb['type'])}"]
        if mb["enum"]:
            fields.append(f"enum: {go_string(mb['enum'])}")
        if mb["required"]:
            fields.append("required: true")
        if mb["readOnly"]:
            fields.append("readOnly: true")
        lines.append("\t\t{" + ", ".join(fields) + "},\n")
    parts.append("members: []sdkMember{\n" + "".join(lines) + "\t}")
    return "&sdkModel{" + ", ".join(parts) + "}"


def write(out, apis):
    # Most models and enums are the same in several versions: each is
    # written once per distinct shape, with the versions that have it.
    models, enums = {}, {}  # (name, literal) -> [versions]
    for version, _, ms, es in apis:
        for name in sorted(ms):
            models.setdefault((name, model_literal(ms[name])), []).append(version)
        for name in sorted(es):
            lit = "[]string{" + ", ".join(go_string(v) for v in es[name]) + "}"
            enums.setdefault((name, lit), []).append(version)

    def versions(vs):
        return "[]string{" + ", ".join(go_string(v) for v in vs) + "}"

    w = out.write
    w("// Code generated by gen/sdkmodels.py from azure-ai-ml 1.4.0's REST models; DO NOT EDIT.\n\n")
    w("package machinelearning\n\n")
    w("// sdkResourceTable is every resource type an api-version serves, with the\n")
    w("// models of its bodies, once per distinct set, with the versions that have it.\n")
    w("var sdkResourceTable = []sdkResourceEntry{\n")
    resources = {}
    for version, rs, _, _ in apis:
        for t in sorted(rs):
            r = rs[t]
            lit = "sdkResource{" + ", ".join(f"{k}: {go_string(r[k])}" for k in ("get", "put", "patch") if k in r) + "}"
            resources.setdefault((t, lit), []).append(version)
    for (t, lit), vs in sorted(resources.items()):
        w(f"\t{{typ: {go_string(t)}, versions: {versions(vs)}, resource: {lit}}},\n")
    w("}\n\n")
    w("// sdkModelTable is every model the resources' bodies reach, once per\n")
    w("// distinct shape, with the api-versions that have it.\n")
    w("var sdkModelTable = []sdkModelEntry{\n")
    for (name, lit), vs in sorted(models.items()):
        w(f"\t{{name: {go_string(name)}, versions: {versions(vs)}, model: {lit}}},\n")
    w("}\n\n")
    w("// sdkEnumTable is every enum the models use, once per distinct list of\n")
    w("// values, with the api-versions that have it.\n")
    w("var sdkEnumTable = []sdkEnumEntry{\n")
    for (name, lit), vs in sorted(enums.items()):
        w(f"\t{{name: {go_string(name)}, versions: {versions(vs)}, values: {lit}}},\n")
    w("}\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", default="sdkmodels_gen.go")
    args = p.parse_args()
    apis = []
    for package in PACKAGES:
        resources = operations(package)
        r = Reader(package)
        for verbs in resources.values():
            for name in verbs.values():
                r.visit(name)
        apis.append((api_version(package), resources, r.out, r.enums))
    with open(args.output, "w") as out:
        write(out, apis)


if __name__ == "__main__":
    main()
