"""Vendor names that would be one vendor to a reader or a file system are an input error naming both rows."""

from __future__ import annotations

from _ws import make_workspace
from capplan.inputs import check_workspace
from capplan.inputs.names import file_stem

HEADER = "vendor,min_weekly_hours,max_weekly_hours,max_language_share,quality,currency\n"


def test_file_stem():
    assert file_stem("Acme BPO/PH") == file_stem("Acme BPO:PH") == "Acme_BPO_PH"
    assert file_stem("=cmd") == "cmd" and file_stem("..") == "vendor"


def test_colliding_vendor_names_are_errors_naming_both_rows(tmp_path):
    make_workspace(tmp_path, vendors=HEADER + "bpo1,0,5000,0.8,0.92,USD\nBPO1,0,5000,0.8,0.92,USD\nbpo/2,0,10,0.8,0.9,USD\nbpo:2,0,10,0.8,0.9,USD\n")
    ws, problems = check_workspace(tmp_path)
    assert ws is None
    found = [p for p in problems if p.file == "inputs/vendors.csv" and p.severity == "error"]
    case = next(p for p in found if "BPO1" in p.message)
    assert case.row == 3 and "row 2" in case.message and case.column == "vendor"
    stem = next(p for p in found if "bpo:2" in p.message)
    assert stem.row == 5 and "row 4" in stem.message and "same file name" in stem.message
