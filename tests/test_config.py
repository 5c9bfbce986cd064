"""capplan.toml: generated from the models, loads back to the defaults, unknown keys and bad values rejected."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from capplan.config import Config, load_config, parse_config, to_toml, default_toml
from capplan.errors import ConfigError


def test_generated_default_loads_back_to_defaults():
    start = dt.date(2026, 11, 30)
    text = default_toml(start)
    cfg = parse_config(tomllib.loads(text))
    expected = Config()
    expected.planning.start = start
    assert cfg == expected


def test_every_field_is_documented_in_the_generated_file():
    text = to_toml(Config())
    for section, field in Config.model_fields.items():
        assert f"[{section}]" in text
        for key, sub in field.annotation.model_fields.items():
            assert sub.description, f"{section}.{key} needs a description"
            assert f"# {sub.description}" in text and f"\n{key} = " in text


def test_template_config_matches_the_models():
    """templates/capplan.toml is generated from the models: regenerate it if this fails."""
    from pathlib import Path

    path = Path(__file__).parents[1] / "templates" / "capplan.toml"
    if not path.exists():
        pytest.skip("templates not generated yet")
    parsed = parse_config(tomllib.loads(path.read_text()))
    keys = {s: set(type(getattr(parsed, s)).model_fields) for s in Config.model_fields}
    raw = tomllib.loads(path.read_text())
    assert {s: set(v) for s, v in raw.items()} == keys


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ({"planning": {"horizon": 28}}, "unknown key 'horizon' in [planning]; valid keys: start, horizon_days"),
        ({"bogus": {}}, "unknown key 'bogus'"),
        ({"staffing": {"shrinkage": 1.0}}, "staffing.shrinkage"),
        ({"staffing": {"max_occupancy": 1.5}}, "staffing.max_occupancy"),
        ({"planning": {"interval_minutes": 20}}, "planning.interval_minutes"),
        ({"forecast": {"models": ["prophet"]}}, "valid names: seasonal_naive"),
        ({"policy": {"fx": {"EUR": -1}}}, "fx rate for EUR must be positive"),
        ({"staffing": {"shrinkage_by_site": {"Manila": 1.2}}}, "shrinkage for site 'Manila'"),
    ],
)
def test_bad_config_is_a_clear_error(raw, fragment):
    with pytest.raises(ConfigError) as info:
        parse_config(raw)
    assert fragment in str(info.value)


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="no capplan.toml"):
        load_config(tmp_path)
    (tmp_path / "capplan.toml").write_text("[planning\nstart = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(tmp_path)
    (tmp_path / "capplan.toml").write_bytes("[policy]\ncurrency = \"\xe9\"\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(tmp_path)


def test_reporting_currency_always_has_rate_one():
    cfg = parse_config({"policy": {"currency": "EUR", "fx": {"USD": 0.92}}})
    assert cfg.policy.fx["EUR"] == 1.0


def test_plan_longer_than_forecast_is_refused():
    with pytest.raises(ConfigError, match="plan_days .* is longer than planning.horizon_days"):
        parse_config({"planning": {"plan_days": 14, "horizon_days": 7}})


@pytest.mark.parametrize("site", ["Zürich", "São Paulo", "Kraków", "東京", 'a "quoted" \\ site', "tab\there", "1"])
def test_toml_written_by_capplan_reads_back(site):
    """Issue 13 class 7: a non-ASCII site name was written as a bare key, which tomllib rejects."""
    import tomllib

    from capplan.config import Config, parse_config, to_toml

    config = Config()
    config.staffing.shrinkage_by_site = {site: 0.25}
    config.policy.critical_languages = [site]
    back = parse_config(tomllib.loads(to_toml(config)))
    assert back.staffing.shrinkage_by_site == {site: 0.25}
    assert back.policy.critical_languages == [site]


def test_every_keyed_table_of_the_config_is_checked():
    """Each dict (or list of names) in the config must say what its keys name, so validate can check them:
    name it ``<x>_by_<kind>`` or add it to ``capplan.config.KEYED_FIELDS``."""
    import typing

    from capplan.config import Config, keyed_tables

    known = {(s, f) for s, f, _, _ in keyed_tables(Config())}
    for section, info in Config.model_fields.items():
        for name, field in info.annotation.model_fields.items():
            origin = typing.get_origin(field.annotation)
            args = typing.get_args(field.annotation)
            names_list = origin is list and args == (str,) and name not in {"models"}
            if origin is dict or names_list:
                assert (section, name) in known, f"[{section}] {name} is a keyed table nobody checks against the workspace"
