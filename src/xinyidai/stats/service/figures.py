"""Reading figures: a table of periods × cells from the day rows, with derived figures
computed and small cells suppressed.

Months, quarters and years are sums of days read when asked (a year of day rows is a few
hundred per cell: cheaper to sum than to keep a second copy in step). A stock (balance,
loans live) at a period's end is its opening (every change before the range) plus the
changes through that end.

**Small cells.** A count of one in a county × industry cell tells a reader who knows the
county that some enterprise there has a loan, an alert or a listing. For every reader but
the operator, a cell of a breakdown (any dimension but ``all``) whose basis (the count of
subjects the figure is about) is above zero and under ``stats.min_cell`` is suppressed, and
so is every figure resting on that basis; when a period's breakdown would then suppress a
single cell, the next smallest is suppressed too, so that the total less the others does
not give it back (docs/stats.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from xinyidai.core.errors import ValidationFailed
from xinyidai.core.settings import get_settings
from xinyidai.stats.models import Dimension, FigureKind, FigureRow, Grain, Unit
from xinyidai.stats.sources import FIGURES, SOURCES, Figure
from xinyidai.stats.sources.kit import bucket_name

CENT = Decimal("0.01")
MAX_DAYS = 3 * 366  # a day series longer than this is refused (month or more instead)


@dataclass(frozen=True)
class Period:
    label: str
    first: date
    last: date


@dataclass(frozen=True)
class Value:
    period: str
    key: str
    figure: str
    value: Decimal | None
    suppressed: bool = False


def shown_figures() -> list[Figure]:
    return [f for f in FIGURES.values() if f.shown]


def figure_or_raise(name: str) -> Figure:
    figure = FIGURES.get(name)
    if figure is None or not figure.shown:
        raise ValidationFailed(
            "unknown figure {name}; known: {known}",
            field="figure",
            name=name,
            known=", ".join(f.name for f in shown_figures()),
        )
    return figure


def check_dimension(figure: Figure, dimension: Dimension) -> None:
    if dimension not in figure.dimensions:
        raise ValidationFailed(
            "the figure {figure} has no breakdown by {dimension}; it has: {known}",
            field="dimension",
            figure=figure.name,
            dimension=dimension,
            known=", ".join(figure.dimensions),
        )


def _month_start(day: date) -> date:
    return day.replace(day=1)


def period_of(grain: Grain, day: date) -> Period:
    if grain == Grain.DAY:
        return Period(day.isoformat(), day, day)
    if grain == Grain.MONTH:
        first = _month_start(day)
        return Period(f"{day.year}-{day.month:02d}", first, _next_month(first) - timedelta(days=1))
    if grain == Grain.QUARTER:
        q = (day.month - 1) // 3
        first = date(day.year, 3 * q + 1, 1)
        last = _next_month(_next_month(_next_month(first))) - timedelta(days=1)
        return Period(f"{day.year}Q{q + 1}", first, last)
    return Period(str(day.year), date(day.year, 1, 1), date(day.year, 12, 31))


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def periods(grain: Grain, start: date, end: date) -> list[Period]:
    """The periods of a grain from the one holding ``start`` to the one holding ``end``."""
    if end < start:
        raise ValidationFailed(
            "the end {end} is before the start {start}", field="end", end=end, start=start
        )
    if grain == Grain.DAY and (end - start).days > MAX_DAYS:
        raise ValidationFailed(
            "a day series covers at most {days} days; ask for months", field="grain", days=MAX_DAYS
        )
    found: list[Period] = []
    day = start
    while day <= end:
        period = period_of(grain, day)
        found.append(period)
        day = period.last + timedelta(days=1)
    return found


def _histogram(prefix: str) -> tuple[int, ...]:
    for source in SOURCES:
        if prefix in source.histograms:
            return source.histograms[prefix]
    raise LookupError(prefix)


def _stored_inputs(figure: Figure) -> set[str]:
    if figure.kind in (FigureKind.FLOW, FigureKind.STOCK):
        return {figure.name}
    if figure.kind == FigureKind.RATIO:
        return set(figure.inputs)
    assert figure.histogram is not None
    return {bucket_name(figure.histogram, b) for b in _histogram(figure.histogram)}


def _stock_names() -> set[str]:
    return {f.name for f in FIGURES.values() if f.kind == FigureKind.STOCK}


def table(
    session: Session,
    *,
    figures: Sequence[str],
    grain: Grain,
    start: date,
    end: date,
    dimension: Dimension = Dimension.ALL,
    keys: Sequence[str] | None = None,
    min_cell: int | None = None,
) -> list[Value]:
    """The figures per period and cell of a dimension; ``min_cell`` suppresses small cells
    (None: the operator's view, nothing suppressed)."""
    wanted = [figure_or_raise(name) for name in figures]
    for figure in wanted:
        check_dimension(figure, dimension)
    spans = periods(grain, start, end)
    first, last = spans[0].first, spans[-1].last
    base: set[str] = set()
    for figure in wanted:
        base |= _stored_inputs(figure)
        if figure.basis:
            base |= _stored_inputs(FIGURES[figure.basis])
    stocks = base & _stock_names()

    scope: list[ColumnElement[bool]] = [FigureRow.dimension == dimension]
    if keys:
        scope.append(FigureRow.key.in_(list(keys)))
    rows = session.execute(
        select(FigureRow.figure, FigureRow.key, FigureRow.day, FigureRow.value).where(
            *scope,
            FigureRow.figure.in_(sorted(base)),
            FigureRow.day >= first,
            FigureRow.day <= last,
        )
    ).all()
    opening: dict[tuple[str, str], Decimal] = {}
    if stocks:
        opened = session.execute(
            select(FigureRow.figure, FigureRow.key, func.sum(FigureRow.value))
            .where(*scope, FigureRow.figure.in_(sorted(stocks)), FigureRow.day < first)
            .group_by(FigureRow.figure, FigureRow.key)
        ).all()
        opening = {(f, k): Decimal(v) for f, k, v in opened}
    index = {p.label: n for n, p in enumerate(spans)}
    # (period, key) → the stored figures' values
    per: dict[tuple[int, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    cells = {k for _, k in opening} | {k for _, k, _, _ in rows}
    for name, key, day, value in rows:
        per[(index[period_of(grain, day).label], key)][name] += Decimal(value)
    for name in stocks:  # running sums through each period's end
        for key in cells:
            running = opening.get((name, key), Decimal(0))
            for n in range(len(spans)):
                running += per[(n, key)][name]
                per[(n, key)][name] = running
    values = [
        Value(span.label, key, figure.name, _value(figure, per[(n, key)]))
        for n, span in enumerate(spans)
        for key in sorted(cells or ({""} if dimension == Dimension.ALL else set()))
        for figure in wanted
    ]
    if min_cell is not None and dimension != Dimension.ALL:
        values = _suppress(values, per, index, min_cell)
    return values


def _value(figure: Figure, stored: Mapping[str, Decimal]) -> Decimal | None:
    """A figure's value from the stored figures' values of one period and cell."""

    def get(name: str) -> Decimal:
        return stored.get(name, Decimal(0))

    if figure.kind in (FigureKind.FLOW, FigureKind.STOCK):
        return _round(figure, get(figure.name))
    if figure.kind == FigureKind.RATIO:
        assert figure.numerator is not None
        assert figure.denominator is not None
        denominator = get(figure.denominator)
        if not denominator:
            return None
        return (get(figure.numerator) / denominator * figure.scale).quantize(CENT)
    assert figure.histogram is not None
    assert figure.quantile is not None
    bounds = _histogram(figure.histogram)
    counts = [get(bucket_name(figure.histogram, b)) for b in bounds]
    total = sum(counts, Decimal(0))
    if not total:
        return None
    running = Decimal(0)
    for bound, count in zip(bounds, counts, strict=True):
        running += count
        if running >= figure.quantile * total:
            return Decimal(bound)
    return Decimal(bounds[-1])


def _round(figure: Figure, value: Decimal) -> Decimal:
    if figure.unit == Unit.COUNT:
        return value.quantize(Decimal(1))
    return value.quantize(CENT)


def _suppress(
    values: list[Value],
    per: Mapping[tuple[int, str], Mapping[str, Decimal]],
    index: dict[str, int],
    min_cell: int,
) -> list[Value]:
    """Small cells hidden, and one more where a period's breakdown would hide only one."""

    def basis(value: Value) -> Decimal:
        figure = FIGURES[value.figure]
        return per[(index[value.period], value.key)].get(figure.basis or figure.name, Decimal(0))

    hidden: set[tuple[str, str, str]] = set()
    groups: dict[tuple[str, str], list[Value]] = defaultdict(list)
    for value in values:
        groups[(value.period, value.figure)].append(value)
    for group in groups.values():
        small = [v for v in group if 0 < basis(v) < min_cell]
        hidden |= {(v.period, v.key, v.figure) for v in small}
        if len(small) == 1:
            others = sorted((v for v in group if basis(v) >= min_cell), key=basis)
            if others:
                hidden.add((others[0].period, others[0].key, others[0].figure))
    return [
        Value(v.period, v.key, v.figure, None, True) if (v.period, v.key, v.figure) in hidden else v
        for v in values
    ]


def breakdown(
    session: Session, figure: str, dimension: Dimension, span: Period, *, min_cell: int | None
) -> list[Value]:
    """One figure over one span (whatever its length) per cell of a dimension, largest first."""
    wanted = figure_or_raise(figure)
    check_dimension(wanted, dimension)
    base = _stored_inputs(wanted) | (
        _stored_inputs(FIGURES[wanted.basis]) if wanted.basis else set()
    )
    stocks = base & _stock_names()
    flows = base - stocks
    got: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for names, lower in ((flows, span.first), (stocks, None)):
        if not names:
            continue
        conditions = [
            FigureRow.dimension == dimension,
            FigureRow.figure.in_(sorted(names)),
            FigureRow.day <= span.last,
        ]
        if lower is not None:
            conditions.append(FigureRow.day >= lower)
        stmt = (
            select(FigureRow.key, FigureRow.figure, func.sum(FigureRow.value))
            .where(*conditions)
            .group_by(FigureRow.key, FigureRow.figure)
        )
        for key, name, value in session.execute(stmt):
            got[key][name] = Decimal(value)
    values = [Value(span.label, key, figure, _value(wanted, stored)) for key, stored in got.items()]
    if min_cell is not None:
        per = {(0, key): stored for key, stored in got.items()}
        values = _suppress(values, per, {span.label: 0}, min_cell)
    return sorted(values, key=lambda v: (v.value is None, -(v.value or 0), v.key))


def reader_min_cell(is_operator: bool) -> int | None:
    """The suppression threshold for a reader: none for the operator."""
    return None if is_operator else get_min_cell()


def get_min_cell() -> int:
    return get_settings().stats.min_cell


def totals(
    session: Session, figures: Iterable[str], start: date, end: date
) -> dict[str, Decimal | None]:
    """Each figure over one span (a stock at its end), for the whole region."""
    return _span(session, list(figures), start, end)


def _span(session: Session, names: list[str], start: date, end: date) -> dict[str, Decimal | None]:
    """One span read as a single period (whatever its length)."""
    spans = [Period("span", start, end)]
    result: dict[str, Decimal | None] = {}
    rows = table_for_spans(session, names, spans)
    for value in rows:
        result[value.figure] = value.value
    return result


def table_for_spans(session: Session, names: list[str], spans: list[Period]) -> list[Value]:
    """Figures for arbitrary spans at the ``all`` cell (targets, headline figures)."""
    out: list[Value] = []
    for span in spans:
        wanted = [figure_or_raise(n) for n in names]
        base: set[str] = set()
        for figure in wanted:
            base |= _stored_inputs(figure)
        stocks = base & _stock_names()
        flows = base - stocks
        got: dict[str, Decimal] = defaultdict(Decimal)
        if flows:
            stmt = (
                select(FigureRow.figure, func.sum(FigureRow.value))
                .where(
                    FigureRow.dimension == Dimension.ALL,
                    FigureRow.figure.in_(sorted(flows)),
                    FigureRow.day >= span.first,
                    FigureRow.day <= span.last,
                )
                .group_by(FigureRow.figure)
            )
            got.update({f: Decimal(v) for f, v in session.execute(stmt)})
        if stocks:
            stmt = (
                select(FigureRow.figure, func.sum(FigureRow.value))
                .where(
                    FigureRow.dimension == Dimension.ALL,
                    FigureRow.figure.in_(sorted(stocks)),
                    FigureRow.day <= span.last,
                )
                .group_by(FigureRow.figure)
            )
            got.update({f: Decimal(v) for f, v in session.execute(stmt)})
        out += [Value(span.label, "", f.name, _value(f, got)) for f in wanted]
    return out


EXPORT_COLUMNS = (
    "period",
    "dimension",
    "key",
    "name",
    "figure",
    "label",
    "unit",
    "value",
    "suppressed",
)


def export_rows(
    values: Sequence[Value], dimension: Dimension, labels: dict[str, str], locale: str | None = None
) -> list[list[object]]:
    """A table's values as export rows (a suppressed value is empty, marked so)."""
    from xinyidai.core.i18n import gettext

    return [
        [
            v.period,
            str(dimension),
            v.key,
            labels.get(v.key, v.key),
            v.figure,
            gettext(FIGURES[v.figure].label, locale),
            str(FIGURES[v.figure].unit),
            v.value,
            "yes" if v.suppressed else "",
        ]
        for v in values
    ]


def export_csv(rows: list[list[object]]) -> str:
    from xinyidai.core import exports

    return exports.csv_text(EXPORT_COLUMNS, rows)


def export_xlsx(rows: list[list[object]]) -> bytes:
    from xinyidai.core import exports

    return exports.xlsx_bytes("figures", EXPORT_COLUMNS, rows, number_formats={7: "#,##0.00"})
