"""In-memory workspaces and shift plans for simulator tests: pools in UTC on round-the-clock or fixed shifts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from capplan.config import Config
from capplan.inputs import Workspace

START = dt.date(2026, 3, 2)  # a Monday


def config(days: int = 7, *, share: float = 1.0, hours_per_day: float = 24.0, utilisation: float = 1.0,
           shrinkage: float = 0.0, interval_minutes: int = 60) -> Config:
    cfg = Config()
    cfg.planning.start = START
    cfg.planning.plan_days = days
    cfg.planning.horizon_days = max(days, 7)
    cfg.planning.interval_minutes = interval_minutes
    cfg.staffing.shrinkage = shrinkage
    cfg.staffing.deferred_max_utilisation = utilisation
    cfg.policy.exposure_max_share = share
    cfg.policy.exposure_max_hours_per_day = hours_per_day
    return cfg


def workspace(queues: list[dict], cells: list[tuple[str, str, float]], pools: list[dict], shifts: list[dict] | None = None,
              cfg: Config | None = None, history: pd.DataFrame | None = None) -> Workspace:
    """A typed workspace from plain rows (queues: queue, kind, target, within_s, severity, egregious, patience_s)."""
    q = pd.DataFrame(queues)
    for col, default in (("target", 0.8), ("severity", 1), ("egregious", False), ("patience_s", np.nan)):
        if col not in q:
            q[col] = default
    shifts = shifts or [{"shift": "all", "start_minute": 0, "paid_hours": 24.0, "break_minutes": 0.0}]
    s = pd.DataFrame(shifts)
    s["start_local"] = [f"{m // 60:02d}:{m % 60:02d}" for m in s["start_minute"]]
    s["days_per_week"] = 7
    s["start_days"] = [tuple(range(7))] * len(s)
    p = pd.DataFrame(pools)
    for col, default in (("vendor", "inhouse"), ("site", "Here"), ("timezone", "UTC"), ("proficiency", 1.0), ("min_headcount", 0),
                         ("max_headcount", 10_000), ("cost_per_hour", 10.0), ("currency", "USD")):
        if col not in p:
            p[col] = default
    if "shifts" not in p:
        p["shifts"] = [tuple(s["shift"])] * len(p)
    return Workspace(root=Path("."), config=cfg or config(), history=history if history is not None else pd.DataFrame(
                         columns=["interval_start", "queue", "language", "volume", "aht_s"]),
                     queues=q, handle_times=pd.DataFrame(cells, columns=["queue", "language", "aht_s"]), pools=p,
                     vendors=pd.DataFrame(columns=["vendor", "min_weekly_hours", "max_weekly_hours", "max_language_share", "quality", "currency"]),
                     shifts=s, events=pd.DataFrame(columns=["name", "start", "end", "queues", "languages", "multiplier"]))


def shift_plan(ws: Workspace, heads: dict[tuple[str, str], int]) -> pd.DataFrame:
    """One occurrence per (pool, shift) and plan day with the given headcount (pools in UTC)."""
    cfg = ws.config
    shifts = ws.shifts.set_index("shift")
    rows = []
    for (pool, shift), n in heads.items():
        for k in range(cfg.planning.plan_days):
            day = cfg.planning.start + dt.timedelta(days=k)
            start = pd.Timestamp(dt.datetime.combine(day, dt.time(0)), tz="UTC") + pd.Timedelta(minutes=int(shifts.at[shift, "start_minute"]))
            rows.append({"pool": pool, "vendor": "inhouse", "site": "Here", "shift": shift, "day": day,
                         "start_local": start.tz_localize(None).isoformat(timespec="minutes"), "start_utc": start,
                         "paid_hours": float(shifts.at[shift, "paid_hours"]), "headcount": int(n)})
    return pd.DataFrame(rows)


def no_allocation() -> pd.DataFrame:
    out = pd.DataFrame(columns=["pool", "vendor", "queue", "language", "interval_start", "productive_hours"])
    out["interval_start"] = pd.to_datetime(out["interval_start"], utc=True)
    return out


def arrivals(rates: dict[tuple[str, str], float | np.ndarray], days: int, seed: int = 0, poisson: bool = True,
             interval_minutes: int = 60) -> pd.DataFrame:
    """Hourly arrivals per cell: Poisson counts of the given mean per interval (or the means themselves)."""
    rng = np.random.default_rng(seed)
    n = days * 24 * 60 // interval_minutes
    times = pd.date_range(pd.Timestamp(START, tz="UTC"), periods=n, freq=f"{interval_minutes}min")
    parts = []
    for (q, lang), rate in rates.items():
        mean = np.broadcast_to(np.asarray(rate, dtype=float), (n,))
        volume = rng.poisson(mean).astype(float) if poisson else mean.astype(float)
        parts.append(pd.DataFrame({"queue": q, "language": lang, "interval_start": times, "volume": volume}))
    return pd.concat(parts, ignore_index=True)
