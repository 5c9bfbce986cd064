"""binding.csv's prices on a demo week: which binding limits read no price, 0, or a price, and what reading the duals costs.

Usage::

    PYTHONPATH=src python3 bench/zero_prices.py [--size small] [--out bench/results/zero_prices.json]

Plans the demo week (requirements as ``bench/plan.py`` makes them, no baseline, ``price_rules`` off: only the row
prices) and reports binding.csv's rows by kind: priced, priced 0 and not priced (with or without a reason). Side by
side on the same LP relaxation result (``solve._duals`` wrapped), two ways of reading its duals:

* ``before``: nonzero row duals only (exact zeros dropped, no reduced costs), as before this change;
* ``now``: :func:`capplan.optimize.solve._duals`: also the exact zeros of the priced rows and the staff variables'
  negative reduced costs per pool.

For each: entries and CPU seconds of the read, and binding.csv's rows priced from those duals
(:func:`capplan.optimize.extract.binding_table` called again with the plan's own arguments; ``None``: NaN).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))


def _counts(binding) -> dict:
    price, unit = binding["shadow_price"], binding["shadow_unit"].fillna("").astype(str)
    return {"rows": int(len(binding)), "priced_nonzero": int((price.notna() & (price != 0)).sum()),
            "priced_zero": int((price == 0).sum()), "unpriced_with_reason": int((price.isna() & (unit != "")).sum()),
            "unpriced_no_reason": int((price.isna() & (unit == "")).sum())}


def run(size: str) -> dict:
    from capplan.demo import build_demo_workspace
    from capplan.inputs import load_workspace
    from capplan.optimize import extract as ex
    from capplan.optimize import solve as solve_module
    from capplan.optimize import solve_plan
    from plan import make_requirements

    reads: dict = {}
    real = solve_module._duals

    def before(b, result) -> dict:
        try:
            raw = result.dual_values()
        except (ValueError, RuntimeError, AttributeError):
            return {}
        return {c.name: float(v) * solve_module.dual_unit(b, c.name) for c, v in raw.items() if v != 0.0}

    def wrapped(b, result):
        for name, fn in (("before", before), ("now", real)):
            c = time.process_time()
            out = fn(b, result)
            reads[name] = {"entries": len(out), "cpu_seconds": time.process_time() - c, "duals": out}
        return reads["now"]["duals"]

    seen: dict = {}
    real_table = ex.binding_table

    def table(*args, **kwargs):
        seen["args"] = args
        return real_table(*args, **kwargs)

    solve_module._duals, ex.binding_table = wrapped, table
    try:
        with tempfile.TemporaryDirectory() as tmp:
            build_demo_workspace(Path(tmp) / size, size=size)
            ws = load_workspace(Path(tmp) / size)
            ws.config.solver.time_limit_s = 300.0
            req, _ = make_requirements(ws)
            c0 = time.process_time()
            r = solve_plan(ws, req, with_baseline=False, price_rules=False)
            cpu = time.process_time() - c0
    finally:
        solve_module._duals, ex.binding_table = real, real_table
    tables = {k: real_table(*seen["args"][:7], reads[k]["duals"]) for k in ("before", "now")}
    merged = tables["now"].merge(tables["before"], on=["kind", "name"], suffixes=("", "_before"))
    rows = [{"kind": k, "name": n, "before": None if b != b else float(b), "now": None if p != p else float(p), "unit": u}
            for k, n, p, u, b in zip(merged["kind"], merged["name"], merged["shadow_price"], merged["shadow_unit"], merged["shadow_price_before"])]
    return {"size": size, "plan_cpu_seconds": cpu, "status": r.solve["status"], "gap": r.solve["gap"],
            "reads": {k: {"entries": v["entries"], "cpu_seconds": v["cpu_seconds"]} for k, v in reads.items()},
            "binding_now": _counts(tables["now"]), "binding_before": _counts(tables["before"]), "rows": rows,
            "changed": [x for x in rows if x["before"] != x["now"]]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--size", default="small")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "zero_prices.json"))
    args = p.parse_args(argv)
    out = run(args.size)
    Path(args.out).write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(json.dumps(out, indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
