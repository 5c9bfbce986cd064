"""Names that become file names: one rule, shared by validation (collisions are input errors) and the report."""

from __future__ import annotations

import re

_FILE_BAD = re.compile(r"[^A-Za-z0-9._-]+")
MAX_STEM = 80


def file_stem(name: str, default: str = "vendor") -> str:
    """A safe file-name stem for any name (``Acme BPO/PH`` -> ``Acme_BPO_PH``, ``=cmd`` -> ``cmd``)."""
    return _FILE_BAD.sub("_", str(name)).strip("._-")[:MAX_STEM] or default


def name_clashes(names: list[str]) -> list[tuple[int, int, str]]:
    """Pairs ``(i, j, why)`` (i < j, positions in ``names``) of different names that collide after case folding
    or file-name cleaning: on a case-insensitive file system (or to a reader) they would be one vendor."""
    seen: dict[str, int] = {}
    out = []
    for j, name in enumerate(names):
        for key, why in ((str(name).casefold(), "the same name ignoring case"),
                         (file_stem(name).casefold(), f"the same file name ({file_stem(name)}.xlsx)")):
            i = seen.get(key)
            if i is not None and names[i] != name:
                out.append((i, j, why))
                break
        seen.setdefault(str(name).casefold(), j)
        seen.setdefault(file_stem(name).casefold(), j)
    return out
