"""Tiny hand-computable optimizer instances: a stand-in Workspace and requirement frames."""

from __future__ import annotations

import datetime as dt
import types

import numpy as np
import pandas as pd

from capplan.config import Config
from capplan.schema import REQUIREMENTS_COLUMNS

MONDAY = dt.date(2026, 1, 5)
WEEKDAY_NUM = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5, "Sun": 6}


def config(start: dt.date = MONDAY, plan_days: int = 7, interval_minutes: int = 60, shrinkage: float = 0.0, **policy) -> Config:
    cfg = Config()
    cfg.planning.start = start
    cfg.planning.plan_days = plan_days
    cfg.planning.interval_minutes = interval_minutes
    cfg.staffing.shrinkage = shrinkage
    cfg.staffing.deferred_max_utilisation = 1.0
    for k, v in policy.items():
        setattr(cfg.policy, k, v)
    cfg.solver.time_limit_s = 30
    cfg.solver.relative_gap = 0.0
    return cfg


def queue(name: str, kind: str = "realtime", severity: int = 2, egregious: bool = False, within_s: float = 60.0) -> dict:
    return {"queue": name, "kind": kind, "target": 0.8, "within_s": within_s, "severity": severity, "egregious": egregious,
            "patience_s": np.nan}


def pool(name: str, queues=("q",), languages=("en",), vendor: str = "inhouse", tz: str = "UTC", rate: float = 10.0,
         proficiency: float = 1.0, min_hc: int = 0, max_hc: int = 1000, shifts=("day",), site: str | None = None,
         currency: str = "USD") -> dict:
    return {"pool": name, "vendor": vendor, "site": site or name, "timezone": tz, "queues": tuple(queues),
            "languages": tuple(languages), "proficiency": proficiency, "min_headcount": min_hc, "max_headcount": max_hc,
            "cost_per_hour": rate, "currency": currency, "shifts": tuple(shifts)}


def shift(name: str = "day", start: str = "00:00", paid_hours: float = 8.0, break_minutes: float = 0.0, days: int = 7,
          start_days=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")) -> dict:
    hh, mm = map(int, start.split(":"))
    return {"shift": name, "start_local": start, "start_minute": hh * 60 + mm, "paid_hours": paid_hours,
            "break_minutes": break_minutes, "days_per_week": days, "start_days": tuple(WEEKDAY_NUM[d] for d in start_days)}


def vendor(name: str, min_h: float = 0.0, max_h: float = 1e9, share: float = 1.0, quality: float = 0.9) -> dict:
    return {"vendor": name, "min_weekly_hours": min_h, "max_weekly_hours": max_h, "max_language_share": share,
            "quality": quality, "currency": "USD"}


def workspace(cfg: Config, queues: list[dict], pools: list[dict], shifts: list[dict], vendors: list[dict] = (),
              handle_times: list[tuple] | None = None) -> types.SimpleNamespace:
    qdf = pd.DataFrame(queues)
    pdf = pd.DataFrame(pools)
    if handle_times is None:
        handle_times = sorted({(q, lang, 60.0) for p in pools for q in p["queues"] for lang in p["languages"]})
    hdf = pd.DataFrame(handle_times, columns=["queue", "language", "aht_s"])
    vdf = pd.DataFrame(list(vendors), columns=["vendor", "min_weekly_hours", "max_weekly_hours", "max_language_share", "quality", "currency"])
    sdf = pd.DataFrame(shifts)

    def cells():
        return hdf[["queue", "language"]].drop_duplicates().sort_values(["queue", "language"]).reset_index(drop=True)

    def skills():
        rows = [(p["pool"], q, lang) for p in pools for q in p["queues"] for lang in p["languages"]]
        s = pd.DataFrame(rows, columns=["pool", "queue", "language"]).merge(cells(), on=["queue", "language"])
        return s.sort_values(["pool", "queue", "language"]).reset_index(drop=True)

    return types.SimpleNamespace(config=cfg, queues=qdf, pools=pdf, handle_times=hdf, vendors=vdf, shifts=sdf,
                                 events=pd.DataFrame(), cells=cells, skills=skills, root=None, warnings=[])


def requirements(cfg: Config, rows: dict[tuple[str, str], np.ndarray], kinds: dict[str, str] | None = None,
                 aht_s: float = 60.0) -> pd.DataFrame:
    """rows: (queue, language) -> per-interval values: realtime = required productive moderators,
    deferred = workload hours arriving in the interval."""
    kinds = kinds or {}
    start = pd.Timestamp(dt.datetime.combine(cfg.planning.start, dt.time(0)), tz="UTC")
    h = cfg.planning.interval_minutes / 60.0
    parts = []
    for (q, lang), values in rows.items():
        values = np.asarray(values, dtype=float)
        times = start + pd.to_timedelta(np.arange(len(values)) * h, unit="h")
        kind = kinds.get(q, "realtime")
        if kind == "realtime":
            workload = values * h * 0.8
            required = values
        else:
            workload = values
            required = values / h
        parts.append(pd.DataFrame({
            "queue": q, "language": lang, "interval_start": times, "volume": workload * 3600.0 / aht_s, "aht_s": aht_s,
            "workload_hours": workload, "method": "erlang_c" if kind == "realtime" else "backlog", "target": 0.8,
            "within_s": 60.0, "required_productive": required, "service_level": 0.8, "shrinkage": cfg.staffing.shrinkage,
            "required_paid": required / (1 - cfg.staffing.shrinkage),
        }))
    return pd.concat(parts, ignore_index=True)[REQUIREMENTS_COLUMNS]


def daily_profile(per_day: list[float], cfg: Config, hours=range(24)) -> np.ndarray:
    """Hourly requirement: per_day[d] moderators during `hours` of day d of the week."""
    out = np.zeros(cfg.planning.plan_days * 24)
    for d in range(cfg.planning.plan_days):
        for hh in hours:
            out[d * 24 + hh] = per_day[d % 7]
    return out
