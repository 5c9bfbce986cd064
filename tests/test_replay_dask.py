"""--scenarios on Dask (a small local cluster) gives the numbers of the local engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _sim_data import START, config, no_allocation, shift_plan, workspace
from capplan.simulate.scenarios import run_scenarios

pytest.importorskip("distributed")


def _forecast(days: int) -> pd.DataFrame:
    times = pd.date_range(pd.Timestamp(START, tz="UTC"), periods=days * 24, freq="h")
    parts = []
    for (q, lang), rate in {("live", "en"): 30.0, ("video", "en"): 200.0}.items():
        v = rate * (1.2 + np.sin(2 * np.pi * times.hour / 24))
        parts.append(pd.DataFrame({"queue": q, "language": lang, "interval_start": times, "volume": v,
                                   "volume_lo_80": 0.8 * v, "volume_hi_80": 1.25 * v, "model": "test"}))
    return pd.concat(parts, ignore_index=True)


@pytest.mark.dask
def test_scenarios_on_dask_match_local():
    q = [{"queue": "live", "kind": "realtime", "within_s": 60.0, "egregious": True, "patience_s": 180.0},
         {"queue": "video", "kind": "deferred", "within_s": 4 * 3600.0, "severity": 2}]
    ws = workspace(q, [("live", "en", 120.0), ("video", "en", 90.0)],
                   [{"pool": "p", "queues": ("live", "video"), "languages": ("en",)}], cfg=config(2, share=0.5))
    sp = shift_plan(ws, {("p", "all"): 9})
    args = dict(n_paths=4, policy="priority", seed=3)
    local = run_scenarios(ws, sp, no_allocation(), _forecast(2), engine="local", **args)
    dask = run_scenarios(ws, sp, no_allocation(), _forecast(2), engine="dask", **args)
    pd.testing.assert_frame_equal(local.risk, dask.risk)
    pd.testing.assert_frame_equal(local.cell_weeks, dask.cell_weeks)
    assert 0.0 < local.risk["p_met"].max() <= 1.0
