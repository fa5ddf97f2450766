"""Writes small department tables in every format the data center reads."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from xinyidai.registry import creditcode

HEADERS = [
    "统一社会信用代码",
    "被执行人名称",
    "案号",
    "执行法院",
    "立案日期",
    "执行标的（元）",
    "法院所在区划",
]
FORMATS = ("csv", "gb18030.csv", "xlsx", "xls", "json", "jsonl")


def code(n: int, region: str = "640104") -> str:
    """A valid credit code for the n-th test enterprise."""
    return creditcode.make(f"91{region}MA{n:07d}")


def good_row(n: int, amount: str = "1200.50") -> list[Any]:
    return [
        code(n),
        f"宁夏测试{n}有限公司",
        f"(2024)宁0104执{n}号",
        "兴庆区人民法院",
        "2024-03-0" + str(n % 9 + 1),
        amount,
        "640104",
    ]


def write(path: Path, fmt: str, headers: list[str], rows: list[list[Any]]) -> Path:
    """Write ``rows`` under ``headers`` as ``fmt`` at ``path`` (the suffix is added)."""
    if fmt.endswith("csv"):
        target = path.with_suffix(".csv")
        encoding = "gb18030" if fmt.startswith("gb18030") else "utf-8"
        with target.open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            writer.writerows([["" if v is None else v for v in row] for row in rows])
        return target
    if fmt == "xlsx":
        from openpyxl import Workbook

        target = path.with_suffix(".xlsx")
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        workbook.save(target)
        return target
    if fmt == "xls":  # Excel 97-2003, as older department systems still export
        import xlwt

        target = path.with_suffix(".xls")
        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("data")
        for r, values in enumerate([headers, *rows]):
            for c, value in enumerate(values):
                sheet.write(r, c, value)
        book.save(str(target))
        return target
    objects = [dict(zip(headers, row, strict=True)) for row in rows]
    if fmt == "json":
        target = path.with_suffix(".json")
        target.write_text(json.dumps(objects, ensure_ascii=False), encoding="utf-8")
        return target
    target = path.with_suffix(".jsonl")
    target.write_text(
        "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objects), encoding="utf-8"
    )
    return target
