"""Do the drawn demand scenarios spread as wide as the forecast's real errors? (issue 19, docs/risk.md)

Usage::

    PYTHONPATH=src python3 bench/scenario_spread.py [--workspace real|synthetic] [--weeks 4] [--scenarios 20]
                                                    [--out bench/results/scenario_spread]

For each of the last ``--weeks`` whole weeks of the workspace (``real``: the small demo with real arrivals,
:func:`evaluate_real.build_workspace`; ``synthetic``: the small demo) the forecast is run on the history before the
week (as the walk-forward does), ``--scenarios`` scenarios are drawn (:func:`capplan.optimize.stochastic.draw_scenarios`,
the checked plan's model and held-out blocks together), and per cell and per queue the week's actual total and its
worst day (actual / forecast) are placed among the scenarios': the rank of the actual among the scenarios (a
probability integral transform, PIT; calibrated scenarios give PIT uniform on [0, 1], over-confident ones pile PIT
at 0 and 1) and the scenarios' spread (standard deviation of weekly total / forecast). Also: how many distinct error
blocks the backtest holds. Nothing here is tuned: it measures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from capplan.schema import INTERVAL_START, LANGUAGE, QUEUE, VOLUME  # noqa: E402

DAY = pd.Timedelta(days=1)


def _daily(frame: pd.DataFrame, week: pd.Timestamp, keys: list[str]) -> pd.DataFrame:
    """Volume per key and day of the week (7 columns)."""
    t = pd.to_datetime(frame[INTERVAL_START], utc=True)
    f = frame[(t >= week) & (t < week + 7 * DAY)].assign(_day=((t - week) // DAY).astype(int))
    return f.groupby(keys + ["_day"])[VOLUME].sum().unstack("_day").reindex(columns=range(7), fill_value=0.0).fillna(0.0)


def _pit(actual: float, draws: np.ndarray) -> float:
    """Randomisation-free mid-rank PIT of ``actual`` among ``draws``."""
    return float((np.sum(draws < actual) + 0.5 * np.sum(draws == actual)) / len(draws))


def week_rows(ws, week: pd.Timestamp, n: int) -> tuple[list[dict], dict]:
    from capplan.evaluate.weeks import week_arrivals, week_config, workspace_before
    from capplan.forecast.run import run_forecast
    from capplan.optimize.stochastic import draw_scenarios

    config = week_config(ws.config, week)
    past = workspace_before(ws, week, config)
    fc = run_forecast(past.history, past.events, config, engine="local", handle_times=past.handle_times)
    errs = fc.backtest_errors
    sc = draw_scenarios(fc.forecast, errs, config, n)
    arrivals = week_arrivals(ws.history, week)
    rows = []
    for keys in ([QUEUE, LANGUAGE], [QUEUE]):
        f_day = _daily(fc.forecast, week, keys)
        a_day = _daily(arrivals, week, keys).reindex(f_day.index, fill_value=0.0)
        s_day = np.stack([_daily(s, week, keys).reindex(f_day.index).to_numpy() for s in sc.forecasts])  # (n, k, 7)
        for i, key in enumerate(f_day.index):
            f = f_day.iloc[i].to_numpy()
            if f.sum() <= 0:
                continue
            a = a_day.iloc[i].to_numpy()
            s = s_day[:, i, :]
            open_ = f > 0.02 * f.max()  # days the cell is open (the bank is closed at weekends)
            f, a, s = f[open_], a[open_], s[:, open_]
            rows.append({"week": str(week.date()), "level": "cell" if len(keys) == 2 else "queue",
                         "key": "/".join(key) if isinstance(key, tuple) else key,
                         "actual_week": a.sum() / f.sum() - 1, "sd_week": float(np.std(s.sum(axis=1) / f.sum())),
                         "mean_week": float(np.mean(s.sum(axis=1) / f.sum())) - 1,
                         "rms_day": float(np.sqrt(np.mean((a / f - 1) ** 2))),
                         "sd_day": float(np.sqrt(np.mean(np.var(s / f, axis=0)))),
                         "pit_week": _pit(a.sum(), s.sum(axis=1)),
                         "actual_worst_day": float(np.max(a / f)) - 1,
                         "pit_worst_day": _pit(np.max(a / f), np.max(s / f, axis=1))})
    facts = {"week": str(week.date()), "windows": int(errs["window"].nunique()) if len(errs) else 0,
             "horizon_days": int(errs["hour"].max() + 1) // 24 if len(errs) else 0,
             "blocks_used": [list(map(int, b)) for b in sc.blocks], "distinct": sc.distinct}
    return rows, facts


def summary(rows: pd.DataFrame) -> dict:
    out = {}
    for level, g in rows.groupby("level"):
        out[level] = {
            "n": len(g),
            "sd_week_median": float(g["sd_week"].median()),
            "abs_actual_week_median": float(g["actual_week"].abs().median()),
            "mean_week_median": float(g["mean_week"].median()),
            "rms_day_median": float(g["rms_day"].median()),
            "sd_day_median": float(g["sd_day"].median()),
            "pit_week_outside_5_95": float(((g["pit_week"] < 0.05) | (g["pit_week"] > 0.95)).mean()),
            "pit_worst_day_above_95": float((g["pit_worst_day"] > 0.95).mean()),
            "pit_worst_day_mean": float(g["pit_worst_day"].mean()),
            "z_week_rms": float(np.sqrt(np.mean((g["actual_week"] / g["sd_week"].clip(lower=1e-9)) ** 2))),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", default="real", choices=["real", "synthetic"])
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--scenarios", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    from capplan.evaluate import evaluation_weeks
    from capplan.inputs import load_workspace

    cpu = time.process_time()
    ws_dir = Path(tempfile.mkdtemp(prefix="capplan-spread-")) / "ws"
    if args.workspace == "real":
        from evaluate_real import build_workspace
        build_workspace(ws_dir)
    else:
        from capplan.demo import build_demo_workspace
        build_demo_workspace(ws_dir, seed=7, size="small")
    ws = load_workspace(ws_dir)
    rows, facts = [], []
    for week in evaluation_weeks(ws.history, ws.config, args.weeks):
        r, f = week_rows(ws, week, args.scenarios)
        rows += r
        facts.append(f)
    table = pd.DataFrame(rows)
    result = {"command": "bench/scenario_spread.py " + " ".join(sys.argv[1:]), "weeks": facts, "summary": summary(table),
              "cpu_s": round(time.process_time() - cpu, 1)}
    out = args.out or ROOT / "bench" / "results" / f"scenario_spread_{args.workspace}"
    out.with_suffix(".json").write_text(json.dumps({**result, "rows": rows}, indent=1) + "\n")
    pd.set_option("display.width", 200)
    print(table[table["level"] == "queue"].to_string(float_format=lambda x: f"{x:.3f}"))
    print(json.dumps({k: v for k, v in result.items() if k != "weeks"}, indent=1))
    print(json.dumps(facts[0], indent=None)[:400])


if __name__ == "__main__":
    main()
