"""Stage 2 (beside forecast): moderator capability learned from production records (docs/capability.md).

AHT multipliers and accuracy per pool x cell with uncertainty (partial pooling), learning curves by tenure
per site, and temporary handle-time bumps after dated changes. Imports only the foundation and inputs.
"""

from capplan.capability.estimate import Estimates, estimate_capability
from capplan.capability.store import CAPABILITY, ESTIMATES, latest_estimates

__all__ = ["CAPABILITY", "ESTIMATES", "Estimates", "estimate_capability", "latest_estimates"]
