"""The fitted scorecard as data: bins, points, scaling and grades, kept as readable JSON.

Applying it needs numpy only, so a platform process rates without loading the fitting
libraries, and a model file can be read, reviewed and compared line by line. Each
feature's bins hold their points (the share of the intercept included), so the points of
a row's bins add up to its score; the score gives the probability of being bad through
the scaling, and the grade through the grade bands.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from xinyidai.core.errors import ValidationFailed
from xinyidai.scoring.scorecard.scaling import Grades, Scaling

FORMAT = "xyd-scorecard"
FORMAT_VERSION = 1
NUMERIC = "numeric"
CATEGORICAL = "categorical"
MISSING = "missing"
OTHER = "other"
DEFAULT_MAX_REASONS = 4

SPECIAL_LABELS: dict[str, dict[str, str]] = {
    MISSING: {"zh": "缺失", "en": "missing"},
    OTHER: {"zh": "训练时未见的取值", "en": "a value not seen in training"},
}


def category_key(value: Any) -> str | None:
    """The text a category is matched by; None for a missing value.

    ``1``, ``1.0`` and ``"1"`` are the same category, whatever a CSV reader made of them.
    """
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
        return repr(float(value))
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    text = str(value).strip()
    return text or None


def as_numbers(values: Any) -> np.ndarray:
    """Values as floats; missing and unreadable values become NaN."""
    array = np.asarray(values)
    if array.dtype.kind in "fiub":
        return array.astype(float)
    numbers = np.empty(len(array), dtype=float)
    for i, value in enumerate(array.tolist()):
        try:
            numbers[i] = float(value) if value is not None and value != "" else math.nan
        except (TypeError, ValueError):
            numbers[i] = math.nan
    return numbers


@dataclass(frozen=True)
class ReasonText:
    """What a feature is called in a reason: a stable code and its Chinese and English text."""

    code: str
    zh: str
    en: str

    def text(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


@dataclass(frozen=True)
class Bin:
    """One bin of a feature: which values fall in it, its weight of evidence and points."""

    label: str
    points: float
    woe: float
    count: int = 0
    bads: int = 0
    lower: float | None = None  # numeric: included; None is minus infinity
    upper: float | None = None  # numeric: excluded; None is plus infinity
    categories: tuple[str, ...] = ()
    special: str | None = None  # MISSING or OTHER

    @property
    def bad_rate(self) -> float | None:
        return self.bads / self.count if self.count else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"label": self.label}
        if self.special is None and not self.categories:
            data["lower"] = self.lower
            data["upper"] = self.upper
        if self.categories:
            data["categories"] = list(self.categories)
        data.update(
            {
                "points": _round(self.points, 4),
                "woe": _round(self.woe, 6),
                "count": self.count,
                "bads": self.bads,
            }
        )
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], special: str | None = None) -> Bin:
        return cls(
            label=str(data.get("label", special or "")),
            points=float(data["points"]),
            woe=float(data.get("woe", 0.0)),
            count=int(data.get("count", 0)),
            bads=int(data.get("bads", 0)),
            lower=None if data.get("lower") is None else float(data["lower"]),
            upper=None if data.get("upper") is None else float(data["upper"]),
            categories=tuple(str(c) for c in data.get("categories", ())),
            special=special,
        )


@dataclass(frozen=True)
class Feature:
    """A feature of the scorecard with its bins; ``missing`` and ``other`` come last."""

    name: str
    kind: str
    coefficient: float
    iv: float
    bins: tuple[Bin, ...]
    missing: Bin
    other: Bin | None = None  # categorical: a category not seen in training
    reason: ReasonText | None = None
    special_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in (NUMERIC, CATEGORICAL):
            raise ValidationFailed(
                "feature {name} has an unknown kind {kind}",
                field=self.name,
                name=self.name,
                kind=self.kind,
            )
        if not self.bins:
            raise ValidationFailed("feature {name} has no bins", field=self.name, name=self.name)

    @property
    def all_bins(self) -> tuple[Bin, ...]:
        """Regular bins, then the missing bin, then (categorical) the unseen-value bin."""
        extra = (self.missing,) if self.other is None else (self.missing, self.other)
        return self.bins + extra

    @property
    def missing_index(self) -> int:
        return len(self.bins)

    @property
    def other_index(self) -> int:
        return len(self.bins) + 1 if self.other is not None else len(self.bins)

    @property
    def splits(self) -> np.ndarray:
        return np.array([b.lower for b in self.bins[1:]], dtype=float)

    @property
    def best_points(self) -> float:
        """The most points this feature gives (over its bins and the missing bin)."""
        return max(b.points for b in (*self.bins, self.missing))

    @property
    def reason_text(self) -> ReasonText:
        if self.reason is not None:
            return self.reason
        code = "".join(c if c.isalnum() else "_" for c in self.name.upper()).strip("_")
        return ReasonText(code=code or "FEATURE", zh=self.name, en=self.name)

    def locate(self, values: Any) -> np.ndarray:
        """The index in ``all_bins`` of each value."""
        if self.kind == NUMERIC:
            numbers = as_numbers(values)
            index = np.searchsorted(self.splits, numbers, side="right")
            index[np.isnan(numbers)] = self.missing_index
            return index.astype(np.int64)
        lookup = {c: i for i, b in enumerate(self.bins) for c in b.categories}
        missing, other = self.missing_index, self.other_index

        def index_of(value: Any) -> int:
            key = category_key(value)
            return missing if key is None else lookup.get(key, other)

        raw = np.asarray(values, dtype=object).tolist()
        try:
            # a column holds few distinct categories: find each one's bin once
            found = {value: index_of(value) for value in set(raw)}
        except TypeError:  # an unhashable value: take them one by one
            return np.fromiter(map(index_of, raw), dtype=np.int64, count=len(raw))
        return np.fromiter(map(found.__getitem__, raw), dtype=np.int64, count=len(raw))

    def label(self, index: int, locale: str) -> str:
        """How bin ``index`` is shown in a reason, in ``locale``."""
        chosen = self.all_bins[index]
        if chosen.special is not None:
            labels = self.special_labels.get(chosen.special) or SPECIAL_LABELS[chosen.special]
            return labels["en" if locale == "en" else "zh"]
        return chosen.label

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "coefficient": _round(self.coefficient, 6),
            "iv": _round(self.iv, 6),
        }
        if self.reason is not None:
            data["reason"] = {"code": self.reason.code, "zh": self.reason.zh, "en": self.reason.en}
        if self.special_labels:
            data["special_labels"] = {k: dict(v) for k, v in self.special_labels.items()}
        data["bins"] = [b.to_dict() for b in self.bins]
        data["missing"] = self.missing.to_dict()
        if self.other is not None:
            data["other"] = self.other.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Feature:
        reason = data.get("reason")
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            coefficient=float(data.get("coefficient", 0.0)),
            iv=float(data.get("iv", 0.0)),
            bins=tuple(Bin.from_dict(b) for b in data["bins"]),
            missing=Bin.from_dict(data["missing"], MISSING),
            other=Bin.from_dict(data["other"], OTHER) if data.get("other") else None,
            reason=ReasonText(str(reason["code"]), str(reason["zh"]), str(reason["en"]))
            if reason
            else None,
            special_labels={
                str(k): {str(a): str(b) for a, b in v.items()}
                for k, v in (data.get("special_labels") or {}).items()
            },
        )


@dataclass(frozen=True)
class Reason:
    """One negative factor of a row: the feature, the bin it fell in, the points it lost."""

    feature: Feature
    bin: int
    impact: float

    @property
    def code(self) -> str:
        return self.feature.reason_text.code

    def text(self, locale: str) -> str:
        name = self.feature.reason_text.text(locale)
        label = self.feature.label(self.bin, locale)
        return f"{name}: {label}" if locale == "en" else f"{name}：{label}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "feature": self.feature.name,
            "text_zh": self.text("zh_CN"),
            "text_en": self.text("en"),
            "impact": _round(self.impact, 2),
        }


@dataclass
class Scored:
    """A table scored by a model: each row's bins, points, score, probability and grade."""

    model: ScorecardModel
    bins: np.ndarray  # rows x features, index into each feature's all_bins
    points: np.ndarray  # rows x features
    score: np.ndarray
    probability: np.ndarray
    grade: np.ndarray

    def __len__(self) -> int:
        return len(self.score)

    def distinct(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows in the same bins score alike: the first row of each distinct combination of
        bins, and for every row the position of its combination among those."""
        widths = [len(f.all_bins) for f in self.model.features]
        if math.prod(widths) < 2**62:
            key = np.zeros(len(self.bins), dtype=np.int64)
            for column, width in enumerate(widths):
                key = key * width + self.bins[:, column]
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        else:
            _, first, inverse = np.unique(self.bins, axis=0, return_index=True, return_inverse=True)
        return first, inverse.reshape(-1)

    def reason_matrix(
        self, max_reasons: int | None = None, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top negative factors of every row (or of ``rows``): (feature positions,
        impacts), ``rows x k``.

        A factor is a feature whose bin gives fewer points than its best bin; the impact is
        that difference (negative). Positions are -1 where a row has fewer factors.
        """
        k = min(max_reasons or self.model.max_reasons, len(self.model.features))
        best = np.array([f.best_points for f in self.model.features])
        points = self.points if rows is None else self.points[rows]
        losses = points - best
        order = np.argsort(losses, axis=1, kind="stable")[:, :k]
        impacts = np.take_along_axis(losses, order, axis=1)
        order = np.where(impacts < -1e-9, order, -1)
        impacts = np.where(order >= 0, impacts, 0.0)
        return order, impacts

    def reasons(self, max_reasons: int | None = None) -> list[list[Reason]]:
        """The top negative factors of each row, largest loss first."""
        order, impacts = self.reason_matrix(max_reasons)
        features = self.model.features
        rows: list[list[Reason]] = []
        for r, (positions, losses) in enumerate(zip(order.tolist(), impacts.tolist(), strict=True)):
            rows.append(
                [
                    Reason(features[p], int(self.bins[r, p]), loss)
                    for p, loss in zip(positions, losses, strict=True)
                    if p >= 0
                ]
            )
        return rows


@dataclass(frozen=True)
class ScorecardModel:
    """A fitted scorecard: features with binned points, scaling, grades and provenance."""

    name: str
    features: tuple[Feature, ...]
    intercept: float
    scaling: Scaling = field(default_factory=Scaling)
    grades: Grades = field(default_factory=Grades)
    target: str | None = None
    id_column: str | None = None
    max_reasons: int = DEFAULT_MAX_REASONS
    rounded: bool = True
    dropped: Mapping[str, str] = field(default_factory=dict)
    training: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.features:
            raise ValidationFailed("a scorecard needs at least one feature", field="features")
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValidationFailed("feature names must be unique", field="features")

    @cached_property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @cached_property
    def version(self) -> str:
        """``name-<digest>``: the same bins, points and settings give the same version."""
        body = json.dumps(self._body(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return f"{self.name}-{hashlib.sha256(body.encode('utf-8')).hexdigest()[:10]}"

    def feature(self, name: str) -> Feature:
        for item in self.features:
            if item.name == name:
                return item
        raise ValidationFailed("the model has no feature {name}", field="feature", name=name)

    def locate(self, columns: Mapping[str, Any]) -> np.ndarray:
        """The bin of every row in every feature (``rows x features``)."""
        located = []
        for item in self.features:
            try:
                values = columns[item.name]
            except KeyError:
                raise ValidationFailed(
                    "the data has no column {name}, which the model needs",
                    field=item.name,
                    name=item.name,
                ) from None
            located.append(item.locate(values))
        lengths = {len(v) for v in located}
        if len(lengths) > 1:
            raise ValidationFailed("the columns have different lengths", field="data")
        return np.column_stack(located) if located[0].size else np.zeros((0, len(located)), int)

    def apply(self, columns: Mapping[str, Any]) -> Scored:
        """Score a table given as columns (a dict of arrays, a pandas or polars frame)."""
        bins = self.locate(columns)
        points = np.empty(bins.shape, dtype=float)
        for j, table in enumerate(self._points_tables):
            points[:, j] = table[bins[:, j]]
        score = points.sum(axis=1)
        return Scored(
            model=self,
            bins=bins,
            points=points,
            score=score,
            probability=self.scaling.probability(score),
            grade=self.grades.of(score),
        )

    @cached_property
    def _points_tables(self) -> list[np.ndarray]:
        return [np.array([b.points for b in f.all_bins], dtype=float) for f in self.features]

    def _body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "target": self.target,
            "id_column": self.id_column,
            "scaling": self.scaling.to_dict(),
            "grades": self.grades.to_list(),
            "rounded_points": self.rounded,
            "max_reasons": self.max_reasons,
            "intercept": _round(self.intercept, 6),
            "features": [f.to_dict() for f in self.features],
            "dropped": dict(self.dropped),
            "training": _jsonable(dict(self.training)),
        }

    def to_dict(self) -> dict[str, Any]:
        body = self._body()
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "version": self.version} | body

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScorecardModel:
        if data.get("format") != FORMAT:
            raise ValidationFailed("not a scorecard model file", field="model")
        if int(data.get("format_version", 0)) > FORMAT_VERSION:
            raise ValidationFailed(
                "the model file is of a newer format ({version})",
                field="model",
                version=data.get("format_version"),
            )
        try:
            return cls(
                name=str(data["name"]),
                features=tuple(Feature.from_dict(f) for f in data["features"]),
                intercept=float(data.get("intercept", 0.0)),
                scaling=Scaling.from_dict(data["scaling"]),
                grades=Grades.from_list(data["grades"]),
                target=data.get("target"),
                id_column=data.get("id_column"),
                max_reasons=int(data.get("max_reasons", DEFAULT_MAX_REASONS)),
                rounded=bool(data.get("rounded_points", True)),
                dropped={str(k): str(v) for k, v in (data.get("dropped") or {}).items()},
                training=dict(data.get("training") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed(
                "the model file is incomplete: {problem}", field="model", problem=str(exc)
            ) from None

    @classmethod
    def load(cls, path: Path) -> ScorecardModel:
        if path.is_dir():
            path = path / MODEL_FILE
        if not path.exists():
            raise ValidationFailed("no model at {path}", field="model", path=str(path))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValidationFailed(
                "the model file is not JSON: {problem}", field="model", problem=str(exc)
            ) from None
        return cls.from_dict(data)

    def with_training(self, **facts: Any) -> ScorecardModel:
        """The same model with more facts about its training (data source, metrics)."""
        return replace(self, training=dict(self.training) | facts)


MODEL_FILE = "scorecard.json"


def _round(value: float, digits: int) -> float:
    rounded = round(float(value), digits)
    return 0.0 if rounded == 0 else rounded


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return _round(float(value), 6)
    return value


def read_columns(table: Any, names: Sequence[str]) -> dict[str, Any]:
    """The named columns of a frame or mapping, for ``ScorecardModel.apply``."""
    return {name: table[name] for name in names}
