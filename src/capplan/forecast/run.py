"""The forecast stage: history + events + config -> forecast table, backtest, summary.

Order of work (each a timed stage, reported through ``progress``):

1. ``prepare``: history -> hourly panel (:mod:`capplan.forecast.panel`), each language on the clock of its
   zone, configured or detected (``time_zones = "auto"``, :mod:`capplan.forecast.localtime`), past events taken out
   (:mod:`capplan.forecast.events`), holiday and outage days replaced (:mod:`capplan.forecast.clean`),
   cells classified: all-zero (forecast zero, no fit), too short
   to backtest (fallback model, warning), backtested.
2. ``backtest``: every candidate, rolling origin (:mod:`capplan.forecast.backtest`).
3. ``choose``: per cell the best recent-weighted backtest score, kept only if it beats the seasonal
   naive by more than the noise between windows (:mod:`capplan.forecast.choice`); all scores are kept.
4. ``fit``: each cell's chosen model refitted on its most recent history and forecast from the
   end of the history to the end of the horizon; failures fall back (seasonal naive, else the
   recent daily mean) and are listed in ``fallbacks``.
5. ``intervals``: conformal bands from the chosen model's backtest errors
   (:mod:`capplan.forecast.intervals`); negative forecasts clipped to 0 (counted in a warning);
   future events and public holidays (:mod:`capplan.forecast.public_holidays`) multiply the
   forecast and its bounds.
6. ``finish``: the hourly forecast is cut to the planning horizon and, for 15/30-minute planning
   intervals, each hour is split into its intervals by the within-hour shape learned from 15/30-minute
   history (:mod:`capplan.forecast.subhour`; evenly when the history is hourly); the handle time is
   forecast per cell and hour (:mod:`capplan.forecast.aht`) when the history has ``aht_s`` or a
   handle-time table is given.

Coherence is bottom-up: the (queue, language) cells are the forecast, and any total (per queue, per
language) is the sum of its cells, so totals are coherent by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from capplan.forecast import daily as dailymod
from capplan.forecast.aht import AHT_SOURCE, AHT_TABLE_S, forecast_aht, hourly_aht
from capplan.forecast.subhour import split_hours, within_hour_shares
from capplan.forecast import simple
from capplan.forecast.backtest import combine, min_backtest_days, run_backtest, score, simple_forecast, train_days
from capplan.forecast.clean import replace_dips
from capplan.forecast.events import adjust_history, event_multipliers
from capplan.forecast.localtime import (AUTO, AUTO_COLUMNS, AUTO_ZONES, clock_shifted, horizon_index, resolve_zones,
                                        shift_history, zone_of)
from capplan.forecast.intervals import apply_intervals, default_intervals, fit_intervals
from capplan.forecast.models import (CANDIDATES, COMBO_MIN_MEMBERS, DAILY_MEAN, HOURS_PER_WEEK, ZERO, candidates,
                                     combo_members)
from capplan.forecast.panel import DAY, HOUR, Panel, build_panel, planning_start
from capplan.forecast.public_holidays import holiday_multipliers, holiday_names
from capplan.schema import AHT_S, INTERVAL_START, LANGUAGE, MODEL, QUEUE, VOLUME
from capplan.timing import Progress, StageTimer

RECENT_HISTORY_WEEKS = 4


@dataclass
class ForecastResult:
    """Everything the forecast stage produces (the CLI writes the files).

    Attributes
    ----------
    forecast : DataFrame
        ``queue``, ``language``, ``interval_start`` (UTC), ``volume``, ``volume_lo_<L>``,
        ``volume_hi_<L>`` per level, ``model``; sorted by queue, language, interval_start [items per interval].
    backtest : DataFrame
        ``queue``, ``language``, ``model``, ``mase``, ``wape``, ``mae``, ``coverage_<L>``, ``metric``,
        ``sparse``, ``chosen``, ``rank`` (1 = chosen).
    warnings : list of str
    timings : dict
        Stage -> seconds.
    summary : DataFrame
        Per chosen model: cells, mean MASE / WAPE, the same for the seasonal naive on those cells,
        pooled WAPE, interval coverage; a final ``all`` row.
    fallbacks : DataFrame
        ``queue``, ``language``, ``model`` (the candidate that could not be used), ``used``, ``reason``.
    recent_history : DataFrame
        ``queue``, ``language``, ``interval_start``, ``volume``: the last weeks of hourly history as
        read (events not removed), for charts.
    aht : DataFrame
        Per cell the handle-time forecast's parameters (:class:`capplan.forecast.aht.AhtForecast`
        ``cells``); empty when neither the history's ``aht_s`` nor a handle-time table was given.
    time_zones : DataFrame
        Per language with a configured or detected ("auto") zone, the zone chosen and the detection's evidence
        (:func:`capplan.forecast.localtime.resolve_zones`); ``zone`` empty where UTC was kept.
    """

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)
    fallbacks: pd.DataFrame = field(default_factory=pd.DataFrame)
    recent_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    aht: pd.DataFrame = field(default_factory=pd.DataFrame)
    backtest_errors: pd.DataFrame = field(default_factory=pd.DataFrame)
    time_zones: pd.DataFrame = field(default_factory=pd.DataFrame)


def run_forecast(history: pd.DataFrame, events: pd.DataFrame | None, config, *, progress: Progress | None = None,
                 engine: str | None = None, dask_address: str | None = None,
                 handle_times: pd.DataFrame | None = None) -> ForecastResult:
    """Forecast every (queue, language) cell of the history for the planning horizon.

    Parameters
    ----------
    history : DataFrame
        ``interval_start`` (UTC), ``queue``, ``language``, ``volume`` [items per interval], hourly or finer.
    events : DataFrame or None
        ``name``, ``start``, ``end`` (UTC, end exclusive), ``queues``, ``languages``, ``multiplier``.
    config : capplan.config.Config
    progress : callable(stage, fraction), optional
        Called as stages advance (fraction 0-1).
    engine : {"local", "dask"}, optional
        Overrides ``config.forecast.engine``.
    dask_address : str, optional
        Scheduler address for ``engine="dask"``; default a LocalCluster started (and closed) here.
    handle_times : DataFrame, optional
        ``queue``, ``language``, ``aht_s`` [s] (``handle_times.csv``): the handle-time forecast
        (:mod:`capplan.forecast.aht`) shrinks the history's ``aht_s`` toward it. With it, or with an
        ``aht_s`` column in the history, the forecast gets ``aht_s`` and ``aht_source`` columns.

    Returns
    -------
    ForecastResult

    Raises
    ------
    capplan.errors.InputError
        Missing columns, history coarser than hourly, no history before the start, or history
        ending more than ``planning.max_history_gap_days`` before the planning start.
    """
    from capplan.forecast.engine import open_engine

    fc = config.forecast
    warnings: list[str] = []
    fallbacks: list[tuple[int, str, str, str]] = []  # (row, model, used, reason)
    clock = StageTimer(progress)

    clock.start("prepare")
    prep = _prepare(history, events, config, warnings)
    bt = None
    table = pd.DataFrame()
    with open_engine(engine or fc.engine, fc.n_jobs, dask_address) as eng:
        clock.start("backtest")
        if len(prep.rows_bt):
            groups = None if prep.groups is None else prep.groups[prep.rows_bt]
            bt = run_backtest(prep.panel, prep.values, prep.rows_bt, prep.cands, fc, eng, progress=clock.tick,
                              groups=groups)
            fallbacks.extend((r, model, "", reason) for r, model, reason in bt.failures)
        clock.start("choose")
        table, chosen = _choose(prep, bt, fc, fallbacks)
        clock.start("fit")
        pred, used = _fit_chosen(prep, chosen, fc, eng, fallbacks, clock.tick)
    clock.start("intervals")
    pred, lo, hi = _bands(prep, pred, bt, chosen, list(fc.levels), events, warnings)
    clock.start("finish")
    aht = _aht_forecast(prep, history, handle_times, config)
    before = pd.to_datetime(history[INTERVAL_START], utc=True).dt.tz_localize(None) < prep.t0
    prep.within_hour = within_hour_shares(history[before.to_numpy()], prep.panel.cells,
                                          config.planning.interval_minutes, fc.profile_weeks, prep.groups, warnings)
    result = _finish(prep, config, pred, lo, hi, used, bt, table, fallbacks, warnings, aht)
    result.backtest_errors = backtest_errors(prep.panel, bt, chosen)
    result.time_zones = prep.clock
    clock.stop()
    result.timings = clock.timings
    return result


@dataclass
class _Prepared:
    """The history as a panel, with what every later step needs to know about each cell."""

    panel: Panel
    values: np.ndarray  # event-adjusted hourly volumes [items], shape of panel.values
    t0: pd.Timestamp  # planning start (UTC midnight, tz-naive)
    gap_days: int  # days between the end of the history and the planning start
    fc_days: int  # days forecast from the end of the history (gap + horizon)
    days: np.ndarray  # days of history per cell
    zero: np.ndarray  # all-zero history: forecast zero, no fit
    short: np.ndarray  # too short to backtest: fallback model
    rows_bt: np.ndarray  # panel rows that are backtested
    cands: list = field(default_factory=list)
    groups: np.ndarray | None = None  # profile pooling group per row (forecast.profile_pool)
    profile: np.ndarray | None = None  # intraday profile at the end of the history, (n, 7, 24)
    holiday_mult: np.ndarray | None = None  # (n, fc_days) public-holiday multiplier from the end of the history
    within_hour: np.ndarray | None = None  # (n, 60 // interval_minutes) share of an hour in each planning interval
    ref: pd.Timestamp | None = None  # last history hour (UTC, tz-naive): the clock of forecast.time_zones
    zones: dict = field(default_factory=dict)  # language -> zone (configured or detected), see localtime.resolve_zones
    clock: pd.DataFrame = field(default_factory=pd.DataFrame)  # the record of each language's zone

    @property
    def n(self) -> int:
        return len(self.panel.cells)


def _prepare(history: pd.DataFrame, events, config, warnings: list[str]) -> _Prepared:
    """Step 1: history -> panel, past events taken out, cells classified (all-zero, short, backtested)."""
    fc = config.forecast
    ref = _history_end(history, config)
    panel, zones, clock = _local_clock_panel(history, config, ref, warnings)
    _warn_clock_shift(panel, zones, warnings, auto=AUTO in fc.time_zones.values())
    past = event_multipliers(events, panel.cells, panel.hours())
    values, n_adjusted = adjust_history(panel.values, past)
    if n_adjusted:
        warnings.append(f"events: {n_adjusted} cell-hours of history inside past events were adjusted (divided by the multiplier)")
    holidays_past = holiday_names(panel.cells, fc.holiday_countries, panel.start, panel.n_days)
    daily_raw = values.reshape(len(panel.cells), panel.n_days, 24).sum(axis=2)
    values, n_dips = replace_dips(values, fc.outage_ratio, force=holidays_past != "")
    if n_dips:
        warnings.append(f"history: {n_dips} cell-day(s) far below the same weekday's usual volume (holidays, outages) "
                        "were replaced by that usual volume for fitting (forecast.outage_ratio)")
    t0 = planning_start(config)
    gap_days = int(round((t0 - panel.end) / DAY))
    fc_days = gap_days + config.planning.horizon_days
    holidays_future = holiday_names(panel.cells, fc.holiday_countries, panel.end, fc_days)
    holiday_mult, unseen = holiday_multipliers(daily_raw, holidays_past, holidays_future)
    if unseen:
        warnings.append(f"holidays: {unseen} (cell, holiday) pair(s) in the horizon have no past occurrence in the "
                        "history and are not adjusted (add them to inputs/events.csv if they matter)")
    days = panel.days_of_history()
    zero = np.nansum(values, axis=1) <= 0
    can_bt = ~zero & (days >= min_backtest_days(fc))
    short = ~zero & ~can_bt
    if short.any():
        warnings.append(f"{int(short.sum())} cell(s) have less than {min_backtest_days(fc)} days of history, too short to "
                        "backtest: they use the weekly seasonal naive (>= 7 days) or the recent daily mean")
    groups = None
    if fc.profile_pool != "none":
        key = LANGUAGE if fc.profile_pool == "language" else QUEUE
        groups = pd.factorize(panel.cells[key])[0]
    profile = dailymod.intraday_profile(values, panel.start.weekday(), panel.n_days, fc.profile_weeks, groups=groups)
    return _Prepared(panel=panel, values=values, t0=t0, gap_days=gap_days, fc_days=fc_days, days=days, zero=zero,
                     short=short, rows_bt=np.flatnonzero(can_bt), cands=candidates(fc.models), groups=groups,
                     profile=profile, holiday_mult=holiday_mult, ref=ref, zones=zones, clock=clock)


def _local_clock_panel(history: pd.DataFrame, config, ref, warnings: list[str]) -> tuple[Panel, dict, pd.DataFrame]:
    """History -> panel, each language's history on the clock of its zone (configured, or detected where "auto").

    Detection needs the panel on UTC; it is built again on the shifted history only when a zone moves rows.
    Returns the panel, the zone per language (:func:`capplan.forecast.localtime.resolve_zones`) and its record.
    """
    time_zones = config.forecast.time_zones
    zones, clock = {}, pd.DataFrame(columns=AUTO_COLUMNS)
    utc_panel, utc_warnings = None, []
    if ref is not None and AUTO in time_zones.values():
        utc_panel = build_panel(history, config, utc_warnings)
        zones, clock = resolve_zones(utc_panel.values, utc_panel.start, utc_panel.cells[LANGUAGE].to_numpy(),
                                     time_zones)
        _warn_detected(clock, warnings)
    elif ref is not None and time_zones:  # configured zones only: recorded, nothing to detect
        zones, clock = resolve_zones(None, None, history[[QUEUE, LANGUAGE]].drop_duplicates()[LANGUAGE].to_numpy(),
                                     time_zones)
    shifted, n_shifted = shift_history(history, zones, ref)
    if n_shifted:
        warnings.append(f"time zones: {n_shifted} history rows from the other side of a daylight-saving change were "
                        "moved onto the zone's current clock (forecast.time_zones)")
    elif utc_panel is not None:
        warnings.extend(utc_warnings)
        return utc_panel, zones, clock
    return build_panel(shifted, config, warnings), zones, clock


def _warn_detected(clock: pd.DataFrame, warnings: list[str]) -> None:
    """Name the languages whose zone was detected ("auto"), one line per zone."""
    found = clock[clock["source"].astype(str).str.startswith(AUTO) & (clock["zone"].astype(str) != "")]
    for zone, sub in found.groupby("zone", sort=True):
        langs = ", ".join(sub[LANGUAGE].astype(str).head(12)) + (", ..." if len(sub) > 12 else "")
        ratio = float(sub["error_zone"].sum() / sub["error_utc"].sum())
        warnings.append(f"time zones (auto): {len(sub)} language(s) ({langs}; {int(sub['cells'].sum())} cell(s)) "
                        f"follow the clock of {zone} ({AUTO_ZONES.get(zone, zone)}): at its daylight-saving changes in "
                        f"the history a seasonal average's error on that clock is {ratio:.2f} of the error on UTC, so "
                        "their history is modelled on it and the forecast follows its changes (time_zones.csv; set "
                        "[forecast] time_zones to override)")


def _choose(prep: _Prepared, bt, fc, fallbacks: list) -> tuple[pd.DataFrame, np.ndarray]:
    """Step 3: per backtested cell the best-scoring candidate; short cells get their fallback model.

    Returns the scored backtest table (``row`` column = panel row) and the model name per panel row.
    """
    chosen = np.array([ZERO] * prep.n, dtype=object)
    table = pd.DataFrame()
    if bt is not None:
        table = score(bt, prep.panel.cells, list(fc.levels), fc.metric, fc)
        best = table[table["chosen"]].set_index("row")
        for r in prep.rows_bt:
            model = best.at[r, MODEL]
            if not np.isfinite(best.at[r, "mae"]):  # every candidate failed
                model = "seasonal_naive"
                fallbacks.append((int(r), "(all candidates)", model, "no candidate produced a backtest forecast"))
            chosen[r] = model
    need = min_backtest_days(fc)
    for r in np.flatnonzero(prep.short):
        chosen[r] = _fallback_model(prep.days[r])
        fallbacks.append((int(r), "(all candidates)", chosen[r], f"only {int(prep.days[r])} days of history; the backtest needs {need}"))
    return table, chosen


def _fit_chosen(prep: _Prepared, chosen: np.ndarray, fc, eng, fallbacks: list, tick) -> tuple[np.ndarray, np.ndarray]:
    """Step 4: refit each cell's model on its recent history and forecast ``fc_days`` from the end of it.

    A model that fails on a cell falls back (seasonal naive, else the recent daily mean), listed in
    ``fallbacks``. Returns the hourly forecasts (n, fc_days * 24) and the model used per row.
    """
    panel, values, short, fc_days = prep.panel, prep.values, prep.short, prep.fc_days
    pred = np.zeros((prep.n, fc_days * 24))
    used = chosen.copy()
    models = [m for m in CANDIDATES if (chosen == m).any() and m in fc.models]
    for k, model in enumerate(models):
        rows = np.flatnonzero((chosen == model) & ~short)
        if len(rows):
            out, failed = _forecast_rows(prep, rows, model, fc, eng)
            pred[rows] = out
            for r, reason in failed.items():
                used[r] = _fallback_model(prep.days[r])
                pred[r] = _simple_forecast(panel, values, np.array([r]), used[r], fc_days, fc)[0]
                fallbacks.append((r, model, used[r], reason))
        tick((k + 1) / max(len(models), 1))
    # short cells, and cells whose every candidate failed when the fallback is not a candidate
    simple = ~prep.zero & (short | ~np.isin(chosen, list(fc.models)))
    for model in ("seasonal_naive", DAILY_MEAN):
        rows = np.flatnonzero((chosen == model) & simple)
        if len(rows):
            pred[rows] = _simple_forecast(panel, values, rows, model, fc_days, fc)
    return pred, used


def _bands(prep: _Prepared, pred: np.ndarray, bt, chosen: np.ndarray, levels: list[int], events,
           warnings: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 5: clip negatives, conformal bands from the chosen model's backtest errors, future events.

    Returns ``pred`` (n, T), ``lo`` and ``hi`` (n, levels, T) [items per hour].
    """
    neg = (pred < 0).sum(axis=1)
    if neg.any():
        warnings.append(f"{int(neg.sum())} negative forecast hours in {int((neg > 0).sum())} cell(s) were clipped to 0")
    pred = np.clip(pred, 0, None)
    pred[prep.zero] = 0.0
    bands = default_intervals(prep.n, levels)
    if bt is not None:
        rows_bt = prep.rows_bt
        sel = np.array([chosen[r] in bt.preds for r in rows_bt], bool)
        ok_rows = rows_bt[sel]
        if len(ok_rows):
            idx = np.flatnonzero(sel)
            p = np.stack([bt.preds[chosen[r]][i] for i, r in zip(idx, ok_rows)])
            fitted = fit_intervals(bt.actual[idx].reshape(len(idx), -1), p.reshape(len(idx), -1), levels)
            bands.a[ok_rows], bands.c[ok_rows] = fitted.a, fitted.c
            bands.q_lo[ok_rows], bands.q_hi[ok_rows] = fitted.q_lo, fitted.q_hi
    lo, hi = apply_intervals(pred, bands)
    lo[prep.zero], hi[prep.zero] = 0.0, 0.0
    hours = pd.date_range(prep.panel.end, periods=prep.fc_days * 24, freq="h")
    future = event_multipliers(events, prep.panel.cells, hours)
    if future is not None:
        warnings.append(f"events: future events multiply the forecast of {int((future != 1).any(axis=1).sum())} cell(s)")
    if prep.holiday_mult is not None and (prep.holiday_mult != 1).any():
        adjusted = prep.holiday_mult != 1
        hol = np.repeat(prep.holiday_mult, 24, axis=1)
        future = hol if future is None else future * hol
        warnings.append(f"holidays: {int(adjusted.any(axis=0).sum())} public holiday day(s) in the horizon multiply the "
                        f"forecast of {int(adjusted.any(axis=1).sum())} cell(s) (median x{float(np.median(prep.holiday_mult[adjusted])):.2f})")
    if future is not None:
        pred = pred * future
        lo, hi = lo * future[:, None, :], hi * future[:, None, :]
    return pred, lo, hi


def _finish(prep: _Prepared, config, pred, lo, hi, used, bt, table: pd.DataFrame, fallbacks: list,
            warnings: list[str], aht=None) -> ForecastResult:
    """Step 6: cut to the planning horizon, split hours into planning intervals, assemble the tables."""
    levels = list(config.forecast.levels)
    panel = prep.panel
    idx = horizon_index(panel.cells[LANGUAGE].to_numpy(), prep.zones, panel.end, prep.fc_days * 24,
                        prep.ref)
    if idx is not None:  # each UTC hour reads the DST-free forecast at its zone's clock
        rows = np.arange(prep.n)[:, None]
        pred = pred[rows, idx]
        lo = lo[rows[:, :, None], np.arange(lo.shape[1])[None, :, None], idx[:, None, :]]
        hi = hi[rows[:, :, None], np.arange(hi.shape[1])[None, :, None], idx[:, None, :]]
    keep = slice(prep.gap_days * 24, prep.fc_days * 24)
    out = _to_table(panel, pred[:, keep], lo[:, :, keep], hi[:, :, keep], used, levels, prep.t0,
                    config.planning.interval_minutes, shares=prep.within_hour,
                    aht=None if aht is None else (aht.aht_s[:, keep], aht.source, aht.cells[AHT_TABLE_S].to_numpy(float)))
    backtest_table = table.drop(columns=["row"]) if len(table) else _empty_backtest(levels)
    backtest_table = backtest_table.sort_values([QUEUE, LANGUAGE, "rank"], kind="stable").reset_index(drop=True)
    summary = _summary(bt, table, used, levels)
    fb = pd.DataFrame(
        [(panel.cells.at[r, QUEUE], panel.cells.at[r, LANGUAGE], m, u, why) for r, m, u, why in fallbacks],
        columns=[QUEUE, LANGUAGE, MODEL, "used", "reason"],
    ).sort_values([QUEUE, LANGUAGE, MODEL], kind="stable").reset_index(drop=True)
    if len(fb):
        warnings.append(f"{fb[[QUEUE, LANGUAGE]].drop_duplicates().shape[0]} cell(s) had a candidate model fail or "
                        "skipped for short history (see fallbacks)")
    return ForecastResult(forecast=out, backtest=backtest_table, warnings=warnings, summary=summary, fallbacks=fb,
                          recent_history=_recent_history(panel), aht=pd.DataFrame() if aht is None else aht.cells)


BACKTEST_ERROR_COLUMNS = [QUEUE, LANGUAGE, "window", "origin", "hour", "forecast", "actual"]


def backtest_errors(panel: Panel, bt, chosen: np.ndarray) -> pd.DataFrame:
    """The chosen model's backtest forecasts beside the actuals, hour by hour: what the bands are fitted on.

    One row per (cell, window, hour since the window's origin): ``origin`` (UTC midnight of the window's first
    day), ``hour`` (0 .. horizon_days x 24 - 1), ``forecast`` and ``actual`` [items per hour]. Kept as
    ``backtest_errors.parquet`` so a plan can draw demand scenarios from the errors with their correlation
    within a day and across cells (:mod:`capplan.optimize.stochastic`). Empty without a backtest.
    """
    if bt is None or not len(bt.rows):
        return pd.DataFrame({c: pd.Series(dtype=float) for c in BACKTEST_ERROR_COLUMNS})
    keep = np.array([chosen[r] in bt.preds for r in bt.rows], bool)
    idx = np.flatnonzero(keep)
    if not len(idx):
        return pd.DataFrame({c: pd.Series(dtype=float) for c in BACKTEST_ERROR_COLUMNS})
    rows = bt.rows[idx]
    pred = np.stack([bt.preds[chosen[r]][i] for i, r in zip(idx, rows)])  # (n, W, H)
    n, w, h = pred.shape
    origins = pd.DatetimeIndex([panel.start + c * DAY for c in bt.cutoffs])
    origins = origins.tz_localize("UTC") if origins.tz is None else origins.tz_convert("UTC")
    return pd.DataFrame({
        QUEUE: np.repeat(panel.cells[QUEUE].to_numpy()[rows], w * h),
        LANGUAGE: np.repeat(panel.cells[LANGUAGE].to_numpy()[rows], w * h),
        "window": np.tile(np.repeat(np.arange(w), h), n),
        "origin": np.tile(np.repeat(origins, h), n),
        "hour": np.tile(np.arange(h), n * w),
        "forecast": pred.reshape(-1),
        "actual": bt.actual[idx].reshape(-1),
    })


# --- helpers --------------------------------------------------------------------------------

def _fallback_model(days: int) -> str:
    return "seasonal_naive" if days >= 7 else DAILY_MEAN


def _simple_forecast(panel: Panel, values: np.ndarray, rows: np.ndarray, model: str, fc_days: int, fc) -> np.ndarray:
    """numpy forecasts needing no fit: weekly seasonal naive or the recent daily mean."""
    if model == "seasonal_naive":
        return simple.seasonal_naive(values[rows], panel.n_days, fc_days)
    return dailymod.daily_mean_forecast(values[rows], panel.start.weekday(), panel.n_days, fc_days, fc.profile_weeks)


def _forecast_rows(prep: _Prepared, rows: np.ndarray, model: str, fc, eng) -> tuple[np.ndarray, dict[int, str]]:
    """Forecast ``model`` on panel ``rows`` from the end of the history: (n_rows, fc_days * 24), {row: failure}."""
    cand = CANDIDATES[model]
    if cand.kind == "numpy":
        out = simple_forecast(model, prep.values[rows], prep.panel.start.weekday(), prep.panel.n_days, prep.fc_days,
                              fc, prep.profile[rows])
        bad = np.isnan(out).any(axis=1)
        return out, {int(r): "forecast has gaps" for r in rows[bad]}
    if cand.kind == "combo":
        preds = {}
        for m in combo_members(prep.cands):
            out, failed = _forecast_rows(prep, rows, m, fc, eng)
            out[np.isin(rows, list(failed))] = np.nan
            preds[m] = out
        out = combine(preds, list(preds))
        bad = np.isnan(out).any(axis=1)
        return out, {int(r): f"fewer than {COMBO_MIN_MEMBERS} members gave a forecast" for r in rows[bad]}
    return _fit_predict(prep.panel, prep.values, rows, cand, fc, prep.fc_days, eng, prep.profile[rows])


def _fit_predict(panel: Panel, values: np.ndarray, rows: np.ndarray, cand, fc, fc_days: int, eng,
                 profile: np.ndarray):
    """Fit ``cand`` on ``rows`` and forecast ``fc_days`` from the end of the history.

    Returns ``(forecast array (len(rows), fc_days * 24), {row: reason} of cells that failed)``.
    """
    from capplan.forecast.backtest import long_frame

    n_days = panel.n_days
    ids = [f"{r:06d}" for r in rows]
    pos = {u: i for i, u in enumerate(ids)}
    begin = np.maximum(panel.first_day[rows], n_days - train_days(cand, fc))
    sub = values[rows]
    out = np.full((len(rows), fc_days * 24), np.nan)
    try:
        if cand.grain == "hourly":
            df = long_frame(sub, begin * 24, ids, panel.start, HOUR)
            res = eng.forecast([cand.build()], "h", df, h=fc_days * 24)
            i = res["unique_id"].map(pos).to_numpy()
            step = ((res["ds"] - panel.end) / HOUR).to_numpy().astype(np.int64)
            out[i, step] = res[cand.name].to_numpy()
        else:
            daily = np.nan_to_num(sub).reshape(len(rows), n_days, 24).sum(axis=2)
            df = long_frame(daily, begin, ids, panel.start, DAY)
            res = eng.forecast([cand.build()], "D", df, h=fc_days)
            i = res["unique_id"].map(pos).to_numpy()
            step = ((res["ds"] - panel.end) / DAY).to_numpy().astype(np.int64)
            d = np.full((len(rows), fc_days), np.nan)
            d[i, step] = res[cand.name].to_numpy()
            out = dailymod.spread(d, profile, panel.start.weekday(), n_days)
    except Exception as exc:  # one model failing must not stop the run
        return out, {int(r): f"fit failed: {type(exc).__name__}: {exc}"[:300] for r in rows}
    bad = np.isnan(out).any(axis=1)
    return out, {int(r): "fit gave no forecast for some hours" for r in rows[bad]}


def _to_table(panel: Panel, pred, lo, hi, used, levels, t0: pd.Timestamp, interval_minutes: int,
              shares: np.ndarray | None = None, aht: tuple | None = None) -> pd.DataFrame:
    """The forecast table; ``aht`` = (hourly AHT (n, T) [s], source per cell, table AHT per cell [s]) adds
    ``aht_s`` (an hour's AHT in each of its planning intervals), ``aht_source`` and ``aht_table_s``."""
    n, t = pred.shape
    k = 60 // interval_minutes
    if k > 1:  # split each hour into its planning intervals: learned within-hour shares, else evenly
        s = np.full((n, k), 1.0 / k) if shares is None else shares
        pred = split_hours(pred, s)
        lo = np.stack([split_hours(lo[:, j], s) for j in range(lo.shape[1])], axis=1)
        hi = np.stack([split_hours(hi[:, j], s) for j in range(hi.shape[1])], axis=1)
    steps = pred.shape[1]
    times = pd.date_range(t0, periods=steps, freq=f"{interval_minutes}min")
    data = {
        QUEUE: np.repeat(panel.cells[QUEUE].to_numpy(), steps),
        LANGUAGE: np.repeat(panel.cells[LANGUAGE].to_numpy(), steps),
        INTERVAL_START: pd.DatetimeIndex(np.tile(times.to_numpy(), n)).tz_localize("UTC"),
        VOLUME: pred.reshape(-1),
    }
    for j, lv in enumerate(levels):
        data[f"volume_lo_{lv}"] = lo[:, j].reshape(-1)
        data[f"volume_hi_{lv}"] = hi[:, j].reshape(-1)
    data[MODEL] = np.repeat(np.asarray(used, dtype=object), steps)
    if aht is not None:
        data[AHT_S] = np.repeat(aht[0], k, axis=1).reshape(-1)
        data[AHT_SOURCE] = np.repeat(np.asarray(aht[1], dtype=object), steps)
        data[AHT_TABLE_S] = np.repeat(aht[2], steps)
    out = pd.DataFrame(data)
    return out.sort_values([QUEUE, LANGUAGE, INTERVAL_START], kind="stable").reset_index(drop=True)


def _warn_clock_shift(panel: Panel, time_zones: dict[str, str], warnings: list[str], auto: bool = False) -> None:
    """Point at forecast.time_zones when cells without a zone look shifted by a daylight-saving change."""
    flagged = clock_shifted(panel.values)
    flagged &= np.array([zone_of(str(lang), time_zones) is None for lang in panel.cells[LANGUAGE]], dtype=bool)
    if flagged.any():
        r = int(np.flatnonzero(flagged)[0])
        warnings.append(f"history: the hour-of-day pattern of {int(flagged.sum())} cell(s) moved by one hour within the "
                        f"last four weeks (e.g. {panel.cells.at[r, QUEUE]}/{panel.cells.at[r, LANGUAGE]}): a "
                        "daylight-saving change? If their arrivals follow a local clock, set [forecast] time_zones" + (
                            " (auto-detection kept them on UTC: see time_zones.csv)" if auto else ""))


def _history_end(history: pd.DataFrame, config) -> pd.Timestamp | None:
    """The last history hour before the planning start (UTC, tz-naive), the reference of forecast.time_zones."""
    if not config.forecast.time_zones or INTERVAL_START not in history.columns or history.empty:
        return None
    times = pd.to_datetime(history[INTERVAL_START], utc=True).dt.tz_localize(None)
    times = times[times < planning_start(config)]
    return times.max().floor("h") if len(times) else None


def _aht_forecast(prep: _Prepared, history: pd.DataFrame, handle_times: pd.DataFrame | None, config):
    """The hourly handle-time forecast from the end of the history, or None without any AHT data."""
    has_history = AHT_S in history.columns and pd.to_numeric(history[AHT_S], errors="coerce").notna().any()
    if not has_history and (handle_times is None or not len(handle_times)):
        return None
    panel = prep.panel
    items, work = hourly_aht(history, panel.cells, panel.start, panel.values.shape[1])
    table = None
    if handle_times is not None and len(handle_times):
        table = handle_times.set_index([QUEUE, LANGUAGE])[AHT_S].astype(float)
    return forecast_aht(items, work, panel.cells, panel.start.weekday(), panel.n_days, prep.fc_days,
                        config.forecast.aht_weeks, table, prep.groups)


def _empty_backtest(levels) -> pd.DataFrame:
    cols = [QUEUE, LANGUAGE, MODEL, "mase", "wape", "mae"] + [f"coverage_{lv}" for lv in levels] + [
        "metric", "sparse", "chosen", "rank"]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def _summary(bt, table: pd.DataFrame, used: np.ndarray, levels) -> pd.DataFrame:
    """Per model used: cells, mean backtest MASE/WAPE vs the seasonal naive, pooled WAPE, coverage."""
    cov_cols = [f"coverage_{lv}" for lv in levels]
    rows = []
    counts = pd.Series(used).value_counts()
    chosen = table[table["chosen"]] if len(table) else pd.DataFrame()
    naive = table[table[MODEL] == "seasonal_naive"].set_index("row") if len(table) else pd.DataFrame()

    def block(label: str, ch: pd.DataFrame, cells: int) -> dict:
        rec = {MODEL: label, "cells": cells}
        if len(ch):
            rec["backtested"] = len(ch)
            rec["mase"] = ch["mase"].mean()
            rec["wape"] = ch["wape"].mean()
            if len(naive):
                nv = naive.loc[ch["row"]]
                rec["naive_mase"] = nv["mase"].mean()
                rec["naive_wape"] = nv["wape"].mean()
                rec["beats_naive_share"] = float((ch["mae"].to_numpy() < nv["mae"].to_numpy()).mean())
            if bt is not None:
                idx = np.searchsorted(bt.rows, ch["row"].to_numpy())
                y = bt.actual[idx]
                p = np.stack([bt.preds[m][i] for m, i in zip(ch[MODEL], idx)])
                rec["wape_pooled"] = float(np.nansum(np.abs(y - p)) / max(np.nansum(y), 1e-12))
                if "seasonal_naive" in bt.preds:
                    pn = bt.preds["seasonal_naive"][idx]
                    rec["naive_wape_pooled"] = float(np.nansum(np.abs(y - pn)) / max(np.nansum(y), 1e-12))
            for c in cov_cols:
                rec[c] = ch[c].mean()
        else:
            rec["backtested"] = 0
        return rec

    for model, cells in sorted(counts.items(), key=lambda kv: (CANDIDATES.get(kv[0]) is None, kv[0])):
        ch = chosen[chosen[MODEL] == model] if len(chosen) else chosen
        rows.append(block(model, ch, int(cells)))
    rows.append(block("all", chosen, int(len(used))))
    cols = [MODEL, "cells", "backtested", "mase", "naive_mase", "wape", "naive_wape", "wape_pooled",
            "naive_wape_pooled", "beats_naive_share"] + cov_cols
    return pd.DataFrame(rows).reindex(columns=cols)


def _recent_history(panel: Panel) -> pd.DataFrame:
    hours = min(panel.values.shape[1], RECENT_HISTORY_WEEKS * HOURS_PER_WEEK)
    block = panel.values[:, -hours:]
    times = pd.date_range(panel.end - hours * HOUR, periods=hours, freq="h")
    out = pd.DataFrame({
        QUEUE: np.repeat(panel.cells[QUEUE].to_numpy(), hours),
        LANGUAGE: np.repeat(panel.cells[LANGUAGE].to_numpy(), hours),
        INTERVAL_START: pd.DatetimeIndex(np.tile(times.to_numpy(), len(panel.cells))).tz_localize("UTC"),
        VOLUME: block.reshape(-1),
    })
    return out.dropna(subset=[VOLUME]).reset_index(drop=True)
