"""What-if scenarios (``scenarios/<name>.toml``) and comparisons of plan runs (``capplan diff``).

``language`` defines what a scenario file may say, ``load`` reads one with file-and-line errors,
``apply`` turns it into a modified in-memory workspace and forecast, ``runs`` picks the forecast run a
scenario plan uses and what the run records. The input files are never changed.
"""

from capplan.scenarios.apply import adjust_forecast, apply_scenario, scenario_config
from capplan.scenarios.load import SCENARIOS, Scenario, load_scenario, scenario_names
from capplan.scenarios.runs import WhatIf, run_scenario, what_if

__all__ = ["SCENARIOS", "Scenario", "WhatIf", "adjust_forecast", "apply_scenario", "load_scenario", "run_scenario",
           "scenario_config", "scenario_names", "what_if"]
