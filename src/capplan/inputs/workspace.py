"""The validated, typed inputs of one planning workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from capplan.config import Config
from capplan.errors import Problem


@dataclass
class Workspace:
    """Every input table of a workspace, typed and validated (see ``capplan.schema``).

    Times are timezone-aware UTC; list columns (pool queues, languages, shifts; event queues and
    languages) hold tuples of names; durations are seconds (``within_s``, ``patience_s``).
    """

    root: Path
    config: Config
    history: pd.DataFrame
    queues: pd.DataFrame
    handle_times: pd.DataFrame
    pools: pd.DataFrame
    vendors: pd.DataFrame
    shifts: pd.DataFrame
    events: pd.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    sources: dict[str, Path] = field(default_factory=dict)  # table name -> file it was read from
    backlog: pd.DataFrame | None = None  # optional inputs/backlog.csv: queue, language, arrived (UTC), items, row

    def cells(self) -> pd.DataFrame:
        """Every (queue, language) cell with a handle time, sorted."""
        return (
            self.handle_times[["queue", "language"]]
            .drop_duplicates()
            .sort_values(["queue", "language"], kind="stable")
            .reset_index(drop=True)
        )

    def skills(self) -> pd.DataFrame:
        """Every (pool, queue, language) a pool can work: its queues x its languages, existing cells only."""
        rows = [
            (p.pool, q, lang)
            for p in self.pools.itertuples(index=False)
            for q in p.queues
            for lang in p.languages
        ]
        skills = pd.DataFrame(rows, columns=["pool", "queue", "language"])
        skills = skills.merge(self.cells(), on=["queue", "language"], how="inner")
        return skills.sort_values(["pool", "queue", "language"], kind="stable").reset_index(drop=True)

    def shrinkage(self, site: str) -> float:
        """Shrinkage of a site: the per-site override, else the global value."""
        staffing = self.config.staffing
        return staffing.shrinkage_by_site.get(site, staffing.shrinkage)
