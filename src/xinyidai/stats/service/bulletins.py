"""Monthly bulletins (定期通报): the month's headline figures against the month before and the
year so far, a year's trend, the quarter's ranking of institutions and the notable changes;
generated on the 1st for the month before (``stats.jobs``), or by hand, archived one per
month with its PDF (``stats.pdf``).

The content is stored as generated (values as text): a bulletin says what the figures were
when it was issued, even after a rebuild corrects them.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from xinyidai.core import clock
from xinyidai.core.errors import NotFound, ValidationFailed, XydError
from xinyidai.stats import pdf
from xinyidai.stats.models import Bulletin, Grain
from xinyidai.stats.service import evaluation, figures
from xinyidai.stats.sources import FIGURES

GENERATE_TASK = "stats.bulletin"
FIGURES_SHOWN = (
    "enterprises_registered",
    "enterprises_with_data",
    "records_collected",
    "needs_posted",
    "applications",
    "approval_rate",
    "loans_granted",
    "loans_amount",
    "credit_loans_amount",
    "credit_loan_share",
    "first_loans",
    "average_rate",
    "balance",
    "overdue_rate",
    "alerts_raised",
)
TREND = ("loans_granted", "loans_amount")
NOTABLE_CHANGE = Decimal(20)  # percent, month on month
NOTABLE_MAX = 5
RANKED = 10


def parse_month(text: str) -> date:
    """The first day of a month given as ``YYYY-MM``."""
    try:
        year, month = text.split("-")
        first = date(int(year), int(month), 1)
    except ValueError as exc:
        raise ValidationFailed("a month is written YYYY-MM", field="month") from exc
    if first > clock.today():
        raise ValidationFailed("the month {month} has not begun", field="month", month=text)
    return first


def previous_month(today: date) -> str:
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def compose(session: Session, *, month: str) -> dict[str, Any]:
    """The bulletin's content for a month, from the figures as they are now."""
    first = parse_month(month)
    last = figures.period_of(Grain.MONTH, first).last
    before = figures.period_of(Grain.MONTH, first - timedelta(days=1))
    this = figures.totals(session, FIGURES_SHOWN, first, last)
    prior = figures.totals(session, FIGURES_SHOWN, before.first, before.last)
    year = figures.totals(session, FIGURES_SHOWN, date(first.year, 1, 1), last)
    rows = []
    notable = []
    for name in FIGURES_SHOWN:
        now, then = this[name], prior[name]
        change = None
        if now is not None and then:
            change = ((now - then) / abs(then) * 100).quantize(figures.CENT)
        rows.append(
            {
                "figure": name,
                "month": _text(now),
                "previous": _text(then),
                "change": _text(change),
                "year": _text(year[name]),
            }
        )
        if change is not None and abs(change) >= NOTABLE_CHANGE:
            notable.append((abs(change), name, change))
    notable.sort(reverse=True)
    trend_start = figures.period_of(Grain.MONTH, date(first.year - 1, first.month, 1)).last
    trend_start += timedelta(days=1)
    trend = figures.table(
        session, figures=list(TREND), grain=Grain.MONTH, start=trend_start, end=last
    )
    ranking: list[dict[str, Any]] = []
    quarter = (first.month - 1) // 3 + 1
    try:
        ranked = evaluation.rank(session, year=first.year, quarter=quarter, subject="institution")
        ranking = [
            {"rank": s.rank, "name": s.name, "score": str(s.score)} for s in ranked.scores[:RANKED]
        ]
    except XydError:  # no method for the year: the bulletin goes out without a ranking
        ranking = []
    return {
        "month": month,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "figures": rows,
        "notable": [{"figure": n, "change": str(c)} for _, n, c in notable[:NOTABLE_MAX]],
        "trend": {
            name: [[v.period, _text(v.value)] for v in trend if v.figure == name] for name in TREND
        },
        "quarter": f"{first.year}Q{quarter}",
        "ranking": ranking,
    }


def generate(session: Session, *, month: str, actor: str, locale: str = "zh_CN") -> Bulletin:
    """Generate (or generate again) a month's bulletin and its PDF."""
    content = compose(session, month=month)
    body = pdf.bulletin(content, locale=locale)
    bulletin = session.scalars(select(Bulletin).where(Bulletin.month == month)).first()
    if bulletin is None:
        bulletin = Bulletin(month=month)
        session.add(bulletin)
    bulletin.content = content
    bulletin.pdf = body
    bulletin.generated_at = clock.now()
    bulletin.generated_by = actor
    session.flush()
    return bulletin


def bulletins_statement() -> Select[Any]:
    return select(Bulletin).order_by(Bulletin.month.desc())


def get_or_raise(session: Session, *, month: str) -> Bulletin:
    found = session.scalars(select(Bulletin).where(Bulletin.month == month)).first()
    if found is None:
        raise NotFound("no bulletin for {month}", field="month", month=month)
    return found


def label(name: str) -> str:
    return FIGURES[name].label
