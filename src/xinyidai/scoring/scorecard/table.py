"""Reading a table to fit or score: any CSV, its target, its id column, its features.

The target must hold 0 and 1 only (1 = bad) with both present; anything else is an error
naming the column, never a silent conversion. Columns of text are categorical, columns of
numbers numeric; ``categorical`` forces a numeric-looking column (codes) to categories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xinyidai.core.errors import ValidationFailed
from xinyidai.scoring.scorecard.model import CATEGORICAL, NUMERIC

if TYPE_CHECKING:
    import pandas as pd

ENCODINGS = ("utf-8-sig", "gb18030")
TRUE_BAD = {"1", "1.0", "true"}
TRUE_GOOD = {"0", "0.0", "false"}


@dataclass
class Table:
    """A table read for the toolkit: the frame, and which columns play which part."""

    frame: pd.DataFrame
    target: str | None
    id_column: str | None
    features: list[str]
    kinds: dict[str, str]

    @property
    def y(self) -> np.ndarray:
        if self.target is None:
            raise ValidationFailed("this table has no target", field="target")
        return target_values(self.frame[self.target], self.target)

    @property
    def X(self) -> pd.DataFrame:  # noqa: N802 - the estimator convention
        return self.frame[self.features]

    @property
    def ids(self) -> list[Any] | None:
        return None if self.id_column is None else self.frame[self.id_column].tolist()


def read_csv(path: Path) -> pd.DataFrame:
    """Read a CSV (UTF-8, with or without BOM, else GB18030); empty cells are missing."""
    import pandas as pd

    if not path.exists():
        raise ValidationFailed("no such file: {path}", field="data", path=str(path))
    last: Exception | None = None
    for encoding in ENCODINGS:
        try:
            frame = pd.read_csv(path, encoding=encoding, low_memory=False)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ValidationFailed(
                "{path} cannot be read as CSV: {problem}",
                field="data",
                path=str(path),
                problem=str(exc).strip().splitlines()[0] if str(exc).strip() else "empty",
            ) from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return frame
    raise ValidationFailed(
        "{path} is neither UTF-8 nor GB18030 text: {problem}",
        field="data",
        path=str(path),
        problem=str(last),
    )


def target_values(column: Any, name: str) -> np.ndarray:
    """The target as 0/1 integers; an error naming the column for anything else."""
    values = list(column.tolist() if hasattr(column, "tolist") else column)
    out = np.empty(len(values), dtype=np.int64)
    empty = 0
    strange: list[str] = []
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            empty += 1
            continue
        text = str(value).strip().lower()
        if text in TRUE_BAD:
            out[i] = 1
        elif text in TRUE_GOOD:
            out[i] = 0
        elif str(value) not in strange:
            strange.append(str(value))
    if strange:
        raise ValidationFailed(
            "target column {column} must hold only 0 and 1 (1 = bad); found {values}",
            field="target",
            column=name,
            values=", ".join(strange[:5]),
        )
    if empty:
        raise ValidationFailed(
            "target column {column} has {count} empty values",
            field="target",
            column=name,
            count=empty,
        )
    if len(values) and (out.min() == out.max()):
        raise ValidationFailed(
            "target column {column} needs both classes, 0 and 1",
            field="target",
            column=name,
        )
    return out


def prepare(
    frame: pd.DataFrame,
    *,
    target: str | None,
    id_column: str | None = None,
    exclude: Sequence[str] = (),
    categorical: Sequence[str] = (),
    features: Sequence[str] | None = None,
) -> Table:
    """Name the parts of ``frame``: its target, id and feature columns and their kinds."""
    columns = list(frame.columns)
    if len(set(columns)) != len(columns):
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        raise ValidationFailed(
            "the header repeats columns: {names}", field="data", names=", ".join(duplicated)
        )
    for option, names in (
        ("target", [target] if target else []),
        ("id", [id_column] if id_column else []),
        ("exclude", list(exclude)),
        ("categorical", list(categorical)),
    ):
        unknown = [n for n in names if n not in columns]
        if unknown:
            raise ValidationFailed(
                "no column {names} in the data", field=option, names=", ".join(unknown)
            )
    if len(frame) == 0:
        raise ValidationFailed("the data has no rows", field="data")
    if target is not None:
        target_values(frame[target], target)
    skip = {target, id_column, *exclude}
    chosen = [c for c in (features or columns) if c not in skip]
    if not chosen:
        raise ValidationFailed("no feature columns are left", field="exclude")
    kinds = {
        name: CATEGORICAL if name in categorical or not _is_numeric(frame[name]) else NUMERIC
        for name in chosen
    }
    return Table(frame=frame, target=target, id_column=id_column, features=chosen, kinds=kinds)


def _is_numeric(column: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column))


def read_table(
    path: Path,
    *,
    target: str | None,
    id_column: str | None = None,
    exclude: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> Table:
    """Read a CSV and name its parts (see ``prepare``)."""
    return prepare(
        read_csv(path),
        target=target,
        id_column=id_column,
        exclude=exclude,
        categorical=categorical,
    )
