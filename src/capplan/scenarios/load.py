"""Read ``scenarios/<name>.toml``: TOML syntax, the scenario language, errors with file and line."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from capplan.errors import ConfigError
from capplan.runs import file_sha256
from capplan.scenarios.language import ScenarioSpec, key_lines, locate

SCENARIOS = "scenarios"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass
class Scenario:
    """A parsed scenario file: its name, where it is, its sha256, the overrides and the key lines."""

    name: str
    path: Path
    label: str  # how messages name the file: "scenarios/surge.toml"
    sha256: str
    spec: ScenarioSpec
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    @property
    def record(self) -> dict:
        """What run.json and solve.json record about the scenario."""
        return {"scenario": self.name, "scenario_file": self.label, "scenario_sha256": self.sha256}

    @property
    def touches_forecast(self) -> bool:
        """True when the scenario changes how the forecast is made ([forecast] keys): it needs its own forecast run."""
        return bool(self.spec.forecast)

    def line(self, *loc) -> int | None:
        return locate(self.lines, loc)


class ScenarioProblems:
    """Problems found in one scenario file, raised together as one :class:`ConfigError`."""

    def __init__(self, scenario_label: str, lines: dict[tuple[str, ...], int]):
        self.label = scenario_label
        self.lines = lines
        self.items: list[tuple[int | None, str]] = []

    def add(self, loc: tuple, message: str) -> None:
        self.items.append((locate(self.lines, loc), message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        items = sorted(self.items, key=lambda item: (item[0] is None, item[0] or 0))
        if len(items) == 1:
            line, msg = items[0]
            raise ConfigError(f"{self.label}" + (f", line {line}" if line else "") + f": {msg}")
        texts = [(f"line {line}: " if line else "") + msg for line, msg in items]
        raise ConfigError(f"{self.label}: {len(items)} problems\n  " + "\n  ".join(texts))


def scenario_names(workspace: Path) -> list[str]:
    """Names of the scenarios in a workspace's ``scenarios/`` folder, sorted."""
    folder = Path(workspace) / SCENARIOS
    return sorted(p.stem for p in folder.glob("*.toml") if p.is_file()) if folder.is_dir() else []


def load_scenario(workspace: Path, name: str) -> Scenario:
    """Parse ``<workspace>/scenarios/<name>.toml`` (or a path to a .toml file) into a :class:`Scenario`.

    Raises
    ------
    ConfigError
        Unknown scenario, bad TOML, unknown keys or values out of range; the message names the
        file and line of every problem.
    """
    workspace = Path(workspace)
    path = _scenario_path(workspace, name)
    label = f"{SCENARIOS}/{path.name}" if path.parent == workspace / SCENARIOS else str(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not UTF-8 text ({exc.reason}). Fix: save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}. Fix: correct the syntax at that line") from None
    lines = key_lines(text)
    try:
        spec = ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        problems = ScenarioProblems(label, lines)
        for err in exc.errors():
            problems.add(err["loc"], pydantic_message(err, ScenarioSpec))
        problems.raise_if_any()
        raise  # unreachable: a ValidationError has at least one error
    return Scenario(name=path.stem, path=path, label=label, sha256=file_sha256(path), spec=spec, lines=lines)


def _scenario_path(workspace: Path, name: str) -> Path:
    if name.endswith(".toml") and Path(name).is_file():
        return Path(name)
    if not _NAME.fullmatch(name):
        raise ConfigError(f"scenario name {name!r}: use letters, digits, '-', '_' or '.' (the file scenarios/<name>.toml)")
    path = workspace / SCENARIOS / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(scenario_names(workspace)) or "none"
        raise ConfigError(f"no scenario '{name}': {path} does not exist (scenarios in {workspace / SCENARIOS}: {known}). "
                          f"Fix: create {SCENARIOS}/{name}.toml (see docs/scenarios.md) or name one of those")
    return path


def pydantic_message(err: dict, root: type[BaseModel]) -> str:
    """One pydantic error as a planner reads it: the key path, what is wrong, what was found."""
    loc = err["loc"]
    where = _path_text(loc)
    if err["type"] == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        valid = f"; valid keys: {', '.join(model.model_fields)}" if model is not None else ""
        return f"unknown key '{loc[-1]}'" + (f" in [{_path_text(loc[:-1])}]" if len(loc) > 1 else "") + valid
    if err["type"] == "missing":
        return f"missing key '{loc[-1]}'" + (f" in [{_path_text(loc[:-1])}]" if len(loc) > 1 else "")
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}: {msg} (found {err.get('input')!r})"


def _path_text(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f" #{part + 1}" if isinstance(part, int) else (("." if out else "") + str(part))
    return out


def _model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model at a location (through lists and dicts of models), or None."""
    model = root
    for part in loc:
        field = None if isinstance(part, int) else model.model_fields.get(str(part))
        if field is None:
            continue  # a list index or a dict key (a pool or vendor name): the value model stays
        model = _inner_model(field.annotation)
        if model is None:
            return None
    return model


def _inner_model(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
