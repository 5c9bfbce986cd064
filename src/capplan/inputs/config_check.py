"""The config checked against the workspace: every key of every keyed table must name something that exists.

``[staffing] shrinkage_by_site = {Manilla = 0.35}`` (a typo), ``{manila = 0.35}`` (case) or
``[policy] fx = {usd = 1.0}`` would otherwise be ignored without a word. Which tables are keyed, and
by what, comes from :func:`capplan.config.keyed_tables`, so a table added to the config later is
checked as soon as it is named ``<x>_by_<kind>`` or listed in ``KEYED_FIELDS``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from capplan.config import CONFIG_FILE, Config, keyed_tables
from capplan.errors import Problem
from capplan.inputs.names import name_key, suggest
from capplan.schema import CURRENCY, LANGUAGE, POOL, POOL_SHIFTS, QUEUE, SHIFT, SITE, SKILL_LANGUAGES, VENDOR

#: kinds whose unknown keys are only a warning: an FX table may well hold more currencies than are used
LENIENT = {"currency"}


def valid_keys(t: dict[str, pd.DataFrame], config: Config) -> dict[str, set]:
    """What each kind of key may name in this workspace."""
    pools = t["pools"]
    languages = set(t["history"][LANGUAGE]) | set(t["handle_times"][LANGUAGE]) | {x for v in pools[SKILL_LANGUAGES] for x in v}
    return {
        "site": set(pools[SITE].dropna()),
        "language": {x for x in languages if isinstance(x, str)},
        "currency": set(pools[CURRENCY].dropna()) | set(t["vendors"][CURRENCY].dropna()) | {config.policy.currency},
        "queue": set(t["queues"][QUEUE].dropna()),
        "pool": set(pools[POOL].dropna()),
        "vendor": set(t["vendors"][VENDOR].dropna()),
        "shift": set(t["shifts"][SHIFT].dropna()) | {x for v in pools[POOL_SHIFTS] for x in v},
        "severity": {1, 2, 3},
    }


def config_key_problems(t: dict[str, pd.DataFrame], config: Config, root: Path) -> list[Problem]:
    """Unknown keys (typos, case or spacing differences) of every keyed config table, and FX sanity."""
    text = _config_text(root)
    valid = valid_keys(t, config)
    problems: list[Problem] = []
    for section, field, kind, keys in keyed_tables(config):
        where = dict(file=CONFIG_FILE, row=_line_of(text, section, field), column=f"[{section}] {field}")
        for key in keys:
            if key in valid[kind] or (kind == "severity" and str(key) in {str(v) for v in valid[kind]}):
                continue
            near = suggest(str(key), valid[kind], kind)
            severity = "warning" if kind in LENIENT and not near else "error"
            choices = ", ".join(map(str, sorted(valid[kind], key=str))) or f"(no {kind} in the inputs)"
            problems.append(Problem(**where, severity=severity, found=str(key), expected=f"a {kind} of the inputs: {choices}",
                                    message=f"{kind} '{key}' matches no {kind} in the inputs{near}; the entry would be ignored",
                                    fix=f"write the {kind} exactly as the input files do, or remove the entry"))
    problems += _fx_problems(config, text)
    return problems


def _fx_problems(config: Config, text: str) -> list[Problem]:
    policy = config.policy
    problems = []
    rate = policy.fx.get(policy.currency)
    if rate is not None and rate != 1.0:
        problems.append(Problem(file=CONFIG_FILE, row=_line_of(text, "policy", "fx"), column="[policy] fx", found=f"{policy.currency} = {rate:g}",
                                message=f"the reporting currency {policy.currency} must have the rate 1 (fx holds the value of one unit of "
                                "each currency in the reporting currency)", expected=f"{policy.currency} = 1.0",
                                fix="set its rate to 1.0 and express the other rates in it, or change [policy] currency"))
    if name_key(policy.currency) != policy.currency.casefold() or not re.fullmatch(r"[A-Za-z]{3}", policy.currency):
        problems.append(Problem(file=CONFIG_FILE, row=_line_of(text, "policy", "currency"), column="[policy] currency", found=policy.currency,
                                message="not an ISO currency code", expected="three letters such as USD or EUR", fix="write the ISO code",
                                severity="warning"))
    return problems


def _config_text(root: Path) -> list[str]:
    try:
        return (Path(root) / CONFIG_FILE).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _line_of(lines: list[str], section: str, field: str) -> int | None:
    """Line number (1-based) of ``field =`` inside ``[section]`` of capplan.toml, or None."""
    current = None
    for n, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped[1:].split("]", 1)[0].strip()
        elif current == section and re.match(rf"{re.escape(field)}\s*=", stripped):
            return n
    return None

