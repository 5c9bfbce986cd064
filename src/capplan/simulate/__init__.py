"""Simulate: replay a plan against arrivals (actual or drawn) with a routing policy.

Public entry points: :func:`replay_plan`, :class:`ReplayResult`, :data:`POLICIES`, :func:`load_plan`.
Imports only lower layers (inputs, staffing, optimize data helpers).
"""

from capplan.simulate.engine import POLICIES, ReplayResult, replay_plan
from capplan.simulate.planrun import load_plan

__all__ = ["replay_plan", "ReplayResult", "POLICIES", "load_plan"]
