#!/usr/bin/python3
"""Jobs simulated per wall-second (issue 10's benchmark, not a timed test): the load_balancing example's
workload at utilisation 0.8 on 20 and 100 balanced nodes, each policy, against the same run's raw
SimGrid baseline (equus-bench's mailbox round trips per second), so that the figure is a ratio that
travels between machines.

    /usr/bin/python3 bench/jobs_bench.py [--policies static,threshold] [--jobs 4000]
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]


def scenario(nodes, policy, jobs):
    rate = 0.8 * nodes / 10.0
    return {
        "name": f"bench-{nodes}", "seed": 1, "duration_s": 1e6,
        "platform": {"nodes": [{"id": f"{0x201 + i:x}", "name": f"n{i}", "groups": ["balanced"],
                                "type": "jt68030", "memory_mb": 4} for i in range(nodes)],
                     "users": [{"user": "tim", "groups": ["balanced"]}],
                     "overrides": {"kernel.dependency_probe_period": 60}},
        "modules": {}, "rdcs": [], "policy": policy,
        "workload": {"arrivals": {"type": "poisson", "rate": rate},
                     "shape": {"demand_s": {"type": "exponential", "mean": 10}},
                     "groups": ["balanced"], "max_jobs": jobs},
        "outputs": {"trace": False},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--policies", default="static,threshold,least_loaded")
    ap.add_argument("--jobs", type=int, default=4000)
    ap.add_argument("--nodes", default="20,100")
    a = ap.parse_args()
    out = subprocess.run([str(REPO / "build" / "equus-bench")], capture_output=True, text=True).stdout
    m = re.search(r"raw SimGrid[^\n]*?([0-9.e+]+)\s*(?:round trips|/s)", out)
    print(out.strip())
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'nodes':>6} {'policy':>14} {'jobs':>6} {'wall_s':>8} {'jobs/s':>8}")
        for n in map(int, a.nodes.split(",")):
            for p in a.policies.split(","):
                path = pathlib.Path(tmp) / f"{n}-{p}.json"
                path.write_text(json.dumps(scenario(n, p, a.jobs)))
                t0 = time.perf_counter()
                subprocess.run([str(REPO / "build" / "equus"), "run", str(path), "--out", f"{tmp}/{n}-{p}"],
                               check=True, capture_output=True)
                wall = time.perf_counter() - t0
                print(f"{n:>6} {p:>14} {a.jobs:>6} {wall:>8.2f} {a.jobs / wall:>8.0f}")
    if m:
        print(f"(baseline from equus-bench above: {m.group(1)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
