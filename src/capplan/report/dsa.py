"""DSA transparency report: human resources dedicated to content moderation per official EU language.

The EU Digital Services Act (Regulation (EU) 2022/2065), Art. 42(2)(a), asks very large online platforms to
report "the human resources that the provider of very large online platforms dedicates to content
moderation ... broken down by each applicable official language of the Member States", with their
qualifications and linguistic expertise (Art. 42(2)(b)). From one plan this module tabulates, per language
(ISO 639-1) and sourcing (in-house or vendor):

- ``moderators``: people qualified in the language (the moderators on weekly patterns of every pool whose
  skills include it; a multilingual moderator counts once in each of their languages);
- ``fte``: full-time equivalents dedicated to it (each pool's paid hours split over its languages in
  proportion to the productive hours planned on them, / 40 h per FTE-week, averaged over the plan weeks);
- ``productive_hours`` planned on it, the pools and sites, the queues they are skilled for and their
  proficiency (handle-time multiplier: 1.0 = reference speed).

References
----------
Regulation (EU) 2022/2065 (Digital Services Act), Art. 15 and 42; ISO 639-1 two-letter language codes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from capplan.report import tidy, xlsx
from capplan.report.csvsafe import write_csv
from capplan.schema import DAY, HEADCOUNT, INHOUSE, LANGUAGE, PAID_HOURS, POOL, PRODUCTIVE_HOURS, PROFICIENCY, SITE

EU_LANGUAGES = {  # the 24 official languages of the EU, ISO 639-1 -> English name
    "bg": "Bulgarian", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "et": "Estonian", "fi": "Finnish", "fr": "French", "ga": "Irish", "hr": "Croatian", "hu": "Hungarian",
    "it": "Italian", "lt": "Lithuanian", "lv": "Latvian", "mt": "Maltese", "nl": "Dutch", "pl": "Polish",
    "pt": "Portuguese", "ro": "Romanian", "sk": "Slovak", "sl": "Slovenian", "sv": "Swedish",
}
COLUMNS = ["iso_639_1", "language_name", "eu_official", "language_codes", "sourcing", "moderators", "fte", PRODUCTIVE_HOURS,
           "pools", "sites", "queues", "proficiency_min", "proficiency_max"]


def iso_639_1(code: str) -> str:
    """The ISO 639-1 code of a language tag (``pt-BR`` -> ``pt``, ``EN`` -> ``en``)."""
    return str(code).strip().replace("_", "-").split("-")[0].lower()


def pool_people(patterns: pd.DataFrame, shift_plan: pd.DataFrame) -> pd.Series:
    """People per pool: moderators on weekly patterns; without patterns, the peak day's headcount (a lower bound)."""
    if not patterns.empty:
        return patterns.groupby(POOL)["moderators"].sum().astype(int)
    if shift_plan.empty:
        return pd.Series(dtype=int)
    per_day = shift_plan.groupby([POOL, DAY])[HEADCOUNT].sum()
    return per_day.groupby(POOL).max().astype(int)


def dsa_languages(pools: pd.DataFrame, shift_plan: pd.DataFrame, allocation: pd.DataFrame, patterns: pd.DataFrame,
                  start: pd.Timestamp, plan_days: int, eu_only: bool = False) -> pd.DataFrame:
    """One row per language (ISO 639-1) and sourcing; see the module docstring for the columns."""
    if pools.empty:
        return pd.DataFrame(columns=COLUMNS)
    people = pool_people(patterns, shift_plan)
    paid = tidy.plan_paid_hours(shift_plan, start).groupby(POOL)[PAID_HOURS].sum() if len(shift_plan) else pd.Series(dtype=float)
    rows = []
    for p in pools.itertuples(index=False):
        work = allocation[allocation[POOL] == p.pool] if len(allocation) else allocation
        by_lang = work.groupby(work[LANGUAGE].map(iso_639_1))[PRODUCTIVE_HOURS].sum() if len(work) else pd.Series(dtype=float)
        total = float(by_lang.sum())
        for code in dict.fromkeys(p.languages):
            iso = iso_639_1(code)
            hours = float(by_lang.get(iso, 0.0))
            rows.append({"iso_639_1": iso, "language_code": code, POOL: p.pool, SITE: p.site,
                         "sourcing": tidy.INHOUSE_SOURCING if p.vendor == INHOUSE else tidy.VENDOR_SOURCING,
                         "moderators": int(people.get(p.pool, 0)), PRODUCTIVE_HOURS: hours,
                         PAID_HOURS: float(paid.get(p.pool, 0.0)) * (hours / total if total > 0 else 0.0),
                         "queues": tuple(p.queues), PROFICIENCY: float(p.proficiency)})
    return _by_language(pd.DataFrame(rows), plan_days, eu_only)


def _by_language(frame: pd.DataFrame, plan_days: int, eu_only: bool) -> pd.DataFrame:
    """Pool rows -> one row per language and sourcing (a pool listing ``pt`` and ``pt-BR`` counts once)."""
    frame = frame.drop_duplicates(["iso_639_1", POOL])
    weeks = plan_days / 7
    out = []
    for (iso, sourcing), g in frame.groupby(["iso_639_1", "sourcing"], sort=True):
        out.append({
            "iso_639_1": iso, "language_name": EU_LANGUAGES.get(iso, ""), "eu_official": iso in EU_LANGUAGES,
            "language_codes": ";".join(sorted(set(g["language_code"]))), "sourcing": sourcing,
            "moderators": int(g["moderators"].sum()), "fte": float(g[PAID_HOURS].sum()) / (tidy.HOURS_PER_FTE_WEEK * weeks),
            PRODUCTIVE_HOURS: float(g[PRODUCTIVE_HOURS].sum()), "pools": ";".join(sorted(g[POOL])),
            "sites": ";".join(sorted(set(g[SITE]))), "queues": ";".join(sorted({q for qs in g["queues"] for q in qs})),
            "proficiency_min": float(g[PROFICIENCY].min()), "proficiency_max": float(g[PROFICIENCY].max()),
        })
    result = pd.DataFrame(out, columns=COLUMNS)
    if eu_only:
        result = result[result["eu_official"]]
    result = result.sort_values(["eu_official", "iso_639_1", "sourcing"], ascending=[False, True, True], kind="stable")
    return result.reset_index(drop=True)


def write_dsa(folder: Path, table: pd.DataFrame, facts: list[tuple]) -> list[Path]:
    """``dsa_languages.csv`` (formula-safe) and ``dsa.xlsx`` (README + DSA languages) into ``folder``."""
    csv_path = folder / "dsa_languages.csv"
    write_csv(table, csv_path)
    book = xlsx.Book(folder / "dsa.xlsx")
    readme = xlsx.new_sheet(book, "README")
    sheet = xlsx.new_sheet(book, "DSA languages")
    xlsx.write_table(sheet, table, "dsa_languages",
                     formats={"moderators": xlsx.INT, "fte": xlsx.NUM, PRODUCTIVE_HOURS: xlsx.INT,
                              "proficiency_min": "0.00", "proficiency_max": "0.00"},
                     headers={"iso_639_1": "language (ISO 639-1)", "eu_official": "official EU language",
                              "moderators": "moderators qualified (people)", "fte": "FTE dedicated",
                              PRODUCTIVE_HOURS: "productive hours planned", "proficiency_min": "proficiency (AHT multiplier) min",
                              "proficiency_max": "proficiency (AHT multiplier) max"})
    xlsx.finish_sheet(sheet, freeze="B2")
    xlsx.readme(readme, "Human resources for content moderation per language (DSA Art. 42)", facts, [
        "One row per language (ISO 639-1 code; regional tags such as pt-BR are counted under pt) and sourcing.",
        "moderators: people qualified in the language (on weekly patterns in pools whose skills include it); a "
        "multilingual moderator counts once in each of their languages, so the rows do not add up to the workforce.",
        "FTE dedicated: each pool's paid hours split over its languages by the productive hours planned on them, "
        "/ 40 h per FTE-week, averaged over the plan weeks; these do add up to the planned workforce.",
        "Qualifications: the pools' queue skills and proficiency (handle-time multiplier; 1.0 = reference speed).",
        "Official EU languages first; other languages follow (eu_official = FALSE).",
    ])
    xlsx.set_properties(book, "capplan DSA language report")
    return [csv_path, book.close()]
