"""Judge: a risk-aware plan's scenarios judged by the replay, and the plan of ``[staffing] risk``.

``risk = "checked"`` checks a plan against demand scenarios, lifts the cells that fall short and states each cell's
probability of meeting its target (:mod:`capplan.optimize.checked`). Its own check is a linear model that re-routes
the week's hours knowing the whole scenario; on real arrivals that meets cells the item-by-item replay misses
(docs/risk.md, *Calibration on real arrivals*). With ``[staffing] check_judge = "replay"`` the same loop asks the
replay instead (:class:`ReplayJudge`): each scenario's volumes are put through the plan's shifts by
:mod:`capplan.simulate` as if they had arrived, so the plan is lifted and its risk stated where the replay (and
``capplan evaluate``) would find it short. The simulator sits above ``optimize/`` in the layers, so the judge is
handed down to :func:`capplan.optimize.checked.solve_checked_plan` from here.

:func:`plan_for_risk` is the one place that picks the solve of ``[staffing] risk`` (``capplan plan`` and the
walk-forward of ``capplan evaluate`` both call it).
"""

from capplan.judge.plan import plan_for_risk
from capplan.judge.replay import ReplayJudge, ReplayPool, replay_judge

__all__ = ["ReplayJudge", "ReplayPool", "plan_for_risk", "replay_judge"]
