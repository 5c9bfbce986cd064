"""PNG charts of forecast accuracy (matplotlib, Agg backend, imported only when drawing)."""

from __future__ import annotations

from pathlib import Path

from capplan.schema import LEAD_DAYS, NAIVE, WAPE


def accuracy_chart(tables, path: Path) -> Path:
    """Two panels: WAPE of each run vs the seasonal naive, and WAPE by lead time over all runs.

    Parameters
    ----------
    tables : :class:`capplan.evaluate.accuracy.AccuracyTables` with at least one run.
    path : PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from capplan.evaluate.accuracy import START

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    runs = tables.by_run
    labels = [f"{s:%Y-%m-%d}" for s in runs[START]]
    left.plot(labels, 100 * runs[WAPE], marker="o", label="forecast")
    left.plot(labels, 100 * runs[f"{NAIVE}_{WAPE}"], marker="s", linestyle="--", label="weekly seasonal naive")
    left.set_title("WAPE per forecast run (by planning start)")
    left.set_ylabel("WAPE [%]")
    left.tick_params(axis="x", rotation=45)
    left.legend()
    lead = tables.by_lead_all
    right.plot(lead[LEAD_DAYS], 100 * lead[WAPE], marker="o", label="forecast")
    right.plot(lead[LEAD_DAYS], 100 * lead[f"{NAIVE}_{WAPE}"], marker="s", linestyle="--", label="weekly seasonal naive")
    right.set_title("WAPE by lead time, all runs")
    right.set_xlabel("days after the planning start")
    right.set_ylabel("WAPE [%]")
    right.legend()
    for ax in (left, right):
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
