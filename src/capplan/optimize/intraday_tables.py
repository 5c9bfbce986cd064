"""Tables of an intraday re-plan (:mod:`capplan.optimize.intraday`): moves, allocation, overtime and VTO.

Hours are productive hours [h] unless a name says ``paid``; money is the reporting currency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from capplan.optimize.intraday import IntradayBuilt, IntradayData, overtime_overlap
from capplan.schema import (DAY, INTERVAL_START, LANGUAGE, POOL, PRODUCTIVE_HOURS, QUEUE, REFORECAST_ALLOCATION_COLUMNS,
                            REFORECAST_MOVE_COLUMNS, REFORECAST_STAFFING_COLUMNS, SHIFT, START_UTC, VENDOR)

MOVE_TOL = 0.01  # hours below which a change is rounding, not a move [h]
MOVE_COLUMNS = REFORECAST_MOVE_COLUMNS
ALLOCATION_COLUMNS = REFORECAST_ALLOCATION_COLUMNS
STAFFING_COLUMNS = REFORECAST_STAFFING_COLUMNS


def _names(x: IntradayData, p: int, c: int) -> dict:
    d = x.d
    return {POOL: d.pools.at[p, POOL], VENDOR: d.pools.at[p, VENDOR], QUEUE: d.cells.at[c, QUEUE], LANGUAGE: d.cells.at[c, LANGUAGE]}


def moves_table(x: IntradayData, old: dict, new: dict) -> pd.DataFrame:
    """Per pool and cell over the rest of the day: planned and re-planned hours, and the hours moved in and out."""
    rows = []
    for p, c in sorted(set(old) | set(new)):
        o = np.array([old.get((p, c), {}).get(t, 0.0) for t in x.times])
        n = np.array([new.get((p, c), {}).get(t, 0.0) for t in x.times])
        moved_in, moved_out = float(np.maximum(n - o, 0).sum()), float(np.maximum(o - n, 0).sum())
        if max(moved_in, moved_out) < MOVE_TOL:
            continue
        rows.append({**_names(x, p, c), "planned_hours": float(o.sum()), "replanned_hours": float(n.sum()),
                     "change_hours": float(n.sum() - o.sum()), "moved_in_hours": moved_in, "moved_out_hours": moved_out})
    out = pd.DataFrame(rows, columns=MOVE_COLUMNS)
    return out.sort_values([POOL, QUEUE, LANGUAGE], kind="stable").reset_index(drop=True)


def allocation_table(x: IntradayData, old: dict, new: dict) -> pd.DataFrame:
    """Per pool, cell and interval of the rest of the day: the planned and the re-planned productive hours."""
    rows = []
    for p, c in sorted(set(old) | set(new)):
        for t in x.times:
            o, n = old.get((p, c), {}).get(t, 0.0), new.get((p, c), {}).get(t, 0.0)
            if o > 1e-9 or n > 1e-9:
                rows.append({**_names(x, p, c), INTERVAL_START: x.d.times[t], "planned_hours": o, PRODUCTIVE_HOURS: n})
    out = pd.DataFrame(rows, columns=ALLOCATION_COLUMNS)
    return out.sort_values([POOL, QUEUE, LANGUAGE, INTERVAL_START], kind="stable").reset_index(drop=True)


def staffing_table(x: IntradayData, b: IntradayBuilt, values: dict) -> pd.DataFrame:
    """Overtime and voluntary time off per shift occurrence: when, how many moderators, paid hours and cost.

    ``cost`` is positive for overtime (premium x rate x paid hours) and negative for VTO (the paid hours saved x rate).
    """
    d, cfg = x.d, x.settings
    rows = []
    for kind, family in (("overtime", b.ot), ("vto", b.vto)):
        for o, by_t in sorted(family.items()):
            occ = d.occurrences[o]
            overlap = overtime_overlap(d, o, cfg.overtime_max_hours) if kind == "overtime" else occ.overlap
            share = 1.0 if kind == "overtime" else x.paid_share[o]
            n = {t: float(values[v]) for t, v in by_t.items()}
            active = [t for t in sorted(n) if n[t] > 1e-6]
            if not active:
                continue
            paid = sum(n[t] * overlap[t] * share for t in active)
            rate = float(d.pools.at[occ.pool, "rate"])
            cost = paid * rate * (cfg.overtime_premium if kind == "overtime" else -1.0)
            rows.append({POOL: d.pools.at[occ.pool, POOL], VENDOR: d.pools.at[occ.pool, VENDOR], SHIFT: occ.shift, DAY: occ.day,
                         START_UTC: occ.start_utc, "kind": kind, "from_utc": d.times[active[0]],
                         "to_utc": d.times[active[-1]] + pd.Timedelta(hours=d.h), "moderators": max(n.values()),
                         "paid_hours": paid, "cost": cost})
    out = pd.DataFrame(rows, columns=STAFFING_COLUMNS)
    return out.sort_values(["kind", POOL, SHIFT, START_UTC], kind="stable").reset_index(drop=True)
