"""Early warning: the latest warning of every live loan, refreshed nightly and on demand,
and read by the lender (its own live loans, ranked) and the operator (all of them).

``refresh`` computes, for the live loans of the platform (or of some borrowers), the
early-warning model's probability of 30+ days overdue or default within six months, its
score, band and top reasons, from the borrower's current rating, the loan's repayment so
far, the borrower's other live loans and its bad neighbours (``risk.warning_model``); and
writes them to ``risk_loan_warning``, one row per live loan. A row whose figures did not
change is left as it is (so a second refresh changes nothing), a loan no longer live loses
its row. ``refresh_for_enterprise`` queues that for one borrower's loans once the caller's
transaction commits: what an alert calls when it is raised.

A warning is derived from non-public data (the rating's categories, other lenders' loans,
the borrower's links), so reading one goes through the access decision like reading a
rating: an institution under ``post_loan_monitoring`` (a letter from the borrower covering
the rating's categories), the operator under its duty. The lender's ranked list shows first
the loans whose borrower it may read, by probability; its other live loans follow, in the
order of their ids, with why their warning is withheld (never ranked by it, and left out
by a probability filter, so that the list reveals nothing of them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, delete, false, literal, select
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import POST_LOAN_MONITORING, Decision
from xinyidai.core import clock, queue
from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.pagination import Page, Paging, page_of
from xinyidai.graph import service as graph_service
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market import service as market_service
from xinyidai.registry import service as registry_service
from xinyidai.risk import warning_model
from xinyidai.risk.models import LoanWarning
from xinyidai.risk.warning_schemas import LoanWarningOut, RefreshOut, WarningReasonOut
from xinyidai.scoring import service as scoring_service

REFRESH_TASK = "risk.warnings.refresh"
REFRESH_ENTERPRISE_TASK = "risk.warnings.refresh_enterprise"
CHANNEL = "api:risk.warnings"
COMPARED = (
    "contract_number",
    "institution_id",
    "enterprise_name",
    "probability",
    "score",
    "band",
    "reasons",
    "days_overdue",
    "outstanding",
    "model_version",
    "as_of",
)


@dataclass
class Refreshed:
    """What a refresh did: live loans warned, rows added, changed, left, removed."""

    loans: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    bands: dict[str, int] = field(default_factory=dict)
    model_version: str = ""
    as_of: date | None = None

    def out(self) -> RefreshOut:
        return RefreshOut(
            loans=self.loans,
            added=self.added,
            changed=self.changed,
            unchanged=self.unchanged,
            removed=self.removed,
            bands=self.bands,
            model_version=self.model_version,
            as_of=self.as_of or clock.today(),
        )


# ------------------------------------------------------------------------------ refresh
def _borrowers(session: Session, codes: Sequence[str]) -> Any:
    """Each borrower's current rating score (rated now if it has none) and bad neighbours."""
    import polars as pl

    scores = scoring_service.current_scores(session, credit_codes=codes)
    unrated = [code for code in codes if code not in scores]
    if unrated:
        scoring_service.rate_subjects(session, credit_codes=unrated)
        scores |= scoring_service.current_scores(session, credit_codes=unrated)
    neighbours = graph_service.stored_bad_neighbours(session, credit_codes=list(codes))
    frame = pl.DataFrame(
        {
            "credit_code": list(scores),
            "rating_score": [value[0] for value in scores.values()],
        },
        schema={"credit_code": pl.String, "rating_score": pl.Float64},
    )
    return frame.join(
        neighbours.select(
            "credit_code", pl.col("depth1").cast(pl.Float64).alias("bad_associates_1")
        ),
        on="credit_code",
        how="left",
    )


def _values(
    session: Session, *, credit_codes: Sequence[str] | None, on: date
) -> tuple[dict[str, dict[str, Any]], str]:
    """The warning of every live loan (of ``credit_codes``, or all): loan id -> row values;
    and the model's version."""
    model = warning_model.current()
    live = market_service.behaviour.live_loans(session, credit_codes=credit_codes)
    if not live:
        return {}, model.version
    codes = list(dict.fromkeys(loan.credit_code for loan in live))
    loans = market_service.behaviour.loan_frame(session, on, codes)
    table = warning_model.table(loans, _borrowers(session, codes))
    scored = model.apply({name: table[name].to_numpy() for name in model.feature_names})
    reasons = scored.reasons()
    by_id = {loan.public_id: loan for loan in live}
    values: dict[str, dict[str, Any]] = {}
    for row, loan_id in enumerate(table["loan_id"].to_list()):
        loan = by_id.get(loan_id)
        if loan is None:  # started after the day asked for
            continue
        values[loan_id] = {
            "contract_number": loan.contract_number,
            "institution_id": loan.institution_id,
            "credit_code": loan.credit_code,
            "enterprise_name": loan.enterprise_name,
            "probability": round(float(scored.probability[row]), 6),
            "score": float(scored.score[row]),
            "band": str(scored.grade[row]),
            "reasons": [reason.as_dict() for reason in reasons[row]],
            "days_overdue": int(table["days_overdue_now"][row] or 0),
            "outstanding": Decimal(str(loan.balance)).quantize(Decimal("0.01")),
            "model_version": model.version,
            "as_of": on,
        }
    return values, model.version


def _same(row: LoanWarning, values: dict[str, Any]) -> bool:
    for name in COMPARED:
        mine = getattr(row, name)
        theirs = values[name]
        if name == "reasons":
            mine, theirs = json.dumps(mine, sort_keys=True), json.dumps(theirs, sort_keys=True)
        elif name == "outstanding":
            mine, theirs = Decimal(str(mine)), Decimal(str(theirs))
        if mine != theirs:
            return False
    return True


def refresh(
    session: Session, *, credit_codes: Sequence[str] | None = None, on: date | None = None
) -> Refreshed:
    """Compute the warning of every live loan (of ``credit_codes``, or all) as of ``on``
    (today) and store it; rows of loans no longer live (of those borrowers) are removed.
    Adds and flushes; the caller commits."""
    day = on or clock.today()
    values, version = _values(session, credit_codes=credit_codes, on=day)
    stmt = select(LoanWarning)
    if credit_codes is not None:
        stmt = stmt.where(LoanWarning.credit_code.in_(list(dict.fromkeys(credit_codes))))
    existing = {row.loan_id: row for row in session.scalars(stmt)}
    done = Refreshed(loans=len(values), model_version=version, as_of=day)
    now = clock.now()
    for loan_id, row_values in values.items():
        done.bands[row_values["band"]] = done.bands.get(row_values["band"], 0) + 1
        row = existing.pop(loan_id, None)
        if row is None:
            session.add(LoanWarning(loan_id=loan_id, computed_at=now, **row_values))
            done.added += 1
        elif _same(row, row_values):
            done.unchanged += 1
        else:
            for name, value in row_values.items():
                setattr(row, name, value)
            row.computed_at = now
            done.changed += 1
    if existing:
        session.execute(
            delete(LoanWarning).where(LoanWarning.id.in_([r.id for r in existing.values()]))
        )
        done.removed = len(existing)
    session.flush()
    return done


def refresh_for_enterprise(session: Session, credit_code: str) -> str:
    """Queue a refresh of the warnings of one borrower's loans, to run once the caller's
    transaction commits (an alert was raised about it); the normalized code. An unknown
    code is an error and queues nothing."""
    subject = registry_service.get_by_code_or_raise(session, credit_code=credit_code)
    queue.enqueue_after_commit(session, REFRESH_ENTERPRISE_TASK, subject.credit_code)
    return subject.credit_code


# ------------------------------------------------------------------------------ reading
def _categories() -> list[str]:
    return scoring_service.rated_categories()


def _scope(principal: Principal, institution: str | None) -> str | None:
    """The institution whose warnings the principal lists (None: all, the operator)."""
    kind = principal.organization_kind
    wanted = (institution or "").strip() or None
    if kind == OrgKind.OPERATOR:
        return wanted
    if kind == OrgKind.INSTITUTION and principal.organization_public_id:
        if wanted is not None and wanted != principal.organization_public_id:
            raise Forbidden(
                "an institution sees the warnings of its own loans", field="institution"
            )
        return principal.organization_public_id
    raise Forbidden("early warnings are for lending institutions and the operator", field="role")


def _purpose(principal: Principal) -> str | None:
    return POST_LOAN_MONITORING if principal.organization_kind == OrgKind.INSTITUTION else None


def readable_borrowers(session: Session, principal: Principal, institution_id: str) -> list[str]:
    """The institution's borrowers with warnings whose every rated category the access
    decision would grant it now for post-loan monitoring (asked without recording)."""
    codes = session.scalars(
        select(LoanWarning.credit_code)
        .where(LoanWarning.institution_id == institution_id)
        .distinct()
        .order_by(LoanWarning.credit_code)
    ).all()
    categories = _categories()
    wanted = set(categories)
    return [
        code
        for code in codes
        if consent_service.grantable(
            session,
            actor=principal,
            subject=code,
            categories=categories,
            purpose=POST_LOAN_MONITORING,
        )
        >= wanted
    ]


def warnings_statement(
    *,
    institution_id: str | None,
    min_probability: float | None,
    readable: Sequence[str] | None,
) -> Select[Any]:
    """Warnings ranked by probability; with ``readable`` (an institution), those borrowers
    first and the rest after in the order of their loan ids (filtered out by a minimum)."""
    stmt = select(LoanWarning)
    if institution_id is not None:
        stmt = stmt.where(LoanWarning.institution_id == institution_id)
    if readable is None:
        if min_probability is not None:
            stmt = stmt.where(LoanWarning.probability >= min_probability)
        return stmt.order_by(LoanWarning.probability.desc(), LoanWarning.loan_id)
    shown = LoanWarning.credit_code.in_(list(readable)) if readable else false()
    if min_probability is not None:
        stmt = stmt.where(shown, LoanWarning.probability >= min_probability)
    rank = case((shown, LoanWarning.probability), else_=literal(-1.0))
    return stmt.order_by(rank.desc(), LoanWarning.loan_id)


def _reasons(row: LoanWarning, locale: str) -> list[WarningReasonOut]:
    key = "text_en" if locale == "en" else "text_zh"
    return [WarningReasonOut(code=r["code"], text=r[key], impact=r["impact"]) for r in row.reasons]


def warning_out(row: LoanWarning, *, locale: str, withheld: str | None = None) -> LoanWarningOut:
    shown = withheld is None
    return LoanWarningOut(
        loan_id=row.loan_id,
        contract_number=row.contract_number,
        institution_id=row.institution_id,
        credit_code=row.credit_code,
        enterprise_name=row.enterprise_name,
        days_overdue=row.days_overdue,
        outstanding=row.outstanding,
        withheld=withheld,
        probability=row.probability if shown else None,
        score=row.score if shown else None,
        band=row.band if shown else None,
        reasons=_reasons(row, locale) if shown else [],
        model_version=row.model_version,
        as_of=row.as_of,
        computed_at=row.computed_at,
    )


def _decided(
    session: Session,
    principal: Principal,
    rows: list[LoanWarning],
    *,
    locale: str,
    readable: set[str] | None,
) -> list[LoanWarningOut]:
    """The page's warnings as the access decision lets the principal see them: one decision
    (recorded) per borrower on the page whose warning may be shown."""
    verdicts: dict[str, str | None] = {}
    for code in dict.fromkeys(row.credit_code for row in rows):
        if readable is not None and code not in readable:
            verdicts[code] = "no_basis"
            continue
        decision = consent_service.decide(
            session,
            actor=principal,
            subject=code,
            categories=_categories(),
            purpose=_purpose(principal),
            channel=CHANNEL,
        )
        verdicts[code] = scoring_service.withheld_from(decision)
    return [warning_out(row, locale=locale, withheld=verdicts[row.credit_code]) for row in rows]


def list_warnings(
    session: Session,
    principal: Principal,
    paging: Paging,
    *,
    locale: str,
    min_probability: float | None = None,
    institution: str | None = None,
) -> Page[LoanWarningOut]:
    """One page of the warnings the principal may list, ranked (see the module's text)."""
    if min_probability is not None and not 0.0 <= min_probability <= 1.0:
        raise ValidationFailed("must be between 0 and 1", field="min_probability")
    scope = _scope(principal, institution)
    if (
        principal.organization_kind == OrgKind.OPERATOR
        and scope is not None
        and session.scalar(
            select(LoanWarning.id).where(LoanWarning.institution_id == scope).limit(1)
        )
        is None
        and not _is_institution(session, scope)
    ):
        raise NotFound("no institution {institution}", field="institution", institution=scope)
    readable: list[str] | None = None
    if principal.organization_kind == OrgKind.INSTITUTION and scope is not None:
        readable = readable_borrowers(session, principal, scope)
    stmt = warnings_statement(
        institution_id=scope, min_probability=min_probability, readable=readable
    )
    allowed = set(readable) if readable is not None else None
    return page_of(
        session,
        stmt,
        paging,
        items=lambda rows: _decided(session, principal, rows, locale=locale, readable=allowed),
    )


def _is_institution(session: Session, public_id: str) -> bool:
    organization = iam_service.get_organization(session, public_id=public_id)
    return organization is not None and organization.kind == OrgKind.INSTITUTION


def warning_of_loan(session: Session, principal: Principal, *, loan_id: str) -> LoanWarning:
    """The latest warning of one live loan the principal may see (its lender, the
    operator); a loan it may not see, or one that is not live, ``NotFound``. The caller
    then asks ``decide_warning`` whether it may be shown."""
    _scope(principal, None)
    loan = market_service.loans.visible_or_raise(session, principal=principal, loan_id=loan_id)
    row = session.scalar(select(LoanWarning).where(LoanWarning.loan_id == loan.public_id))
    if row is None:
        raise NotFound(
            "loan {loan} has no warning: it is not live, or not refreshed yet",
            field="loan_id",
            loan=loan_id,
        )
    return row


def decide_warning(session: Session, principal: Principal, row: LoanWarning) -> Decision:
    """The access decision (recorded) on showing one warning to the principal."""
    return consent_service.decide(
        session,
        actor=principal,
        subject=row.credit_code,
        categories=_categories(),
        purpose=_purpose(principal),
        channel=CHANNEL,
    )


def band_counts(session: Session, *, institution_id: str | None = None) -> dict[str, int]:
    """How many live loans are in each band (all, or one institution's): for summaries."""
    from sqlalchemy import func

    stmt = select(LoanWarning.band, func.count()).group_by(LoanWarning.band)
    if institution_id is not None:
        stmt = stmt.where(LoanWarning.institution_id == institution_id)
    counts = dict.fromkeys(warning_model.BAND_NAMES, 0)
    for band, count in session.execute(stmt):
        counts[str(band)] = int(count)
    return counts
