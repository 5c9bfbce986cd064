"""Supply as data: the roster today, attrition, hiring-class cohorts with training and ramp, vendor contracts.

Conventions (weeks ``w = 0 .. W-1`` from the plan start)
-----------------------------------------------------------
* **Attrition.** A monthly rate ``a_m`` (``[capacity] attrition_monthly``, per site
  ``attrition_by_site``) is a weekly survival ``s = (1 - a_m) ** (12 / 52)``: ``E`` moderators on the
  roster today are ``E s^w`` in week ``w``. New hires leave at the same rate from their first week.
* **Hiring classes.** ``n`` hires starting in week ``c`` are paid from week ``c`` on (``n s^(w-c)``
  heads), learn for ``training_weeks`` (paid, not productive), then produce ``ramp[k]`` of a tenured
  moderator in the ``k``-th week after training and 1.0 after the ramp list. Their effective FTE in week
  ``w`` is ``n g(w - c)`` with ``g(k) = s^k prof(k)`` (:func:`cohort_curves`). New classes may start
  from week ``hiring_lead_weeks``; committed classes come from ``roster.csv``.
* **Hours.** One FTE is ``fte_week_hours`` paid hours; productive hours are paid hours x (1 - site
  shrinkage); a pool of proficiency ``p`` turns productive hours into ``1 / p`` standard hours.
* **Roster today.** ``roster.csv`` rows without ``class_start``; for pools it does not list, the
  pool's ``max_headcount`` (pools.csv). A vendor's opening weekly hours are its pools' headcount x
  ``fte_week_hours``, capped at its ``max_weekly_hours``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from capplan.errors import ConfigError
from capplan.schema import INHOUSE


@dataclass
class CapacityData:
    """Everything the capacity model needs, indexed by position (pools, cells, weeks)."""

    weeks: int
    start: pd.Timestamp
    week_starts: pd.DatetimeIndex
    cells: pd.DataFrame  # queue, language, severity, penalty [currency / standard h]
    required: np.ndarray  # (cells, weeks) standard productive hours
    pools: pd.DataFrame  # pool, vendor, site, proficiency, rate, shrinkage, inhouse, opening, survival
    skills: list[list[int]]  # pool -> cell positions it can work
    vendors: pd.DataFrame  # vendor, min_weekly_hours, max_weekly_hours, opening_hours, rate
    committed: pd.DataFrame  # pool (position), week, hires
    ramp: np.ndarray  # proficiency by week since class start (0 in training), length weeks
    config: object  # CapacityConfig
    warnings: list[str] = field(default_factory=list)
    routes: pd.DataFrame = field(default_factory=lambda: empty_routes())  # source, target (positions), cross_site, limit
    language_caps: dict = field(default_factory=dict)  # (provider, language) -> max share of the language's productive hours

    @property
    def inhouse(self) -> list[int]:
        return [i for i, v in enumerate(self.pools["inhouse"]) if v]

    @cached_property
    def cell_names(self) -> list[str]:
        return [f"{q}/{lang}" for q, lang in zip(self.cells["queue"], self.cells["language"])]

    @cached_property
    def pool_names(self) -> list[str]:
        return list(self.pools["pool"])

    @cached_property
    def proficiency(self) -> list[float]:
        return [float(x) for x in self.pools["proficiency"]]

    def month_of_week(self) -> list[str]:
        return [f"{t:%Y-%m}" for t in self.week_starts]


def weekly_survival(monthly_rate: float) -> float:
    """Weekly survival ``(1 - a_m) ** (12 / 52)`` from a monthly attrition rate ``a_m`` in [0, 1)."""
    return float((1.0 - monthly_rate) ** (12.0 / 52.0))


def proficiency_by_tenure(weeks: int, training_weeks: int, ramp: list[float]) -> np.ndarray:
    """Proficiency share in week ``k`` after a class starts: 0 in training, then the ramp, then 1."""
    prof = np.ones(weeks)
    prof[: min(training_weeks, weeks)] = 0.0
    for i, share in enumerate(ramp):
        if training_weeks + i < weeks:
            prof[training_weeks + i] = share
    return prof


def cohort_curves(survival: float, prof: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per hire, by week since class start ``k``: heads on the payroll ``s^k`` and effective FTE ``s^k prof(k)``."""
    k = np.arange(len(prof))
    heads = survival ** k
    return heads, heads * prof


def build_data(ws, demand: pd.DataFrame, roster: pd.DataFrame | None, weeks: int, start: pd.Timestamp) -> CapacityData:
    """Assemble :class:`CapacityData` from the workspace, the weekly demand and the optional roster."""
    config, cap = ws.config, ws.config.capacity
    fx = config.policy.fx
    cells = demand[["queue", "language"]].drop_duplicates().sort_values(["queue", "language"], kind="stable").reset_index(drop=True)
    severity = ws.queues.set_index("queue")["severity"]
    cells["severity"] = cells["queue"].map(severity).astype(int)
    penalties = config.policy.unmet_penalty_per_hour
    cells["penalty"] = [float(penalties.get(s, max(penalties.values()))) for s in cells["severity"]]
    pos = {(q, lang): i for i, (q, lang) in enumerate(zip(cells["queue"], cells["language"]))}
    required = np.zeros((len(cells), weeks))
    for r in demand.itertuples(index=False):
        required[pos[(r.queue, r.language)], r.week] = r.required_productive_hours

    pools = ws.pools.sort_values("pool", kind="stable").reset_index(drop=True)
    table = pd.DataFrame({
        "pool": pools["pool"], "vendor": pools["vendor"], "site": pools["site"],
        "proficiency": pools["proficiency"].astype(float),
        "rate": pools["cost_per_hour"].astype(float) * pools["currency"].map(fx).astype(float),
        "shrinkage": [ws.shrinkage(s) for s in pools["site"]],
        "inhouse": pools["vendor"].eq(INHOUSE),
        "languages": [";".join(x) for x in pools["languages"]],
        "min_headcount": pools["min_headcount"].astype(float),
    })
    table["survival"] = [weekly_survival(cap.attrition_by_site.get(s, cap.attrition_monthly)) if ih else 1.0
                         for s, ih in zip(table["site"], table["inhouse"])]
    today, committed = _roster(roster, pools, table, start, weeks)
    table["opening"] = today
    skills = [[pos[(q, lang)] for q in p.queues for lang in p.languages if (q, lang) in pos] for p in pools.itertuples(index=False)]
    data = CapacityData(weeks, start, pd.date_range(start, periods=weeks, freq="7D"), cells, required, table,
                        [sorted(set(s)) for s in skills], pd.DataFrame(), committed,
                        proficiency_by_tenure(weeks, cap.training_weeks, cap.ramp), cap)
    data.vendors = _vendors(ws, table, cap.fte_week_hours, data.warnings)
    data.routes = transfer_routes(cap, table)
    data.language_caps = language_caps(config.policy, cells, table, ws.vendors, data.skills)
    return data


def empty_routes() -> pd.DataFrame:
    return pd.DataFrame({"source": pd.Series(dtype=int), "target": pd.Series(dtype=int), "cross_site": pd.Series(dtype=bool),
                         "limit": pd.Series(dtype=int)})


def transfer_routes(cap, table: pd.DataFrame) -> pd.DataFrame:
    """Allowed transfers between in-house pools: ``source, target`` (pool positions), ``cross_site``, ``limit``.

    Same-site pairs when ``transfer_same_site``, plus ``transfer_routes`` (which may cross sites); a source
    pool whose monthly limit (``max_transfers_by_pool`` or ``max_transfers_per_pool_month``) is 0 has none.

    Raises
    ------
    ConfigError
        A pool in ``[capacity] transfer_routes`` or ``max_transfers_by_pool`` that is not in pools.csv, a vendor
        pool (vendors move their own staff), or a route from a pool to itself.
    """
    index = {name: i for i, name in enumerate(table["pool"])}
    inhouse = {name for name, ih in zip(table["pool"], table["inhouse"]) if ih}
    for key in cap.max_transfers_by_pool:
        _transfer_pool(key, index, inhouse, "max_transfers_by_pool", "a key")
    pairs = set()
    if cap.transfer_same_site:
        pairs = {(a, b) for a in sorted(inhouse) for b in sorted(inhouse) if a != b and table.at[index[a], "site"] == table.at[index[b], "site"]}
    for source, targets in sorted(cap.transfer_routes.items()):
        _transfer_pool(source, index, inhouse, "transfer_routes", "a source pool (key)")
        for target in targets:
            _transfer_pool(target, index, inhouse, "transfer_routes", f"a target pool of {source!r}")
            if target == source:
                raise ConfigError(f"[capacity] transfer_routes: {source!r} lists itself as a target; a transfer moves moderators "
                                  f"between two different pools. Fix: remove {source!r} from its own list")
            pairs.add((source, target))
    rows = []
    for a, b in sorted(pairs):
        limit = int(cap.max_transfers_by_pool.get(a, cap.max_transfers_per_pool_month))
        if limit > 0:
            rows.append({"source": index[a], "target": index[b], "cross_site": table.at[index[a], "site"] != table.at[index[b], "site"],
                         "limit": limit})
    return pd.DataFrame(rows, columns=list(empty_routes().columns)).astype({"source": int, "target": int, "cross_site": bool, "limit": int})


def _transfer_pool(name: str, index: dict, inhouse: set, key: str, role: str) -> None:
    if name not in index:
        raise ConfigError(f"[capacity] {key}: {role} {name!r} is not a pool in inputs/pools.csv. Expected one of the in-house pools "
                          f"{', '.join(sorted(inhouse)) or '(none)'}. Fix: correct the pool name (case matters) in capplan.toml")
    if name not in inhouse:
        raise ConfigError(f"[capacity] {key}: {role} {name!r} is a vendor pool; transfers move in-house moderators (a vendor "
                          f"staffs its own pools). Expected one of {', '.join(sorted(inhouse)) or '(none)'}. Fix: remove it from capplan.toml")


def language_caps(policy, cells: pd.DataFrame, table: pd.DataFrame, vendors: pd.DataFrame, skills: list[list[int]]) -> dict:
    """(provider, language) -> most share of the language's weekly productive hours: the weekly plan's rule.

    One definition (:func:`capplan.optimize.data._language_caps`): a vendor's ``max_language_share``, and for
    ``[policy] critical_languages`` served by two or more providers (in-house counts as one) at most 90 % each.
    """
    from capplan.optimize.data import _language_caps

    pairs = [(p, c) for p, cs in enumerate(skills) for c in cs]
    return _language_caps(policy, cells, table, vendors, pairs)


def _roster(roster, pools: pd.DataFrame, table: pd.DataFrame, start: pd.Timestamp, weeks: int) -> tuple[np.ndarray, pd.DataFrame]:
    today = pools["max_headcount"].astype(float).to_numpy().copy()
    committed = pd.DataFrame({"pool": pd.Series(dtype=int), "week": pd.Series(dtype=int), "hires": pd.Series(dtype=int)})
    if roster is None:
        return today, committed
    index = {p: i for i, p in enumerate(table["pool"])}
    now = roster[roster["class_start"].isna()]
    listed = now.groupby("pool")["headcount"].sum()
    for pool, n in listed.items():
        today[index[pool]] = float(n)
    classes = roster[roster["class_start"].notna()]
    week = ((classes["class_start"] - start) // pd.Timedelta(days=7)).astype(int)
    committed = pd.DataFrame({"pool": classes["pool"].map(index).astype(int).to_numpy(), "week": week.to_numpy(),
                              "hires": classes["headcount"].astype(int).to_numpy()})
    committed = committed[committed["week"] < weeks].groupby(["pool", "week"], as_index=False)["hires"].sum()
    return today, committed


def _vendors(ws, table: pd.DataFrame, fte_hours: float, warnings: list[str]) -> pd.DataFrame:
    rows = []
    for v in ws.vendors.sort_values("vendor", kind="stable").itertuples(index=False):
        mine = table[table["vendor"] == v.vendor]
        if mine.empty:
            continue
        opening = float(mine["opening"].sum() * fte_hours)
        if opening > v.max_weekly_hours:
            warnings.append(f"vendor {v.vendor}: opening hours {opening:,.0f} (pools' headcount x {fte_hours:g} h) are above its "
                            f"max_weekly_hours {v.max_weekly_hours:,.0f}; the plan starts from the maximum")
            opening = float(v.max_weekly_hours)
        rows.append({"vendor": v.vendor, "min_weekly_hours": float(v.min_weekly_hours), "max_weekly_hours": float(v.max_weekly_hours),
                     "opening_hours": opening, "rate": float(mine["rate"].mean()), "pools": list(mine.index)})
    return pd.DataFrame(rows, columns=["vendor", "min_weekly_hours", "max_weekly_hours", "opening_hours", "rate", "pools"])
