"""A scenario's work per cell without its requirements (:func:`capplan.optimize.stochastic.scenario_cell_work`).

The replay-judged checked plan needs of each demand scenario only its work per cell (deferred workload plus real-time
requirement hours); it must be the number the full requirements give, bit for bit, since the check's shares, the lift
and the statement are made of it. Second method: the old route, ``cell_work(with_demand(d, compute_requirements(f, ws,
50)))``, on scenarios of the small demo (real-time ``live`` with patience, ASA and abandonment caps: Erlang A; and the
same queue without patience: Erlang C).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from capplan.demo import build_demo_workspace
from capplan.inputs import load_workspace
from capplan.optimize.data import prepare, with_demand
from capplan.optimize.stochastic import ScenarioWork, cell_work, draw_scenarios, scenario_cell_work, scenario_work
from capplan.schema import CELL_KEYS, INTERVAL_START, LANGUAGE, QUEUE, VOLUME
from capplan.staffing.requirements import cell_handle_times, compute_requirements, work_requirements


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The small demo's workspace and a forecast of its plan week: the history's last week, one week on."""
    ws = load_workspace(build_demo_workspace(tmp_path_factory.mktemp("work") / "small", size="small"))
    h = ws.history
    last = h[h[INTERVAL_START] >= h[INTERVAL_START].max() - pd.Timedelta(days=7) + pd.Timedelta(hours=1)]
    forecast = last[[QUEUE, LANGUAGE, INTERVAL_START, VOLUME]].assign(**{INTERVAL_START: last[INTERVAL_START] + pd.Timedelta(days=7)})
    for level in ws.config.forecast.levels:
        forecast[f"volume_lo_{level}"] = forecast[f"volume_hi_{level}"] = forecast[VOLUME]
    return ws, forecast.reset_index(drop=True)


def _erlang_c(ws):
    """The same workspace with the real-time queue's patience (and so its abandonment cap) removed: Erlang C."""
    queues = ws.queues.copy()
    queues.loc[queues["kind"] == "realtime", ["patience_s", "max_abandon"]] = np.nan
    ws.queues = queues
    return ws


@pytest.mark.parametrize("erlang", ["a", "c"])
def test_scenario_work_is_the_full_requirements_cell_work(demo, erlang):
    ws, forecast = demo
    if erlang == "c":
        ws = _erlang_c(load_workspace(ws.root))
    d = prepare(ws, compute_requirements(forecast, ws, 50))
    frames = draw_scenarios(forecast, pd.DataFrame(), ws.config, 4).forecasts  # no backtest errors: normal z per cell-hour
    old = np.array([cell_work(with_demand(d, compute_requirements(f, ws, 50))) for f in frames])
    new = scenario_work(d, scenario_cell_work(ws, d, frames))
    np.testing.assert_array_equal(new, old)
    realtime = (d.cells["kind"] == "realtime").to_numpy()
    assert realtime.any() and (~realtime).any() and (new[:, realtime] > 0).all()
    assert len({tuple(w) for w in new}) == 4  # four different scenarios
    # real-time work is requirement hours (Erlang), above the items' handle time: volume x AHT would not be the same lift
    handled = np.array([with_demand(d, compute_requirements(f, ws, 50)).volume for f in frames])[:, realtime].sum(axis=2)
    assert (new[:, realtime] > handled * d.cells.loc[realtime, "aht_s"].to_numpy() / 3600.0 * 1.05).all()


def test_work_rows_equal_the_full_requirements_rows(demo):
    # every forecast row's volume, handle time and workload, and the real-time rows' staffing, are the full table's
    ws, forecast = demo
    frame = draw_scenarios(forecast, pd.DataFrame(), ws.config, 1).forecasts[0]
    full = compute_requirements(frame, ws, 50)
    lean = work_requirements(frame, ws, 50, cell_aht=cell_handle_times(ws))
    merged = lean.merge(full, on=CELL_KEYS + [INTERVAL_START], suffixes=("", "_full"), validate="one_to_one")
    assert len(merged) == len(lean) == len(frame) and len(full) >= len(lean)  # the full table adds deferred gaps' empty rows
    assert (full.loc[~full.set_index(CELL_KEYS + [INTERVAL_START]).index.isin(merged.set_index(CELL_KEYS + [INTERVAL_START]).index),
                     "volume"] == 0).all()
    for column in ("volume", "aht_s", "workload_hours"):
        np.testing.assert_array_equal(merged[column], merged[f"{column}_full"])
    rt = merged["kind"] == "realtime"
    assert rt.any() and merged.loc[rt, "required_productive"].gt(0).any()
    np.testing.assert_array_equal(merged.loc[rt, "required_productive"], merged.loc[rt, "required_productive_full"])
    assert merged.loc[~rt, "required_productive"].isna().all()  # not a plan's requirements: deferred rows have none


def test_handle_times_read_once_give_the_same_requirements(demo):
    ws, forecast = demo
    pd.testing.assert_frame_equal(compute_requirements(forecast, ws, 50, cell_aht=cell_handle_times(ws)), compute_requirements(forecast, ws, 50))


def test_scenario_work_by_hand():
    # one deferred cell, 120 items an hour of 60 s for 8 hours (tests/test_judge.py's world): 16 standard h; the held-out
    # scenarios of that world run 1.3 times the forecast: 20.8 h
    from test_judge import _world

    ws, req, forecast, errors = _world(1.3)
    d = prepare(ws, req)
    scenarios = draw_scenarios(forecast, errors, ws.config, 4)
    work = scenario_cell_work(ws, d, scenarios.forecasts)
    assert all(isinstance(w, ScenarioWork) for w in work)
    np.testing.assert_allclose(scenario_work(d, work)[:, 0], [16.0, 16.0, 20.8, 20.8], rtol=1e-12)


def test_scenarios_keep_the_forecasts_handle_times(demo):
    """``[forecast] aht = "forecast"``: a scenario draws only the volume; its requirements use the forecast's hourly
    handle times as the plan's do (before, the scenarios fell back to the table's and the check judged a different
    workload). Second method: the scenario's work equals its volume x the forecast's AHT for deferred cells."""
    ws, forecast = demo
    ws = load_workspace(ws.root)
    ws.config.forecast.aht = "forecast"
    table = cell_handle_times(ws)
    keys = pd.MultiIndex.from_frame(forecast[CELL_KEYS].astype(str))
    fc = forecast.assign(aht_s=table.reindex(keys).to_numpy() * 2.0, aht_source="forecast")  # every hour twice the table's
    frames = draw_scenarios(fc, pd.DataFrame(), ws.config, 2).forecasts
    assert all((f["aht_s"].to_numpy() == fc["aht_s"].to_numpy()).all() for f in frames)
    d = prepare(ws, compute_requirements(fc, ws, 50))
    work = scenario_work(d, scenario_cell_work(ws, d, frames))
    deferred = (d.cells["kind"] != "realtime").to_numpy()
    for f, w in zip(frames, work):
        volume = f.groupby(CELL_KEYS, sort=False)[VOLUME].sum()
        expected = [volume.get((q, lang), 0.0) * table[(q, lang)] * 2.0 / 3600.0
                    for q, lang in zip(d.cells[QUEUE], d.cells[LANGUAGE])]
        np.testing.assert_allclose(w[deferred], np.array(expected)[deferred], rtol=1e-6)
