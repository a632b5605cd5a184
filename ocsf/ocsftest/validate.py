"""Validates OCSF events, one JSON object a line on standard input, against
the JSON Schema of their class that ocsf-json-schema generates from the OCSF
schema it ships. Prints one line per invalid event and exits 1 when any is."""
import json
import sys

from jsonschema import Draft202012Validator
from ocsf_json_schema import OcsfJsonSchemaEmbedded, get_ocsf_schema

schemas = {}
validators = {}
bad = 0
for n, line in enumerate(sys.stdin, 1):
    line = line.strip()
    if not line:
        continue
    event = json.loads(line)
    version = event["metadata"]["version"]
    profiles = sorted(event["metadata"].get("profiles", []))
    key = (version, event["class_uid"], tuple(profiles))
    if key not in validators:
        if version not in schemas:
            schemas[version] = OcsfJsonSchemaEmbedded(get_ocsf_schema(version=version))
        s = schemas[version]
        name = s.lookup_class_name_from_uid(class_uid=event["class_uid"])
        validators[key] = Draft202012Validator(s.get_class_schema(class_name=name, profiles=profiles))
    errors = sorted(validators[key].iter_errors(event), key=lambda e: list(e.path))
    if errors:
        bad += 1
        for e in errors:
            path = "/".join(str(p) for p in e.path)
            print(f"line {n} class {event['class_uid']} {path}: {e.message}")
    else:
        print(f"line {n} class {event['class_uid']} valid")
sys.exit(1 if bad else 0)
