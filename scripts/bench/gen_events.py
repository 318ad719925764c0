#!/usr/bin/env python3
"""Writes N realistic native events as NDJSON: 100 services x 3 environments over 90 days."""
import json, random, sys
from datetime import datetime, timedelta, timezone

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
random.seed(42)
start = datetime(2026, 8, 1, tzinfo=timezone.utc)
span = 90 * 86400
envs = ["dev", "staging", "production"]
types = ["deployment.succeeded"] * 14 + ["deployment.started"] * 3 + ["deployment.failed", "deployment.rolled_back"]
out = sys.stdout
for i in range(n):
    t = start + timedelta(seconds=span * i / n)
    svc = f"service-{i % 100:03d}"
    env = envs[(i // 100) % 3]
    e = {
        "id": f"bench-{i}",
        "type": random.choice(types),
        "service": svc,
        "environment": env,
        "time": t.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "version": f"1.{i // 3000}.{i % 97}",
        "commit": f"{random.getrandbits(160):040x}",
        "commitTime": (t - timedelta(hours=random.randint(1, 72))).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "namespace": svc,
        "workload": svc,
        "actor": "ci-bot",
    }
    out.write(json.dumps(e, separators=(",", ":")) + "\n")
