"""One PNG chart per queue: the last weeks of history, the forecast and its bands.

Volumes are summed over the queue's languages (bottom-up: the cells are the forecast). matplotlib is imported inside the
functions with the non-interactive Agg backend, so nothing opens a window and importing this
module costs nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from capplan.schema import INTERVAL_START, QUEUE, VOLUME


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "queue"


def plot_queue(recent_history: pd.DataFrame, forecast: pd.DataFrame, queue: str, path: Path,
               levels: list[int] | None = None) -> Path:
    """Write the chart of one queue to ``path`` (PNG) and return the path.

    Parameters
    ----------
    recent_history : DataFrame
        ``queue``, ``language``, ``interval_start``, ``volume`` [items per interval].
    forecast : DataFrame
        The forecast table.
    levels : list of int, optional
        Band levels to draw; default every level present in ``forecast``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = recent_history[recent_history[QUEUE] == queue].groupby(INTERVAL_START)[VOLUME].sum()
    fc = forecast[forecast[QUEUE] == queue]
    cols = [c for c in fc.columns if c == VOLUME or c.startswith(f"{VOLUME}_")]
    fc = fc.groupby(INTERVAL_START)[cols].sum()
    if levels is None:
        levels = sorted(int(c.rsplit("_", 1)[1]) for c in fc.columns if c.startswith("volume_lo_"))
    fig, ax = plt.subplots(figsize=(11, 4), dpi=100)
    try:
        if len(hist):
            ax.plot(hist.index, hist.to_numpy(), color="0.35", lw=0.8, label="history")
        for lv, alpha in zip(sorted(levels, reverse=True), (0.18, 0.32, 0.45)):
            lo, hi = fc.get(f"volume_lo_{lv}"), fc.get(f"volume_hi_{lv}")
            if lo is not None and hi is not None:
                ax.fill_between(fc.index, lo.to_numpy(), hi.to_numpy(), color="tab:blue", alpha=alpha, lw=0,
                                label=f"{lv}% interval")
        if len(fc):
            ax.plot(fc.index, fc[VOLUME].to_numpy(), color="tab:blue", lw=1.0, label="forecast")
        ax.set_title(f"{queue}: items per interval (all languages), history and forecast (UTC)")
        ax.set_ylabel("items per interval")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
        fig.autofmt_xdate()
        fig.tight_layout()
        path = Path(path)
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


def write_charts(recent_history: pd.DataFrame, forecast: pd.DataFrame, folder: Path) -> list[Path]:
    """One ``forecast_<queue>.png`` per queue in ``folder``; returns the paths (sorted by queue)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    queues = sorted(set(forecast[QUEUE]) | set(recent_history[QUEUE]))
    return [plot_queue(recent_history, forecast, q, folder / f"forecast_{_safe_name(q)}.png") for q in queues]
