"""Region codes (GB/T 2260) and industry codes (GB/T 4754-2017), shipped as data files.

``data/regions.csv`` and ``data/industries.csv`` hold ``code,name,level,parent``; they are
read once per process. A code that enters XYD is validated against them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    name: str
    level: str
    parent: str | None


def _load(name: str) -> dict[str, Code]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return {
            row["code"]: Code(row["code"], row["name"], row["level"], row["parent"] or None)
            for row in csv.DictReader(handle)
        }


@lru_cache(maxsize=1)
def regions() -> dict[str, Code]:
    """Every GB/T 2260 administrative division XYD knows, by six-digit code."""
    return _load("regions.csv")


@lru_cache(maxsize=1)
def industries() -> dict[str, Code]:
    """Every GB/T 4754-2017 industry (section letter, 2-, 3- or 4-digit code)."""
    return _load("industries.csv")


def region(code: str) -> Code | None:
    return regions().get(code.strip())


def industry(code: str) -> Code | None:
    return industries().get(code.strip().upper())


def is_region(code: str) -> bool:
    return region(code) is not None


def is_industry(code: str) -> bool:
    return industry(code) is not None


def region_path(code: str) -> list[Code]:
    """The division and its parents, province first."""
    path: list[Code] = []
    current = region(code)
    while current is not None:
        path.append(current)
        current = region(current.parent) if current.parent else None
    return list(reversed(path))


def counties_of(province_prefix: str) -> list[Code]:
    """County-level divisions whose code starts with a province's two digits."""
    return [
        item
        for item in regions().values()
        if item.code.startswith(province_prefix) and item.level == "county"
    ]


def industry_section(code: str) -> Code | None:
    """The GB/T 4754 section (门类, a letter) a code belongs to."""
    current = industry(code)
    while current is not None and current.level != "section":
        current = industry(current.parent) if current.parent else None
    return current


def leaf_industries() -> list[Code]:
    """The most detailed industry codes shipped (classes where present)."""
    parents = {item.parent for item in industries().values() if item.parent}
    return [item for item in industries().values() if item.code not in parents]
