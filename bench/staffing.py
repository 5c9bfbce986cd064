"""Benchmark the staffing maths.

Usage::

    PYTHONPATH=src python3 bench/staffing.py [--cells-c 1000000] [--cells-a 100000] [--pw-sample 400]
                                             [--out bench/results/staffing.json]

Measures, in one run:

* minimal Erlang C staffing for 10^6 interval-cells (integer and fractional), target <= 5 s;
* minimal Erlang A staffing for 10^5 interval-cells, target <= 5 s;
* pyworkforce 0.5.1 ``ErlangC.required_positions`` on a random sample of the same cells, and the
  speed ratio (its seconds per cell over ours in the vectorized run), plus how many answers agree;
* ``compute_requirements`` on a 4-week hourly forecast of 100 real-time + 100 deferred cells;
* peak resident memory (``ru_maxrss``) after each step.

Cells are drawn to look like real-time moderation queues: volume per 30-min interval
Gamma(2, 150) (mean 300, long tail), AHT 60-600 s, targets 80/90/95 % within 20-120 s, occupancy
cap 85 %; Erlang A adds a mean patience of 30-600 s. Prints a table; writes JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from capplan.staffing.erlang import required_agents  # noqa: E402

LIMIT_S = 5.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cells(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "volume": rng.gamma(2.0, 150.0, n),
        "interval_s": 1800.0,
        "aht_s": rng.uniform(60, 600, n).round(),
        "target": rng.choice([0.8, 0.9, 0.95], n),
        "within_s": rng.choice([20.0, 30.0, 60.0, 120.0], n),
        "max_occupancy": 0.85,
    }


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def bench_requirements(seed: int) -> dict:
    import pandas as pd

    from capplan.config import Config
    from capplan.staffing.requirements import compute_requirements

    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-03-02T00:00:00Z")
    times = pd.date_range(start, periods=28 * 24, freq="h")
    n_rt, n_def = 100, 100
    langs = [f"l{i:02d}" for i in range(50)]
    queues = pd.DataFrame({"queue": ["live", "escal", "video", "photo"], "kind": ["realtime", "realtime", "deferred", "deferred"],
                           "target": [0.8, 0.9, 0.9, 0.95], "within_s": [60.0, 30.0, 4 * 3600.0, 8 * 3600.0],
                           "severity": [1, 1, 2, 3], "egregious": [True, False, True, False], "patience_s": [np.nan, 120.0, np.nan, np.nan]})
    keys = [(q, lang) for q in ("live", "escal") for lang in langs][:n_rt] + [(q, lang) for q in ("video", "photo") for lang in langs][:n_def]
    handle = pd.DataFrame({"queue": [k[0] for k in keys], "language": [k[1] for k in keys], "aht_s": rng.uniform(40, 400, len(keys))})
    shape = 1 + 0.6 * np.sin(2 * np.pi * (np.arange(len(times)) % 24) / 24)
    frames = []
    for (q, lang), level in zip(keys, rng.gamma(2.0, 60.0, len(keys))):
        vol = rng.poisson(level * shape).astype(float)
        frames.append(pd.DataFrame({"queue": q, "language": lang, "interval_start": times, "volume": vol,
                                    "volume_lo_80": vol * 0.8, "volume_hi_80": vol * 1.2, "model": "bench"}))
    forecast = pd.concat(frames, ignore_index=True)
    ws = types.SimpleNamespace(config=Config.model_validate({"planning": {"start": dt.date(2026, 3, 2)}}), queues=queues,
                               handle_times=handle, history=None)
    req, seconds = timed(compute_requirements, forecast, ws, 50)
    return {"rows": len(req), "cells": len(keys), "seconds": seconds,
            "methods": {k: int(v) for k, v in req["method"].value_counts().sort_index().items()}}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells-c", type=int, default=1_000_000)
    parser.add_argument("--cells-a", type=int, default=100_000)
    parser.add_argument("--pw-sample", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "staffing.json")
    args = parser.parse_args(argv)
    results: dict = {"python": platform.python_version(), "machine": platform.machine(), "limit_s": LIMIT_S}

    c = cells(args.cells_c, args.seed)
    required_agents(c["volume"][:1000], c["interval_s"], c["aht_s"][:1000], c["target"][:1000], c["within_s"][:1000])  # warm-up
    r_c, s_c = timed(required_agents, c["volume"], c["interval_s"], c["aht_s"], c["target"], c["within_s"], max_occupancy=c["max_occupancy"])
    _, s_cf = timed(required_agents, c["volume"], c["interval_s"], c["aht_s"], c["target"], c["within_s"],
                    max_occupancy=c["max_occupancy"], fractional=True)
    results["erlang_c"] = {"cells": args.cells_c, "seconds": s_c, "seconds_fractional": s_cf, "us_per_cell": 1e6 * s_c / args.cells_c,
                           "mean_load_erlang": float(r_c.offered_load.mean()), "max_load_erlang": float(r_c.offered_load.max()),
                           "mean_agents": float(r_c.agents.mean()), "peak_rss_mb": peak_mb(), "ok": s_c <= LIMIT_S and s_cf <= LIMIT_S}

    a = cells(args.cells_a, args.seed + 1)
    patience = np.random.default_rng(args.seed + 2).uniform(30, 600, args.cells_a).round()
    r_a, s_a = timed(required_agents, a["volume"], a["interval_s"], a["aht_s"], a["target"], a["within_s"], patience_s=patience,
                     max_occupancy=a["max_occupancy"])
    _, s_af = timed(required_agents, a["volume"], a["interval_s"], a["aht_s"], a["target"], a["within_s"], patience_s=patience,
                    max_occupancy=a["max_occupancy"], fractional=True)
    results["erlang_a"] = {"cells": args.cells_a, "seconds": s_a, "seconds_fractional": s_af, "us_per_cell": 1e6 * s_a / args.cells_a,
                           "share_below_offered_load": float((r_a.agents < r_a.offered_load).mean()),
                           "peak_rss_mb": peak_mb(), "ok": s_a <= LIMIT_S and s_af <= LIMIT_S}

    try:
        from pyworkforce.queuing import ErlangC
    except ImportError:  # pragma: no cover
        results["pyworkforce"] = {"skipped": "pyworkforce not installed"}
    else:
        rng = np.random.default_rng(args.seed + 3)
        pick = np.sort(rng.choice(args.cells_c, args.pw_sample, replace=False))
        t = time.perf_counter()
        theirs = np.array([
            ErlangC(transactions=c["volume"][i], aht=c["aht_s"][i] / 60, asa=c["within_s"][i] / 60, interval=c["interval_s"] / 60)
            .required_positions(c["target"][i], c["max_occupancy"])["raw_positions"] for i in pick
        ], dtype=float)
        s_pw = time.perf_counter() - t
        ours = r_c.agents[pick]
        skipped_min = (theirs == ours + 1) & (np.round(r_c.offered_load[pick] + 1) > np.floor(r_c.offered_load[pick]) + 1)
        results["pyworkforce"] = {
            "version": "0.5.1", "sample": args.pw_sample, "seconds": s_pw, "us_per_cell": 1e6 * s_pw / args.pw_sample,
            "speed_ratio": (s_pw / args.pw_sample) / (s_c / args.cells_c),
            "same_answer": int((theirs == ours).sum()),
            "pyworkforce_one_more_from_round_start": int(skipped_min.sum()),
            "other_differences": int(((theirs != ours) & ~skipped_min).sum()),
        }

    results["requirements"] = bench_requirements(args.seed)
    results["requirements"]["peak_rss_mb"] = peak_mb()
    results["peak_rss_mb"] = peak_mb()

    print(f"{'step':<34}{'cells':>10}{'seconds':>10}{'us/cell':>10}{'peak MB':>10}")
    for name in ("erlang_c", "erlang_a"):
        r = results[name]
        print(f"{name + ' (integer)':<34}{r['cells']:>10,}{r['seconds']:>10.2f}{r['us_per_cell']:>10.2f}{r['peak_rss_mb']:>10.0f}")
        print(f"{name + ' (fractional)':<34}{r['cells']:>10,}{r['seconds_fractional']:>10.2f}{1e6 * r['seconds_fractional'] / r['cells']:>10.2f}")
    pw = results["pyworkforce"]
    if "speed_ratio" in pw:
        print(f"{'pyworkforce ErlangC (sample)':<34}{pw['sample']:>10,}{pw['seconds']:>10.2f}{pw['us_per_cell']:>10.0f}")
        print(f"speed ratio (pyworkforce s/cell over ours): {pw['speed_ratio']:,.0f}x; same answer on {pw['same_answer']}/{pw['sample']}, "
              f"pyworkforce +1 from its round(a+1) start on {pw['pyworkforce_one_more_from_round_start']}, other differences {pw['other_differences']}")
    req = results["requirements"]
    print(f"{'compute_requirements (4 weeks)':<34}{req['rows']:>10,}{req['seconds']:>10.2f}{1e6 * req['seconds'] / req['rows']:>10.2f}{req['peak_rss_mb']:>10.0f}")
    ok = results["erlang_c"]["ok"] and results["erlang_a"]["ok"]
    print(f"targets (<= {LIMIT_S:g} s each): {'met' if ok else 'MISSED'}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
