"""``capplan erlang``: a staffing calculator for one queue (Erlang C, or Erlang A with --patience)."""

from __future__ import annotations

import json
import math
from typing import Optional

import typer

from capplan.errors import ConfigError


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

    interval_s = _duration("--interval", interval)
    aht_s = _duration("--aht", aht)
    within_s = _duration("--within", within)
    patience_s = _duration("--patience", patience)
    asa_s = _duration("--asa", asa)
    if not (math.isfinite(volume) and volume >= 0):
        raise ConfigError(f"--volume must be a number of items >= 0, got {volume}")
    if not interval_s > 0:
        raise ConfigError(f"--interval must be longer than 0, got {interval!r}")
    if not aht_s > 0:
        raise ConfigError(f"--aht must be longer than 0, got {aht!r}")
    if not 0 <= target < 1:
        hint = f" (for {target:g} % write {target / 100:g})" if 1 < target <= 100 else ""
        raise ConfigError(f"--target must be a share in [0, 1), e.g. 0.8 for 80 %, got {target:g}{hint}; "
                          "a target of 1 is never met when arrivals are random")
    if patience_s is not None and not patience_s > 0:
        raise ConfigError(f"--patience must be longer than 0, got {patience!r}; leave it out for no abandonment")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ConfigError(f"--max-occupancy must be in (0, 1], e.g. 0.85, got {max_occupancy:g}")
    if asa_s is not None and not asa_s > 0:
        raise ConfigError(f"--asa must be longer than 0, got {asa!r}")
    try:
        result = staffing_summary(volume, interval_s, aht_s, target, within_s, patience_s=patience_s,
                                  max_occupancy=max_occupancy, max_asa_s=asa_s)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
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
