"""What the CLI prints for each command's result: every sentence and column label lives here.

The library returns data (:mod:`capplan.pipeline` dataclasses); these functions turn it into a
:class:`Summary` (warnings, titled tables, lines) that :func:`capplan.cli.main.print_summary` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

_FORECAST_LABELS = {"model": "model", "cells": "cells", "mase": "MASE", "naive_mase": "naive MASE",
                    "wape_pooled": "WAPE", "naive_wape_pooled": "naive WAPE", "beats_naive_share": "beats naive"}


@dataclass
class Summary:
    """Text for the terminal: warnings (stderr), tables with titles, then lines (stdout)."""

    lines: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: "Summary") -> "Summary":
        self.lines += other.lines
        self.tables.update(other.tables)
        self.warnings += other.warnings
        return self


def forecast_summary(run) -> Summary:
    """A :class:`capplan.pipeline.ForecastRun` as text: the model table vs the weekly seasonal naive."""
    labels = dict(_FORECAST_LABELS)
    labels.update({c: c.replace("coverage_", "cover ") + "%" for c in run.summary.columns if c.startswith("coverage_")})
    table = run.summary[[c for c in labels if c in run.summary.columns]].rename(columns=labels)
    made_with = f" (scenario {run.scenario})" if getattr(run, "scenario", None) else ""
    return Summary(lines=[f"forecast run {run.run_id}{made_with}: {run.cells} cells, {run.rows:,} rows -> {run.folder}"],
                   tables={"Forecast: models chosen by backtest vs the weekly seasonal naive": table},
                   warnings=list(run.warnings))


def plan_summary(run) -> Summary:
    """A :class:`capplan.pipeline.PlanRun` as text: solver outcome, cost vs the baseline, unmet work."""
    solve, cur = run.solve, run.currency
    lines = [
        f"plan run {run.run_id} (forecast {run.forecast_run}, "
        + (f"{solve['risk']['scenarios']} demand scenarios" if solve.get("risk") else f"P{run.quantile}")
        + (f", scenario {run.scenario}" if getattr(run, "scenario", None) else "") + f") -> {run.folder}",
        f"solver: {solve.get('status')} in {solve.get('seconds', 0):.1f} s, "
        + (f"gap {solve['gap']:.2%}" if solve.get("gap") is not None else "no bound" if solve.get("bound") is None else "gap unknown")
        + (f" (allocation: {solve['fallback']['allocation']})" if solve.get("fallback") else ""),
        f"cost of the {run.plan_days}-day plan {solve.get('cost', 0):,.0f} {cur} vs a competent planner's method "
        f"{solve.get('baseline_cost', float('nan')):,.0f} {cur}; unmet work {run.unmet_hours:,.1f} h "
        f"(planner's method {solve.get('baseline_unmet_hours', float('nan')):,.1f} h)",
    ]
    if "baseline_comparison" in solve:  # the saving at comparable service: unmet work priced in both plans
        lines.append(f"saving vs the planner's method: {solve['baseline_comparison']}")
    if "baseline_cost" not in solve:  # a scenario plan is compared with P50 and P90 plans instead (risk_lines)
        lines[-1] = f"cost of the {run.plan_days}-day plan {solve.get('cost', 0):,.0f} {cur}; unmet work {run.unmet_hours:,.1f} h at the mean forecast"
    lines += risk_lines(solve, cur)
    return Summary(lines=lines, warnings=list(run.warnings))


def risk_lines(solve: dict, cur: str) -> list[str]:
    """``risk = "scenarios"`` or ``"checked"``: the stated risk and the price of reliability (nothing for a quantile plan)."""
    risk, price = solve.get("risk"), solve.get("price_of_reliability")
    if not risk:
        return []
    lines = [f"risk: {risk['scenarios']} demand scenarios, target probability {risk['target_probability']:.0%}; "
             f"{risk['cells_at_target_probability']} of {risk['cells']} cells meet their target in at least that share of "
             f"{risk['scenarios']} held-out scenarios (lowest {risk['min_probability']:.0%}; see risk.csv)"]
    if risk.get("mode") == "checked":  # plan, check, lift: how many rounds were kept and which cells were lifted
        kept = sum(1 for r in risk["rounds"] if r["accepted"]) - 1
        judge = str(risk.get("judge") or "model")  # "model", or "replay (<policy> routing)"
        judged = f", each replayed ({judge.split('(', 1)[1]}" if judge.startswith("replay") else ""
        lines.append(f"checked: the P50 plan checked against {risk['scenarios']} other scenarios{judged}; {len(risk['lifted_cells'])} cell(s) lifted "
                     f"in {kept} round(s) ({sum(c['lift_hours'] for c in risk['lifted_cells']):,.1f} h added)")
    if price:
        p90 = (f", per-interval P90 {price['p90_per_interval']:,.0f} {cur} ({price['p90_per_interval_vs_p50']:+.1%})"
               if "p90_per_interval" in price else "")
        lines.append(f"price of reliability: P50 {price['p50']:,.0f} {cur}, this plan {price['chosen']:,.0f} {cur} "
                     f"({price.get('chosen_vs_p50', 0.0):+.1%}){p90}")
    return lines


def demo_summary(run) -> Summary:
    """A :class:`capplan.pipeline.DemoRun` as text: where the workspace is, then its runs."""
    summary = Summary(lines=[f"demo workspace written to {run.directory} (seed {run.seed}, size {run.size})"])
    if run.forecast is not None:
        summary.extend(forecast_summary(run.forecast))
    if run.plan is not None:
        summary.extend(plan_summary(run.plan))
    return summary


def capacity_summary(run) -> Summary:
    """A :class:`capplan.pipeline.capacity.CapacityRun` as text: solver, hires per site, cost vs budget by month."""
    solve, cur = run.solve, run.currency
    lines = [
        f"capacity run {run.run_id}: {run.weeks} weeks from {run.start} -> {run.folder}",
        f"solver: {solve.get('status')} in {solve.get('seconds', 0):.1f} s, gap {solve.get('gap', float('nan')):.2%} "
        f"({solve.get('integer_variables', 0)} integer of {solve.get('variables', 0)} variables)",
        f"plan cost {run.plan_cost:,.0f} {cur}" + (f" vs budget {run.budget:,.0f} {cur} (variance {run.plan_cost - run.budget:+,.0f} {cur})"
                                                  if run.budget is not None else " (no inputs/budget.csv)")
        + f"; unmet demand {run.shortfall_hours:,.0f} productive hours",
    ]
    if "transfers" in solve:
        lines.append(f"transfers between in-house pools: {solve['transfers']} moderator(s) (transfers.csv)")
    hires = run.hires_by_site.rename(columns={"site": "site", "hires": "new hires", "committed": "committed"})
    costs = run.cost_by_month.rename(columns={"month": "month", "plan_cost": f"plan ({cur})", "budget": f"budget ({cur})",
                                              "variance": f"variance ({cur})"})
    for col in costs.columns[1:]:
        costs[col] = ["-" if pd.isna(v) else f"{v:,.0f}" for v in costs[col]]
    if run.budget is None:
        costs = costs[["month", f"plan ({cur})"]]
    tables = {"Cost by month" + (" vs budget" if run.budget is not None else ""): costs}
    if len(hires):
        tables = {"Hiring plan: hires per site": hires, **tables}
    else:
        lines.append("hiring plan: no new hires needed")
    return Summary(lines=lines, tables=tables, warnings=list(run.warnings))


def replay_summary(run) -> Summary:
    """A :class:`capplan.pipeline.replay.ReplayRun` as text: cell-weeks met, items on time, the misses (or the risk)."""
    s = run.summary
    lines = [f"replay run {run.run_id} of plan {run.plan_run} ({run.policy} routing, arrivals: {run.arrivals}) -> {run.folder}"]
    tables: dict[str, pd.DataFrame] = {}
    if run.risk is not None:
        lines.append(f"{s['paths']} paths from the forecast's {s['level']}% band: cell-weeks meeting target {s['cell_weeks_met_share_mean']:.1%} "
                     f"on average, items on time {s['on_time_share_mean']:.1%}; every target met in {s['p_all_met']:.0%} of paths; "
                     f"{s['cells_at_risk']} cell-week(s) below 90 % probability")
        risk = run.risk.sort_values(["p_met", "queue", "language"], kind="stable").head(15)
        tables["SLA risk: probability of meeting the target (lowest first)"] = pd.DataFrame({
            "queue": risk["queue"], "language": risk["language"], "week": risk["week"], "target": risk["target"].map("{:.0%}".format),
            "P(met)": risk["p_met"].map("{:.0%}".format), "achieved (mean)": risk["achieved_mean"].map("{:.1%}".format),
            "p10-p90": [f"{a:.1%}-{b:.1%}" for a, b in zip(risk["achieved_p10"], risk["achieved_p90"])]})
    else:
        lines.append(f"{s['cell_weeks_met']} of {s['cell_weeks']} cell-weeks met their target ({s['cell_weeks_met_share']:.0%}); "
                     f"{s['on_time_share']:.1%} of {s['items_judged']:,} judged items on time; realtime abandonment {s['abandon_rate']:.1%}; "
                     f"occupancy {s['occupancy']:.1%}")
        lines.append(f"simulated {s['items']:,} items in {s['seconds']:.1f} s ({s['items_per_second']:,.0f} items/s)")
        missed = run.cell_weeks[~run.cell_weeks["met"]].sort_values(["achieved", "queue"], kind="stable").head(15)
        if len(missed):
            tables["Cell-weeks below target (worst first)"] = pd.DataFrame({
                "queue": missed["queue"], "language": missed["language"], "week": missed["week"], "kind": missed["kind"],
                "target": missed["target"].map("{:.0%}".format), "achieved": missed["achieved"].map("{:.1%}".format),
                "items": missed["items"].map("{:,.0f}".format)})
    return Summary(lines=lines, tables=tables, warnings=list(run.warnings))
