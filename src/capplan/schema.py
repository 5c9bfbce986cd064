"""One vocabulary: the tables capplan reads and writes, their columns and units.

Inside capplan every table is a long pandas DataFrame with these column names. Readers rename
outside headers at the edge (``inputs/``); reports pivot to wide only when writing workbooks.

Units are in the names: ``_s`` seconds, ``_hours`` hours, ``_local`` local wall-clock time,
everything else time-like is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- keys -----------------------------------------------------------------------------------
QUEUE = "queue"
LANGUAGE = "language"
INTERVAL_START = "interval_start"  # timezone-aware UTC start of a planning interval
CELL_KEYS = [QUEUE, LANGUAGE]
SERIES_KEYS = [QUEUE, LANGUAGE, INTERVAL_START]
VOLUME = "volume"  # items arriving in an interval [items]
MODEL = "model"  # name of the forecast model of a cell

INHOUSE = "inhouse"  # the vendor name of in-house pools

# plan-table columns (units in the names or here: hours [h], headcount [moderators])
POOL = "pool"
VENDOR = "vendor"  # INHOUSE for in-house pools
SITE = "site"
SHIFT = "shift"
DAY = "day"  # local date of a shift start
START_UTC = "start_utc"
VOLUME = "volume"  # [items]
AHT_S = "aht_s"  # [s]
PAID_HOURS = "paid_hours"  # [h]
HEADCOUNT = "headcount"  # [moderators]
PRODUCTIVE_HOURS = "productive_hours"  # [h]
REQUIRED_PRODUCTIVE = "required_productive"  # [moderators]
PLANNED_PRODUCTIVE = "planned_productive"  # [moderators]
BACKLOG = "backlog"  # [standard h]
UNMET = "unmet"  # [standard h]

QUEUE_KINDS = ("deferred", "realtime")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Column:
    """One column of an input table.

    kind: ``str`` | ``float`` | ``int`` | ``bool`` (yes/no) | ``duration`` ("4h", "60s", "90m")
    | ``timestamp`` (ISO 8601) | ``list`` (";"-separated names) | ``time`` (HH:MM local) | ``days``
    (weekday list such as "Mon-Fri" or "Mon,Wed,Fri").
    """

    name: str
    kind: str
    required: bool = True
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""
    example: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str  # file stem in inputs/, sheet name in the Excel workbook
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # columns that must be unique together
    description: str = ""
    required: bool = True

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


HISTORY = TableSpec(
    "history",
    (
        Column("interval_start", "timestamp", description="start of the interval, ISO 8601 with offset (e.g. 2026-01-05T13:00:00Z); naive times are read as UTC", example="2026-01-05T13:00:00Z"),
        Column("queue", "str", description="queue name, as in queues", example="video"),
        Column("language", "str", description="language code, e.g. en, es, pt-BR", example="en"),
        Column("volume", "float", min=0, description="items arrived in the interval [items]", example="412"),
        Column("aht_s", "float", required=False, min=0, description="average handle time of the items, optional [s]", example="95"),
    ),
    key=("queue", "language", "interval_start"),
    description="Arrivals per queue, language and interval (hourly or finer).",
)

QUEUES = TableSpec(
    "queues",
    (
        Column("queue", "str", description="queue name", example="video"),
        Column("kind", "str", choices=QUEUE_KINDS, description="deferred (backlog, turnaround target) or realtime (queueing, pick-up target)", example="deferred"),
        Column("target", "float", min=0.0, max=1.0, description="share of items that must meet the time threshold (0-1)", example="0.9"),
        Column("within", "duration", min=1, description="time threshold with a unit: 60s, 30m, 4h", example="4h"),
        Column("severity", "int", min=1, max=3, description="1 = most severe (unmet work priced highest), 3 = least", example="2"),
        Column("egregious", "bool", description="yes if the queue exposes moderators to graphic content (wellbeing caps apply)", example="yes"),
        Column("patience", "duration", required=False, min=1, description="realtime only: mean patience before abandoning (Erlang A); empty = no abandonment (Erlang C)", example="5m"),
        Column("max_asa", "duration", required=False, min=1, description="realtime only: average-speed-of-answer target, the mean wait over all arrivals; empty = none", example="30s"),
        Column("max_abandon", "float", required=False, min=0.0, max=1.0, description="realtime only: largest share of arrivals that may abandon (0-1, needs a patience); empty = none", example="0.05"),
    ),
    key=("queue",),
    description="Queues and their service targets.",
)

HANDLE_TIMES = TableSpec(
    "handle_times",
    (
        Column("queue", "str", example="video"),
        Column("language", "str", example="en"),
        Column("aht_s", "float", min=1, max=86400, description="average handle time of a proficiency-1.0 moderator [s]", example="95"),
    ),
    key=("queue", "language"),
    description="Handle time per queue and language.",
)

POOLS = TableSpec(
    "pools",
    (
        Column("pool", "str", description="pool name", example="mnl-bpo1"),
        Column("vendor", "str", description="vendor name, or 'inhouse'", example="bpo1"),
        Column("site", "str", description="site name", example="Manila"),
        Column("timezone", "str", description="IANA time zone of the site", example="Asia/Manila"),
        Column("queues", "list", description="queues it can work, ';'-separated", example="video;photo"),
        Column("languages", "list", description="languages it can work, ';'-separated", example="en;tl"),
        Column("proficiency", "float", min=0.5, max=3.0, description="handle-time multiplier (1.3 = takes 30% longer)", example="1.0"),
        Column("min_headcount", "int", min=0, description="minimum moderators rostered per week", example="0"),
        Column("max_headcount", "int", min=0, description="maximum moderators rostered per week", example="120"),
        Column("cost_per_hour", "float", min=0, description="cost per paid hour in the pool's currency", example="9.5"),
        Column("currency", "str", description="ISO currency code of cost_per_hour", example="USD"),
        Column("shifts", "list", description="shift names it may work, ';'-separated", example="day;night"),
    ),
    key=("pool",),
    description="Moderator pools: in-house teams and BPO vendor sites, with skills and costs.",
)

VENDORS = TableSpec(
    "vendors",
    (
        Column("vendor", "str", example="bpo1"),
        Column("min_weekly_hours", "float", min=0, description="committed paid hours per week", example="2000"),
        Column("max_weekly_hours", "float", min=0, description="capacity in paid hours per week", example="12000"),
        Column("max_language_share", "float", min=0, max=1, description="largest share of any one language's work this vendor may take (0-1)", example="0.7"),
        Column("quality", "float", min=0, max=1, description="quality score (0-1), reported", example="0.93"),
        Column("currency", "str", description="contract currency", example="USD"),
        Column("notice_weeks", "float", required=False, min=0,
               description="weeks of notice the vendor needs before its weekly paid hours move more than flex_share from the last notified plan (the previous plan); empty = no notice needed",
               example="4"),
        Column("flex_share", "float", required=False, min=0, max=1,
               description="share its weekly paid hours may move from the last notified plan without notice (0-1); empty = 0 when notice_weeks is set",
               example="0.1"),
    ),
    key=("vendor",),
    description="BPO vendor contracts (in-house pools need no row).",
)

SHIFTS = TableSpec(
    "shifts",
    (
        Column("shift", "str", example="day"),
        Column("start_local", "time", description="local start time HH:MM at the pool's site", example="08:00"),
        Column("paid_hours", "float", min=1, max=24, description="paid time of the shift [h]; the unpaid break comes on top", example="8"),
        Column("break_minutes", "float", min=0, max=240, description="unpaid break inside the shift [min]", example="30"),
        Column("days_per_week", "int", min=1, max=7, description="consecutive working days in the weekly pattern (5 for 5x8, 4 for 4x10)", example="5"),
        Column("start_days", "days", description="weekdays a pattern may start on: Mon-Sun, Mon-Fri, Sat,Sun", example="Mon-Sun"),
    ),
    key=("shift",),
    description="Shift patterns in site-local time; a moderator works the shift on days_per_week consecutive days.",
)

EVENTS = TableSpec(
    "events",
    (
        Column("name", "str", example="election-br"),
        Column("start", "timestamp", description="start (ISO 8601, UTC if no offset)", example="2026-10-02T00:00:00Z"),
        Column("end", "timestamp", description="end, exclusive", example="2026-10-09T00:00:00Z"),
        Column("queues", "list", description="affected queues ';'-separated, or * for all", example="video;comments"),
        Column("languages", "list", description="affected languages ';'-separated, or * for all", example="pt"),
        Column("multiplier", "float", min=0, max=100, description="volume multiplier during the event", example="1.8"),
    ),
    key=("name",),
    description="Known past and future events; past ones are excluded from training, future ones multiply the forecast.",
    required=False,
)

INPUT_TABLES: tuple[TableSpec, ...] = (HISTORY, QUEUES, HANDLE_TIMES, POOLS, VENDORS, SHIFTS, EVENTS)
TABLES_BY_NAME = {t.name: t for t in INPUT_TABLES}

# --- input-table columns (beyond the keys and plan-table names above) -------------------------
KIND = "kind"  # queues: deferred | realtime
TARGET = "target"  # share of items meeting the threshold (0-1)
WITHIN = "within"  # as typed ("4h"); the typed workspace holds WITHIN_S
WITHIN_S = "within_s"  # [s]
SEVERITY = "severity"  # 1 (most severe) .. 3
EGREGIOUS = "egregious"
PATIENCE = "patience"  # as typed; the typed workspace holds PATIENCE_S
PATIENCE_S = "patience_s"  # [s]
MAX_ASA = "max_asa"  # as typed; the typed workspace holds MAX_ASA_S
MAX_ASA_S = "max_asa_s"  # [s] average-speed-of-answer target of a realtime queue
MAX_ABANDON = "max_abandon"  # largest share of arrivals that may abandon (0-1)
TIMEZONE = "timezone"  # IANA zone of a pool's site
SKILL_QUEUES = "queues"  # ';'-separated queue names (pools, events)
SKILL_LANGUAGES = "languages"  # ';'-separated language codes (pools, events)
POOL_SHIFTS = "shifts"  # ';'-separated shift names a pool may work
PROFICIENCY = "proficiency"  # handle-time multiplier
MIN_HEADCOUNT = "min_headcount"  # [moderators]
MAX_HEADCOUNT = "max_headcount"  # [moderators]
COST_PER_HOUR = "cost_per_hour"  # [pool currency / paid h]
CURRENCY = "currency"  # ISO code
MIN_WEEKLY_HOURS = "min_weekly_hours"  # [paid h / week]
MAX_WEEKLY_HOURS = "max_weekly_hours"  # [paid h / week]
MAX_LANGUAGE_SHARE = "max_language_share"  # (0-1)
NOTICE_WEEKS = "notice_weeks"  # vendors (optional): notice a change beyond flex_share needs [weeks]
FLEX_SHARE = "flex_share"  # vendors (optional): change allowed without notice, share of the last notified hours (0-1)
START_LOCAL = "start_local"  # HH:MM site-local
START_MINUTE = "start_minute"  # [min after local midnight], typed shifts only
BREAK_MINUTES = "break_minutes"  # [min]
DAYS_PER_WEEK = "days_per_week"
START_DAYS = "start_days"
EVENT_NAME = "name"
EVENT_START = "start"  # UTC
EVENT_END = "end"  # UTC, exclusive
MULTIPLIER = "multiplier"

# --- output tables (PRODUCT.md data contract) ------------------------------------------------
FORECAST_COLUMNS = ["queue", "language", "interval_start", "volume", "model"]  # + volume_lo_<L>, volume_hi_<L>
FORECAST_OPTIONAL_COLUMNS = ["aht_s", "aht_source", "aht_table_s"]  # forecast handle time [s], its source (forecast, history, table) and the handle_times value it was shrunk toward [s], when the history has aht_s or handle_times is given
REQUIREMENTS_COLUMNS = [
    "queue", "language", "interval_start", "volume", "aht_s", "workload_hours", "method", "target",
    "within_s", "required_productive", "service_level", "shrinkage", "required_paid",
]
SHIFT_PLAN_COLUMNS = ["pool", "vendor", "site", "shift", "day", "start_local", "start_utc", "paid_hours", "headcount"]
ALLOCATION_COLUMNS = ["pool", "vendor", "queue", "language", "interval_start", "productive_hours"]
COVERAGE_COLUMNS = ["queue", "language", "interval_start", "required_productive", "planned_productive", "backlog", "unmet"]
VENDOR_ALLOCATION_COLUMNS = ["vendor", "queue", "language", "week", "hours", "items", "cost"]  # hours: PRODUCTIVE hours (the data contract name); cost: the vendor's paid cost shared by those hours


def require_columns(frame, columns: list[str], table: str) -> None:
    """Check an output table against its data contract before it is written (a bug if it fails).

    Raises
    ------
    AssertionError naming the table and the missing columns: output tables are made by capplan, so a
    missing column is a defect in capplan, not bad input.
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise AssertionError(f"output table {table} lacks contract column(s) {missing}; has {list(frame.columns)}")

# --- optional inputs of the long-range capacity plan (read by capplan.inputs.budget / .roster, not by validate) ---
BUDGET = TableSpec(
    "budget",
    (
        Column("month", "str", description="calendar month YYYY-MM", example="2027-01"),
        Column("cost_centre", "str", description="a site (its in-house pools) or a vendor name", example="Dublin"),
        Column("budget", "float", min=0, description="budgeted cost of the month in the given currency", example="250000"),
        Column("currency", "str", description="ISO currency code of budget (needs an FX rate in [policy] fx)", example="EUR"),
    ),
    key=("month", "cost_centre"),
    description="Cost budget per month and cost centre (optional; capplan capacity compares the plan with it).",
    required=False,
)

ROSTER = TableSpec(
    "roster",
    (
        Column("pool", "str", description="pool name, as in pools", example="dub-core"),
        Column("headcount", "int", min=0, description="moderators: in-house employees, or a vendor pool's contracted full-time equivalents", example="42"),
        Column("class_start", "timestamp", required=False,
               description="empty = on the roster today (fully productive); a date = a committed in-house hiring class starting its paid training that day (on or after the plan start)",
               example="2027-01-11"),
        Column("weekly_hours", "float", required=False, min=0.5, max=168.0,
               description="contracted paid hours per employee and week (empty = [contracts] default_weekly_hours); several rows per pool give full- and part-time groups",
               example="20"),
    ),
    key=("pool", "class_start", "weekly_hours"),
    description="Current roster and committed hiring classes per pool (optional; capplan capacity).",
    required=False,
)

# capacity/<run-id>/ output tables
WEEK = "week"  # a week: the 0-based week index of a long-range plan; in accuracy tables the UTC start of a week (the planning start's weekday, 00:00)
WEEK_START = "week_start"  # first day of the week (a date, UTC)
MONTH = "month"  # calendar month YYYY-MM
COST_CENTRE = "cost_centre"
CAPACITY_DEMAND_COLUMNS = [WEEK, WEEK_START, QUEUE, LANGUAGE, "volume", "volume_planned", "aht_s", "workload_hours",
                           "factor", "required_productive_hours", "required_paid_hours", "required_fte", "model"]
CAPACITY_SUPPLY_COLUMNS = [WEEK, WEEK_START, "pool", "vendor", "site", "headcount", "in_training", "effective_fte",
                           "paid_hours", "overtime_hours", "productive_hours", "used_productive_hours", "cost"]
CAPACITY_GAP_COLUMNS = [WEEK, WEEK_START, QUEUE, LANGUAGE, "required_productive_hours", "covered_hours", "shortfall_hours"]
CAPACITY_HIRES_COLUMNS = ["pool", "site", "languages", "class_start", WEEK, "hires", "first_productive_week", "committed"]
CAPACITY_VENDOR_COLUMNS = ["vendor", WEEK, WEEK_START, "hours", "min_weekly_hours", "max_weekly_hours", "cost"]
CAPACITY_COST_COLUMNS = [MONTH, COST_CENTRE, "plan_cost", "budget", "variance", "covered_days", "days_in_month"]
CAPACITY_TRANSFER_COLUMNS = ["from_pool", "to_pool", "from_site", "to_site", "start", WEEK, "moderators", "first_productive_week",
                             "cost", MONTH]
CAPACITY_LANGUAGE_SHARE_COLUMNS = ["provider", LANGUAGE, WEEK, WEEK_START, "productive_hours", "language_productive_hours", "share",
                                   "max_share"]
# --- replay (capplan.simulate): what a replay of a plan against arrivals writes ---------------
REPLAY_CELL_COLUMNS = [
    "queue", "language", "interval_start", "arrived", "handled", "on_time", "abandoned", "backlog", "avg_wait_s",
    "service_level",
]
REPLAY_CELL_WEEK_COLUMNS = ["queue", "language", "week", "kind", "target", "items", "on_time", "abandoned", "achieved", "met"]
REPLAY_POOL_COLUMNS = ["pool", "interval_start", "on_shift", "busy_hours", "idle_hours", "egregious_hours", "occupancy"]
REPLAY_RISK_COLUMNS = ["queue", "language", "week", "kind", "target", "paths", "p_met", "achieved_mean", "achieved_p10", "achieved_p90"]

# --- evaluation and forecast-accuracy tables (capplan evaluate / capplan accuracy) --------------
ACTUAL = "actual"  # items that arrived, from the history [items]
FORECAST = "forecast"  # items forecast (the run's ``volume``, its mean / P50) [items]
NAIVE = "naive"  # weekly seasonal naive from the history before the run's planning start [items]
WAPE = "wape"  # sum |forecast - actual| / sum actual
BIAS = "bias"  # sum (forecast - actual) / sum actual; positive = over-forecast
ABS_ERROR = "abs_error"  # sum |forecast - actual| [items]
LEAD_DAYS = "lead_days"  # whole days from the run's planning start to the interval
RUN_ID = "run_id"
VARIANT = "variant"  # which configuration of an experiment: "A" (the workspace's) or "B" (--compare)
ACCURACY_COLUMNS = [RUN_ID, QUEUE, LANGUAGE, ACTUAL, FORECAST, WAPE, BIAS]

# --- optional production records (capplan capability; read by capplan.inputs.production, checked by validate) ---
PRODUCTION = TableSpec(
    "production",
    (
        Column("date", "timestamp", description="day (YYYY-MM-DD) or interval start the row covers; naive times are read as UTC",
               example="2026-03-02"),
        Column("pool", "str", description="pool that handled the items, as in pools", example="mnl-apex"),
        Column("moderator", "str", required=False, description="moderator id; empty = the row sums several moderators of the pool",
               example="m0412"),
        Column("tenure_weeks", "float", required=False, min=0, description="the moderator's weeks since starting production work",
               example="6"),
        Column("queue", "str", description="queue, as in queues", example="video"),
        Column("language", "str", description="language code", example="en"),
        Column("items", "int", min=0, description="items handled [items]", example="1840"),
        Column("handle_time_s", "float", min=0, description="TOTAL handle time of the row's items (a sum, not a mean) [s]",
               example="211600"),
        Column("qa_sampled", "int", required=False, min=0, description="items of the row sampled for QA [items]", example="37"),
        Column("qa_passed", "int", required=False, min=0, description="sampled items that passed QA [items]", example="34"),
        Column("appeals", "int", required=False, min=0, description="decisions of the row appealed [items]", example="12"),
        Column("overturned", "int", required=False, min=0, description="appealed decisions overturned [items]", example="2"),
    ),
    key=("date", "pool", "moderator", "queue", "language"),
    description="Items handled per day (or interval), pool (or moderator) and cell, with handle time, QA and appeals "
    "(optional; capplan capability). Rows are disjoint: a moderator's row is not also inside a pool row.",
    required=False,
)
PROD_DATE = "date"  # UTC day or interval start of a production row
MODERATOR = "moderator"
TENURE_WEEKS = "tenure_weeks"  # [weeks]
ITEMS = "items"  # [items]
HANDLE_TIME_S = "handle_time_s"  # total handle time of a row's items [s]
QA_SAMPLED = "qa_sampled"  # [items]
QA_PASSED = "qa_passed"  # [items]
APPEALS = "appeals"  # [items]
OVERTURNED = "overturned"  # [items]
# capability/<run-id>/ output tables
CAPABILITY_ESTIMATE_COLUMNS = [POOL, QUEUE, LANGUAGE, "items", "days", "aht_s", "reference_aht_s", "multiplier", "multiplier_lo",
                               "multiplier_hi", "shrinkage_weight", "qa_sampled", "qa_pass_rate", "qa_pass_lo", "qa_pass_hi",
                               "appeals", "overturn_rate", "overturn_lo", "overturn_hi", "quality", "source"]
LEARNING_CURVE_COLUMNS = [SITE, TENURE_WEEKS, "items", "moderators", "raw_multiplier", "relative_speed", "relative_multiplier"]

# --- intraday re-plan (capplan reforecast): the tables of reforecasts/<run-id>/ ---------------------------------
REFORECAST_FORECAST_COLUMNS = [QUEUE, LANGUAGE, INTERVAL_START, VOLUME, "volume_original", "weight", "multiplier"]  # + bands
REFORECAST_CELL_COLUMNS = [QUEUE, LANGUAGE, "seen_forecast", "seen_actual", "seen_intervals", "weight", "multiplier"]
REFORECAST_MOVE_COLUMNS = [POOL, VENDOR, QUEUE, LANGUAGE, "planned_hours", "replanned_hours", "change_hours", "moved_in_hours",
                           "moved_out_hours"]  # productive hours over the rest of the day [h]
REFORECAST_ALLOCATION_COLUMNS = [POOL, VENDOR, QUEUE, LANGUAGE, INTERVAL_START, "planned_hours", PRODUCTIVE_HOURS]
REFORECAST_STAFFING_COLUMNS = [POOL, VENDOR, SHIFT, DAY, START_UTC, "kind", "from_utc", "to_utc", "moderators", "paid_hours",
                               "cost"]  # kind: overtime | vto; cost [reporting currency], negative for VTO savings
REFORECAST_SERVICE_COLUMNS = [QUEUE, LANGUAGE, "kind", "items", "target", "service_plan", "service_replan", "met_plan", "met_replan"]

# --- rolling weeks: the opening backlog of deferred queues (read by capplan.inputs.backlog; checked by validate) ---
ARRIVED = "arrived"  # UTC arrival time of waiting items
BACKLOG_TABLE = TableSpec(
    "backlog",
    (
        Column("queue", "str", description="a deferred queue, as in queues", example="video"),
        Column("language", "str", description="language code, as in handle_times", example="en"),
        Column("arrived", "timestamp", description="when the waiting items arrived, ISO 8601 (before the plan start); their deadline is arrived + the queue's within",
               example="2026-01-04T22:00:00Z"),
        Column("items", "float", min=0, description="items that arrived then and are still waiting at the plan start [items]", example="35"),
    ),
    key=("queue", "language", "arrived"),
    description="Opening backlog: deferred items waiting at the plan start (optional; with it the week is planned as a rolling week).",
    required=False,
)
# replays/<run-id>/closing_backlog.csv has the columns of BACKLOG_TABLE: copy it to inputs/backlog.csv to roll to the next week
