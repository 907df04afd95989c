#!/usr/bin/env python3
"""Runs examples/gitops/argocd-health.lua the way Argo CD does (the object as
the global `obj`, the script's return value is the health) with lua5.4.

  argocd_health.py SCRIPT.lua OBJECT.json      -> prints STATUS<TAB>MESSAGE
As a module: health(script_path, obj_dict) -> (status, message).
"""
import json
import subprocess
import sys


def lua_literal(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON string escapes are valid Lua escapes for this data
    if isinstance(v, list):
        return "{" + ", ".join(lua_literal(x) for x in v) + "}"
    return "{" + ", ".join(f"[{json.dumps(k)}] = {lua_literal(x)}" for k, x in v.items()) + "}"


def health(script, obj):
    program = (f"obj = {lua_literal(obj)}\n"
               f"local check = assert(loadfile({json.dumps(script)}))\n"
               "local hs = check()\n"
               "assert(hs.status == 'Healthy' or hs.status == 'Progressing' or hs.status == 'Degraded', 'bad status ' .. tostring(hs.status))\n"
               "io.write(hs.status, '\\t', hs.message or '')\n")
    out = subprocess.run(["lua5.4", "-"], input=program, capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    status, _, message = out.stdout.partition("\t")
    return status, message


if __name__ == "__main__":
    status, message = health(sys.argv[1], json.load(open(sys.argv[2])))
    print(f"{status}\t{message}")
