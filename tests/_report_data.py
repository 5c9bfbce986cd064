"""Fake but internally consistent plan tables for the report tests and the workbook benchmark.

The optimizer and staffing stages are written concurrently, so the report is tested against tables
built here with the documented columns (PRODUCT.md data contract). Numbers are seeded and consistent:
coverage.planned_productive = sum of allocation per cell and interval, vendor_allocation sums the
allocation's paid hours and costs them at each pool's rate converted to the reporting currency.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from capplan.config import Config
from capplan.report.context import ComparisonPlan, PlanContext
from capplan.schema import WEEKDAYS

START = dt.date(2026, 1, 26)  # a Monday; the plan week spans January and February
LANG_NAMES = ["en", "es", "tl", "pt", "de", "fr", "ar", "hi", "id", "ja", "ko", "th", "vi", "tr", "it", "pl",
              "nl", "sv", "ru", "uk", "ro", "ms", "bn", "ur"]
QUEUE_NAMES = ["video", "photo", "comments", "live", "appeals", "audio", "ads", "profiles", "groups", "messages"]
VENDOR_SPECS = [  # name, currency, rate range (per paid hour, own currency)
    ("Acme Outsourcing", "PHP", (410.0, 530.0)),
    ("Globex Services", "EUR", (17.25, 21.75)),
    ("Initech BPO", "USD", (11.35, 13.65)),
    ("Umbrella Care", "EUR", (15.15, 16.85)),
]
SITES = [("Manila", "Asia/Manila"), ("Lisbon", "Europe/Lisbon"), ("Austin", "America/Chicago"), ("Dublin", "Europe/Dublin")]


def make_context(
    n_queues: int = 3,
    n_languages: int = 3,
    n_pools: int = 4,
    n_vendors: int = 2,
    plan_days: int = 7,
    history_days: int = 28,
    seed: int = 0,
    pool_names: list[str] | None = None,
    vendor_names: list[str] | None = None,
    p90: bool = True,
) -> PlanContext:
    """A small plan: ``n_vendors`` BPO vendors plus in-house, pools spread over them."""
    rng = np.random.default_rng(seed)
    config = Config()
    config.planning.start = START
    config.planning.plan_days = plan_days
    config.policy.fx = {"USD": 1.0, "EUR": 1.08, "PHP": 0.0175}
    start = pd.Timestamp(START, tz="UTC")

    queues = QUEUE_NAMES[:n_queues]
    languages = LANG_NAMES[:n_languages]
    cells = [(q, lang) for q in queues for lang in languages]
    queues_df = pd.DataFrame({
        "queue": queues,
        "kind": ["realtime" if q == "live" else "deferred" for q in queues],
        "target": [0.8 if q == "live" else 0.9 for q in queues],
        "within_s": [60.0 if q == "live" else 14400.0 for q in queues],
        "severity": [1 + i % 3 for i in range(n_queues)],
        "egregious": [q in ("video", "live") for q in queues],
        "patience_s": [300.0 if q == "live" else np.nan for q in queues],
    })
    aht = {c: float(rng.integers(40, 200)) for c in cells}

    specs = VENDOR_SPECS[:n_vendors]
    if vendor_names:
        specs = [(name, cur, rr) for name, (_, cur, rr) in zip(vendor_names, specs)]
    vendors_df = pd.DataFrame({
        "vendor": [s[0] for s in specs],
        "min_weekly_hours": [200.0 + 10 * i for i in range(len(specs))],
        "max_weekly_hours": [20000.0 + 100 * i for i in range(len(specs))],
        "max_language_share": [0.7] * len(specs),
        "quality": [0.91 + 0.01 * i for i in range(len(specs))],
        "currency": [s[1] for s in specs],
    })
    owners = ["inhouse"] + [s[0] for s in specs]
    pools = []
    for i in range(n_pools):
        owner = owners[i % len(owners)]
        site, tz = SITES[i % len(SITES)]
        if owner == "inhouse":
            rate, cur = round(float(rng.uniform(30.0, 34.0)), 2), "USD"
        else:
            spec = next(s for s in specs if s[0] == owner)
            rate, cur = round(float(rng.uniform(*spec[2])), 2), spec[1]
        name = pool_names[i] if pool_names and i < len(pool_names) else f"{site[:3].lower()}-p{i + 1}"
        qs = tuple(queues[j] for j in range(n_queues) if (i + j) % 3 != 2) or tuple(queues)
        ls = tuple(languages[j] for j in range(n_languages) if (i + j) % 2 == 0 or j == 0)
        pools.append({
            "pool": name, "vendor": owner, "site": site, "timezone": tz, "queues": qs, "languages": ls,
            "proficiency": 1.0 + 0.1 * (i % 3), "min_headcount": 0, "max_headcount": 200,
            "cost_per_hour": rate, "currency": cur, "shifts": ("day", "night"),
        })
    pools_df = pd.DataFrame(pools)
    fx = config.policy.fx
    shrink = config.staffing.shrinkage

    intervals = pd.date_range(start, periods=24 * plan_days, freq="h")
    # allocation: productive hours per pool x skill cell x interval
    rows = []
    for p in pools:
        for q in p["queues"]:
            for lang in p["languages"]:
                hours = np.round(rng.uniform(0.0, 6.0, len(intervals)), 3)
                rows.append(pd.DataFrame({
                    "pool": p["pool"], "vendor": p["vendor"], "queue": q, "language": lang,
                    "interval_start": intervals, "productive_hours": hours,
                }))
    allocation = pd.concat(rows, ignore_index=True).sort_values(
        ["pool", "queue", "language", "interval_start"], kind="stable").reset_index(drop=True)

    # requirements and coverage per cell x interval
    req_rows, cov_rows = [], []
    planned = allocation.groupby(["queue", "language", "interval_start"])["productive_hours"].sum()
    for q, lang in cells:
        volume = np.round(rng.uniform(20, 400, len(intervals)), 1)
        a = aht[(q, lang)]
        workload = volume * a / 3600
        required = np.round(workload / 0.9, 4)
        req_rows.append(pd.DataFrame({
            "queue": q, "language": lang, "interval_start": intervals, "volume": volume, "aht_s": a,
            "workload_hours": workload, "method": "erlang_a" if q == "live" else "backlog",
            "target": 0.8 if q == "live" else 0.9, "within_s": 60.0 if q == "live" else 14400.0,
            "required_productive": required, "service_level": np.round(rng.uniform(0.9, 1.0, len(intervals)), 4),
            "shrinkage": shrink, "required_paid": required / (1 - shrink),
        }))
        plan = np.array([planned.get((q, lang, t), 0.0) for t in intervals])
        unmet = np.round(np.clip(required - plan, 0, None) * (rng.uniform(0, 1, len(intervals)) < 0.2), 4)
        cov_rows.append(pd.DataFrame({
            "queue": q, "language": lang, "interval_start": intervals, "required_productive": required,
            "planned_productive": plan, "backlog": np.round(rng.uniform(0, 50, len(intervals)), 1), "unmet": unmet,
        }))
    requirements = pd.concat(req_rows, ignore_index=True)
    coverage = pd.concat(cov_rows, ignore_index=True)

    # weekly patterns (5 consecutive days from a start weekday) per pool x shift, and the shift plan they give:
    # headcount per pool x day x shift (day = the local date, as the optimizer writes it)
    pat_rows, sp_rows = [], []
    for p in pools:
        for shift, hh in (("day", 8), ("night", 20)):
            per_start = {s: int(rng.integers(0, 6)) for s in range(7)}
            per_start[0] = max(per_start[0], 1)
            for s_day, n in per_start.items():
                if n:
                    pat_rows.append({"pool": p["pool"], "vendor": p["vendor"], "shift": shift, "start_day": WEEKDAYS[s_day],
                                     "start_day_index": s_day, "days_per_week": 5, "moderators": n, "paid_hours_week": 8.5 * 5})
            for d in range(plan_days):
                day = start + pd.Timedelta(days=d)
                n = sum(m for s_day, m in per_start.items() if (day.weekday() - s_day) % 7 < 5)
                if n == 0:
                    continue
                sp_rows.append({
                    "pool": p["pool"], "vendor": p["vendor"], "site": p["site"], "shift": shift, "day": day.date(),
                    "start_local": f"{hh:02d}:00", "start_utc": day + pd.Timedelta(hours=hh),
                    "paid_hours": 8.5, "headcount": n, "paid_hours_total": 8.5 * n,
                    "end_utc": day + pd.Timedelta(hours=hh + 9),
                    "cost": 8.5 * n * p["cost_per_hour"] * fx[p["currency"]],
                })
    shift_plan = pd.DataFrame(sp_rows)
    patterns = pd.DataFrame(pat_rows)

    # vendor allocation like the optimizer's: productive hours per vendor x cell x ISO week; the vendor's
    # shift-plan cost (reporting currency) split in proportion to productive hours
    va = allocation.copy()
    iso = va["interval_start"].dt.isocalendar()
    va["week"] = iso["year"].astype(str) + "-W" + iso["week"].astype(int).map("{:02d}".format)
    va["items"] = [h * 3600 / aht[(q, lang)] for h, q, lang in zip(va["productive_hours"], va["queue"], va["language"])]
    vendor_allocation = va.groupby(["vendor", "queue", "language", "week"], sort=True).agg(
        hours=("productive_hours", "sum"), items=("items", "sum")).reset_index()
    paid_cost = shift_plan.groupby("vendor")["cost"].sum()
    total = vendor_allocation.groupby("vendor")["hours"].transform("sum")
    vendor_allocation["cost"] = vendor_allocation["vendor"].map(paid_cost) * vendor_allocation["hours"] / total

    short = coverage[coverage["unmet"] > 0].copy()
    sev = queues_df.set_index("queue")["severity"]
    short["unmet_hours"] = short["unmet"]
    short["severity"] = short["queue"].map(sev).astype(int)
    short["penalty"] = short["unmet_hours"] * short["severity"].map(config.policy.unmet_penalty_per_hour)
    short["reason"] = "pool max_headcount"
    shortfalls = short[["queue", "language", "interval_start", "unmet_hours", "severity", "penalty", "reason"]].reset_index(drop=True)
    binding = pd.DataFrame({
        "kind": ["pool_max_headcount", "exposure_cap"],
        "name": [pools[0]["pool"], "video"],
        "detail": ["at 200 of 200 on 3 days", "egregious share at 50% in 40 intervals"],
    })

    # forecast (28 days hourly) and history
    horizon = pd.date_range(start, periods=24 * 28, freq="h")
    f_rows, h_rows = [], []
    hist_idx = pd.date_range(start - pd.Timedelta(days=history_days), periods=24 * history_days, freq="h")
    for q, lang in cells:
        base = float(rng.uniform(50, 300))
        v = np.round(base * (1 + 0.3 * np.sin(np.arange(len(horizon)) * 2 * np.pi / 24)), 2)
        f_rows.append(pd.DataFrame({
            "queue": q, "language": lang, "interval_start": horizon, "volume": v,
            "volume_lo_80": v * 0.8, "volume_hi_80": v * 1.2, "volume_lo_95": v * 0.7, "volume_hi_95": v * 1.3,
            "model": "mstl",
        }))
        h_rows.append(pd.DataFrame({
            "interval_start": hist_idx, "queue": q, "language": lang,
            "volume": np.round(base * (1 + 0.3 * np.sin(np.arange(len(hist_idx)) * 2 * np.pi / 24)) + rng.normal(0, 5, len(hist_idx)).clip(-base / 2), 1),
        }))
    forecast = pd.concat(f_rows, ignore_index=True)
    history = pd.concat(h_rows, ignore_index=True)

    total_cost = float(vendor_allocation["cost"].sum())
    solve = {
        "status": "optimal", "objective": total_cost + float(shortfalls["penalty"].sum()), "bound": total_cost * 0.995,
        "gap": 0.005, "seconds": 3.2, "cost": total_cost, "baseline_cost": total_cost * 1.12,
        "unmet_hours": float(shortfalls["unmet_hours"].sum()), "variables": 12345, "constraints": 6789,
    }
    ctx = PlanContext(
        run_id="20260120T101500Z", created_utc="2026-01-20T10:15:00Z", capplan_version="0.1.0", config=config,
        inputs=[{"file": f"inputs/{n}.csv", "sha256": f"{i:064x}", "rows": 10 + i} for i, n in
                enumerate(["history", "queues", "handle_times", "pools", "vendors", "shifts"])],
        solve=solve, warnings=["pools.csv, row 3: proficiency 1.3 is high", "=cmd|' /C calc'!A0 looks like a formula"],
        requirements=requirements, shift_plan=shift_plan, allocation=allocation, coverage=coverage,
        vendor_allocation=vendor_allocation, shortfalls=shortfalls, binding=binding, forecast=forecast,
        history=history, pools=pools_df, vendors=vendors_df, queues=queues_df, patterns=patterns,
    )
    if p90:
        va90 = vendor_allocation.copy()
        va90[["hours", "items", "cost"]] *= 1.15
        ctx.comparison = ComparisonPlan(vendor_allocation=va90, solve={**solve, "cost": total_cost * 1.15}, quantile=90)
    return ctx
