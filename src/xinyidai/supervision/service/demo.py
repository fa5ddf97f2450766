"""The demo's supervision, and what makes a demo or test institution fit to read.

``certify`` signs the agreement in force in an institution's name and records a passed
security assessment (every checklist item answered with an evidence file, reviewed and
accepted): it runs on every demo institution made (``iam_service.on_demo_institution``)
and in the test worlds that make institutions of their own. ``ensure_demo_supervision``
then shows every state: institutions at each level, one re-assessment overdue, one
applicant waiting in the operator's queue, one finding open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyidai.audit.models import AccessEvent
from xinyidai.core import blobs, clock
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.core.transitions import SYSTEM
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import Organization, OrgKind, OrgState
from xinyidai.supervision.models import (
    Answer,
    Assessment,
    Finding,
    Level,
    Signature,
    Verdict,
)
from xinyidai.supervision.schemas import FindingIn
from xinyidai.supervision.service import agreements, assessments, checklist, findings

ACTOR = "system:demo"
# A one-page PDF the demo institutions send as evidence of each item.
EVIDENCE = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
# (username, level, days the assessment has left: negative is overdue)
DEMO_LEVELS = (("bank-rural", Level.B, 200), ("guarantor", Level.C, 90), ("insurer", Level.A, -12))
APPLICANT = ("典当行演示申请", "pawnshop")


def _signed(session: Session, organization: Organization, version: int) -> bool:
    return (
        session.scalar(
            select(Signature.id).where(
                Signature.organization_id == organization.public_id, Signature.version == version
            )
        )
        is not None
    )


def sign_for(session: Session, organization: Organization) -> None:
    """Sign the agreement in force in the institution's name (once)."""
    agreements.load_default(session)
    current = agreements.in_force_or_raise(session)
    if _signed(session, organization, current.version):
        return
    agreements.record_signature(
        session,
        organization_id=organization.id,
        organization_public_id=organization.public_id,
        organization_name=organization.name,
        agreement=current,
        signer=ACTOR,
        signer_name=organization.contact_name or organization.name,
    )


def _answered(session: Session, organization: Organization, *, submit: bool) -> Assessment:
    checklist.load_default(session)
    row = Assessment(
        public_id=new_id("asm"),
        organization_id=organization.public_id,
        organization_name=organization.name,
    )
    session.add(row)
    assessments.ASSESSMENTS.begin(session, row, "open", actor=ACTOR)
    digest = blobs.store(assessments.evidence_dir(), EVIDENCE)
    now = clock.now()
    for item in checklist.items(session):
        session.add(
            Answer(
                assessment_id=row.id,
                item_code=item.code,
                statement=f"{item.title}: see the attached policy.",
                evidence_name=f"{item.code}.pdf",
                evidence_type="application/pdf",
                evidence_size=len(EVIDENCE),
                evidence_sha256=digest,
                answered_by=ACTOR,
                answered_at=now,
            )
        )
    session.flush()
    if submit:
        row.submitted_at = now
        assessments.ASSESSMENTS.move(
            session, row, "submit", actor=ACTOR, actor_kind=OrgKind.INSTITUTION
        )
    return row


def certify(
    session: Session,
    organization: Organization,
    *,
    level: Level = Level.A,
    expires_on: date | None = None,
) -> Assessment:
    """Make ``organization`` fit to read: the agreement signed, an assessment passed at
    ``level`` until ``expires_on`` (default: a year from today)."""
    sign_for(session, organization)
    row = _answered(session, organization, submit=True)
    for answer in assessments.answers_of(session, row):
        answer.verdict = Verdict.ACCEPTED
        answer.score = {Level.A: 92, Level.B: 78, Level.C: 64}[level]
        answer.reviewed_by = ACTOR
        answer.reviewed_at = clock.now()
    earlier = assessments.standing(session, organization_id=organization.public_id)
    row.score = assessments.weighted_score(
        checklist.items(session), {a.item_code: a for a in assessments.answers_of(session, row)}
    )
    row.level = level
    row.expires_on = expires_on or clock.today() + timedelta(
        days=get_settings().supervision.assessment_valid_days
    )
    assessments.ASSESSMENTS.move(
        session,
        row,
        "pass",
        actor=ACTOR,
        actor_kind=OrgKind.OPERATOR,
        reason=assessments.level_note(level, row.expires_on, None),
    )
    if earlier is not None:
        assessments.ASSESSMENTS.move(session, earlier, "supersede", actor=ACTOR, actor_kind=SYSTEM)
    iam_service.clearance.record_assessment(
        session,
        organization_id=organization.id,
        assessment_id=row.public_id,
        level=row.level,
        expires_on=row.expires_on,
    )
    return row


def certify_demo_institution(session: Session, organization: Organization) -> None:
    certify(session, organization)


iam_service.on_demo_institution(certify_demo_institution)


@dataclass(frozen=True)
class DemoSupervision:
    levels: dict[str, str]
    overdue: str | None
    queued: str | None
    finding: str | None
    created: bool


def _organization_of(session: Session, username: str) -> Organization | None:
    user = iam_service.get_user(session, username=username)
    return None if user is None else user.organization


def ensure_demo_supervision(session: Session) -> DemoSupervision:
    """Institutions at each level, one re-assessment overdue (its reads restricted), a
    pawnshop's onboarding assessment in the operator's queue, one finding open."""
    if session.scalar(select(func.count()).select_from(Finding)):
        return DemoSupervision({}, None, None, None, created=False)
    today = clock.today()
    levels: dict[str, str] = {}
    overdue = None
    for username, level, days in DEMO_LEVELS:
        organization = _organization_of(session, username)
        if organization is None:
            continue
        row = certify(session, organization, level=level, expires_on=today + timedelta(days=days))
        levels[organization.public_id] = level
        if days < 0:
            overdue = row.public_id
    assessments.lapse_due(session, today=today)
    assessments.remind_due(session, today=today)
    applicant = iam_service.create_organization(
        session,
        kind=OrgKind.INSTITUTION,
        name=APPLICANT[0],
        actor=ACTOR,
        state=OrgState.PENDING,
        is_demo=True,
        institution_type=APPLICANT[1],
        licence_number="DEMO-PAWNSHOP",
    )
    sign_for(session, applicant)
    queued = _answered(session, applicant, submit=True).public_id
    finding = None
    bank = _organization_of(session, "bank")
    if bank is not None:
        event = session.scalar(
            select(AccessEvent)
            .where(AccessEvent.organization_id == bank.public_id)
            .order_by(AccessEvent.id)
            .limit(1)
        )
        if event is not None:
            operator = iam_service.principal_for_user(
                iam_service.get_user_or_raise(session, username="operator"), via="token"
            )
            finding = findings.open_misuse(
                session,
                principal=operator,
                data=FindingIn(
                    organization_id=bank.public_id,
                    event_id=event.public_id,
                    summary="查询目的与授权用途不符，请说明（演示）",
                ),
            ).public_id
    session.flush()
    return DemoSupervision(levels, overdue, queued, finding, created=True)
