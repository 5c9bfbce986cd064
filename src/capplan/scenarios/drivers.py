"""Enqueue drivers: review demand derived from content volume, flag rate, automation and deflection shares."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from capplan.errors import ConfigError
from capplan.inputs import Workspace


def driver_factors_for(ws: Workspace, scenario) -> Callable[[pd.DataFrame], np.ndarray] | None:
    """Forecast rows -> multiplier implied by the scenario's ``[[drivers]]`` rules (None without rules)."""
    if not scenario.spec.drivers:
        return None
    raise ConfigError(f"{scenario.label}: [[drivers]] rules need inputs/drivers.csv, which this version does not read yet")
