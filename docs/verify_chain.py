#!/usr/bin/env python3
"""Check a Fluxera Activity hash chain without the platform.

usage: python3 verify_chain.py ENTRIES.ndjson

ENTRIES holds one entry a line, as GET /api/v1/activity/feed gives them
(see docs/compliance.md). The script recomputes every entry's hash from
its canonical form and the hash before it, and says which entry first
breaks the chain. It uses the personal fields' digests as recorded; only
the platform, which holds the workspace's digest key, can hold the values
to them. Python 3.11 or later, standard library only.
"""
import hashlib, json, sys
from datetime import datetime, timezone

def ms(t):
    d = datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)

def canonical(e):
    c, d = e["chain"], e["chain"].get("digests", {})
    a, r, x = e.get("actor", {}), e.get("resource", {}), e.get("context", {})
    form = {
        "v": 1, "workspace_id": e["workspace_id"], "seq": c["seq"], "id": e["id"],
        "schema": e["schema"], "occurred_at": ms(e["occurred_at"]),
        "action": e["action"], "category": e.get("category", ""), "outcome": e["outcome"],
        "actor": {"id": a.get("id", ""), "type": a.get("type", ""), "role": a.get("role", ""),
                  "email": d.get("actor.email", ""), "name": d.get("actor.name", "")},
        "resource": {"type": r.get("type", ""), "id": r.get("id", ""), "role": r.get("role", ""),
                     "name": d.get("resource.name", "")},
        "related": [{"type": o.get("type", ""), "id": o.get("id", ""), "role": o.get("role", ""),
                     "name": d.get("related.%d.name" % i, "")} for i, o in enumerate(e.get("related") or [])],
        "changes": [{"field": ch.get("field", ""), "redacted": ch.get("redacted", False),
                     "before": d.get("changes.%d.before" % i, ""), "after": d.get("changes.%d.after" % i, "")}
                    for i, ch in enumerate(e.get("changes") or [])],
        "context": {"ip": d.get("context.ip", ""), "user_agent": x.get("user_agent", ""),
                    "session_id": x.get("session_id", ""), "request_id": x.get("request_id", ""),
                    "method": x.get("method", ""), "time_zone": x.get("time_zone", "")},
        "note": d.get("note", ""), "details": d.get("details", ""),
    }
    return json.dumps(form, separators=(",", ":"), ensure_ascii=False).encode()

# An NDJSON export ends with the checkpoint that covers it, which is no entry.
lines = (json.loads(l) for l in open(sys.argv[1]) if l.strip())
entries = sorted((e for e in lines if e.get("type") != "checkpoint"), key=lambda e: e["chain"]["seq"])
prev = entries[0]["chain"]["prev_hash"]
for e in entries:
    c = e["chain"]
    h = hashlib.sha256(prev.encode() + b"\n" + canonical(e)).hexdigest()
    if c["prev_hash"] != prev or h != c["hash"]:
        sys.exit("entry %d (%s) is broken" % (c["seq"], e["id"]))
    prev = h
print("%d entries, %d to %d, chain whole; last hash %s" % (len(entries), entries[0]["chain"]["seq"], entries[-1]["chain"]["seq"], prev))
