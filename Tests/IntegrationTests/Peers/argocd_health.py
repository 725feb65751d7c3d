"""Runs an Argo CD health script (Lua, as Argo CD runs it: a global `obj`, the script returns a
table with status and message) on each object of a JSON list read from standard input; prints
one JSON list of {status, message}. Usage: argocd_health.py SCRIPT.lua < objects.json"""
import json
import sys

from lupa import LuaRuntime

script = open(sys.argv[1]).read()
results = []
for obj in json.load(sys.stdin):
    lua = LuaRuntime(unpack_returned_tuples=True)

    def convert(value):
        if isinstance(value, dict):
            table = lua.table()
            for key, item in value.items():
                table[key] = convert(item)
            return table
        if isinstance(value, list):
            return lua.table(*[convert(item) for item in value])
        return value

    lua.globals().obj = convert(obj)
    health = lua.execute(script)
    results.append({"status": health["status"], "message": health["message"]})
print(json.dumps(results))
