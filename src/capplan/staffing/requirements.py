"""From a forecast to the moderators each (queue, language) cell needs per interval.

The requirements table shows the waterfall of every number (PRODUCT.md, ``requirements.parquet``):

``volume`` (at the chosen forecast quantile) x ``aht_s`` -> ``workload_hours`` -> ``method``
(``erlang_c`` / ``erlang_a`` for real-time queues, ``backlog`` for deferred ones) with its
``target`` and ``within_s`` -> ``required_productive`` (fractional moderators, productive) and the
``service_level`` they achieve -> ``shrinkage`` -> ``required_paid``.

Rules
-----
* **Quantile.** P50 plans for the mean forecast ``volume``; P80 / P90 / P95 use the upper bound of
  the central prediction interval whose upper end is that quantile: ``volume_hi_60``,
  ``volume_hi_80``, ``volume_hi_90``. Negative volumes are clipped to 0.
* **Handle time.** ``handle_times`` for the cell (a proficiency-1.0 moderator; pool proficiency
  applies later, in the optimizer); else the volume-weighted mean ``aht_s`` of the cell's history.
  With ``[forecast] aht = "forecast"`` the forecast's hourly ``aht_s`` (:mod:`capplan.forecast.aht`)
  replaces it where the forecast has one; ``aht_table_s`` keeps the table's value and ``aht_source``
  names where each row's handle time comes from.
* **Real-time queues.** Erlang C, or Erlang A when the queue has a ``patience``, with the
  interval ``[planning] interval_minutes`` and the occupancy cap ``[staffing] max_occupancy``;
  fractional staffing (see :func:`capplan.staffing.erlang.required_agents`), rounded once, later.
  A queue's optional ``max_asa`` (ASA target) and ``max_abandon`` (abandonment cap, Erlang A) are met as
  well; ``binding`` names the criterion that sets each interval's staffing (``service_level``, ``asa``,
  ``abandonment`` or ``occupancy``; docs/rolling.md).
* **Deferred queues.** The flattest profile that finishes every item by its deadline
  (:func:`capplan.staffing.backlog.minimal_profile`), in hours of work per interval, divided by the
  interval hours and ``[staffing] deferred_max_utilisation``. The queue's target share is reported;
  the plan is built for 100 % on time (see :mod:`capplan.staffing.backlog`). Gaps in a deferred
  cell's intervals get zero-volume rows (``model = "gap"``), since the profile may place work there.
* **Shrinkage.** The global ``[staffing] shrinkage``: site overrides belong to pools, so they are
  applied by the optimizer. ``required_paid = required_productive / (1 - shrinkage)``.

:func:`work_requirements` gives only the columns a cell's work is made of (a demand scenario judged by its replay needs
no more); :func:`cell_handle_times` reads the handle times per cell once for many forecasts of one workspace.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.errors import ConfigError, InputError, Problem
from capplan.schema import CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, REQUIREMENTS_COLUMNS, SERIES_KEYS
from capplan.staffing import backlog
from capplan.staffing.erlang import agents_for_abandonment, queue_metrics, required_agents
from capplan.units import as_utc

QUANTILES = (50, 80, 90, 95)
#: forecast quantile -> level of the central interval whose upper bound is that quantile
QUANTILE_LEVEL = {80: 60, 90: 80, 95: 90}

EXTRA_COLUMNS = [
    "volume_quantile", "model", "patience_s", "offered_load", "asa_s", "occupancy", "abandon_rate",
    "p_wait", "max_occupancy", "utilisation", "backlog_hours", "required_productive_int",
    "aht_table_s", "aht_source",  # the table's handle time of the cell [s], and where aht_s comes from
    "max_asa_s", "max_abandon", "binding",
]


def volume_column(forecast: pd.DataFrame, quantile: int) -> str:
    """The forecast column holding the volume at a quantile (50 -> ``volume``, 90 -> ``volume_hi_80``).

    Raises
    ------
    ConfigError
        Unknown quantile, or the forecast lacks the interval level it needs.
    """
    if quantile not in QUANTILES:
        raise ConfigError(f"quantile must be one of {', '.join(map(str, QUANTILES))}, got {quantile!r}")
    if quantile == 50:
        return "volume"
    level = QUANTILE_LEVEL[quantile]
    column = f"volume_hi_{level}"
    if column not in forecast.columns:
        present = sorted(int(c.removeprefix("volume_hi_")) for c in forecast.columns
                         if c.startswith("volume_hi_") and c.removeprefix("volume_hi_").isdigit())
        levels = ", ".join(map(str, present)) or "none"
        raise ConfigError(
            f"planning at P{quantile} needs the {level}% prediction interval (column {column}), but the forecast "
            f"has levels: {levels}. Fix: add {level} to [forecast] levels in capplan.toml and re-run 'capplan forecast', "
            f"or plan at a quantile the forecast has ({_available_quantiles(present)})"
        )
    return column


def _available_quantiles(levels: list[int]) -> str:
    by_level = {lv: q for q, lv in QUANTILE_LEVEL.items()}
    return ", ".join(f"P{q}" for q in [50] + sorted(by_level[lv] for lv in levels if lv in by_level))


def compute_requirements(forecast: pd.DataFrame, ws, quantile: int | None = None, *, cell_aht: pd.Series | None = None) -> pd.DataFrame:
    """Moderators required per (queue, language, interval) for every row of a forecast.

    Parameters
    ----------
    forecast : pandas.DataFrame
        ``queue``, ``language``, ``interval_start`` (UTC), ``volume`` [items per interval] and
        ``volume_lo_<L>`` / ``volume_hi_<L>`` columns; ``model`` is carried along if present.
    ws : Workspace
        Uses ``config`` (planning, staffing), ``queues``, ``handle_times`` and ``history``.
    quantile : {50, 80, 90, 95}, optional
        Forecast quantile to staff for; default ``[staffing] quantile``.
    cell_aht : pandas.Series, optional
        The workspace's handle time per cell [s] (:func:`cell_handle_times`), computed here if None: pass it when
        computing many forecasts' requirements of one workspace (demand scenarios), since it reads the whole history.

    Returns
    -------
    pandas.DataFrame
        :data:`capplan.schema.REQUIREMENTS_COLUMNS` then :data:`EXTRA_COLUMNS`, one row per
        forecast row, sorted by queue, language, interval_start. Units: ``aht_s``, ``within_s``,
        ``patience_s``, ``asa_s`` [s]; ``workload_hours``, ``backlog_hours`` [h];
        ``required_productive``, ``required_paid`` [moderators, fractional]; ``offered_load``
        [Erlang]; shares in [0, 1]. Real-time rows have ``asa_s``/``abandon_rate``/``p_wait``;
        deferred rows have ``backlog_hours`` (NaN elsewhere).

    Raises
    ------
    ConfigError
        Unknown quantile, missing prediction level, or forecast intervals that do not match
        ``[planning] interval_minutes``.
    InputError
        Forecast cells whose queue is unknown, or with no handle time anywhere; a real-time
        queue with a target of 1.
    """
    config = ws.config
    interval_minutes = int(config.planning.interval_minutes)
    staffing = config.staffing
    out = _rows(forecast, ws, quantile, cell_aht)
    if out is None:
        return _empty()
    out = _fill_deferred_gaps(out, interval_minutes)
    out["workload_hours"] = out["volume"] * out["aht_s"] / 3600.0
    for name in ("required_productive", "service_level", "offered_load", "asa_s", "occupancy", "abandon_rate",
                 "p_wait", "max_occupancy", "utilisation", "backlog_hours", "required_productive_int"):
        out[name] = np.nan
    out["binding"] = np.where(out["kind"] == "realtime", "", "deadline")  # realtime: set by _realtime

    realtime = (out["kind"] == "realtime").to_numpy()
    if realtime.any():
        _realtime(out, realtime, 60.0 * interval_minutes, staffing.max_occupancy)
    if (~realtime).any():
        _deferred(out, ~realtime, interval_minutes, staffing.deferred_max_utilisation)

    out["shrinkage"] = float(staffing.shrinkage)
    out["required_paid"] = out["required_productive"] / (1.0 - out["shrinkage"])
    out["required_productive_int"] = out["required_productive_int"].astype("int64")
    return out[REQUIREMENTS_COLUMNS + EXTRA_COLUMNS].reset_index(drop=True)


WORK_COLUMNS = [QUEUE, LANGUAGE, INTERVAL_START, "kind", "volume", "aht_s", "workload_hours", "required_productive"]


def work_requirements(forecast: pd.DataFrame, ws, quantile: int | None = None, *, cell_aht: pd.Series | None = None) -> pd.DataFrame:
    """The part of :func:`compute_requirements` a cell's *work* is made of, and nothing else.

    :data:`WORK_COLUMNS`, one row per forecast row, sorted as there: ``volume``, ``aht_s`` and ``workload_hours``
    (``volume x aht_s / 3600``) for every row, ``required_productive`` for real-time rows (the same Erlang C / A search
    with the queue's every target, so the same numbers) and NaN for deferred ones. The deferred backlog profile, the
    zero-volume rows of a deferred cell's gaps (they add no work), the queue metrics and the binding criterion are not
    computed. So a cell's work in the window (deferred workload plus real-time requirement hours,
    :func:`capplan.optimize.stochastic.cell_work` of :func:`capplan.optimize.data.with_demand`) equals the full table's
    (``tests/test_scenario_work.py``), for what a replay judge needs of a demand scenario
    (:func:`capplan.optimize.stochastic.scenario_cell_work`). **Not** a plan's requirements: deferred rows have none.

    Same parameters and input errors as :func:`compute_requirements`.
    """
    staffing = ws.config.staffing
    out = _rows(forecast, ws, quantile, cell_aht)
    if out is None:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in WORK_COLUMNS}).astype(
            {QUEUE: object, LANGUAGE: object, "kind": object, INTERVAL_START: "datetime64[ns, UTC]"})
    out["workload_hours"] = out["volume"] * out["aht_s"] / 3600.0
    out["required_productive"] = np.nan
    realtime = (out["kind"] == "realtime").to_numpy()
    if realtime.any():
        parsed = _realtime_args(out.loc[realtime], 60.0 * int(ws.config.planning.interval_minutes))
        _, agents, _ = _realtime_agents(*parsed, staffing.max_occupancy)
        out.loc[realtime, "required_productive"] = agents
    return out[WORK_COLUMNS]


def _rows(forecast: pd.DataFrame, ws, quantile: int | None, cell_aht: pd.Series | None) -> pd.DataFrame | None:
    """The forecast's rows checked and sorted, with the quantile's ``volume``, the queue's targets and ``aht_s``; None if empty."""
    config = ws.config
    quantile = config.staffing.quantile if quantile is None else int(quantile)
    _require_columns(forecast, SERIES_KEYS)
    column = volume_column(forecast, quantile)
    interval_minutes = int(config.planning.interval_minutes)

    fc = forecast.copy()
    fc[INTERVAL_START] = as_utc(fc[INTERVAL_START])
    fc = fc.sort_values(SERIES_KEYS, kind="stable").reset_index(drop=True)
    if fc.duplicated(SERIES_KEYS).any():
        dup = fc.loc[fc.duplicated(SERIES_KEYS, keep=False), SERIES_KEYS].iloc[0]
        raise InputError([Problem(file="forecast", message=f"the forecast has more than one row for {dup[QUEUE]}/{dup[LANGUAGE]} "
                                  f"at {dup[INTERVAL_START]}", fix="re-run 'capplan forecast'")])
    out = pd.DataFrame({QUEUE: fc[QUEUE].astype(str), LANGUAGE: fc[LANGUAGE].astype(str), INTERVAL_START: fc[INTERVAL_START]})
    if fc.empty:
        return None
    _check_spacing(out, interval_minutes)

    volume = pd.to_numeric(fc[column], errors="coerce")
    if column != "volume" and volume.isna().any() and "volume" in fc:
        volume = volume.fillna(pd.to_numeric(fc["volume"], errors="coerce"))
    if volume.isna().any():
        bad = out.loc[volume.isna()].iloc[0]
        raise InputError([Problem(file="forecast", message=f"{int(volume.isna().sum())} forecast row(s) have no {column}, "
                                  f"e.g. {bad[QUEUE]}/{bad[LANGUAGE]} at {bad[INTERVAL_START]}", column=column,
                                  fix="re-run 'capplan forecast'")])
    out["volume"] = volume.clip(lower=0.0).to_numpy(float)
    out["volume_quantile"] = quantile
    out["model"] = fc["model"].astype(str).to_numpy() if "model" in fc else ""

    queues = _queue_table(ws, out)
    out = out.merge(queues, on=QUEUE, how="left", validate="many_to_one")
    out["aht_s"] = _handle_times(out, cell_handle_times(ws) if cell_aht is None else cell_aht)
    _use_aht_forecast(out, fc, config)
    return out


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=float) for c in REQUIREMENTS_COLUMNS + EXTRA_COLUMNS})
    for c in (QUEUE, LANGUAGE, "method", "model"):
        frame[c] = frame[c].astype(object)
    frame[INTERVAL_START] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame


def _require_columns(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError([Problem(file="forecast", message=f"the forecast table lacks column(s) {', '.join(missing)}",
                                  expected=", ".join(columns), found=", ".join(map(str, frame.columns)),
                                  fix="re-run 'capplan forecast'")])


def _check_spacing(out: pd.DataFrame, interval_minutes: int) -> None:
    """Every step between a cell's intervals must be a whole number of planning intervals."""
    step = out.groupby(CELL_KEYS, sort=False)[INTERVAL_START].diff().dropna().dt.total_seconds() / 60.0
    offset = (out[INTERVAL_START] - out[INTERVAL_START].min()).dt.total_seconds() / 60.0
    bad = (step % interval_minutes != 0).any() or (offset % interval_minutes != 0).any()
    if bad:
        found = sorted(set(step.round(3)))[:3]
        raise ConfigError(
            f"the forecast's intervals (steps of {', '.join(f'{m:g}' for m in found)} min) do not match "
            f"[planning] interval_minutes = {interval_minutes}. Fix: set interval_minutes to the forecast's interval "
            f"and re-run 'capplan forecast'"
        )


def _queue_table(ws, out: pd.DataFrame) -> pd.DataFrame:
    queues = ws.queues
    known = set(queues[QUEUE].astype(str))
    unknown = sorted(set(out[QUEUE]) - known)
    if unknown:
        raise InputError([Problem(file="inputs/queues.csv", message=f"the forecast has queue(s) {', '.join(unknown)} "
                                  "that are not in queues", fix="add a row per queue to inputs/queues.csv")])
    table = queues[[QUEUE, "kind", "target", "within_s"]].copy()
    table[QUEUE] = table[QUEUE].astype(str)
    table["patience_s"] = queues["patience_s"].astype(float) if "patience_s" in queues else np.nan
    for column in ("max_asa_s", "max_abandon"):  # optional realtime targets (queues.csv max_asa, max_abandon)
        table[column] = queues[column].astype(float) if column in queues else np.nan
    table["target"] = table["target"].astype(float)
    table["within_s"] = table["within_s"].astype(float)
    used = table[table[QUEUE].isin(set(out[QUEUE]))]
    impossible = used[(used["kind"] == "realtime") & (used["target"] >= 1.0)]
    if len(impossible):
        names = ", ".join(impossible[QUEUE])
        raise InputError([Problem(file="inputs/queues.csv", message=f"realtime queue(s) {names} have target 1: no staffing "
                                  "answers every item within a time limit when arrivals are random", column="target",
                                  expected="a target below 1, e.g. 0.95 or 0.99", found="1", fix="lower the target")])
    return table


def cell_handle_times(ws) -> pd.Series:
    """Handle time per (queue, language) cell [s] of a proficiency-1.0 moderator: ``handle_times``' mean for the cell,
    else the volume-weighted mean ``aht_s`` of the cell's history (the plain mean where its volume is 0); NaN if
    neither. Indexed by (queue, language) as strings; reads the whole history, so compute it once per workspace."""
    ht = ws.handle_times[[QUEUE, LANGUAGE, "aht_s"]].astype({QUEUE: str, LANGUAGE: str, "aht_s": float})
    ht = ht.groupby(CELL_KEYS, sort=True)["aht_s"].mean()
    history = getattr(ws, "history", None)
    if history is not None and "aht_s" in history and len(history):
        h = history[[QUEUE, LANGUAGE, "volume", "aht_s"]].dropna(subset=["aht_s"])
        h = h.astype({QUEUE: str, LANGUAGE: str})
        weight = h["volume"].clip(lower=0).astype(float)
        grouped = h.assign(wa=weight * h["aht_s"], w=weight).groupby(CELL_KEYS, sort=True)[["wa", "w"]].sum()
        plain = h.groupby(CELL_KEYS, sort=True)["aht_s"].mean()
        hist = (grouped["wa"] / grouped["w"]).where(grouped["w"] > 0, plain)
    else:
        hist = pd.Series(dtype=float)
    keys = ht.index.union(hist.index) if len(hist) else ht.index
    return ht.reindex(keys).fillna(hist.reindex(keys)).rename("aht_s")


def _handle_times(out: pd.DataFrame, per_cell: pd.Series) -> np.ndarray:
    """``aht_s`` of every row from the per-cell handle times (:func:`cell_handle_times`); a cell without one is an error."""
    keys = pd.MultiIndex.from_frame(out[CELL_KEYS])
    aht = pd.Series(per_cell.reindex(keys).to_numpy(), index=out.index)
    missing = out.loc[aht.isna() | ~(aht > 0), CELL_KEYS].drop_duplicates()
    if len(missing):
        cells = ", ".join(f"{q}/{lang}" for q, lang in missing.itertuples(index=False))
        raise InputError([Problem(file="inputs/handle_times.csv", message=f"no handle time for cell(s) {cells}: not in "
                                  "handle_times and no aht_s in their history", fix="add a row per queue and language to "
                                  "inputs/handle_times.csv")])
    return aht.to_numpy(float)


def _use_aht_forecast(out: pd.DataFrame, fc: pd.DataFrame, config) -> None:
    """``[forecast] aht = "forecast"``: the forecast's hourly ``aht_s`` replaces the table's where it has one.

    Keeps the table's value (or the history's mean where the table lacks the cell) as ``aht_table_s``
    and names the source of every row's ``aht_s`` in ``aht_source`` (``table`` or the forecast's
    ``forecast`` / ``history`` / ``table``), so the waterfall shows the handle time's effect. When the
    table changed since the forecast (a scenario's AHT rule, an updated ``handle_times.csv``), the forecast
    is scaled by the change: ``aht_s = forecast aht_s x table now / forecast's aht_table_s``.
    """
    out["aht_table_s"] = out["aht_s"].to_numpy(float)
    out["aht_source"] = "table"
    if getattr(config.forecast, "aht", "table") != "forecast" or "aht_s" not in fc.columns:
        return
    forecast_aht = pd.to_numeric(fc["aht_s"], errors="coerce").to_numpy(float)
    ok = np.isfinite(forecast_aht) & (forecast_aht > 0)
    source = fc["aht_source"].astype(str).to_numpy() if "aht_source" in fc.columns else np.full(len(fc), "forecast")
    if "aht_table_s" in fc.columns:  # the table the forecast was made with
        then = pd.to_numeric(fc["aht_table_s"], errors="coerce").to_numpy(float)
        now = out["aht_table_s"].to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            forecast_aht = forecast_aht * np.where(np.isfinite(then) & (then > 0) & np.isfinite(now), now / then, 1.0)
    out.loc[ok, "aht_s"] = forecast_aht[ok]
    out.loc[ok, "aht_source"] = source[ok]


def _fill_deferred_gaps(out: pd.DataFrame, interval_minutes: int) -> pd.DataFrame:
    """Add zero-volume rows where a deferred cell's intervals have gaps.

    Backlog work flows across intervals: the profile may schedule work in a gap, and that
    requirement must appear in the table (so work in = work done). Real-time rows stay as given.
    """
    deferred = out[out["kind"] != "realtime"]
    if deferred.empty:
        return out
    step = pd.Timedelta(minutes=interval_minutes)
    span = deferred.groupby(CELL_KEYS, sort=True)[INTERVAL_START].agg(["min", "max", "size"])
    expected = ((span["max"] - span["min"]) / step).round().astype(int) + 1
    if (expected == span["size"]).all():
        return out
    extra = []
    for (queue, language), first, last in zip(span.index, span["min"], span["max"]):
        grid = pd.date_range(first, last, freq=step)
        have = deferred.loc[(deferred[QUEUE] == queue) & (deferred[LANGUAGE] == language), INTERVAL_START]
        missing = grid.difference(pd.DatetimeIndex(have))
        if len(missing):
            template = deferred[(deferred[QUEUE] == queue) & (deferred[LANGUAGE] == language)].iloc[[0]]
            rows = template.loc[template.index.repeat(len(missing))].copy()
            rows[INTERVAL_START] = missing
            rows["volume"] = 0.0
            rows["model"] = "gap"
            extra.append(rows)
    out = pd.concat([out, *extra], ignore_index=True)
    return out.sort_values(SERIES_KEYS, kind="stable").reset_index(drop=True)


def _realtime_args(rows: pd.DataFrame, interval_s: float) -> tuple[tuple, np.ndarray, np.ndarray, np.ndarray]:
    """(volume, interval_s, aht_s, target, within_s), patience, ASA cap and abandonment cap of real-time rows (NaN: none)."""
    patience = rows["patience_s"].to_numpy(float)
    asa_cap = rows["max_asa_s"].to_numpy(float) if "max_asa_s" in rows else np.full(len(rows), np.nan)
    ab_cap = rows["max_abandon"].to_numpy(float) if "max_abandon" in rows else np.full(len(rows), np.nan)
    args = (rows["volume"].to_numpy(float), interval_s, rows["aht_s"].to_numpy(float), rows["target"].to_numpy(float),
            rows["within_s"].to_numpy(float))
    return args, patience, asa_cap, ab_cap


def _realtime_agents(args: tuple, patience: np.ndarray, asa_cap: np.ndarray, ab_cap: np.ndarray, max_occupancy: float):
    """(:func:`~capplan.staffing.erlang.required_agents`' result, the fractional moderators meeting every target of the
    queue, the abandonment cap's own answer) of real-time rows (:func:`_realtime_args`): one search for the service
    level, ASA and occupancy, and the abandonment cap, a criterion of its own (staffing is the larger answer; zeros
    where no cap)."""
    result = required_agents(*args, patience_s=patience, max_occupancy=max_occupancy, fractional=True,
                             max_asa_s=np.where(np.isfinite(asa_cap), asa_cap, np.inf))
    abandonment = np.zeros_like(args[0])
    has_ab = np.isfinite(ab_cap)
    if not has_ab.any():
        return result, result.agents, abandonment
    abandonment[has_ab] = agents_for_abandonment(result.offered_load[has_ab], args[2][has_ab], patience[has_ab], ab_cap[has_ab])
    return result, np.maximum(result.agents, abandonment), abandonment


def _realtime(out: pd.DataFrame, mask: np.ndarray, interval_s: float, max_occupancy: float) -> None:
    rows = out.loc[mask]
    args, patience, asa_cap, ab_cap = _realtime_args(rows, interval_s)
    result, agents, abandonment = _realtime_agents(args, patience, asa_cap, ab_cap, max_occupancy)
    agents_int, metrics = result.agents_int, result.metrics
    criteria = _criteria(args, patience, max_occupancy, asa_cap, abandonment)
    if np.isfinite(ab_cap).any():  # the abandonment cap, a criterion of its own: staffing is the larger answer
        agents_int = np.maximum(agents_int, np.ceil(abandonment - 1e-9))
        metrics = queue_metrics(agents, result.offered_load, args[2], args[4], patience)
    names = list(criteria)
    stacked = np.vstack([criteria[k] for k in names])
    out.loc[mask, "method"] = np.where(np.isfinite(patience), "erlang_a", "erlang_c")
    out.loc[mask, "binding"] = np.where(agents > 0, np.array(names, dtype=object)[np.argmax(stacked >= agents - 1e-6, axis=0)], "")
    out.loc[mask, "required_productive"] = agents
    out.loc[mask, "required_productive_int"] = agents_int
    out.loc[mask, "service_level"] = metrics.service_level
    out.loc[mask, "offered_load"] = result.offered_load
    out.loc[mask, "asa_s"] = metrics.asa_s
    out.loc[mask, "occupancy"] = metrics.occupancy
    out.loc[mask, "abandon_rate"] = metrics.abandon_rate
    out.loc[mask, "p_wait"] = metrics.p_wait
    out.loc[mask, "max_occupancy"] = max_occupancy


def _criteria(args: tuple, patience: np.ndarray, max_occupancy: float, asa_cap: np.ndarray,
              abandonment: np.ndarray) -> dict[str, np.ndarray]:
    """Moderators each service criterion alone needs [fractional]: service level, ASA, abandonment (given: computed
    by :func:`_realtime_agents`), occupancy.

    Each criterion is monotone in staffing, so the staffing meeting all of them is the largest of these, and the
    largest names the ``binding`` criterion of the interval (ties: the first in this order).
    """
    volume, interval_s, aht_s, target, within_s = args
    never = np.zeros_like(target)
    out = {"service_level": required_agents(volume, interval_s, aht_s, target, within_s, patience_s=patience, fractional=True).agents}
    has_asa = np.isfinite(asa_cap)
    out["asa"] = np.zeros_like(volume)
    if has_asa.any():
        out["asa"][has_asa] = required_agents(volume[has_asa], interval_s, aht_s[has_asa], never[has_asa], within_s[has_asa],
                                              patience_s=patience[has_asa], max_asa_s=asa_cap[has_asa], fractional=True).agents
    out["abandonment"] = abandonment
    out["occupancy"] = required_agents(volume, interval_s, aht_s, never, within_s, patience_s=patience, max_occupancy=max_occupancy,
                                       fractional=True).agents
    return out


def _deferred(out: pd.DataFrame, mask: np.ndarray, interval_minutes: int, utilisation: float) -> None:
    interval_h = interval_minutes / 60.0
    step = pd.Timedelta(minutes=interval_minutes)
    sub = out.loc[mask]
    required = np.zeros(len(out))
    share = np.ones(len(out))
    backlog_h = np.zeros(len(out))
    for _, group in sub.groupby(CELL_KEYS, sort=True):
        rows = group.index.to_numpy()  # positions: out has a RangeIndex
        pos = ((group[INTERVAL_START] - group[INTERVAL_START].iloc[0]) / step).round().astype(int).to_numpy()
        work = np.zeros(pos[-1] + 1)
        work[pos] = group["workload_hours"].to_numpy(float)
        within = float(group["within_s"].iloc[0])
        hours = backlog.minimal_profile(work, interval_minutes, within)
        check = backlog.check_capacity(work, hours, interval_minutes, within)
        required[rows] = hours[pos] / (interval_h * utilisation)
        with np.errstate(divide="ignore", invalid="ignore"):
            on_time = np.where(work > 0, 1.0 - check.late_by_arrival_hours / work, 1.0)
        share[rows] = on_time[pos]
        backlog_h[rows] = check.backlog_hours[pos]
    out.loc[mask, "method"] = "backlog"
    out.loc[mask, "required_productive"] = required[mask]
    out.loc[mask, "required_productive_int"] = np.ceil(required[mask] - 1e-9)
    out.loc[mask, "service_level"] = share[mask]
    out.loc[mask, "occupancy"] = np.where(required[mask] > 0, utilisation, 0.0)
    out.loc[mask, "utilisation"] = utilisation
    out.loc[mask, "backlog_hours"] = backlog_h[mask]
