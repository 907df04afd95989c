#!/usr/bin/env python3
"""Writes kubeconform JSON schemas for the given kinds from an apiserver's
OpenAPI v2 document (`kubectl get --raw /openapi/v2`), one file per kind named
KIND_VERSION.json (kubeconform: -schema-location 'DIR/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json').

Each file is self-contained (the definitions it reaches are copied in), objects
with properties refuse unknown keys, and int-or-string fields take both.

  openapi_to_kubeconform.py OPENAPI.json OUTDIR group/version/Kind...
  openapi_to_kubeconform.py --crd CRD.yaml OUTDIR     (each served version's schema)
"""
import json
import sys


def strict(s):
    if isinstance(s, dict):
        s = {k: v for k, v in s.items() if not k.startswith("x-kubernetes")}
        if s.get("format") == "int-or-string":
            return {"oneOf": [{"type": "string"}, {"type": "integer"}]}
        # Under properties the keys are field names (a CRD's schema has fields
        # named x-kubernetes-...): kept, only their schemas are made strict.
        s = {k: {name: strict(sub) for name, sub in v.items()} if k == "properties" and isinstance(v, dict)
             else strict(v) for k, v in s.items()}
        if s.get("type") == "object" and "properties" in s and "additionalProperties" not in s:
            s["additionalProperties"] = False
        return s
    if isinstance(s, list):
        return [strict(v) for v in s]
    return s


def from_crd(crd_file, out):
    import yaml
    crd = yaml.safe_load(open(crd_file))
    for v in crd["spec"]["versions"]:
        schema = strict(v["schema"]["openAPIV3Schema"])
        schema["properties"]["metadata"] = {"type": "object"}
        json.dump(schema, open(f"{out}/{crd['spec']['names']['kind'].lower()}_{v['name']}.json", "w"))


def main():
    if sys.argv[1] == "--crd":
        return from_crd(sys.argv[2], sys.argv[3])
    openapi = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    defs = openapi["definitions"]
    by_gvk = {}
    for name, d in defs.items():
        for gvk in d.get("x-kubernetes-group-version-kind", []):
            by_gvk[(gvk["group"], gvk["version"], gvk["kind"])] = name

    def reach(name, seen):
        if name in seen:
            return
        seen.add(name)
        stack = [defs[name]]
        while stack:
            s = stack.pop()
            if isinstance(s, dict):
                ref = s.get("$ref")
                if isinstance(ref, str):
                    reach(ref.split("/")[-1], seen)
                stack.extend(s.values())
            elif isinstance(s, list):
                stack.extend(s)

    missing = []
    for arg in sys.argv[3:]:
        group, version, kind = arg.split("/")
        group = "" if group == "core" else group
        name = by_gvk.get((group, version, kind))
        if not name:
            missing.append(arg)
            continue
        seen = set()
        reach(name, seen)
        schema = strict(dict(defs[name]))
        schema["definitions"] = {n: strict(defs[n]) for n in seen}
        # apiVersion/kind are checked by kubeconform itself; allow the usual metadata.
        json.dump(schema, open(f"{out}/{kind.lower()}_{version}.json", "w"))
    if missing:
        sys.exit("no schema in the OpenAPI document for: " + ", ".join(missing))


if __name__ == "__main__":
    main()
