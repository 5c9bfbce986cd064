"""The Dask engine (statsforecast through fugue on a LocalCluster) gives the local results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _forecast_data import config, history, no_events
from capplan.forecast.run import run_forecast

pytest.importorskip("distributed")
pytest.importorskip("fugue")


@pytest.mark.dask
def test_dask_engine_matches_local():
    h = history({("video", "en"): 30.0, ("video", "es"): 6.0, ("photo", "en"): 2.0}, weeks=5, seed=5)
    cfg = config(models=["seasonal_naive", "daily_theta", "croston"])
    cfg.planning.horizon_days = 7
    local = run_forecast(h, no_events(), cfg, engine="local")
    dask = run_forecast(h, no_events(), cfg, engine="dask")
    assert dask.fallbacks.empty and local.fallbacks.empty  # no candidate failed on either engine
    assert list(local.forecast["model"]) == list(dask.forecast["model"])
    num = [c for c in local.forecast.columns if c.startswith("volume")]
    np.testing.assert_allclose(dask.forecast[num].to_numpy(), local.forecast[num].to_numpy(), rtol=1e-4, atol=1e-3)
    pd.testing.assert_series_equal(local.backtest["chosen"], dask.backtest["chosen"])
    np.testing.assert_allclose(dask.backtest["mase"], local.backtest["mase"], rtol=1e-4)
