"""Write every workbook of a plan run into its (temporary) run folder."""

from __future__ import annotations

from pathlib import Path

from capplan.report import tidy
from capplan.report.context import PlanContext
from capplan.report.finance import write_finance
from capplan.report.planner import write_planner
from capplan.report.vendor import vendor_file_names, write_vendor

VENDOR_DIR = "vendors"


def write_plan_workbooks(out_dir: Path, ctx: PlanContext) -> list[Path]:
    """Write ``planner.xlsx``, ``finance.xlsx`` and ``vendors/<vendor>.xlsx`` (one per BPO vendor) into ``out_dir``.

    Returns the paths written, in that order (vendors sorted by name).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [write_planner(out_dir / "planner.xlsx", ctx), write_finance(out_dir / "finance.xlsx", ctx)]
    vendors = tidy.bpo_vendors(ctx)
    if vendors:
        (out_dir / VENDOR_DIR).mkdir(exist_ok=True)
        for vendor, file_name in vendor_file_names(vendors).items():
            paths.append(write_vendor(out_dir / VENDOR_DIR / file_name, ctx, vendor))
    return paths
