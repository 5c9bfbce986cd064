"""Walk-forward evaluation of the whole pipeline: forecast, plan, replay the actual week, plan in hindsight.

For one past week ``w`` (see :mod:`capplan.evaluate.weeks`):

1. the workspace as it stood at ``w``: history before ``w`` only, planning start moved to ``w``,
   one week forecast and planned (``model_copy`` of the config);
2. **forecast** (:func:`capplan.forecast.run.run_forecast`), **requirements**
   (:func:`capplan.staffing.requirements.compute_requirements`) and **plan**
   (:func:`capplan.optimize.solve_plan`), exactly as ``capplan forecast`` and ``capplan plan`` would;
3. **replay** the week's actual arrivals through that plan (:func:`capplan.simulate.replay_plan`);
4. **hindsight**: the actual arrivals of ``w`` as the forecast (every band equal to the actual, so
   any planning quantile staffs for them), requirements, plan, replay again. The hindsight plan is the
   best the optimizer could have done had it known the week: the yardstick for cost and service.

Only those public entry points of the lower stages are used. Nothing here prints or writes files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from capplan.evaluate.metrics import errors_by, hourly
from capplan.evaluate.weeks import WEEK, week_arrivals, week_config, workspace_before
from capplan.schema import (ABS_ERROR, ACTUAL, BIAS, CELL_KEYS, FORECAST, INTERVAL_START, LANGUAGE, QUEUE, VARIANT, WAPE,
                            WEEK as WEEK_COL)
from capplan.timing import StageTimer

HINDSIGHT = "hindsight"
HINDSIGHT_MODEL = "actual (hindsight)"
COST = "cost"  # paid cost of the plan attributed to the cell (vendor_allocation), reporting currency
ITEMS, ON_TIME, ABANDONED, ACHIEVED, MET, KIND, TARGET = "items", "on_time", "abandoned", "achieved", "met", "kind", "target"
REPLAY_COLUMNS = [ITEMS, ON_TIME, ABANDONED, ACHIEVED, MET]
STATED_PROBABILITY = "stated_probability"  # risk = "scenarios": the plan's probability of meeting the cell's target


@dataclass
class WeekOutcome:
    """One evaluated week of one configuration.

    Attributes
    ----------
    week : UTC start of the week.
    variant : configuration label ("A" = the workspace's, "B" = the compared one).
    cell_weeks : per cell: replay of the plan (``items, on_time, abandoned, achieved, met``), the same
        for the hindsight plan (``hindsight_*``), the plan's and hindsight plan's ``cost`` per cell, the
        forecast's ``actual``, ``forecast``, ``wape``, ``bias`` over the week.
    summary : the week's totals (see :func:`week_summary`), solver status, timings [s].
    forecast : the week's forecast (``variant, week, queue, language, interval_start, volume, model``),
        kept so every error can be traced.
    warnings : forecast warnings of the week.
    """

    week: pd.Timestamp
    variant: str
    cell_weeks: pd.DataFrame
    summary: dict
    forecast: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)


def hindsight_forecast(arrivals: pd.DataFrame, cells: pd.DataFrame, week: pd.Timestamp, config) -> pd.DataFrame:
    """The actual arrivals of ``week`` laid out as a forecast table (the data contract).

    Arrivals are summed to whole hours, then split evenly into the planning intervals, as the
    forecast does (:mod:`capplan.forecast.run`); every ``volume_lo_<L>`` / ``volume_hi_<L>`` equals
    the volume. ``cells`` (queue, language) get rows even where nothing arrived (zero).
    """
    minutes = int(config.planning.interval_minutes)
    grid = pd.date_range(week, week + WEEK, freq=f"{minutes}min", inclusive="left")
    frame = cells[CELL_KEYS].drop_duplicates().merge(pd.DataFrame({INTERVAL_START: grid}), how="cross")
    hours = hourly(arrivals, "volume", ACTUAL) if len(arrivals) else pd.DataFrame(columns=[*CELL_KEYS, INTERVAL_START, ACTUAL])
    hour_of = frame.assign(_hour=frame[INTERVAL_START].dt.floor("h"))
    volume = hour_of.merge(hours.rename(columns={INTERVAL_START: "_hour"}), on=[*CELL_KEYS, "_hour"], how="left")[ACTUAL]
    frame["volume"] = volume.fillna(0.0).to_numpy(dtype=float) * minutes / 60.0
    for level in config.forecast.levels:
        frame[f"volume_lo_{level}"] = frame["volume"]
        frame[f"volume_hi_{level}"] = frame["volume"]
    frame["model"] = HINDSIGHT_MODEL
    return frame.sort_values([QUEUE, LANGUAGE, INTERVAL_START], kind="stable").reset_index(drop=True)


def forecast_errors(forecast: pd.DataFrame, arrivals: pd.DataFrame, week: pd.Timestamp) -> pd.DataFrame:
    """Per cell over the week: ``actual``, ``forecast``, ``wape``, ``bias``, ``abs_error`` (hour by hour, then summed)."""
    fc = hourly(forecast, "volume", FORECAST)
    fc = fc[(fc[INTERVAL_START] >= week) & (fc[INTERVAL_START] < week + WEEK)]
    joined = fc.merge(hourly(arrivals, "volume", ACTUAL), on=[*CELL_KEYS, INTERVAL_START], how="outer")
    joined[[FORECAST, ACTUAL]] = joined[[FORECAST, ACTUAL]].fillna(0.0)
    out = errors_by(joined, CELL_KEYS)[[*CELL_KEYS, ACTUAL, FORECAST, WAPE, BIAS]]
    abs_error = (joined[FORECAST] - joined[ACTUAL]).abs().groupby([joined[QUEUE], joined[LANGUAGE]], sort=True).sum()
    out[ABS_ERROR] = abs_error.reindex(pd.MultiIndex.from_frame(out[CELL_KEYS])).to_numpy()
    return out


def evaluate_week(ws, week: pd.Timestamp, *, variant: str = "A", policy: str = "priority", seed: int = 0,
                  replay: Callable | None = None) -> WeekOutcome:
    """Forecast, plan and replay one past week, and plan and replay it in hindsight.

    Parameters
    ----------
    ws : Workspace with the whole history (the week's arrivals are read from it).
    week : UTC start of a whole week of history.
    variant : label carried into the tables.
    policy, seed : the replay's routing policy and random seed.
    replay : the replay function (default :func:`capplan.simulate.replay_plan`).
    """
    from capplan.forecast.run import run_forecast
    from capplan.judge import plan_for_risk
    from capplan.optimize import solve_plan
    from capplan.staffing.requirements import compute_requirements

    if replay is None:
        from capplan.simulate import replay_plan as replay
    timer = StageTimer()
    config = week_config(ws.config, week)
    past = workspace_before(ws, week, config)
    arrivals = week_arrivals(ws.history, week)
    with timer.stage("forecast"):
        fc = run_forecast(past.history, past.events, config, engine="local", handle_times=past.handle_times)
    with timer.stage("plan"):
        # the plan of [staffing] risk: the risk modes plan the mean forecast (P50) and take the risk from scenarios;
        # a replayed plan is not priced (no rule re-solves)
        quantile = 50 if config.staffing.risk in ("checked", "scenarios") else None
        plan = plan_for_risk(past, compute_requirements(fc.forecast, past, quantile), fc.forecast, fc.backtest_errors,
                             with_baseline=False, price_rules=False)
    with timer.stage("replay"):
        actual = replay(past, plan.shift_plan, plan.allocation, arrivals, policy=policy, seed=seed)
    cells = pd.concat([fc.forecast[CELL_KEYS], arrivals[CELL_KEYS]]).drop_duplicates()
    with timer.stage("hindsight plan"):
        known = hindsight_forecast(arrivals, cells, week, config)
        best = solve_plan(past, compute_requirements(known, past), with_baseline=False, price_rules=False)
    with timer.stage("hindsight replay"):
        best_replay = replay(past, best.shift_plan, best.allocation, arrivals, policy=policy, seed=seed)
    table = cell_week_table(actual.cell_weeks, best_replay.cell_weeks, plan, best, forecast_errors(fc.forecast, arrivals, week))
    table.insert(0, WEEK_COL, week)
    table.insert(0, VARIANT, variant)
    if getattr(plan, "risk", None) is not None:  # the plan's stated probability of meeting each cell's target
        stated = plan.risk.set_index(CELL_KEYS)["probability"]
        table[STATED_PROBABILITY] = stated.reindex(pd.MultiIndex.from_frame(table[CELL_KEYS])).to_numpy()
    summary = week_summary(table)
    summary.update({VARIANT: variant, WEEK_COL: week.isoformat(), "plan_status": plan.solve.get("status"),
                    "hindsight_status": best.solve.get("status"), "plan_total_cost": float(plan.solve.get("total_cost", 0.0)),
                    "hindsight_total_cost": float(best.solve.get("total_cost", 0.0)),
                    "total_cost_vs_hindsight": _ratio(plan.solve.get("total_cost"), best.solve.get("total_cost")),
                    "plan_unmet_hours": float(plan.solve.get("unmet_hours", 0.0)),
                    "hindsight_unmet_hours": float(best.solve.get("unmet_hours", 0.0)), "timings_s": timer.timings})
    kept = fc.forecast[[*CELL_KEYS, INTERVAL_START, "volume", "model"]].copy()
    kept.insert(0, WEEK_COL, week)
    kept.insert(0, VARIANT, variant)
    return WeekOutcome(week=week, variant=variant, cell_weeks=table, summary=summary, forecast=kept,
                       warnings=list(fc.warnings))


def preflight(ws, week: pd.Timestamp) -> None:
    """Raise the configuration's errors before hours of work: requirements of the week's actual arrivals.

    A variant that cannot be planned (e.g. a planning quantile whose prediction level the forecast
    does not make) fails here, in seconds, instead of after the other variant's weeks.
    """
    from capplan.staffing.requirements import compute_requirements

    config = week_config(ws.config, week)
    past = workspace_before(ws, week, config)
    arrivals = week_arrivals(ws.history, week)
    compute_requirements(hindsight_forecast(arrivals, arrivals[CELL_KEYS], week, config), past)


def per_cell(cell_weeks: pd.DataFrame) -> pd.DataFrame:
    """A replay's cell-week rows summed per cell (a one-week window is one cell-week per cell).

    ``items`` are the replay's judged items (those whose deadline falls inside the window);
    ``achieved`` = on-time items / items, ``met`` = achieved >= target (a cell with no items meets it),
    as in :mod:`capplan.simulate`.
    """
    sums = cell_weeks.groupby(CELL_KEYS, sort=True, observed=True).agg(
        **{KIND: (KIND, "first"), TARGET: (TARGET, "first"), ITEMS: (ITEMS, "sum"), ON_TIME: (ON_TIME, "sum"),
           ABANDONED: (ABANDONED, "sum")}).reset_index()
    items = sums[ITEMS].to_numpy(dtype=float)
    sums[ACHIEVED] = np.divide(sums[ON_TIME].to_numpy(dtype=float), items, out=np.ones_like(items), where=items > 0)
    sums[MET] = (items <= 0) | (sums[ACHIEVED] >= sums[TARGET].to_numpy(dtype=float) - 1e-9)
    return sums


def _cell_cost(plan) -> pd.Series:
    va = plan.vendor_allocation
    if not len(va):
        return pd.Series(dtype=float)
    return va.groupby(CELL_KEYS, sort=True)[COST].sum()


def cell_week_table(replayed: pd.DataFrame, hindsight: pd.DataFrame, plan, best, errors: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: the plan's replay, the hindsight replay, the cost of each, the forecast errors."""
    mine = per_cell(replayed)
    theirs = per_cell(hindsight)[[*CELL_KEYS, *REPLAY_COLUMNS]]
    table = mine.merge(theirs.rename(columns={c: f"{HINDSIGHT}_{c}" for c in REPLAY_COLUMNS}), on=CELL_KEYS, how="outer")
    keys = pd.MultiIndex.from_frame(table[CELL_KEYS])
    table[COST] = _cell_cost(plan).reindex(keys).fillna(0.0).to_numpy()
    table[f"{HINDSIGHT}_{COST}"] = _cell_cost(best).reindex(keys).fillna(0.0).to_numpy()
    table = table.merge(errors, on=CELL_KEYS, how="left")
    return table.sort_values(CELL_KEYS, kind="stable").reset_index(drop=True)


def week_summary(table: pd.DataFrame) -> dict:
    """Totals of cell-week rows (one week, or many): shares met, on time, abandoned, cost, forecast error.

    ``abandon_rate`` is abandoned / items over real-time cells (deferred work does not abandon);
    ``cost_vs_hindsight`` = plan cost / hindsight cost - 1 (paid cost attributed to cells); WAPE and
    bias are pooled over every cell-hour (sum of absolute errors over sum of actuals).
    """
    out = {"cell_weeks": int(len(table))}
    for prefix in ("", f"{HINDSIGHT}_"):
        items = float(table[f"{prefix}{ITEMS}"].sum())
        rt = table[KIND] == "realtime"
        rt_items = float(table.loc[rt, f"{prefix}{ITEMS}"].sum())
        out.update({f"{prefix}cell_weeks_met": int(table[f"{prefix}{MET}"].fillna(False).astype(bool).sum()),
                    f"{prefix}items": items, f"{prefix}on_time": float(table[f"{prefix}{ON_TIME}"].sum()),
                    f"{prefix}abandoned": float(table[f"{prefix}{ABANDONED}"].sum()),
                    f"{prefix}cost": float(table[f"{prefix}{COST}"].sum())})
        out[f"{prefix}cell_weeks_met_share"] = _share(out[f"{prefix}cell_weeks_met"], len(table))
        out[f"{prefix}on_time_share"] = _share(out[f"{prefix}on_time"], items)
        out[f"{prefix}abandon_rate"] = _share(float(table.loc[rt, f"{prefix}{ABANDONED}"].sum()), rt_items)
    out["cost_vs_hindsight"] = (out[COST] / out[f"{HINDSIGHT}_{COST}"] - 1.0) if out[f"{HINDSIGHT}_{COST}"] > 0 else None
    actual = float(table[ACTUAL].sum())
    out[ACTUAL] = actual
    out[FORECAST] = float(table[FORECAST].sum())
    out[WAPE] = _share(float(table[ABS_ERROR].sum()), actual)
    out[BIAS] = _share(out[FORECAST] - actual, actual)
    return out


def _ratio(value, reference) -> float | None:
    """value / reference - 1, None when the reference is missing or zero."""
    return float(value) / float(reference) - 1.0 if value is not None and reference else None


def _share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole > 0 else None


def with_config(ws, config):
    """The workspace with another configuration (an experiment's variant)."""
    return dataclasses.replace(ws, config=config)


__all__ = ["WeekOutcome", "preflight", "hindsight_forecast", "forecast_errors", "evaluate_week", "per_cell", "cell_week_table",
           "week_summary", "with_config", "HINDSIGHT", "COST", "MET", "ITEMS", "ON_TIME"]
