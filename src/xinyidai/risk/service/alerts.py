"""Alerts: what post-loan monitoring raises about watched enterprises, and the inbox.

A scan (``scan``) looks at the enterprises it is given as the records, the ratings and
the platform's loans say now, and raises an alert for every event a live loan watching them
has not had an alert for:

- a new negative record (administrative penalty, court judgment or enforcement, dishonest
  debtor, serious dishonesty, abnormal operation, black list, tax arrears) or social
  insurance falling into arrears, stored after watching began;
- the tax credit grade falling (A > B > M > C > D), against the version before or the year
  before;
- the rating falling two grades or more below the one in force when watching began, or into
  CCC–C;
- another loan of the borrower on the platform overdue or defaulted (cross-default), a
  guarantee partner or a member of a guarantee circle through the borrower defaulting;
- a correction of a record of the borrower that existed when the loan was made.

Each alert's ``key`` (the loan and the event) is unique, so scanning again — the periodic
sweep, a worker killed and restarted mid-scan — raises nothing twice and, the alert and its
webhook deliveries being written in one transaction, loses nothing.

Reading an alert asks the access decision (purpose ``post_loan_monitoring``) for the
categories its details come from: without a basis the alert says what kind of event
happened in which category and how severe, not what.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import POST_LOAN_MONITORING, Decision
from xinyidai.core import clock, queue
from xinyidai.core.db import is_postgres
from xinyidai.core.errors import Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.transitions import Machine, Move, Transition
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.market.models import Loan, LoanState
from xinyidai.market.service import loans as loans_service
from xinyidai.market.service import webhooks
from xinyidai.privacy import service as privacy
from xinyidai.records import service as records_service
from xinyidai.records.schemas import RecordOut, RecordVersionOut
from xinyidai.risk.models import (
    SEVERITY_ORDER,
    Alert,
    AlertAction,
    AlertKind,
    AlertSeverity,
    AlertState,
    Watch,
    WatchRelation,
)
from xinyidai.risk.service import watch as watch_service
from xinyidai.scoring import service as scoring_service
from xinyidai.scoring.models import CreditRating
from xinyidai.scoring.scorecard import DEFAULT_GRADES

log = logging.getLogger(__name__)

SCAN_TASK = "risk.scan"  # the queue task that scans some watched enterprises
KIND = "risk_alert"  # the subject kind of an alert's history rows
ACTOR = "system:risk"
WEBHOOK_CHANNEL = "risk:webhook"

_INSTITUTION = (OrgKind.INSTITUTION,)
ALERTS: Machine[AlertState] = Machine(
    kind=KIND,
    states=AlertState,
    subject=Alert,
    moves=(
        Move("raise", (), AlertState.NEW),  # a scan found the event
        Move("acknowledge", (AlertState.NEW,), AlertState.ACKNOWLEDGED, _INSTITUTION),
        Move("act", (AlertState.ACKNOWLEDGED,), AlertState.ACTED, _INSTITUTION),
        Move("close", (AlertState.ACTED,), AlertState.CLOSED, _INSTITUTION),
    ),
    refusal=N_("the alert is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the lending institution may do this"),
    forbidden_field="alert_id",
    reason_max=2000,
)
MOVES = ("acknowledge", "act", "close")

# ----------------------------------------------------------------------------- the events

# Negative records by catalogue category, and how severe a new one is for the borrower.
NEGATIVE_SEVERITY: dict[str, AlertSeverity] = {
    "admin_penalty": AlertSeverity.MEDIUM,
    "court_judgment": AlertSeverity.MEDIUM,
    "court_enforcement": AlertSeverity.HIGH,
    "dishonest_debtor": AlertSeverity.HIGH,
    "serious_dishonesty": AlertSeverity.HIGH,
    "abnormal_operation": AlertSeverity.MEDIUM,
    "black_list": AlertSeverity.HIGH,
    "tax_arrears": AlertSeverity.MEDIUM,
}
SOCIAL_INSURANCE = "social_insurance"
ARREARS_FIELDS = ("arrears_amount", "arrears_months")
TAX_RATING = "tax_rating"
TAX_GRADES = ("A", "B", "M", "C", "D")  # best first
TAX_BAD = ("C", "D")
RATING_GRADES = tuple(name for name, _ in DEFAULT_GRADES)  # best first
RATING_BAD = ("CCC", "CC", "C")
# Categories of alerts whose facts are no catalogue category.
RATING = "rating"
PLATFORM_LOAN = "platform_loan"
GUARANTEE = "guarantee"
REGISTRATION = "registration"
DEFAULT_STATES = (LoanState.DEFAULTED, LoanState.WRITTEN_OFF)
CROSS_STATES = (LoanState.OVERDUE, *DEFAULT_STATES)
# Relations whose link comes from guarantee records (confidential): who the associate is
# shows only to a lender with a basis for the borrower's guarantee records.
GUARANTEE_RELATIONS = (WatchRelation.GUARANTEE, WatchRelation.CIRCLE)

ALL_RELATIONS = frozenset(WatchRelation)
BORROWER_ONLY = frozenset({WatchRelation.BORROWER})


def lower(severity: AlertSeverity) -> AlertSeverity:
    """One step less severe (an associate's event weighs less than the borrower's)."""
    return SEVERITY_ORDER[max(SEVERITY_ORDER.index(severity) - 1, 0)]


@dataclass
class Candidate:
    """An event about one enterprise that may become an alert for each loan watching it."""

    kind: AlertKind
    category: str
    severity: AlertSeverity
    key: str
    at: datetime
    evidence: dict[str, Any]
    relations: frozenset[str] = ALL_RELATIONS
    since_matters: bool = True  # only events after watching began
    relied_before: datetime | None = None  # a correction: the record existed before this

    def applies(self, row: Watch) -> bool:
        if row.relation not in self.relations:
            return False
        since = clock.as_utc(row.since)
        if self.relied_before is not None and self.relied_before > since:
            return False
        return not self.since_matters or clock.as_utc(self.at) > since


def _positive(value: Any) -> bool:
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def _arrears(data: dict[str, Any]) -> bool:
    return any(_positive(data.get(name)) for name in ARREARS_FIELDS)


def _rank(grades: Sequence[str], grade: Any) -> int | None:
    return grades.index(grade) if grade in grades else None


def _ref(record_id: str, version: int, category: str) -> dict[str, Any]:
    return {"record_id": record_id, "version": version, "category": category}


def _oldest_first(record: RecordOut) -> list[RecordVersionOut]:
    return sorted(record.history or [], key=lambda v: v.version)


def _record_events(code: str, records: list[RecordOut]) -> list[Candidate]:
    found: list[Candidate] = []
    tax_years: list[tuple[int, RecordOut]] = []
    for record in records:
        versions = _oldest_first(record)
        if not versions:
            continue
        first, current = versions[0], versions[-1]
        category = record.category
        if category in NEGATIVE_SEVERITY:
            found.append(
                Candidate(
                    kind=AlertKind.NEGATIVE_RECORD,
                    category=category,
                    severity=NEGATIVE_SEVERITY[category],
                    key=f"neg:{record.id}",
                    at=first.created_at,
                    evidence={"records": [_ref(record.id, first.version, category)]},
                )
            )
        elif category == SOCIAL_INSURANCE:
            fell: RecordVersionOut | None = None
            before: RecordVersionOut | None = None
            for version in versions:
                if _arrears(version.data) and (before is None or not _arrears(before.data)):
                    fell = version
                before = version
            if fell is not None and _arrears(current.data):
                found.append(
                    Candidate(
                        kind=AlertKind.NEGATIVE_RECORD,
                        category=category,
                        severity=AlertSeverity.MEDIUM,
                        key=f"arrears:{record.id}:{fell.version}",
                        at=fell.created_at,
                        evidence={"records": [_ref(record.id, fell.version, category)]},
                    )
                )
        elif category == TAX_RATING:
            year = record.data.get("year")
            if isinstance(year, int) or (isinstance(year, str) and year.isdigit()):
                tax_years.append((int(year), record))
            if len(versions) > 1:
                old, new = versions[-2], current
                fall = _tax_fall(old.data.get("grade"), new.data.get("grade"))
                if fall is not None:
                    found.append(
                        _tax_candidate(
                            record.id,
                            new,
                            fall,
                            [_ref(record.id, old.version, category)],
                        )
                    )
        # A new version no other event explains corrects a fact the lender relied on.
        explained = any(c.key.endswith(f"{record.id}:{current.version}") for c in found)
        if len(versions) > 1 and category != TAX_RATING and not explained:
            found.append(
                Candidate(
                    kind=AlertKind.RECORD_CORRECTED,
                    category=category,
                    severity=AlertSeverity.MEDIUM,
                    key=f"fix:{record.id}:{current.version}",
                    at=current.created_at,
                    evidence={
                        "records": [
                            _ref(record.id, versions[-2].version, category),
                            _ref(record.id, current.version, category),
                        ]
                    },
                    relations=BORROWER_ONLY,
                    relied_before=first.created_at,
                )
            )
    # A new year's tax grade below the year before.
    tax_years.sort(key=lambda pair: pair[0])
    for (_, earlier), (_, later) in itertools.pairwise(tax_years):
        later_versions = _oldest_first(later)
        if not later_versions:
            continue
        fall = _tax_fall(earlier.data.get("grade"), later.data.get("grade"))
        if fall is not None and later.version == later_versions[0].version:
            found.append(
                _tax_candidate(
                    later.id,
                    later_versions[-1],
                    fall,
                    [_ref(earlier.id, earlier.version, TAX_RATING)],
                )
            )
    return found


def _tax_fall(old: Any, new: Any) -> tuple[str, str] | None:
    before, after = _rank(TAX_GRADES, old), _rank(TAX_GRADES, new)
    if before is None or after is None or after <= before:
        return None
    return str(old), str(new)


def _tax_candidate(
    record_id: str, version: RecordVersionOut, fall: tuple[str, str], earlier: list[dict[str, Any]]
) -> Candidate:
    return Candidate(
        kind=AlertKind.TAX_GRADE_FALL,
        category=TAX_RATING,
        severity=AlertSeverity.HIGH if fall[1] in TAX_BAD else AlertSeverity.MEDIUM,
        key=f"tax:{record_id}:{version.version}",
        at=version.created_at,
        evidence={"records": [*earlier, _ref(record_id, version.version, TAX_RATING)]},
        relations=BORROWER_ONLY,
    )


def _rating_event(session: Session, code: str, since: datetime) -> Candidate | None:
    """The rating's fall for a loan watching since ``since``: two grades or more below
    the rating in force then, or into CCC–C from above."""
    current = scoring_service.current_rating(session, credit_code=code)
    if current is None or clock.as_utc(current.rated_at) <= since:
        return None
    baseline = session.scalar(
        scoring_service.history_statement(credit_code=code)
        .where(CreditRating.rated_at <= since)
        .limit(1)
    )
    now_rank = _rank(RATING_GRADES, current.grade)
    if now_rank is None:
        return None
    then_rank = None if baseline is None else _rank(RATING_GRADES, baseline.grade)
    into_bad = current.grade in RATING_BAD and (
        baseline is None or baseline.grade not in RATING_BAD
    )
    fell_two = then_rank is not None and now_rank - then_rank >= 2
    if not (into_bad or fell_two):
        return None
    return Candidate(
        kind=AlertKind.RATING_FALL,
        category=RATING,
        severity=AlertSeverity.HIGH if current.grade in RATING_BAD else AlertSeverity.MEDIUM,
        key=f"rating:{current.grade}",
        at=current.rated_at,
        evidence={
            "ratings": [r.id for r in (baseline, current) if r is not None],
            "from_grade": None if baseline is None else baseline.grade,
            "to_grade": current.grade,
        },
        relations=BORROWER_ONLY,
    )


def _loan_events(code: str, loans: list[Loan]) -> list[Candidate]:
    found: list[Candidate] = []
    for loan in loans:
        if loan.credit_code != code or loan.state not in CROSS_STATES:
            continue
        defaulted = loan.state in DEFAULT_STATES
        found.append(
            Candidate(
                kind=AlertKind.CROSS_DEFAULT,
                category=PLATFORM_LOAN,
                severity=AlertSeverity.CRITICAL if defaulted else AlertSeverity.HIGH,
                key=f"cross:{loan.public_id}:{loan.state}",
                at=loan.state_changed_at,
                evidence={"loans": [loan.public_id], "state": str(loan.state)},
                relations=BORROWER_ONLY,
                since_matters=False,
            )
        )
        if defaulted:
            found.append(
                Candidate(
                    kind=AlertKind.CIRCLE_DEFAULT,
                    category=GUARANTEE,
                    severity=AlertSeverity.HIGH,
                    key=f"circle:{loan.public_id}",
                    at=loan.state_changed_at,
                    evidence={"loans": [loan.public_id], "state": str(loan.state)},
                    relations=frozenset(GUARANTEE_RELATIONS),
                    since_matters=False,
                )
            )
    return found


# ----------------------------------------------------------------------------- raising


def institution_principal(session: Session, *, institution_id: str) -> Principal:
    """The institution as post-loan monitoring reads for it (actor ``system:risk``)."""
    organization = iam_service.get_organization_or_raise(session, public_id=institution_id)
    return Principal(
        organization_id=organization.id,
        organization_public_id=organization.public_id,
        organization_kind=organization.kind,
        organization_name=organization.name,
        organization_state=organization.state,
        role="staff",
        institution_type=organization.institution_type,
        system="risk",
    )


@dataclass
class ScanResult:
    """What one scan did: enterprises looked at, alerts raised, deliveries queued."""

    scanned: int = 0
    raised: list[str] = field(default_factory=list)
    deliveries: int = 0


def scan(session: Session, *, codes: Iterable[str], deliver: bool = True) -> ScanResult:
    """Look at these enterprises for every live loan watching them; raise the alerts not
    raised yet (and queue their webhooks when ``deliver``)."""
    result = ScanResult()
    rows = watch_service.watches_of(session, codes=codes)
    if not rows:
        return result
    loans = loans_service.by_ids(session, loan_ids={row.loan_id for row in rows})
    by_code: dict[str, list[Watch]] = {}
    for row in rows:
        loan = loans.get(row.loan_id)
        if loan is not None and watch_service.live(loan):
            by_code.setdefault(row.credit_code, []).append(row)
    platform = loans_service.of_borrowers(session, credit_codes=by_code)
    keys = _existing_keys(session, loan_ids={row.loan_id for row in rows})
    principals: dict[str, Principal] = {}
    for code in sorted(by_code):
        result.scanned += 1
        groups = records_service.records_of(
            session, subject_code=code, include_expired=True, with_history=True
        )
        candidates = _record_events(code, [r for group in groups for r in group.records])
        candidates += _loan_events(code, platform)
        for row in by_code[code]:
            found = [c for c in candidates if c.applies(row)]
            if row.relation == WatchRelation.BORROWER:
                rating = _rating_event(session, code, clock.as_utc(row.since))
                if rating is not None:
                    found.append(rating)
            for candidate in found:
                if f"{row.loan_id}:{candidate.key}" in keys:
                    continue
                if candidate.kind == AlertKind.CROSS_DEFAULT and candidate.evidence["loans"] == [
                    row.loan_id
                ]:
                    continue  # a loan is no cross-default of itself
                alert = _raise(session, row=row, candidate=candidate, keys=keys)
                if alert is None:
                    continue
                result.raised.append(alert.public_id)
                if deliver:
                    if alert.institution_id not in principals:
                        principals[alert.institution_id] = institution_principal(
                            session, institution_id=alert.institution_id
                        )
                    result.deliveries += len(
                        announce(session, alert=alert, principal=principals[alert.institution_id])
                    )
            row.checked_at = clock.now()
    session.flush()
    return result


def on_record_repaired(
    session: Session,
    *,
    credit_code: str,
    record_id: str,
    category: str,
    repair_id: str,
    at: datetime,
    deliver: bool = True,
) -> list[str]:
    """Tell every lender watching ``credit_code`` (as borrower or associate) that one of its
    negative records was repaired: an alert each (low), once per record and loan, and its
    webhooks. The record is no longer disclosed, so the alert names it, not its content."""
    rows = watch_service.watches_of(session, codes=[credit_code])
    if not rows:
        return []
    loans = loans_service.by_ids(session, loan_ids={row.loan_id for row in rows})
    keys = _existing_keys(session, loan_ids={row.loan_id for row in rows})
    candidate = Candidate(
        kind=AlertKind.RECORD_REPAIRED,
        category=category,
        severity=AlertSeverity.LOW,
        key=f"repair:{record_id}",
        at=at,
        evidence={"repaired": {"record_id": record_id, "category": category, "repair": repair_id}},
        since_matters=False,
    )
    raised: list[str] = []
    principals: dict[str, Principal] = {}
    for row in rows:
        loan = loans.get(row.loan_id)
        if loan is None or not watch_service.live(loan):
            continue
        if f"{row.loan_id}:{candidate.key}" in keys:
            continue
        alert = _raise(session, row=row, candidate=candidate, keys=keys)
        if alert is None:
            continue
        raised.append(alert.public_id)
        if deliver:
            if alert.institution_id not in principals:
                principals[alert.institution_id] = institution_principal(
                    session, institution_id=alert.institution_id
                )
            announce(session, alert=alert, principal=principals[alert.institution_id])
    session.flush()
    return raised


def _existing_keys(session: Session, *, loan_ids: set[str]) -> set[str]:
    found: set[str] = set()
    wanted = sorted(loan_ids)
    for start in range(0, len(wanted), 500):
        found.update(
            session.scalars(select(Alert.key).where(Alert.loan_id.in_(wanted[start : start + 500])))
        )
    return found


def _with_ledger(session: Session, code: str, evidence: dict[str, Any]) -> dict[str, Any]:
    """The evidence with each record version's ledger leaf index (None while the leaf
    waits to be sequenced)."""
    refs = evidence.get("records") or []
    if not refs:
        return evidence
    proofs = records_service.ledger_proofs(
        session, subject_code=code, versions=[(r["record_id"], r["version"]) for r in refs]
    )
    return evidence | {
        "records": [
            r | {"ledger_index": getattr(proofs.get((r["record_id"], r["version"])), "index", None)}
            for r in refs
        ]
    }


def _raise(session: Session, *, row: Watch, candidate: Candidate, keys: set[str]) -> Alert | None:
    key = f"{row.loan_id}:{candidate.key}"
    severity = candidate.severity
    if row.relation != WatchRelation.BORROWER and candidate.kind == AlertKind.NEGATIVE_RECORD:
        severity = lower(severity)
    now = clock.now()
    values = {
        "public_id": new_id("alt"),
        "key": key,
        "loan_id": row.loan_id,
        "institution_id": row.institution_id,
        "borrower_code": row.borrower_code,
        "credit_code": row.credit_code,
        "enterprise_name": row.enterprise_name,
        "relation": row.relation,
        "kind": candidate.kind,
        "category": candidate.category,
        "severity": severity,
        "evidence": _with_ledger(session, row.credit_code, candidate.evidence),
        "event_at": candidate.at,
        "raised_at": now,
        "state": AlertState.NEW,
        "state_changed_at": now,
        "state_changed_by": ACTOR,
    }
    keys.add(key)
    # Another scan may have raised it a moment ago: the unique key keeps one, and this
    # insert then adds nothing (no savepoint: pysqlite would commit a first one).
    dialect = postgresql if is_postgres(session) else sqlite
    inserted = session.scalar(
        dialect.insert(Alert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Alert.id)
    )
    if inserted is None:
        return None
    alert = session.get(Alert, inserted)
    if alert is None:  # pragma: no cover - just inserted
        return None
    ALERTS.begin(session, alert, "raise", actor=ACTOR, reason=candidate.key, at=now)
    return alert


def announce(session: Session, *, alert: Alert, principal: Principal) -> list[str]:
    """Queue ``alert.raised`` to the lender's webhook endpoints, saying what the access
    decision lets it know (the read is recorded like any other)."""
    if not webhooks.has_endpoints(session, institution_id=alert.institution_id):
        return []
    shown = view(session, principal=principal, alert=alert, channel=WEBHOOK_CHANNEL)
    return webhooks.queue_event(
        session,
        institution_id=alert.institution_id,
        event_type=webhooks.ALERT_RAISED,
        data=shown.payload(),
    )


# ----------------------------------------------------------------------------- reading


@dataclass
class AlertView:
    """An alert as its reader may see it: always what kind of event, in which category,
    how severe; the details only where the access decision grants their categories."""

    alert: Alert
    detailed: bool
    subject_shown: bool
    detail: dict[str, Any] | None
    access_event: str | None

    def payload(self) -> dict[str, Any]:
        alert = self.alert
        return {
            "alert_id": alert.public_id,
            "loan_id": alert.loan_id,
            "borrower_code": alert.borrower_code,
            "credit_code": alert.credit_code if self.subject_shown else None,
            "enterprise_name": alert.enterprise_name if self.subject_shown else None,
            "relation": alert.relation,
            "kind": alert.kind,
            "category": alert.category,
            "severity": alert.severity,
            "state": alert.state,
            "event_at": clock.as_utc(alert.event_at).isoformat(),
            "raised_at": clock.as_utc(alert.raised_at).isoformat(),
            "detailed": self.detailed,
            "detail": self.detail,
        }


def decision_categories(alert: Alert) -> list[str]:
    """The catalogue categories an alert's details reveal of its enterprise."""
    if alert.category == RATING:
        return scoring_service.rated_categories()
    if alert.category == PLATFORM_LOAN:
        # The platform's own loan facts are no catalogue category: the read is recorded
        # under the enterprise's registration, which names it.
        return [REGISTRATION]
    return [alert.category]


_KNOWN = "risk_known_categories"


def _decide(
    session: Session, principal: Principal, subject: str, categories: list[str], channel: str
) -> Decision:
    known = session.info.get(_KNOWN)
    if known is None:  # once per unit of work: a scan decides for every alert it raises
        known = session.info[_KNOWN] = {
            c.code for c in catalog_service.list_categories(session, include_inactive=True)
        }
    return consent_service.decide(
        session,
        actor=principal,
        subject=subject,
        categories=[c for c in categories if c in known] or [REGISTRATION],
        purpose=POST_LOAN_MONITORING,
        channel=channel,
    )


def view(
    session: Session, *, principal: Principal, alert: Alert, channel: str = "api"
) -> AlertView:
    """The alert as ``principal`` may see it, each read decided and recorded."""
    subject_shown = True
    if alert.relation in GUARANTEE_RELATIONS:
        link = _decide(session, principal, alert.borrower_code, [GUARANTEE], channel)
        subject_shown = link.allowed
    if alert.kind == AlertKind.CIRCLE_DEFAULT:
        decision = _decide(session, principal, alert.borrower_code, [GUARANTEE], channel)
    else:
        decision = _decide(
            session, principal, alert.credit_code, decision_categories(alert), channel
        )
    allowed = decision.allowed and subject_shown
    if allowed and alert.category == RATING:
        allowed = scoring_service.withheld_from(decision) is None
    detail = _detail(session, alert, decision) if allowed else None
    return AlertView(
        alert=alert,
        detailed=detail is not None,
        subject_shown=subject_shown,
        detail=detail,
        access_event=decision.event_id,
    )


def _detail(session: Session, alert: Alert, decision: Decision) -> dict[str, Any]:
    evidence = alert.evidence or {}
    if alert.kind == AlertKind.RATING_FALL:
        return {
            "from_grade": evidence.get("from_grade"),
            "to_grade": evidence.get("to_grade"),
        }
    if alert.kind in (AlertKind.CROSS_DEFAULT, AlertKind.CIRCLE_DEFAULT):
        # The other loan's state and days overdue; never its lender, amount or id.
        loan_ids = evidence.get("loans") or []
        loans = loans_service.by_ids(session, loan_ids=loan_ids)
        other = loans.get(loan_ids[0]) if loan_ids else None
        return {
            "state": evidence.get("state"),
            "days_overdue": (
                0 if other is None else loans_service.days_overdue(session, loan=other)
            ),
        }
    if alert.kind == AlertKind.RECORD_REPAIRED:
        repaired = evidence.get("repaired") or {}
        return {"record_id": repaired.get("record_id"), "category": repaired.get("category")}
    shown: list[dict[str, Any]] = []
    refs = evidence.get("records") or []
    for ref in refs:
        grant = decision.grants.get(ref["category"])
        if grant is None:
            continue
        try:
            versions = records_service.versions_of(session, record_id=ref["record_id"])
        except NotFound:
            continue
        version = next((v for v in versions if v.version == ref["version"]), None)
        if version is None:
            continue
        index = ref.get("ledger_index")
        if index is None:
            proofs = records_service.ledger_proofs(
                session,
                subject_code=alert.credit_code,
                versions=[(ref["record_id"], ref["version"])],
            )
            index = getattr(proofs.get((ref["record_id"], ref["version"])), "index", None)
        shown.append(
            {
                "record_id": ref["record_id"],
                "version": ref["version"],
                "category": ref["category"],
                "ledger_index": index,
                "data": privacy.show(version.data, grant.view),
            }
        )
    out: dict[str, Any] = {"records": shown}
    if alert.kind == AlertKind.RECORD_CORRECTED and len(shown) == 2:
        before, after = shown[0]["data"], shown[1]["data"]
        out["changed_fields"] = sorted(
            name for name in set(before) | set(after) if before.get(name) != after.get(name)
        )
    if alert.kind == AlertKind.TAX_GRADE_FALL and len(shown) == 2:
        out["from_grade"] = shown[0]["data"].get("grade")
        out["to_grade"] = shown[1]["data"].get("grade")
    return out


# ----------------------------------------------------------------------------- the inbox


def _institution(principal: Principal) -> str:
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden("only a lending institution has an alert inbox", field="alert_id")
    return principal.organization_public_id


def _choice(value: str | None, allowed: Iterable[str], name: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    choices = [str(a) for a in allowed]
    if text not in choices:
        raise ValidationFailed(
            "{value} is not one of {allowed}", field=name, value=text, allowed=", ".join(choices)
        )
    return text


def alerts_statement(
    principal: Principal,
    *,
    state: str | None = None,
    severity: str | None = None,
    credit_code: str | None = None,
    loan_id: str | None = None,
    kind: str | None = None,
) -> Select[Any]:
    """The institution's alerts, newest first, narrowed by state, severity, enterprise,
    loan or kind (a value not among the choices is a 422 naming the field)."""
    stmt = select(Alert).where(Alert.institution_id == _institution(principal))
    if chosen := _choice(state, AlertState, "state"):
        stmt = stmt.where(Alert.state == chosen)
    if chosen := _choice(severity, AlertSeverity, "severity"):
        stmt = stmt.where(Alert.severity == chosen)
    if chosen := _choice(kind, AlertKind, "kind"):
        stmt = stmt.where(Alert.kind == chosen)
    if credit_code and credit_code.strip():
        stmt = stmt.where(Alert.credit_code == credit_code.strip().upper())
    if loan_id and loan_id.strip():
        stmt = stmt.where(Alert.loan_id == loan_id.strip())
    return stmt.order_by(Alert.raised_at.desc(), Alert.id.desc())


def get_or_raise(session: Session, *, alert_id: str, lock: bool = False) -> Alert:
    stmt = select(Alert).where(Alert.public_id == alert_id)
    if lock:
        stmt = stmt.with_for_update()
    alert = session.scalar(stmt)
    if alert is None:
        raise NotFound("no alert {alert}", field="alert_id", alert=alert_id)
    return alert


def own_or_raise(
    session: Session, *, principal: Principal, alert_id: str, lock: bool = False
) -> Alert:
    """The caller's alert: 404 when there is none, 403 when it is another lender's."""
    institution = _institution(principal)
    alert = get_or_raise(session, alert_id=alert_id, lock=lock)
    if alert.institution_id != institution:
        raise Forbidden("this alert belongs to another institution", field="alert_id")
    return alert


def move(
    session: Session,
    *,
    principal: Principal,
    alert_id: str,
    transition: str,
    action: str | None = None,
    note: str | None = None,
) -> Alert:
    """Acknowledge an alert, record what was done about it (``act``, with the action), or
    close it. Every refusal leaves it as it was."""
    ALERTS.named(transition, among=MOVES)
    chosen = None
    if transition == "act":
        chosen = _choice(action, AlertAction, "action")
        if chosen is None:
            raise ValidationFailed(
                "give the action taken: {allowed}",
                field="action",
                allowed=", ".join(AlertAction),
            )
    elif action:
        raise ValidationFailed("only act records an action", field="action")
    alert = own_or_raise(session, principal=principal, alert_id=alert_id, lock=True)
    ALERTS.move(
        session,
        alert,
        transition,
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=note,
    )
    if chosen is not None:
        alert.action = chosen
    if note and note.strip():
        alert.note = note.strip()
    session.flush()
    return alert


def history(session: Session, *, alert: Alert) -> list[Transition]:
    """The alert's moves, oldest first (raised, acknowledged, acted, closed)."""
    return list(ALERTS.history(session, alert))


def counts(session: Session, *, principal: Principal) -> dict[str, int]:
    """The institution's alerts by state."""
    from sqlalchemy import func

    rows = session.execute(
        select(Alert.state, func.count())
        .where(Alert.institution_id == _institution(principal))
        .group_by(Alert.state)
    )
    found = {str(state): 0 for state in AlertState}
    found.update({str(state): int(n) for state, n in rows})
    return found


# ----------------------------------------------------------------------------- triggers


def on_records_stored(session: Session, category: str, facts: Sequence[Any]) -> None:
    """Records were stored: queue a scan of the watched enterprises they concern, once
    this transaction commits. A failure here is logged, never a failure to store: the
    periodic sweep scans them."""
    try:
        codes = watch_service.watched_among(session, codes=[f.subject_code for f in facts])
        if codes:
            queue.enqueue_after_commit(session, SCAN_TASK, codes)
    except Exception:
        log.exception("could not queue the risk scan of %s records", category)


# Loan moves that change what the watch list holds or raise a cross-default.
SCANNED_MOVES = ("disburse", "fall_overdue", "default", "write_off")


def on_loan_moved(session: Session, loan: Loan, move: str) -> None:
    """A loan moved: its watch rows follow it; when it fell overdue or defaulted (or was
    just made), scan its borrower for every loan watching it once this commits."""
    watch_service.on_loan_moved(session, loan, move)
    if move in SCANNED_MOVES:
        try:
            queue.enqueue_after_commit(session, SCAN_TASK, [loan.credit_code])
        except Exception:
            log.exception("could not queue the risk scan of loan %s", loan.public_id)


def watched_codes(session: Session) -> list[str]:
    """Every enterprise on some watch list, in order (what a full sweep scans)."""
    return sorted(set(session.scalars(select(Watch.credit_code).distinct())))


records_service.on_stored(on_records_stored)
loans_service.on_moved(on_loan_moved)


def guarantee_basis(
    session: Session, *, principal: Principal, borrowers: Iterable[str], channel: str = "api"
) -> set[str]:
    """The borrowers among these whose guarantee records ``principal`` may read (each asked
    once, and recorded): who their guarantee partners and circle members are shows only
    then."""
    return {
        code
        for code in sorted(set(borrowers))
        if _decide(session, principal, code, [GUARANTEE], channel).allowed
    }


@dataclass(frozen=True)
class Listed:
    """An alert as a list shows it: its enterprise named only where ``subject_shown``, and
    whether the reader may read what happened (``detailed``), both as decided."""

    alert: Alert
    subject_shown: bool
    detailed: bool


Question = tuple[str, tuple[str, ...], bool]


def _event_question(alert: Alert) -> Question:
    """Whose data, in which categories, an alert's headline (kind, category, severity)
    reveals, and whether it is the rating: the question its list row asks the access
    decision."""
    if alert.kind == AlertKind.CIRCLE_DEFAULT:
        return alert.borrower_code, (GUARANTEE,), False
    return alert.credit_code, tuple(decision_categories(alert)), alert.category == RATING


def _event_allowed(
    session: Session, principal: Principal, question: Question, channel: str
) -> bool:
    subject, categories, rating = question
    decision = _decide(session, principal, subject, list(categories), channel)
    if decision.allowed and rating:
        return scoring_service.withheld_from(decision) is None
    return decision.allowed


def listed(
    session: Session, *, principal: Principal, rows: Sequence[Alert], channel: str = "api"
) -> list[Listed]:
    """A page of alerts as ``principal`` may see them: the borrowers' guarantee basis and
    each enterprise's categories asked of the access decision once per page (purpose
    post-loan monitoring) and recorded, like a reading of each alert."""
    basis = guarantee_basis(
        session, principal=principal, borrowers=needing_basis(rows), channel=channel
    )
    asked: dict[Question, bool] = {}
    shown: list[Listed] = []
    for row in rows:
        subject = shown_subject(row, basis)
        question = _event_question(row)
        if question not in asked:
            asked[question] = _event_allowed(session, principal, question, channel)
        shown.append(Listed(row, subject, subject and asked[question]))
    return shown


def shown_subject(row: Alert | Watch, basis: set[str]) -> bool:
    """Whether a list row may name its enterprise: always, unless it is linked to the
    borrower by guarantee records the reader has no basis for."""
    return row.relation not in GUARANTEE_RELATIONS or row.borrower_code in basis


def needing_basis(rows: Iterable[Alert | Watch]) -> set[str]:
    """The borrowers of rows linked by guarantee records (whose basis a list must ask)."""
    return {row.borrower_code for row in rows if row.relation in GUARANTEE_RELATIONS}


def guarded(
    session: Session, *, principal: Principal, stmt: Select[Any], model: type[Alert] | type[Watch]
) -> Select[Any]:
    """A list filtered by enterprise, with the rows linked by guarantee records the reader
    has no basis for left out: otherwise the filter would let it test whether an enterprise
    guarantees its borrower's debts (the rows it has a basis for stay)."""
    borrowers = set(
        session.scalars(
            stmt.with_only_columns(model.borrower_code)
            .where(model.relation.in_(GUARANTEE_RELATIONS))
            .distinct()
            .order_by(None)
        )
    )
    basis = guarantee_basis(session, principal=principal, borrowers=borrowers)
    return stmt.where(
        or_(model.relation.not_in(GUARANTEE_RELATIONS), model.borrower_code.in_(sorted(basis)))
    )
