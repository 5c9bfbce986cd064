"""Report stage: tidy tables, then Excel workbooks (planner, finance, per-vendor, forecast).

The writers import XlsxWriter; these wrappers import them only when called, so importing
``capplan.report`` stays cheap for the CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from capplan.report.context import PlanContext

__all__ = ["PlanContext", "write_plan_workbooks", "write_forecast_workbook"]


def __getattr__(name: str):
    if name == "PlanContext":
        from capplan.report.context import PlanContext

        return PlanContext
    raise AttributeError(name)


def write_plan_workbooks(out_dir: Path, ctx: "PlanContext") -> list[Path]:
    """Write planner.xlsx, finance.xlsx and vendors/<vendor>.xlsx; see :mod:`capplan.report.workbooks`."""
    from capplan.report.workbooks import write_plan_workbooks as _write

    return _write(out_dir, ctx)


def write_forecast_workbook(path: Path, forecast: "pd.DataFrame", backtest: "pd.DataFrame", history: "pd.DataFrame", info: dict,
                            accuracy=None) -> Path:
    """Write forecast.xlsx (with an Accuracy sheet when ``accuracy`` is given); see :mod:`capplan.report.forecast_xlsx`."""
    from capplan.report.forecast_xlsx import write_forecast_workbook as _write

    return _write(path, forecast, backtest, history, info, accuracy)
