"""``reforecast.xlsx``: the intraday re-plan for a team lead (XlsxWriter, :mod:`capplan.report.xlsx`).

Sheets: README (as-of, plan, headline figures), Service (per cell: target, expected service of the
plan and of the re-plan), Moves (pools moved between queues), Overtime and VTO, Forecast (the rest of
the day, original and updated). Tables only, laid out with the shared helpers (safe titles, strings
never become formulas, widths from the data).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from capplan.report import xlsx

_FACTS = (("as_of", None), ("plan_run", None), ("arrivals", None), ("time_zone", None), ("time_zone_from", None), ("day_start", None),
          ("day_end", None), ("intervals", xlsx.INT), ("forecast_items_original", xlsx.INT),
          ("forecast_items_updated", xlsx.INT), ("cells", xlsx.INT), ("cells_met_plan", xlsx.INT), ("cells_met_replan", xlsx.INT),
          ("service_plan", xlsx.PCT), ("service_replan", xlsx.PCT), ("moved_hours", xlsx.HOURS), ("overtime_paid_hours", xlsx.HOURS),
          ("overtime_cost", xlsx.NUM), ("vto_paid_hours", xlsx.HOURS), ("vto_saving", xlsx.NUM), ("language_share_over_hours", xlsx.HOURS), ("vendor_share_over_hours", xlsx.HOURS),
          ("seconds", xlsx.NUM))
_FORMATS = {"target": xlsx.PCT, "service_plan": xlsx.PCT, "service_replan": xlsx.PCT, "weight": xlsx.PCT, "multiplier": "0.000",
            "items": xlsx.INT, "seen_forecast": xlsx.INT, "seen_actual": xlsx.INT, "volume": xlsx.NUM, "volume_original": xlsx.NUM,
            "moderators": xlsx.NUM, "paid_hours": xlsx.HOURS, "cost": xlsx.NUM}


def _naive(frame: pd.DataFrame) -> pd.DataFrame:
    """Times as naive UTC (Excel has no zones; headers say UTC)."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


def write_reforecast_workbook(path: Path, *, info: dict, summary: dict, tables: dict[str, pd.DataFrame]) -> Path:
    """Write ``reforecast.xlsx`` from the run's tidy tables (see the module docstring)."""
    book = xlsx.Book(path)
    readme = xlsx.new_sheet(book, "README")
    sheets = (("Service", "service", "C2"), ("Moves", "moves", "C2"), ("Overtime and VTO", "staffing", "B2"),
              ("Forecast", "forecast", "D2"), ("Cells", "cells", "C2"))
    for title, name, freeze in sheets:
        frame = _naive(tables[name])
        sheet = xlsx.new_sheet(book, title)
        formats = {c: f for c, f in _FORMATS.items() if c in frame.columns}
        formats.update({c: xlsx.NUM for c in frame.columns if c.startswith(("volume_lo_", "volume_hi_"))})
        formats.update({c: xlsx.HOURS for c in frame.columns if c.endswith("_hours") and c not in formats})
        xlsx.write_table(sheet, frame, name, formats=formats)
        xlsx.finish_sheet(sheet, freeze=freeze)
    facts = [(k, info[k], None) for k in ("run_id", "created_utc", "capplan_version") if k in info]
    facts += [(k, summary[k], fmt) for k, fmt in _FACTS if summary.get(k) is not None]
    facts.append(("credibility", json.dumps(summary.get("credibility", {})), None))
    xlsx.readme(readme, "capplan intraday re-plan", facts, [
        "The rest of the day from the as-of time: the forecast updated from the arrivals so far (a credibility-weighted",
        "ratio of actual to forecast, see docs/reforecast.md), and the allocation re-solved with the shift plan fixed.",
        "Service: per cell the target and the expected service of the original plan and of the re-plan on the updated forecast.",
        "Moves: productive hours each pool gives each queue and language, planned vs re-planned.",
        "Overtime and VTO: moderators asked to stay after their shift, or released early (cost < 0 is a saving).",
        "Forecast: the rest of the day per interval, original and updated, with bands. Times are UTC.",
    ])
    xlsx.set_properties(book, f"capplan reforecast {info.get('run_id', '')}", info.get("created_utc"))
    return book.close()
