"""``capplan reforecast``: update the rest of today's forecast from the arrivals so far and re-route with the shifts fixed.

Writes ``reforecasts/<run-id>/``. Checks before anything is written (exit 2): a plan exists and was
made from this workspace (hashes in its ``run.json``); ``--as-of`` is inside the plan window and on
its interval grid (a time without a zone is read as UTC, and said so); the arrivals (history, or
``--arrivals FILE``) reach from the day's start to ``--as-of``.

"Today" is the local calendar day of the operation's time zone (:func:`operation_zone`: ``--time-zone`` or
``[reforecast] time_zone``, a site of ``pools.csv`` or an IANA zone; else ``forecast.time_zones["*"]``; else
the site with the most planned paid hours), from its first interval on the plan's grid, cut at the plan
window's start (:func:`capplan.forecast.intraday.day_bounds`).

Steps: :func:`capplan.forecast.intraday.update_forecast` (credibility-weighted ratio, fitted on the
history), requirements of the rest of the day (:func:`capplan.staffing.requirements.compute_requirements`),
the re-plan LP (:mod:`capplan.optimize.intraday`) and the expected service of the original plan and
of the re-plan on the updated forecast (Erlang and fluid backlog maths).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from capplan import __version__
from capplan.errors import ConfigError, InputError, Problem
from capplan.forecast.localtime import AUTO
from capplan.inputs import Workspace, load_workspace
from capplan.pipeline.common import FORECASTS, PLANS, Progress, input_files, no_progress, now_utc, provenance, write_table
from capplan.pipeline.replay import plan_config, window_of
from capplan.runs import check_writable, resolve_run, run_folder, write_json
from capplan.schema import (AHT_S, BACKLOG, HEADCOUNT, INTERVAL_START, LANGUAGE, PAID_HOURS, QUEUE, REFORECAST_ALLOCATION_COLUMNS,
                            REFORECAST_CELL_COLUMNS, REFORECAST_FORECAST_COLUMNS, REFORECAST_MOVE_COLUMNS, REFORECAST_SERVICE_COLUMNS,
                            REFORECAST_STAFFING_COLUMNS, SITE, TIMEZONE, VOLUME, require_columns)
from capplan.timing import StageTimer
from capplan.units import interval_index

REFORECASTS = "reforecasts"
_CONTRACT = {"forecast": REFORECAST_FORECAST_COLUMNS, "cells": REFORECAST_CELL_COLUMNS, "moves": REFORECAST_MOVE_COLUMNS,
             "staffing": REFORECAST_STAFFING_COLUMNS, "service": REFORECAST_SERVICE_COLUMNS, "allocation": REFORECAST_ALLOCATION_COLUMNS}


@dataclass
class ReforecastRun:
    """What a reforecast run wrote and found.

    Attributes
    ----------
    forecast : the rest of the day: original and updated volume and bands per cell and interval [items]
    cells : per cell: forecast and actual items so far, credibility weight, multiplier
    moves : per pool and cell: planned and re-planned productive hours over the rest of the day [h]
    staffing : overtime and voluntary time off per shift occurrence: moderators, paid hours, cost (savings < 0)
    service : per cell: items, target, expected service of the original plan and of the re-plan
    summary : headline figures (reforecast.json)
    """

    run_id: str
    folder: Path
    plan_run: str
    as_of: pd.Timestamp
    forecast: pd.DataFrame
    cells: pd.DataFrame
    moves: pd.DataFrame
    staffing: pd.DataFrame
    service: pd.DataFrame
    summary: dict
    warnings: list[str] = field(default_factory=list)


def parse_as_of(text: str, config) -> tuple[pd.Timestamp, str | None]:
    """``--as-of`` as a UTC timestamp inside the plan window and on its interval grid; a note when read as UTC.

    Raises
    ------
    ConfigError
        Not a time, outside the plan window, or not on the interval grid (one line each, with the fix).
    """
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise ConfigError(f"--as-of {text!r} is not a date and time. Fix: give ISO 8601, e.g. 2026-12-02T14:00Z or "
                          "2026-12-02T15:00+01:00") from None
    if stamp is pd.NaT:
        raise ConfigError(f"--as-of {text!r} is not a date and time. Fix: give ISO 8601, e.g. 2026-12-02T14:00Z")
    note = None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
        note = f"--as-of {text} has no time zone: read as UTC ({stamp:%Y-%m-%d %H:%M} UTC)"
    stamp = stamp.tz_convert("UTC")
    start, end, minutes = window_of(config)
    if not start <= stamp < end:
        raise ConfigError(f"--as-of {stamp:%Y-%m-%d %H:%M} UTC is outside the plan window {start:%Y-%m-%d %H:%M} to "
                          f"{end:%Y-%m-%d %H:%M} UTC. Fix: give a time inside it, or name another plan with --plan")
    offset_min = (stamp - start).total_seconds() / 60.0
    if offset_min % minutes:
        before = start + pd.Timedelta(minutes=minutes * (offset_min // minutes))
        raise ConfigError(f"--as-of {stamp:%Y-%m-%d %H:%M:%S} UTC is not on the plan's {minutes}-minute interval grid. "
                          f"Fix: give an interval start, e.g. {before:%Y-%m-%dT%H:%M}Z")
    return stamp, note


def check_arrivals_reach(arrivals: pd.DataFrame, as_of: pd.Timestamp, label: str, step_min: int,
                         day0: pd.Timestamp | None = None) -> None:
    """The arrivals must cover the day from its start (``day0``, default 00:00 UTC) to ``as_of``."""
    day0 = as_of.floor("D") if day0 is None else day0
    if as_of == day0:
        return
    if ((as_of - day0).total_seconds() / 60.0) % step_min:
        raise InputError([Problem(file=label, column="interval_start",
                                  message=f"the arrivals come in {step_min}-minute intervals and --as-of {as_of:%H:%M} UTC falls inside one",
                                  expected=f"an --as-of on the arrivals' {step_min}-minute grid",
                                  fix=f"give --as-of {as_of.floor(f'{step_min}min'):%Y-%m-%dT%H:%M}Z, or pass arrivals on the plan's interval grid")])
    times = pd.to_datetime(arrivals[INTERVAL_START], utc=True) if len(arrivals) else pd.Series(dtype="datetime64[ns, UTC]")
    today = times[(times >= day0) & (times < as_of)]
    if not len(today) or today.min() > day0 or today.max() + pd.Timedelta(minutes=step_min) < as_of:
        span = (f"cover {today.min():%H:%M} to {today.max() + pd.Timedelta(minutes=step_min):%H:%M} UTC, not" if len(today)
                else "have no rows from")
        raise InputError([Problem(file=label, column="interval_start",
                                  message=f"the arrivals of the day from {day0:%Y-%m-%d} {span} {day0:%H:%M} to the as-of time {as_of:%H:%M} UTC",
                                  expected="every interval of the day up to --as-of",
                                  fix="append today's arrivals to inputs/history.csv or pass them with --arrivals FILE")])


def run_reforecast_stage(workspace: Path, *, as_of: str, plan_run: str | None = None, arrivals_file: Path | None = None,
                         time_zone: str | None = None, progress: Progress = no_progress) -> ReforecastRun:
    """Update today's forecast from the arrivals up to ``as_of`` and re-route the rest of the day (module docstring)."""
    from capplan.inputs.arrivals import read_arrivals_file
    from capplan.simulate.arrivals import arrival_step_minutes
    from capplan.simulate.planrun import check_plan_inputs, load_plan, plan_run_info

    timer = StageTimer(progress)
    workspace = Path(workspace)
    warnings: list[str] = []
    with timer.stage("reading inputs"):
        ws = load_workspace(workspace)
        plan_dir = resolve_run(workspace / PLANS, plan_run, "plan")
        info = plan_run_info(plan_dir)
        inputs = input_files(ws)
        check_plan_inputs(info, inputs, f"{PLANS}/{plan_dir.name}")
        config = plan_config(ws, info)
        stamp, note = parse_as_of(as_of, config)
        if note:
            warnings.append(note)
        shift_plan, allocation = load_plan(plan_dir)
        requirements = pd.read_parquet(plan_dir / "requirements.parquet")
        coverage = pd.read_parquet(plan_dir / "coverage.parquet")
        fc_dir = resolve_run(workspace / FORECASTS, info.get("forecast_run"), "forecast")
        forecast = pd.read_parquet(fc_dir / "forecast.parquet")
        if arrivals_file is not None:
            arrivals, source = read_arrivals_file(arrivals_file, ws.cells()), str(arrivals_file)
        else:
            arrivals, source = ws.history, "inputs/history.csv"
        zone, why = operation_zone(ws, shift_plan, ws.config.reforecast.time_zone if time_zone is None else time_zone)
        day = today(stamp, zone, config)
        check_arrivals_reach(arrivals, stamp, source, arrival_step_minutes(arrivals, int(config.planning.interval_minutes)), day[0])
        check_writable(workspace / REFORECASTS)
    ws_plan = dataclasses.replace(ws, config=config)
    quantile = int(info.get("quantile", config.staffing.quantile))
    with timer.stage("forecast update"):
        rest, cells, credibility = _update(ws, forecast, arrivals, stamp, day)
    with timer.stage("re-plan"):
        outcome = _replan(ws_plan, rest, cells, requirements, shift_plan, allocation, coverage, arrivals, stamp, quantile,
                          ws.config.reforecast, day[1])
    gaps = cells[(cells["seen_rows"] == 0) & (cells["seen_forecast"] >= 1.0)]
    if len(gaps):
        warnings.append(f"{len(gaps)} cell(s) have no arrival rows today although {gaps['seen_forecast'].sum():,.0f} items were forecast "
                        f"by the as-of time (e.g. {gaps['queue'].iloc[0]}/{gaps['language'].iloc[0]}): not updated")
    if credibility.samples == 0:
        warnings.append("the history is too short to fit the update's credibility weights: the forecast is not updated")
    summary = _summary(stamp, plan_dir.name, source, credibility, rest, outcome, config.policy.currency)
    summary.update({"time_zone": zone, "time_zone_from": why, "day_start": day[0].isoformat(), "day_end": day[1].isoformat()})
    with run_folder(workspace / REFORECASTS) as (tmp, run_id), timer.stage("writing reforecast"):
        tables = {"forecast": rest, "cells": cells, "moves": outcome["moves"], "staffing": outcome["staffing"],
                  "service": outcome["service"], "allocation": outcome["allocation"]}
        for name, frame in tables.items():
            require_columns(frame, _CONTRACT[name], name)
            write_table(frame, tmp, name, csv=name != "allocation")
        summary["run_id"] = run_id
        write_json(tmp / "reforecast.json", summary)
        from capplan.report.reforecast_xlsx import write_reforecast_workbook

        write_reforecast_workbook(tmp / "reforecast.xlsx", info={"run_id": run_id, "capplan_version": __version__, "created_utc": now_utc()},
                                  summary=summary, tables=tables)
        write_json(tmp / "run.json", provenance(ws, inputs, timer.timings, {
            "run_id": run_id, "kind": "reforecast", "plan_run": plan_dir.name, "forecast_run": fc_dir.name, "as_of": stamp.isoformat(),
            "arrivals": source, "credibility": credibility.as_dict(), "summary": summary, "warnings": [*map(str, ws.warnings), *warnings]}))
    return ReforecastRun(run_id=run_id, folder=workspace / REFORECASTS / run_id, plan_run=plan_dir.name, as_of=stamp, forecast=rest,
                         cells=cells, moves=outcome["moves"], staffing=outcome["staffing"], service=outcome["service"],
                         summary=summary, warnings=warnings)


def operation_zone(ws: Workspace, shift_plan: pd.DataFrame, setting: str) -> tuple[str, str]:
    """The time zone whose calendar day is "today", and where it came from.

    ``setting`` (``--time-zone`` or ``[reforecast] time_zone``): a site of ``pools.csv`` (its zone) or an IANA zone.
    Empty: ``forecast.time_zones["*"]`` (the clock every cell's arrivals follow) when it names a zone (not
    ``"auto"``), else the zone of the site
    with the most planned paid hours in the plan (ties: the first site by name).

    Raises
    ------
    ConfigError
        ``setting`` is neither a site nor an IANA zone.
    """
    import zoneinfo

    sites = ws.pools.drop_duplicates(SITE).set_index(SITE)[TIMEZONE]
    if setting:
        if setting in sites.index:
            return str(sites[setting]), f"site {setting}"
        try:
            zoneinfo.ZoneInfo(setting)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"[reforecast] time_zone / --time-zone {setting!r} is neither a site of inputs/pools.csv "
                              f"({', '.join(sorted(map(str, sites.index)))}) nor an IANA time zone. Fix: give a site name or a zone "
                              "such as Europe/Dublin") from None
        return setting, "the setting"
    star = ws.config.forecast.time_zones.get("*")
    if star and star != AUTO:  # "auto" asks the forecast to detect a clock: it names no zone
        return star, 'forecast.time_zones "*"'
    paid = (shift_plan[PAID_HOURS].astype(float) * shift_plan[HEADCOUNT].astype(float)).groupby(shift_plan[SITE]).sum()
    if not len(paid) or paid.max() <= 0:
        return "UTC", "no planned hours: UTC"
    top = sorted(paid[paid == paid.max()].index)[0]
    return str(sites.get(top, "UTC")), f"site {top}, the most planned paid hours"


def today(stamp: pd.Timestamp, zone: str, config) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) in UTC of the local day of ``zone`` holding ``stamp`` on the plan's grid, cut to the plan window."""
    from capplan.forecast.intraday import day_bounds

    start, end, minutes = window_of(config)
    day0, day1 = day_bounds(stamp, zone, int(minutes))
    return max(day0, start), min(day1, end)


def _update(ws: Workspace, forecast: pd.DataFrame, arrivals: pd.DataFrame, stamp: pd.Timestamp, day: tuple):
    from capplan.forecast.intraday import fit_credibility, update_forecast

    times = pd.to_datetime(ws.history[INTERVAL_START], utc=True)
    day0 = day[0].floor("h")  # the fit's days start at the local day's hour (hourly history)
    end = day0 if not len(times) or times.max() + pd.Timedelta(hours=1) >= day0 else \
        day0 - pd.Timedelta(days=int(np.ceil((day0 - times.max() - pd.Timedelta(hours=1)) / pd.Timedelta(days=1))))
    credibility = fit_credibility(ws.history, end, int(ws.config.reforecast.credibility_weeks))
    fc = forecast.copy()
    fc[INTERVAL_START] = pd.to_datetime(fc[INTERVAL_START], utc=True)
    rest, cells = update_forecast(fc, arrivals, stamp, credibility, day)
    return rest, cells, credibility


def _replan(ws: Workspace, rest: pd.DataFrame, cells: pd.DataFrame, requirements: pd.DataFrame, shift_plan: pd.DataFrame,
            allocation: pd.DataFrame, coverage: pd.DataFrame, arrivals: pd.DataFrame, stamp: pd.Timestamp, quantile: int,
            r, day_end: pd.Timestamp) -> dict:
    """Requirements of the updated rest of the day, the LP, its tables and the expected service.

    ``ws`` carries the plan's config (window, shrinkage, caps); ``r`` is today's ``[reforecast]`` section."""
    from capplan.optimize.data import prepare
    from capplan.optimize.intraday import (IntradayData, IntradaySettings, build_intraday, expected_service,
                                           occurrence_heads, opening_backlog, planned_hours, solve_intraday)
    from capplan.staffing.requirements import compute_requirements

    started = time.perf_counter()
    req_rest = compute_requirements(rest.drop(columns=["volume_original", "weight", "multiplier"]), ws, quantile)
    d = prepare(ws, req_rest)
    q = ws.queues.set_index(QUEUE)
    d.cells["patience_s"] = [float(q.at[c, "patience_s"]) if "patience_s" in q else float("nan") for c in d.cells[QUEUE]]
    s = interval_index(stamp, d.start, d.h)
    e = min(interval_index(day_end, d.start, d.h), d.T)
    planned = planned_hours(d, allocation)
    arrived, capacity = _before(d, requirements, arrivals, planned, s, stamp)
    opening, opening_due = opening_backlog(arrived, capacity, d.cells["due_shift"].to_numpy(int), s, e)
    mult = cells.set_index([QUEUE, LANGUAGE])["multiplier"]
    hand = _hand_over(d, coverage, e) * np.array([float(mult.get(k, 1.0)) for k in zip(d.cells[QUEUE], d.cells[LANGUAGE])])
    settings = IntradaySettings(r.overtime_premium, r.overtime_max_hours, r.vto, r.vto_vendor_pools)
    x = IntradayData(d=d, s=s, e=e, heads=occurrence_heads(d, shift_plan), planned=planned, opening=opening,
                     opening_due=opening_due, hand_over=hand, settings=settings)
    b = build_intraday(x, s)
    values = solve_intraday(b, float(ws.config.solver.time_limit_s))
    new = {k: {t: max(float(values[v]), 0.0) for t, v in vs.items()} for k, vs in b.alloc.items()}
    old = {k: {t: float(arr[t]) for t in x.times if arr[t] > 0} for k, arr in planned.items()}
    before = expected_service(x, old, d.volume).rename(columns={"service": "service_plan", "late_hours": "late_hours_plan"})
    after = expected_service(x, new, d.volume).rename(columns={"service": "service_replan", "late_hours": "late_hours_replan"})
    service = _service_table(ws, before, after, d, x, values, b)
    from capplan.optimize import intraday_tables as tables

    return {"moves": tables.moves_table(x, old, new), "allocation": tables.allocation_table(x, old, new),
            "staffing": tables.staffing_table(x, b, values), "service": service, "objective": values["__objective__"],
            "seconds": time.perf_counter() - started, "variables": b.model.get_num_variables(),
            "constraints": b.model.get_num_linear_constraints(), "intervals": e - s,
            "language_share_over_hours": float(sum(values[v] for k, v in b.share_over.items() if k[1] != "*")),
            "vendor_share_over_hours": float(sum(values[v] for k, v in b.share_over.items() if k[1] == "*"))}


def _before(d, requirements: pd.DataFrame, arrivals: pd.DataFrame, planned: dict, s: int, stamp: pd.Timestamp):
    """[C, s] deferred work arrived before as-of (actual today and where the arrivals have rows, else as planned) and the
    work the plan's hours could do [standard h]."""
    C = len(d.cells)
    index = {k: i for i, k in enumerate(zip(d.cells[QUEUE], d.cells[LANGUAGE]))}
    aht = d.cells[AHT_S].to_numpy(float)
    arrived = np.zeros((C, s))
    req = requirements.copy()
    req["t"] = interval_index(req[INTERVAL_START], d.start, d.h)
    req = req[(req["t"] >= 0) & (req["t"] < s)]
    wl = req["workload_hours"].fillna(req[VOLUME] * req[AHT_S] / 3600.0)
    for k, t, w in zip(zip(req[QUEUE], req[LANGUAGE]), req["t"], wl):
        if k in index:
            arrived[index[k], t] = float(w)
    a = arrivals[[QUEUE, LANGUAGE, INTERVAL_START, VOLUME]].copy()
    a["t"] = interval_index(a[INTERVAL_START], d.start, d.h)
    a = a[(a["t"] >= 0) & (a["t"] < s)]
    seen = a.groupby([QUEUE, LANGUAGE, "t"])[VOLUME].sum()
    for (q, lang, t), v in seen.items():
        c = index.get((q, lang))
        if c is not None:
            arrived[c, t] = float(v) * aht[c] / 3600.0
    realtime = (d.cells["kind"] == "realtime").to_numpy()
    arrived[realtime] = 0.0
    util = float(d.config.staffing.deferred_max_utilisation)
    capacity = np.zeros((C, s))
    for (p, c), hours in planned.items():
        capacity[c] += hours[:s] * util / d.multiplier(p, c)
    return arrived, capacity


def _hand_over(d, coverage: pd.DataFrame, e: int) -> np.ndarray:
    """[C] the plan's deferred backlog at the end of interval ``e - 1`` [standard h]."""
    out = np.zeros(len(d.cells))
    if not len(coverage) or e <= 0:
        return out
    t_end = d.start + pd.Timedelta(hours=(e - 1) * d.h)
    cov = coverage[pd.to_datetime(coverage[INTERVAL_START], utc=True) == t_end]
    index = {k: i for i, k in enumerate(zip(d.cells[QUEUE], d.cells[LANGUAGE]))}
    for q, lang, b in zip(cov[QUEUE], cov[LANGUAGE], cov[BACKLOG].fillna(0.0)):
        if (q, lang) in index:
            out[index[(q, lang)]] = float(b)
    return out


def _service_table(ws, before, after, d, x, values, b) -> pd.DataFrame:
    target = ws.queues.set_index(QUEUE)["target"].astype(float)
    out = before.merge(after[[QUEUE, LANGUAGE, "service_replan", "late_hours_replan"]], on=[QUEUE, LANGUAGE])
    out.insert(4, "target", [float(target[q]) for q in out[QUEUE]])
    unmet = np.zeros(len(d.cells))
    for (c, _), v in b.unmet.items():
        unmet[c] += float(values[v])
    out["unmet_hours_replan"] = unmet
    for kind in ("plan", "replan"):  # nothing falling due today (NaN) is not a miss
        out[f"met_{kind}"] = out[f"service_{kind}"].isna() | (out[f"service_{kind}"] >= out["target"] - 1e-9)
    return out[out["items"] > 0].reset_index(drop=True)


def _summary(stamp, plan_run, source, credibility, rest, outcome, currency) -> dict:
    service, staffing = outcome["service"], outcome["staffing"]
    items = float(service["items"].sum()) if len(service) else 0.0

    def weighted(col: str) -> float | None:
        ok = service[col].notna()
        return float((service.loc[ok, col] * service.loc[ok, "items"]).sum() / service.loc[ok, "items"].sum()) if ok.any() else None

    ot = staffing[staffing["kind"] == "overtime"] if len(staffing) else staffing
    vto = staffing[staffing["kind"] == "vto"] if len(staffing) else staffing
    return {
        "as_of": stamp.isoformat(), "plan_run": plan_run, "arrivals": source, "currency": currency,
        "intervals": outcome["intervals"], "forecast_items_original": float(rest["volume_original"].sum()),
        "forecast_items_updated": float(rest[VOLUME].sum()), "credibility": credibility.as_dict(),
        "cells": int(len(service)), "cells_met_plan": int(service["met_plan"].sum()) if len(service) else 0,
        "cells_met_replan": int(service["met_replan"].sum()) if len(service) else 0,
        "service_plan": weighted("service_plan"), "service_replan": weighted("service_replan"), "items": items,
        "moved_hours": float(outcome["moves"]["moved_in_hours"].sum()) if len(outcome["moves"]) else 0.0,
        "overtime_paid_hours": float(ot["paid_hours"].sum()) if len(ot) else 0.0,
        "overtime_cost": float(ot["cost"].sum()) if len(ot) else 0.0,
        "vto_paid_hours": float(vto["paid_hours"].sum()) if len(vto) else 0.0,
        "vto_saving": float(-vto["cost"].sum()) if len(vto) else 0.0,
        "language_share_over_hours": outcome["language_share_over_hours"],
        "vendor_share_over_hours": outcome["vendor_share_over_hours"],
        "objective": outcome["objective"], "variables": outcome["variables"], "constraints": outcome["constraints"],
        "seconds": round(outcome["seconds"], 3),
    }
