"""A tiny hand-written workspace for input tests: two queues, two languages, two pools, three weeks."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from capplan.config import Config, to_toml

START = "2026-03-02"  # a Monday

TABLES = {
    "queues": "queue,kind,target,within,severity,egregious,patience\n"
    "video,deferred,0.9,4h,1,yes,\n"
    "live,realtime,0.8,60s,1,no,3m\n",
    "handle_times": "queue,language,aht_s\nvideo,en,120\nvideo,es,130\nlive,en,180\n",
    "pools": "pool,vendor,site,timezone,queues,languages,proficiency,min_headcount,max_headcount,cost_per_hour,currency,shifts\n"
    "dub-ih,inhouse,Dublin,Europe/Dublin,video;live,en,1.0,0,40,30,EUR,day;night\n"
    "mnl-b1,bpo1,Manila,Asia/Manila,video,en;es,1.2,0,60,9,USD,day;night\n",
    "vendors": "vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency\nbpo1,0,5000,0.8,0.92,USD\n",
    "shifts": "shift,start_local,paid_hours,break_minutes,days_per_week,start_days\n"
    "day,08:00,8,30,5,Mon-Sun\nnight,22:00,8,30,5,Mon-Sun\n",
    "events": "name,start,end,queues,languages,multiplier\nviral,2026-02-20T00:00:00Z,2026-02-21T00:00:00Z,video,*,2.0\n",
}


@functools.lru_cache(maxsize=None)  # the same text every time (seeded); hundreds of tests write it
def history_csv(weeks: int = 3) -> str:
    idx = pd.date_range(pd.Timestamp(START, tz="UTC") - pd.Timedelta(weeks=weeks), periods=weeks * 168, freq="h")
    rng = np.random.default_rng(0)
    rows = []
    for q, lang, base in [("video", "en", 40), ("video", "es", 10), ("live", "en", 20)]:
        lam = base * (1.2 + np.sin(2 * np.pi * idx.hour / 24))
        for t, v in zip(idx, rng.poisson(lam)):
            rows.append(f"{t:%Y-%m-%dT%H:%M:%SZ},{q},{lang},{v}")
    return "interval_start,queue,language,volume\n" + "\n".join(rows) + "\n"


def make_workspace(root: Path, **overrides: str) -> Path:
    """Write the tiny workspace; ``overrides`` replace whole tables (name -> CSV text, None to delete)."""
    root = Path(root)
    (root / "inputs").mkdir(parents=True, exist_ok=True)
    config = Config()
    config.planning.start = pd.Timestamp(START).date()
    config.policy.fx = {"USD": 1.0, "EUR": 1.08}
    (root / "capplan.toml").write_text(to_toml(config), encoding="utf-8")
    tables = {"history": history_csv(), **TABLES, **overrides}
    for name, text in tables.items():
        if text is not None:
            (root / "inputs" / f"{name}.csv").write_text(text, encoding="utf-8")
    return root
