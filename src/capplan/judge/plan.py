"""The plan of ``[staffing] risk``: one dispatch for ``capplan plan`` and the walk-forward of ``capplan evaluate``."""

from __future__ import annotations

import pandas as pd

from capplan.judge.replay import replay_judge


def plan_for_risk(ws, requirements: pd.DataFrame, forecast: pd.DataFrame, errors: pd.DataFrame | None, *, progress=None,
                  with_baseline: bool = True, price_rules: bool = True):
    """The plan of ``[staffing] risk``: ``checked`` (the P50 plan checked against scenarios, judged by
    ``check_judge``, and lifted: :mod:`capplan.optimize.checked`), ``scenarios`` (the two-stage model,
    :mod:`capplan.optimize.stochastic`, its risk stated from held-out scenarios judged by ``check_judge``; both need
    the backtest ``errors``) or the quantile's plan
    (:func:`capplan.optimize.solve_plan`; ``with_baseline`` and ``price_rules`` as there; ``price_rules`` also for
    ``checked``, whose binding limits are priced from its deterministic model)."""
    risk = ws.config.staffing.risk
    if risk == "checked":
        from capplan.optimize.checked import solve_checked_plan

        return solve_checked_plan(ws, requirements, forecast, errors, progress=progress, judge=replay_judge(ws), price_rules=price_rules)
    if risk == "scenarios":
        from capplan.optimize.stochastic import solve_risk_plan

        return solve_risk_plan(ws, requirements, forecast, errors, progress=progress, judge=replay_judge(ws))
    from capplan.optimize import solve_plan

    return solve_plan(ws, requirements, progress=progress, with_baseline=with_baseline, price_rules=price_rules)


__all__ = ["plan_for_risk"]
