"""The AHT multiplier of each pool on each cell that a plan uses, and where it came from.

``[staffing] proficiency``:

* ``"fixed"`` (default): the pool's ``proficiency`` in ``pools.csv`` on every cell (source ``pools.csv``);
* ``"estimated"``: the latest ``capplan capability`` run's ``multiplier`` per pool x cell (source
  ``capability <run-id>``), ``pools.csv`` for pairs the run does not cover.

``[staffing] rework`` (quality-adjusted capacity): an item that fails QA or is overturned on appeal is
reviewed again, so the work of a pool on a cell is ``items x (1 + (1 - quality) x rework_aht_ratio)``
first-review equivalents. The plan folds this into the multiplier,

    effective = base multiplier x (1 + (1 - quality) x rework_aht_ratio),

so a cheap vendor of low quality needs more paid hours for the same items and carries its true cost.
``quality`` is the capability estimate (QA pass x (1 - appeal share x overturn)) with ``"estimated"``, else
the vendor's ``quality`` in ``vendors.csv`` (in-house pools 1.0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.schema import INHOUSE, LANGUAGE, POOL, PROFICIENCY, QUEUE, VENDOR

POOL_CELL_COLUMNS = [POOL, VENDOR, QUEUE, LANGUAGE, "base_multiplier", "quality", "rework_factor", "multiplier", "source"]


def pool_cell_proficiency(ws) -> pd.DataFrame:
    """One row per skilled (pool, cell): the multiplier the plan uses (``multiplier``) and how it is made.

    Returns
    -------
    pandas.DataFrame
        :data:`POOL_CELL_COLUMNS`: ``base_multiplier`` (pools.csv or the estimate), ``quality`` (0-1),
        ``rework_factor`` (1 when ``[staffing] rework`` is off), ``multiplier`` = base x rework factor, ``source``.

    Raises
    ------
    ConfigError
        ``proficiency = "estimated"`` without a capability run in the workspace.
    """
    staffing = ws.config.staffing
    pools = ws.pools.set_index(POOL)
    out = ws.skills()[[POOL, QUEUE, LANGUAGE]].copy()
    out[VENDOR] = out[POOL].map(pools[VENDOR]).to_numpy()
    out["base_multiplier"] = out[POOL].map(pools[PROFICIENCY].astype(float)).to_numpy(float)
    vendor_quality = dict(zip(ws.vendors[VENDOR], ws.vendors["quality"].astype(float))) if len(ws.vendors) else {}
    out["quality"] = [1.0 if v == INHOUSE else float(vendor_quality.get(v, 1.0)) for v in out[VENDOR]]
    out["source"] = "pools.csv"
    if staffing.proficiency == "estimated":
        from capplan.capability import latest_estimates

        run_id, est = latest_estimates(ws.root)
        est = est.set_index([POOL, QUEUE, LANGUAGE])
        keys = pd.MultiIndex.from_frame(out[[POOL, QUEUE, LANGUAGE]])
        mult = est["multiplier"].reindex(keys).to_numpy(float)
        quality = est["quality"].reindex(keys).to_numpy(float)
        has = np.isfinite(mult)
        out["base_multiplier"] = np.where(has, mult, out["base_multiplier"])
        out["quality"] = np.where(np.isfinite(quality), quality, out["quality"])
        out["source"] = np.where(has, f"capability {run_id}", "pools.csv (no estimate)")
    ratio = float(staffing.rework_aht_ratio) if staffing.rework else 0.0
    out["rework_factor"] = 1.0 + (1.0 - out["quality"].clip(0.0, 1.0)) * ratio
    out["multiplier"] = out["base_multiplier"] * out["rework_factor"]
    return out[POOL_CELL_COLUMNS].reset_index(drop=True)
