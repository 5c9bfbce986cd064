"""``capplan erlang``: a staffing calculator for one queue (Erlang C, or Erlang A with --patience)."""

from __future__ import annotations

import json
import math
from typing import Optional

import typer

from capplan.errors import ConfigError


_OPTIONS = {"volume": "--volume", "interval_s": "--interval", "aht_s": "--aht", "within_s": "--within",
            "patience_s": "--patience", "max_occupancy": "--max-occupancy", "max_asa_s": "--asa", "target": "--target"}


def _duration(option: str, text: str | None) -> float | None:
    from capplan.units import parse_duration

    if text is None:
        return None
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}") from None
    return seconds


def erlang(
    volume: float = typer.Option(..., "--volume", help="Items arriving in one interval, e.g. 100."),
    interval: str = typer.Option("30m", "--interval", help="Interval length with a unit: 15m, 30m, 1h."),
    aht: str = typer.Option(..., "--aht", help="Average handle time with a unit, e.g. 180s or 3m."),
    target: float = typer.Option(..., "--target", help="Share of all items answered within --within, 0-1 (0.8 = 80 %)."),
    within: str = typer.Option(..., "--within", help="Service-level threshold with a unit, e.g. 20s."),
    patience: Optional[str] = typer.Option(None, "--patience", help="Mean patience before abandoning, e.g. 5m: Erlang A (default: Erlang C, nobody abandons)."),
    max_occupancy: Optional[float] = typer.Option(None, "--max-occupancy", help="Occupancy cap (0-1], e.g. 0.85."),
    asa: Optional[str] = typer.Option(None, "--asa", help="Target average speed of answer (mean wait of all items), e.g. 30s."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Moderators needed for one real-time queue, with service level, ASA, occupancy and abandonment."""
    from capplan.staffing.erlang import staffing_summary

    from capplan.staffing.erlang import ArgumentError

    seconds = {name: _duration(option, text) for name, option, text in (
        ("interval_s", "--interval", interval), ("aht_s", "--aht", aht), ("within_s", "--within", within),
        ("patience_s", "--patience", patience), ("max_asa_s", "--asa", asa))}
    try:
        result = staffing_summary(volume, seconds["interval_s"], seconds["aht_s"], target, seconds["within_s"],
                                  patience_s=seconds["patience_s"], max_occupancy=max_occupancy,
                                  max_asa_s=seconds["max_asa_s"])
    except ArgumentError as exc:  # the library checks; the CLI only names the option
        raise ConfigError(f"{_OPTIONS[exc.parameter]}: {exc}") from None
    if as_json:
        typer.echo(json.dumps({k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in result.items()}))
        return
    _print_table(result)


def _print_table(r: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from capplan.units import format_duration

    model = "Erlang A" if r["method"] == "erlang_a" else "Erlang C"
    title = (f"{model}: {r['volume']:g} items per {format_duration(r['interval_s'])}, "
             f"AHT {format_duration(r['aht_s'])} ({r['offered_load']:.3g} Erlang)")
    caption = f"target {r['target']:.0%} within {format_duration(r['within_s'])}"
    if r["patience_s"] is not None:
        caption += f", mean patience {format_duration(r['patience_s'])}"
    if r["max_occupancy"] is not None:
        caption += f", occupancy at most {r['max_occupancy']:.0%}"
    if r["max_asa_s"] is not None:
        caption += f", ASA at most {format_duration(r['max_asa_s'])}"
    table = Table(title=title, caption=caption)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("moderators (productive)", f"{r['agents']}")
    table.add_row("  fractional", f"{r['agents_fractional']:.2f}")
    table.add_row("service level", f"{r['service_level']:.1%}")
    table.add_row("ASA (mean wait, all items)", f"{r['asa_s']:.1f} s")
    table.add_row("occupancy", f"{r['occupancy']:.1%}")
    table.add_row("abandonment", f"{r['abandon_rate']:.2%}")
    table.add_row("P(wait)", f"{r['p_wait']:.1%}")
    Console(highlight=False).print(table)
