"""The indicators of every enterprise as of a day, computed set-based with polars.

Each source category is read once, in bulk, through the records service (one statement;
COPY on PostgreSQL), its rows aggregated per enterprise by polars, and the results joined
onto the registry's subjects. Nothing loops over enterprises in Python, so the same code
serves one enterprise (a rating on request, a record on arrival) and a million (a full
run). Records of events after the as-of day, and negative records past their disclosure
period, are left out by the records service.

Counts and sums of records an enterprise does not have are 0; a latest value (tax grade,
headcount) it does not have is missing, which the scorecard scores as a bin of its own.

The two association indicators (bad enterprises one and two links away) are not computed
here: association analysis counts them for the whole region and stores them
(``graph.service.stored_bad_neighbours``), and they are read back in one statement; an
enterprise without stored counts has none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from xinyidai.graph import service as graph_service
from xinyidai.records import service as records_service
from xinyidai.registry import service as registry_service
from xinyidai.registry.models import SubjectStatus
from xinyidai.scoring import loan_behaviour
from xinyidai.scoring.indicators import CATEGORICAL_NAMES, NAMES

if TYPE_CHECKING:
    import polars as pl

RATED_STATUSES = (SubjectStatus.ACTIVE, SubjectStatus.PENDING)
YEAR_DAYS = 365
GRAVE_PENALTIES = ("停产", "停业", "吊销", "关闭", "拘留", "撤销")
SERIOUS_PENALTIES = ("没收", "暂扣", "降低资质")
CLOSED_CASE = "已结案"
RELEASED_GUARANTEE = "已解除"

Aggregate = Callable[["pl.LazyFrame", date], "pl.LazyFrame"]


@dataclass(frozen=True)
class Source:
    """A category the indicators read, the fields read from it, and how it is aggregated."""

    category: str
    fields: tuple[str, ...]
    aggregate: Aggregate


def _num(name: str) -> pl.Expr:
    import polars as pl

    return pl.col(name).cast(pl.Float64, strict=False)


def _day(name: str) -> pl.Expr:
    import polars as pl

    return pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _still_on(name: str, on: date) -> pl.Expr:
    """True while a dated end (removal, validity) has not come by ``on``."""
    import polars as pl

    return _day(name).is_null() | (_day(name) > pl.lit(on))


def _latest_year(frame: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """``frame`` with ``in_latest_year`` (within a year of the enterprise's latest
    ``column``) and ``in_year_before`` (the year before that).

    Payments are judged on each enterprise's own latest year of data, not on a window
    ending on the as-of day: departments report with a lag, and a window that ran past
    the last report would read as if nothing had been paid.
    """
    import polars as pl

    day = pl.col("_day")
    latest = pl.col("_latest")
    year_ago = latest.dt.offset_by(f"-{YEAR_DAYS}d")
    return (
        frame.with_columns(_day=_day(column))
        .with_columns(_latest=day.max().over("subject_code"))
        .with_columns(
            in_latest_year=(day > year_ago).fill_null(False),
            in_year_before=(
                (day <= year_ago) & (day > latest.dt.offset_by(f"-{2 * YEAR_DAYS}d"))
            ).fill_null(False),
        )
    )


def _only(condition: str, value: pl.Expr) -> pl.Expr:
    """``value`` where ``condition`` holds, else 0 (cheaper than filtering in a group)."""
    import polars as pl

    return pl.when(pl.col(condition)).then(value).otherwise(0.0)


def _tax_rating(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    import polars as pl

    return frame.group_by("subject_code").agg(
        pl.col("grade").sort_by(_num("year"), _day("rated_on")).last().alias("tax_grade")
    )


def _tax_payment(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    import polars as pl

    paid = _num("tax_paid").fill_null(0.0)
    summed = (
        _latest_year(frame, "period_start")
        .group_by("subject_code")
        .agg(
            _only("in_latest_year", paid).sum().alias("tax_paid_last_year"),
            _only("in_year_before", paid).sum().alias("_paid_before"),
            pl.col("in_year_before").any().alias("_has_before"),
            _only("in_latest_year", _num("overdue_tax").fill_null(0.0)).sum().alias("tax_overdue"),
        )
    )
    return summed.with_columns(
        tax_payment_trend=pl.when(pl.col("_has_before") & (pl.col("_paid_before") > 0))
        .then(pl.col("tax_paid_last_year") / pl.col("_paid_before"))
        .otherwise(None)
    ).drop("_paid_before", "_has_before")


def _count(name: str) -> Aggregate:
    def aggregate(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
        import polars as pl

        return frame.group_by("subject_code").agg(pl.len().cast(pl.Float64).alias(name))

    return aggregate


def _social_insurance(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:

    order = (_num("year"), _day("as_of"))
    return frame.group_by("subject_code").agg(
        _num("insured_count").sort_by(*order).last().alias("insured_count"),
        _num("arrears_months").fill_null(0.0).sort_by(*order).last().alias("si_arrears_months"),
    )


def _housing_fund(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:

    order = _day("last_deposit_on")
    return frame.group_by("subject_code").agg(
        _num("depositor_count").sort_by(order).last().alias("hf_depositors"),
        _num("arrears_months").fill_null(0.0).sort_by(order).last().alias("hf_arrears_months"),
    )


def _severity() -> pl.Expr:
    """1 minor, 2 serious, 3 grave: the stated severity, else what the penalty was."""
    import polars as pl

    stated = (
        pl.when(pl.col("severity") == "严重")
        .then(3)
        .when(pl.col("severity") == "较重")
        .then(2)
        .when(pl.col("severity") == "一般")
        .then(1)
    )
    kind = pl.col("penalty_type").fill_null("")
    inferred = (
        pl.when(kind.str.contains("|".join(GRAVE_PENALTIES)))
        .then(3)
        .when(kind.str.contains("|".join(SERIOUS_PENALTIES)))
        .then(2)
        .otherwise(1)
    )
    return pl.coalesce(stated, inferred).cast(pl.Float64)


def _admin_penalty(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    import polars as pl

    return frame.group_by("subject_code").agg(
        pl.len().cast(pl.Float64).alias("penalties"),
        _num("fine_amount").fill_null(0.0).sum().alias("penalty_fines"),
        _severity().max().alias("penalty_severity"),
        (pl.lit(on) - _day("decided_on").max())
        .dt.total_days()
        .cast(pl.Float64)
        .alias("days_since_penalty"),
    )


def _court_enforcement(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    import polars as pl

    return frame.group_by("subject_code").agg(
        pl.len().cast(pl.Float64).alias("enforcement_cases"),
        (pl.col("status").fill_null("") != CLOSED_CASE)
        .sum()
        .cast(pl.Float64)
        .alias("enforcement_open"),
        _num("amount").fill_null(0.0).sum().alias("enforcement_amount"),
    )


def _listed(name: str) -> Aggregate:
    """Entries of a list still in force (not removed by the as-of day)."""

    def aggregate(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
        import polars as pl

        return frame.group_by("subject_code").agg(
            _still_on("removed_on", on).sum().cast(pl.Float64).alias(name)
        )

    return aggregate


def _abnormal_operation(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    import polars as pl

    current = _still_on("removed_on", on)
    return frame.group_by("subject_code").agg(
        current.sum().cast(pl.Float64).alias("abnormal_current"),
        (~current).sum().cast(pl.Float64).alias("abnormal_removed"),
    )


def _utility_payment(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    return (
        _latest_year(frame, "period_start")
        .group_by("subject_code")
        .agg(
            _only("in_latest_year", _num("arrears_months").fill_null(0.0))
            .max()
            .alias("utility_arrears_months"),
            _only("in_latest_year", _num("arrears_amount").fill_null(0.0))
            .sum()
            .alias("utility_arrears_amount"),
        )
    )


def _gov_procurement(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    import polars as pl

    return frame.group_by("subject_code").agg(
        pl.len().cast(pl.Float64).alias("procurement_awards"),
        _num("contract_amount").fill_null(0.0).sum().alias("procurement_amount"),
    )


def _red_list(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    import polars as pl

    return frame.group_by("subject_code").agg(
        _still_on("valid_until", on).sum().cast(pl.Float64).alias("honours")
    )


def _guarantee(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    import polars as pl

    in_force = (pl.col("status").fill_null("") != RELEASED_GUARANTEE) & (
        _day("end_on").is_null() | (_day("end_on") >= pl.lit(on))
    )
    return frame.group_by("subject_code").agg(
        _num("amount").fill_null(0.0).filter(in_force).sum().alias("_guaranteed")
    )


def _customs_record(frame: pl.LazyFrame, on: date) -> pl.LazyFrame:
    import polars as pl

    return frame.group_by("subject_code").agg(
        pl.col("customs_grade").sort_by(_day("registered_on")).last().alias("customs_grade")
    )


SOURCES: tuple[Source, ...] = (
    Source("tax_rating", ("grade", "year", "rated_on"), _tax_rating),
    Source("tax_payment", ("tax_paid", "overdue_tax", "period_start"), _tax_payment),
    Source("tax_arrears", ("amount",), _count("tax_arrears_notices")),
    Source(
        "social_insurance", ("insured_count", "arrears_months", "year", "as_of"), _social_insurance
    ),
    Source("housing_fund", ("depositor_count", "arrears_months", "last_deposit_on"), _housing_fund),
    Source(
        "admin_penalty", ("fine_amount", "severity", "penalty_type", "decided_on"), _admin_penalty
    ),
    Source("court_enforcement", ("amount", "status"), _court_enforcement),
    Source("dishonest_debtor", ("case_number",), _count("dishonest_listings")),
    Source("serious_dishonesty", ("removed_on",), _listed("blacklisted")),
    Source("black_list", ("removed_on",), _listed("blacklisted")),
    Source("abnormal_operation", ("removed_on",), _abnormal_operation),
    Source(
        "utility_payment", ("arrears_months", "arrears_amount", "period_start"), _utility_payment
    ),
    Source("ip_patent", ("patent_number",), _count("patents")),
    Source("ip_trademark", ("registration_number",), _count("trademarks")),
    Source("gov_procurement", ("contract_amount",), _gov_procurement),
    Source("honour", ("honour_name",), _count("honours")),
    Source("red_list", ("valid_until",), _red_list),
    Source("guarantee", ("amount", "status", "end_on"), _guarantee),
    Source("customs_record", ("customs_grade", "registered_on"), _customs_record),
)

# Indicators that count or add up records: no record means 0, not "unknown".
ZERO_WHEN_ABSENT = (
    "tax_overdue",
    "tax_arrears_notices",
    "penalties",
    "penalty_fines",
    "penalty_severity",
    "enforcement_cases",
    "enforcement_open",
    "enforcement_amount",
    "dishonest_listings",
    "blacklisted",
    "abnormal_current",
    "abnormal_removed",
    "utility_arrears_amount",
    "patents",
    "trademarks",
    "procurement_awards",
    "procurement_amount",
    "honours",
    "bad_associates_1",
    "bad_associates_2",
)

ASSOCIATIONS = "associations"  # the step that reads the stored bad-neighbour counts


def source_categories() -> list[str]:
    """The catalogue categories the indicators read."""
    return list(dict.fromkeys(source.category for source in SOURCES))


def rated_categories() -> list[str]:
    """Every catalogue category a rating reveals something of, which an access decision must
    grant before a rating is shown: those read here, and those the association indicators
    are counted from (the subject's registration, shareholders and guarantees)."""
    return list(dict.fromkeys([*source_categories(), *graph_service.ASSOCIATION_CATEGORIES]))


def parts() -> int:
    """How many steps ``compute`` reports for every subject: the registry, each category,
    the association counts."""
    return 2 + len(source_categories())


def _associations(session: Session, credit_codes: Sequence[str] | None) -> pl.LazyFrame:
    """The stored bad-neighbour counts as the two association indicators."""
    import polars as pl

    counts = graph_service.stored_bad_neighbours(session, credit_codes=credit_codes)
    return counts.lazy().select(
        "credit_code",
        pl.col("depth1").cast(pl.Float64).alias("bad_associates_1"),
        pl.col("depth2").cast(pl.Float64).alias("bad_associates_2"),
    )


def compute(
    session: Session,
    *,
    on: date,
    credit_codes: Sequence[str] | None = None,
    step: Callable[[str], None] | None = None,
    loans: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The indicators of the rated subjects (or of ``credit_codes``) as of ``on``.

    The loan indicators come from the platform's loans as the marketplace hands them over
    (``loan_behaviour.loans_of``), or from ``loans`` in that shape (a synthetic loan book).

    One row per subject: ``credit_code``, ``as_of`` and one column per indicator (floats;
    the tax and customs grades as text). ``step`` is told the name of each part as it is
    read (a progress bar). The aggregation is one lazy polars plan, run once at the end.
    """
    import polars as pl

    if credit_codes is None:
        subjects = registry_service.subjects_frame(session, statuses=RATED_STATUSES)
    else:
        subjects = registry_service.subjects_frame(session, credit_codes=credit_codes)
    if step is not None:
        step("registry")
    age = (pl.lit(on) - pl.col("established_on")).dt.total_days() / 365.25
    table = subjects.lazy().select(
        "credit_code",
        pl.when(age >= 0).then(age).otherwise(None).alias("age_years"),
        pl.col("registered_capital"),
    )
    fields = {source.category: source.fields for source in SOURCES}
    # a category missing from this node's catalogue has no records: it reads as none
    if credit_codes is None:
        frames: dict[str, pl.DataFrame] = {}
        for category in source_categories():
            frames |= records_service.category_frames(
                session, fields={category: fields[category]}, on=on, skip_unknown=True
            )
            if step is not None:
                step(category)
    else:
        frames = records_service.category_frames(
            session, fields=fields, subject_codes=credit_codes, on=on, skip_unknown=True
        )
    results: dict[tuple[str, ...], list[pl.LazyFrame]] = {}
    for source in SOURCES:
        frame = frames.get(source.category)
        if frame is not None and frame.height:
            result = source.aggregate(frame.lazy(), on)
            results.setdefault(tuple(result.collect_schema().names()), []).append(result)
    for found in results.values():
        # an indicator fed by two categories (lists, honours) adds up their counts
        combined = (
            found[0]
            if len(found) == 1
            else pl.concat(found).group_by("subject_code").agg(pl.exclude("subject_code").sum())
        )
        table = table.join(
            combined.rename({"subject_code": "credit_code"}), on="credit_code", how="left"
        )
    table = table.join(_associations(session, credit_codes), on="credit_code", how="left")
    if loans is None:
        loans = loan_behaviour.loans_of(session, on=on, credit_codes=credit_codes)
    elif credit_codes is not None:
        loans = loans.filter(pl.col("credit_code").is_in(list(credit_codes)))
    if loans.height:
        table = table.join(loan_behaviour.aggregate(loans).lazy(), on="credit_code", how="left")
    if step is not None:
        step(ASSOCIATIONS)
    present = set(table.collect_schema().names())
    absent = [
        pl.lit(None, dtype=pl.String if name in CATEGORICAL_NAMES else pl.Float64).alias(name)
        for name in (*NAMES, "_guaranteed")
        if name not in present
    ]
    if absent:
        table = table.with_columns(absent)
    table = table.with_columns(
        [pl.col(name).fill_null(0.0) for name in ZERO_WHEN_ABSENT]
        + [
            pl.when(pl.col("registered_capital") > 0)
            .then(pl.col("_guaranteed").fill_null(0.0) / pl.col("registered_capital"))
            .otherwise(None)
            .alias("guarantee_exposure")
        ]
    )
    return table.select("credit_code", pl.lit(on).alias("as_of"), *NAMES).collect()
