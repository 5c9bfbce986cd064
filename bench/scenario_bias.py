"""Where does the scenarios' upward mean come from on real arrivals? (docs/risk.md, "Calibration on real arrivals")

Usage::

    PYTHONPATH=src python3 bench/scenario_bias.py [--weeks 0,3] [--out bench/results/scenario_bias.json]

On the small demo with real arrivals (:func:`evaluate_real.build_workspace`), for the video and appeals cells of the
given weeks (0-based among the last four): the mean over every error block of the scenario's weekly total over the
forecast's, ``v = f + z s(f)`` as :func:`capplan.optimize.stochastic.draw_scenarios` builds it, four ways: all
offsets (as drawn) or only the weekday-keeping offsets 0 and 7, each with and without the clip at zero.
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


def cell_means(f_hour: np.ndarray, z: np.ndarray, a: float, c: float, days: int = 7, actual=None, pred=None) -> dict:
    """Mean relative excess of the scenarios' weekly total over the forecast's, four ways (see the module notes),
    and two diagnostics over all offsets (clipped at zero): ``z_clip4`` (|z| at most 4) and ``absolute`` (the
    backtest's own error y - f added as it was, no standardisation: no transfer of the error between levels)."""
    s = np.sqrt(a * (f_hour + 1) + c * (f_hour + 1) ** 2)
    W, span = z.shape[0], z.shape[1] // 24
    out = {}
    for name, zz in (("z_clip4", np.clip(z, -4, 4)), ("absolute", None)):
        totals = []
        for w in range(W):
            for o in range(span - days + 1):
                if zz is None:
                    e = np.nan_to_num(actual[w, o * 24:(o + days) * 24] - pred[w, o * 24:(o + days) * 24])
                else:
                    e = np.nan_to_num(zz[w, o * 24:(o + days) * 24]) * s
                totals.append(np.clip(f_hour + e, 0, None).sum() / f_hour.sum() - 1)
        out[name] = round(float(np.mean(totals)), 4)
    for name, offsets in (("all_offsets", range(span - days + 1)), ("weekday_offsets", (0, 7))):
        for clip in (True, False):
            totals = []
            for w in range(W):
                for o in offsets:
                    v = f_hour + np.nan_to_num(z[w, o * 24:(o + days) * 24]) * s
                    totals.append((np.clip(v, 0, None) if clip else v).sum() / f_hour.sum() - 1)
            out[name + ("" if clip else "_no_clip")] = round(float(np.mean(totals)), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", default="0,3")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scenario_bias.json")
    args = ap.parse_args()
    from evaluate_real import build_workspace

    from capplan.evaluate import evaluation_weeks
    from capplan.evaluate.weeks import week_config, workspace_before
    from capplan.forecast.run import run_forecast
    from capplan.inputs import load_workspace
    from capplan.optimize.stochastic import _error_arrays, _standardised

    cpu = time.process_time()
    ws_dir = Path(tempfile.mkdtemp(prefix="capplan-bias-")) / "ws"
    build_workspace(ws_dir)
    ws = load_workspace(ws_dir)
    rows = []
    for k in [int(x) for x in args.weeks.split(",")]:
        week = evaluation_weeks(ws.history, ws.config, 4)[k]
        config = week_config(ws.config, week)
        past = workspace_before(ws, week, config)
        fc = run_forecast(past.history, past.events, config, engine="local", handle_times=past.handle_times)
        errors = fc.backtest_errors
        f = fc.forecast[(fc.forecast[INTERVAL_START] >= week) & (fc.forecast[INTERVAL_START] < week + pd.Timedelta(days=7))]
        cells = sorted(set(zip(errors[QUEUE], errors[LANGUAGE])))
        actual, pred, _, _ = _error_arrays(errors, cells)
        z, a, c = _standardised(actual, pred)
        for i, cell in enumerate(cells):
            if cell[0] not in ("video", "appeals"):
                continue
            g = f[(f[QUEUE] == cell[0]) & (f[LANGUAGE] == cell[1])].sort_values(INTERVAL_START)
            f_hour = g.groupby(g[INTERVAL_START].dt.floor("h"))[VOLUME].sum().to_numpy()
            ok = ~np.isnan(actual[i])
            rows.append({"week": str(week.date()), "cell": "/".join(cell),
                         "backtest_bias": float((actual[i][ok].sum() - pred[i][ok].sum()) / pred[i][ok].sum()),
                         **cell_means(f_hour, z[i], float(a[i]), float(c[i]), actual=actual[i], pred=pred[i])})
            print(rows[-1])
    result = {"command": "bench/scenario_bias.py " + " ".join(sys.argv[1:]), "cpu_s": round(time.process_time() - cpu, 1),
              "rows": rows}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print("cpu_s", result["cpu_s"])


if __name__ == "__main__":
    main()
