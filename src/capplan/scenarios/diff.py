"""Compare two plan runs: what changed (cost, moderators, vendor hours, coverage, service) and why
(scenario, forecast, config, inputs, limits that started or stopped binding).

Everything is read back from the run folders (``solve.json``, ``run.json``, ``shift_plan``,
``vendor_allocation.csv``, ``coverage.parquet``, ``binding.csv``), so any two complete plan runs of one
workspace can be compared, whenever they were made. A replay of either plan (``replays/<id>/replay.json``
naming the plan run) adds the replayed service. Tables are long, with columns ``a``, ``b`` and ``change``
(``b - a``); :func:`headline` says the main changes in words.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from capplan.errors import ConfigError, RunNotFoundError
from capplan.runs import LATEST, TMP_PREFIX
from capplan.schema import (CURRENCY, DAY, DAYS_PER_WEEK, HEADCOUNT, KIND, LANGUAGE, PAID_HOURS, PLANNED_PRODUCTIVE,
                            POOL, PRODUCTIVE_HOURS, QUEUE, REQUIRED_PRODUCTIVE, SHIFT, SITE, UNMET, VENDOR)

PLANS = "plans"
REPLAYS = "replays"
HEADLINE_METRICS = (("cost", "cost"), ("moderators", "moderators"), (PAID_HOURS, "paid hours"),
                    (PRODUCTIVE_HOURS, "productive hours"), ("unmet_hours", "unmet work [h]"),
                    ("penalty", "unmet-work penalty"), ("take_or_pay", "take-or-pay"))
_NOT_CONFIG = ("timings_s", "created_utc", "run_id", "versions", "warnings", "inputs", "config_file")


@dataclass
class PlanDiff:
    """Two plan runs compared. Every table has the columns ``a``, ``b`` and ``change`` (b - a)."""

    a: str
    b: str
    workspace: Path
    currency: str
    headline: pd.DataFrame  # metric, a, b, change, change_pct
    cost: pd.DataFrame  # by (vendor | site | queue | language), name
    moderators: pd.DataFrame  # pool, shift
    vendor_hours: pd.DataFrame  # vendor: paid hours per week
    coverage: pd.DataFrame  # queue, language: required, planned, unmet hours
    binding: pd.DataFrame  # kind, name, status (appeared | vanished | still), detail_a, detail_b
    why: pd.DataFrame  # what, a, b: scenario, forecast run, quantile, config keys, input files that differ
    service: pd.DataFrame  # replayed service metrics (empty when neither plan was replayed)
    sentences: list[str] = field(default_factory=list)


def resolve_plan(workspace: Path, run: str) -> Path:
    """A plan run given as a run id in ``<workspace>/plans/`` or as a path to its folder.

    Raises
    ------
    RunNotFoundError
        Neither a plan run id nor a plan run folder (one holding ``solve.json``).
    """
    candidate = Path(run)
    folder = candidate if (candidate / "solve.json").is_file() else Path(workspace) / PLANS / run
    if run == LATEST and (Path(workspace) / PLANS / LATEST).is_file():
        folder = Path(workspace) / PLANS / (Path(workspace) / PLANS / LATEST).read_text(encoding="utf-8").strip()
    if folder.name.startswith(TMP_PREFIX) or not (folder / "solve.json").is_file():
        raise RunNotFoundError(f"no plan run '{run}': neither a folder holding solve.json nor a run in {Path(workspace) / PLANS}. "
                               "Fix: name a run id listed in plans/ or the path of a plan run folder")
    return folder.resolve()


def compare_plans(folder_a: Path, folder_b: Path) -> PlanDiff:
    """Compare two plan run folders of the same workspace (``<workspace>/plans/<id>``).

    Raises
    ------
    ConfigError
        The runs belong to different workspaces.
    """
    folder_a, folder_b = Path(folder_a).resolve(), Path(folder_b).resolve()
    ws_a, ws_b = folder_a.parent.parent, folder_b.parent.parent
    if ws_a != ws_b:
        raise ConfigError(f"plan runs from different workspaces: {folder_a.name} is in {ws_a}, {folder_b.name} in {ws_b}. "
                          "Fix: compare two runs of one workspace (a scenario's plan is in the same plans/ folder)")
    a, b = _PlanFiles(folder_a), _PlanFiles(folder_b)
    shifts = _days_per_week(ws_a)
    diff = PlanDiff(
        a=folder_a.name, b=folder_b.name, workspace=ws_a, currency=str(a.solve.get("currency", "")),
        headline=_headline_table(a, b), cost=_cost_table(a, b), moderators=_moderator_table(a, b, shifts),
        vendor_hours=_vendor_hours_table(a, b), coverage=_coverage_table(a, b), binding=_binding_table(a, b),
        why=_why_table(a, b), service=_service_table(ws_a, folder_a.name, folder_b.name),
    )
    diff.sentences = headline(diff)
    return diff


class _PlanFiles:
    """The files of one plan run, read once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.solve = _json(folder / "solve.json")
        self.run = _json(folder / "run.json")
        self.shift_plan = _table(folder, "shift_plan")
        self.vendor_allocation = pd.read_csv(folder / "vendor_allocation.csv") if (folder / "vendor_allocation.csv").is_file() else pd.DataFrame()
        self.coverage = _table(folder, "coverage")
        self.binding = read_binding(folder)


def read_binding(folder: Path) -> pd.DataFrame:
    """A plan run's binding.csv (``kind``, ``name``, ``detail``); empty when no limit binds (an empty file)."""
    try:
        frame = pd.read_csv(folder / "binding.csv")
    except (OSError, pd.errors.EmptyDataError):
        frame = pd.DataFrame()
    return frame if {KIND, "name"} <= set(frame.columns) else pd.DataFrame(columns=[KIND, "name", "detail"])


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _table(folder: Path, name: str) -> pd.DataFrame:
    if (folder / f"{name}.parquet").is_file():
        return pd.read_parquet(folder / f"{name}.parquet")
    if (folder / f"{name}.csv").is_file():
        return pd.read_csv(folder / f"{name}.csv")
    return pd.DataFrame()


def _side_by_side(a: pd.Series, b: pd.Series, keys: list[str]) -> pd.DataFrame:
    """Two series with the same index (keys) as columns a, b, change; missing = 0; sorted by |change|."""
    frame = pd.concat([a.rename("a"), b.rename("b")], axis=1).fillna(0.0)
    frame["change"] = frame["b"] - frame["a"]
    frame = frame.reset_index()
    frame.columns = keys + ["a", "b", "change"]
    order = frame["change"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def _sum_by(frame: pd.DataFrame, keys: list[str], value: str) -> pd.Series:
    if not len(frame) or value not in frame.columns:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=keys) if len(keys) > 1 else None)
    return frame.groupby(keys)[value].sum()


def _headline_table(a: _PlanFiles, b: _PlanFiles) -> pd.DataFrame:
    rows = []
    for key, label in HEADLINE_METRICS:
        va, vb = a.solve.get(key), b.solve.get(key)
        if va is None and vb is None:
            continue
        va, vb = float(va or 0.0), float(vb or 0.0)
        rows.append({"metric": label, "a": va, "b": vb, "change": vb - va, "change_pct": (vb - va) / va if va else np.nan})
    return pd.DataFrame(rows, columns=["metric", "a", "b", "change", "change_pct"])


def _cost_table(a: _PlanFiles, b: _PlanFiles) -> pd.DataFrame:
    parts = []
    for dim, source in ((VENDOR, "shift_plan"), (SITE, "shift_plan"), (QUEUE, "vendor_allocation"),
                        (LANGUAGE, "vendor_allocation")):
        table = _side_by_side(_sum_by(getattr(a, source), [dim], "cost"), _sum_by(getattr(b, source), [dim], "cost"), ["name"])
        parts.append(table.assign(by=dim))
    out = pd.concat(parts, ignore_index=True)
    return out[["by", "name", "a", "b", "change"]]


def _days_per_week(workspace: Path) -> dict[str, float]:
    """Days a moderator works each shift per week (``inputs/shifts.csv``): daily headcount -> moderators."""
    path = workspace / "inputs" / "shifts.csv"
    try:
        shifts = pd.read_csv(path)
        return dict(zip(shifts[SHIFT].astype(str), shifts[DAYS_PER_WEEK].astype(float)))
    except (OSError, KeyError, ValueError):
        return {}


def _moderators(plan: _PlanFiles, days: dict[str, float]) -> pd.Series:
    """Moderators per (pool, shift): shift-days worked / days per week (the peak day when unknown)."""
    sp = plan.shift_plan
    if not len(sp):
        return pd.Series(dtype=float)
    out = {}
    for (pool, shift), g in sp.groupby([POOL, SHIFT]):
        d = days.get(str(shift))
        out[(pool, shift)] = float(g[HEADCOUNT].sum()) / d if d else float(g.groupby(DAY)[HEADCOUNT].sum().max())
    return pd.Series(out).rename_axis([POOL, SHIFT])


def _moderator_table(a: _PlanFiles, b: _PlanFiles, days: dict[str, float]) -> pd.DataFrame:
    return _side_by_side(_moderators(a, days), _moderators(b, days), [POOL, SHIFT])


def _vendor_hours_table(a: _PlanFiles, b: _PlanFiles) -> pd.DataFrame:
    def weekly(plan: _PlanFiles) -> pd.Series:
        weeks = float(plan.solve.get("intervals", 168)) * float(plan.solve.get("interval_minutes", 60)) / 60.0 / 168.0
        return _sum_by(plan.shift_plan, [VENDOR], "paid_hours_total") / (weeks or 1.0)

    return _side_by_side(weekly(a), weekly(b), [VENDOR])


def _coverage_table(a: _PlanFiles, b: _PlanFiles) -> pd.DataFrame:
    keys = [QUEUE, LANGUAGE]
    out = None
    for column in (REQUIRED_PRODUCTIVE, PLANNED_PRODUCTIVE, UNMET):
        part = _side_by_side(_sum_by(a.coverage, keys, column), _sum_by(b.coverage, keys, column), keys)
        part = part.rename(columns={"a": f"{column}_a", "b": f"{column}_b", "change": f"{column}_change"})
        out = part if out is None else out.merge(part, on=keys, how="outer")
    if out is None or not len(out):
        return pd.DataFrame(columns=keys)
    return out.fillna(0.0).sort_values(["unmet_change", QUEUE, LANGUAGE], key=lambda s: -s.abs() if s.name == "unmet_change" else s,
                                       kind="stable").reset_index(drop=True)


def _binding_table(a: _PlanFiles, b: _PlanFiles) -> pd.DataFrame:
    da = {(r.kind, r.name): r.detail for r in a.binding.itertuples(index=False)}
    db = {(r.kind, r.name): r.detail for r in b.binding.itertuples(index=False)}
    rows = []
    for key in sorted(set(da) | set(db)):
        status = "still" if key in da and key in db else ("appeared" if key in db else "vanished")
        rows.append({KIND: key[0], "name": key[1], "status": status, "detail_a": da.get(key, ""), "detail_b": db.get(key, "")})
    order = {"appeared": 0, "vanished": 1, "still": 2}
    frame = pd.DataFrame(rows, columns=[KIND, "name", "status", "detail_a", "detail_b"])
    return frame.sort_values(["status", KIND, "name"], key=lambda s: s.map(order) if s.name == "status" else s,
                             kind="stable").reset_index(drop=True)


def _flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: json.dumps(value, sort_keys=True) if isinstance(value, list) else value}


def _why_table(a: _PlanFiles, b: _PlanFiles) -> pd.DataFrame:
    """What differs between the two runs' settings: scenario, forecast, quantile, config keys, input files."""
    rows = []
    for key, label in (("scenario", "scenario"), ("scenario_sha256", "scenario file sha256"), ("forecast_run", "forecast run"),
                       ("forecast_run_sha256", "forecast sha256"), ("quantile", "planning quantile")):
        va, vb = a.run.get(key), b.run.get(key)
        if va != vb and not (key == "scenario_sha256" and a.run.get("scenario") != b.run.get("scenario")):
            short = 12 if key.endswith("sha256") else None
            rows.append({"what": label, "a": "" if va is None else str(va)[:short], "b": "" if vb is None else str(vb)[:short]})
    ca, cb = _flatten(a.run.get("config", {})), _flatten(b.run.get("config", {}))
    for key in sorted(set(ca) | set(cb)):
        if ca.get(key) != cb.get(key):
            rows.append({"what": f"config {key}", "a": str(ca.get(key, "")), "b": str(cb.get(key, ""))})
    ia = {i.get("file"): i.get("sha256") for i in a.run.get("inputs", [])}
    ib = {i.get("file"): i.get("sha256") for i in b.run.get("inputs", [])}
    for key in sorted(set(ia) | set(ib), key=str):
        if ia.get(key) != ib.get(key):
            rows.append({"what": f"input {key}", "a": str(ia.get(key, "absent"))[:12], "b": str(ib.get(key, "absent"))[:12]})
    return pd.DataFrame(rows, columns=["what", "a", "b"])


def replay_of(workspace: Path, plan_run: str) -> dict:
    """Numeric results of the newest replay of a plan run (``replays/<id>/replay.json``), {} if none.

    A replay belongs to the plan when its replay.json (or run.json) names the plan run id in a
    ``plan_run`` or ``plan`` field. Nested objects are flattened to dotted names.
    """
    base = Path(workspace) / REPLAYS
    if not base.is_dir():
        return {}
    for folder in sorted((p for p in base.iterdir() if p.is_dir() and not p.name.startswith(TMP_PREFIX)), reverse=True):
        payload = _json(folder / "replay.json")
        meta = {**_json(folder / "run.json"), **payload}
        if plan_run in (str(meta.get("plan_run", "")), str(meta.get("plan", ""))):
            flat = _flatten(payload)
            return {"replay_run": folder.name, **{k: float(v) for k, v in flat.items()
                                                  if isinstance(v, (int, float)) and not isinstance(v, bool)}}
    return {}


def _service_table(workspace: Path, run_a: str, run_b: str) -> pd.DataFrame:
    ra, rb = replay_of(workspace, run_a), replay_of(workspace, run_b)
    if not ra and not rb:
        return pd.DataFrame(columns=["metric", "a", "b", "change"])
    rows = [{"metric": "replay run", "a": ra.get("replay_run", ""), "b": rb.get("replay_run", ""), "change": ""}]
    for key in sorted((set(ra) | set(rb)) - {"replay_run"}):
        va, vb = ra.get(key), rb.get(key)
        rows.append({"metric": key, "a": va, "b": vb, "change": (vb - va) if va is not None and vb is not None else ""})
    return pd.DataFrame(rows, columns=["metric", "a", "b", "change"])


def _metric(diff: PlanDiff, label: str) -> tuple[float, float]:
    row = diff.headline[diff.headline["metric"] == label]
    return (float(row["a"].iloc[0]), float(row["b"].iloc[0])) if len(row) else (0.0, 0.0)


def _top(table: pd.DataFrame, keys: list[str], n: int = 3, fmt: str = "{:+,.0f}") -> str:
    moved = table[table["change"].abs() > 0.5].head(n)
    return ", ".join(f"{'/'.join(str(r[k]) for k in keys)} {fmt.format(r['change'])}" for _, r in moved.iterrows())


def headline(diff: PlanDiff) -> list[str]:
    """The changes a planner reads first: cost, headcount, service, limits, and why (one line each)."""
    cur = diff.currency
    ca, cb = _metric(diff, "cost")
    pct = f" ({(cb - ca) / ca:+.1%})" if ca else ""
    by_vendor = _top(diff.cost[diff.cost["by"] == VENDOR], ["name"])
    if abs(cb - ca) < 0.5:
        lines = [f"Cost unchanged at {cb:,.0f} {cur}" + (f"; it moves between vendors: {by_vendor}" if by_vendor else "") + "."]
    else:
        lines = [f"Cost {_verb(cb - ca)} by {abs(cb - ca):,.0f} {cur}{pct}: {ca:,.0f} -> {cb:,.0f} {cur}"
                 + (f"; by vendor {by_vendor}" if by_vendor else "") + "."]
    ma, mb = _metric(diff, "moderators")
    moved = _top(diff.moderators, [POOL, SHIFT])
    if abs(mb - ma) < 0.5:
        lines.append(f"Headcount unchanged at {mb:,.0f} moderators" + (f"; it moves: {moved}" if moved else "") + ".")
    else:
        lines.append(f"Headcount {_verb(mb - ma)} by {abs(mb - ma):,.0f} moderators: {ma:,.0f} -> {mb:,.0f}"
                     + (f"; most in {moved}" if moved else "") + ".")
    ua, ub = _metric(diff, "unmet work [h]")
    service = f"Service: unmet work {ua:,.1f} h -> {ub:,.1f} h"
    if abs(ub - ua) > 0.05 and len(diff.coverage):
        worst = diff.coverage[diff.coverage["unmet_change"].abs() > 0.05].head(3)
        service += " (" + ", ".join(f"{r.queue}/{r.language} {r.unmet_change:+,.1f} h" for r in worst.itertuples()) + ")"
    lines.append(service + ("." if abs(ub - ua) > 0.05 else "; every plan covers its requirements." if ub < 0.05 else "."))
    if len(diff.service) > 1:
        lines.append("Replayed service: " + "; ".join(f"{r.metric} {r.a} -> {r.b}" for r in diff.service.iloc[1:4].itertuples()) + ".")
    lines.extend(_limit_lines(diff))
    return lines


def _limit_lines(diff: PlanDiff) -> list[str]:
    lines = []
    for status in ("appeared", "vanished"):
        rows = diff.binding[diff.binding["status"] == status]
        if len(rows):
            named = "; ".join(f"{r.kind} {r.name}" for r in rows.head(4).itertuples()) + (f" and {len(rows) - 4} more" if len(rows) > 4 else "")
            lines.append(f"Limits that {'started' if status == 'appeared' else 'stopped'} binding: {named}.")
    if len(diff.why):
        lines.append("Why: " + "; ".join(f"{r.what} {_described(diff, r.what, r.a)} -> {_described(diff, r.what, r.b)}"
                                         for r in diff.why.head(4).itertuples())
                     + (f" and {len(diff.why) - 4} more differences" if len(diff.why) > 4 else "") + ".")
    return lines


def _described(diff: PlanDiff, what: str, value: str) -> str:
    """A value of the why table as a sentence fragment; a scenario with its description when its file is present."""
    if not value:
        return "(none)"
    if what == "scenario":
        path = diff.workspace / "scenarios" / f"{value}.toml"
        try:
            description = tomllib.loads(path.read_text(encoding="utf-8")).get("description", "")
        except (OSError, ValueError):
            description = ""
        return f"'{value}'" + (f" ({description})" if description else "")
    return value


def _verb(change: float) -> str:
    return "rises" if change > 0 else "falls"
