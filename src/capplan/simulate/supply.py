"""Moderators on the floor: the plan's shift occurrences turned into productive servers per pool and minute.

Each row of ``shift_plan`` is one shift worked on one local date by ``headcount`` moderators of a
pool, on site from ``start_utc`` for ``paid_hours + break_minutes / 60`` hours (the shift's unpaid
break on top of its paid time). As in the optimizer (:mod:`capplan.optimize.data`), one moderator on
site gives ``paid_hours / on_site_hours * (1 - shrinkage(site))`` productive moderators: the break
and the shrinkage (training, absence, meetings) are spread evenly over the time on site. The rota
is cyclic, like the plan's: on-site minutes past the end of the window wrap to its start (the same
shift of the previous cycle), and minutes before the start wrap to its end.

The daily wellbeing cap (``exposure_max_hours_per_day`` per moderator) is a budget per occurrence:
``headcount * cap`` hours of egregious work, drawn as its moderators work egregious queues.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capplan.errors import InputError, Problem
from capplan.schema import POOL


@dataclass
class Supply:
    """Productive moderators per pool and minute of the window.

    Attributes
    ----------
    pools : pool, vendor, site, proficiency, shrinkage (sorted by pool; row i is pool index i)
    productive : [P, M] productive moderators on the floor in each minute
    on_site : [P, M] moderators on site (headcount, before breaks and shrinkage)
    occ_pool : [O] pool index of each shift occurrence
    occ_productive : [O] productive moderators of the occurrence while on site
    occ_heads : [O] headcount of the occurrence
    occ_minutes : list of O arrays of the window minutes the occurrence is on site
    """

    pools: pd.DataFrame
    productive: np.ndarray
    on_site: np.ndarray
    occ_pool: np.ndarray
    occ_productive: np.ndarray
    occ_heads: np.ndarray
    occ_minutes: list

    @property
    def P(self) -> int:
        return len(self.pools)


def pool_table(ws) -> pd.DataFrame:
    """The workspace pools in a fixed order with the shrinkage of their site."""
    pools = ws.pools.sort_values(POOL, kind="stable").reset_index(drop=True)
    out = pools[[POOL, "vendor", "site", "proficiency"]].copy()
    out["proficiency"] = out["proficiency"].astype(float)
    out["shrinkage"] = [float(ws.shrinkage(s)) for s in out["site"]]
    return out


def check_shift_plan(ws, shift_plan: pd.DataFrame, label: str = "shift_plan") -> list[Problem]:
    """Problems when the plan's shifts do not fit the workspace (pools or shifts changed since the plan)."""
    problems = []
    pools = ws.pools.set_index(POOL)
    shifts = ws.shifts.set_index("shift")
    seen: set[tuple] = set()
    for row in shift_plan[[POOL, "shift", "paid_hours"]].itertuples(index=False):
        key = (row.pool, row.shift, float(row.paid_hours))
        if key in seen:
            continue
        seen.add(key)
        if row.pool not in pools.index:
            problems.append(Problem(file=label, column=POOL, message=f"the plan staffs pool {row.pool!r}, which inputs/pools.csv no longer has",
                                    fix="re-run 'capplan plan' on the current inputs, or restore the pool"))
        elif row.shift not in pools.at[row.pool, "shifts"]:
            problems.append(Problem(file=label, column="shift", message=f"the plan puts pool {row.pool} on shift {row.shift!r}, which the pool no longer lists",
                                    fix="re-run 'capplan plan' on the current inputs"))
        if row.shift not in shifts.index:
            problems.append(Problem(file=label, column="shift", message=f"the plan uses shift {row.shift!r}, which inputs/shifts.csv no longer has",
                                    fix="re-run 'capplan plan' on the current inputs, or restore the shift"))
        elif abs(float(shifts.at[row.shift, "paid_hours"]) - float(row.paid_hours)) > 1e-6:
            problems.append(Problem(file=label, column="paid_hours",
                                    message=f"shift {row.shift} has {float(shifts.at[row.shift, 'paid_hours']):g} paid hours in inputs/shifts.csv "
                                            f"but {float(row.paid_hours):g} in the plan", fix="re-run 'capplan plan' on the current inputs"))
    return problems


def build_supply(ws, shift_plan: pd.DataFrame, start: pd.Timestamp, minutes: int) -> Supply:
    """Productive servers per pool and minute from the plan's shift occurrences (cyclic window).

    Raises
    ------
    InputError
        The plan names pools or shifts the workspace does not have (or with other paid hours).
    """
    problems = check_shift_plan(ws, shift_plan)
    if problems:
        raise InputError(problems)
    pools = pool_table(ws)
    index = {p: i for i, p in enumerate(pools[POOL])}
    shifts = ws.shifts.set_index("shift")
    P = len(pools)
    productive = np.zeros((P, minutes))
    on_site = np.zeros((P, minutes))
    occ_pool, occ_prod, occ_heads, occ_minutes = [], [], [], []
    start_utc = pd.to_datetime(shift_plan["start_utc"], utc=True) if len(shift_plan) else pd.Series(dtype="datetime64[ns, UTC]")
    for row, t0 in zip(shift_plan.itertuples(index=False), start_utc):
        heads = int(row.headcount)
        if heads <= 0:
            continue
        p = index[row.pool]
        paid = float(shifts.at[row.shift, "paid_hours"])
        on_site_h = paid + float(shifts.at[row.shift, "break_minutes"]) / 60.0
        factor = paid / on_site_h * (1.0 - float(pools.at[p, "shrinkage"]))
        first = int(round((t0 - start).total_seconds() / 60.0))
        mins = np.mod(first + np.arange(int(round(on_site_h * 60))), minutes)
        np.add.at(productive[p], mins, heads * factor)
        np.add.at(on_site[p], mins, heads)
        occ_pool.append(p)
        occ_prod.append(heads * factor)
        occ_heads.append(heads)
        occ_minutes.append(mins)
    return Supply(pools=pools, productive=productive, on_site=on_site, occ_pool=np.array(occ_pool, dtype=int),
                  occ_productive=np.array(occ_prod, dtype=float), occ_heads=np.array(occ_heads, dtype=float),
                  occ_minutes=occ_minutes)
