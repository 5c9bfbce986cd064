"""capplan.toml: generated from the models, loads back to the defaults, unknown keys and bad values rejected."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from capplan.config import FOLLOWS, Config, load_config, parse_config, to_toml, default_toml
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
    keys = {s: set(type(getattr(parsed, s)).model_fields) - {k for (sec, k) in FOLLOWS if sec == s} for s in Config.model_fields}
    raw = tomllib.loads(path.read_text())
    assert {s: set(v) for s, v in raw.items()} == keys  # a key that follows another is written as a comment
    assert all(f"\n# {key} = " in path.read_text() for _, key in FOLLOWS)


def test_overtime_premium_has_one_source():
    """[policy] overtime_premium is the one value; [capacity], [contracts] and [reforecast] follow it unless set."""
    one = parse_config({"policy": {"overtime_premium": 2.0}})
    assert (one.capacity.overtime_premium, one.contracts.overtime_premium, one.reforecast.overtime_premium) == (2.0, 2.0, 2.0)
    own = parse_config({"policy": {"overtime_premium": 2.0}, "contracts": {"overtime_premium": 1.25}})  # the old keys still work
    assert (own.capacity.overtime_premium, own.contracts.overtime_premium, own.reforecast.overtime_premium) == (2.0, 1.25, 2.0)
    text = to_toml(own)  # the override is written, the followers are comments: editing [policy] moves them
    back = parse_config(tomllib.loads(text.replace("overtime_premium = 2.0\n", "overtime_premium = 1.75\n", 1)))
    assert (back.policy.overtime_premium, back.capacity.overtime_premium, back.contracts.overtime_premium) == (1.75, 1.75, 1.25)
    assert Config().capacity.overtime_premium == Config().policy.overtime_premium == 1.5
    with pytest.raises(ConfigError, match="reforecast.overtime_premium"):
        parse_config({"reforecast": {"overtime_premium": 0.5}})


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
