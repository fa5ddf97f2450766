"""The financial blacklist (金融领域失信名单) and its due process.

An institution proposes a listing with evidence of its own on the platform (a loan of its
own that defaulted, or a fraud case of its own that it confirmed); the operator reviews it
(accepts it for notice, or rejects it); the enterprise, notified in its portal, may object
with documents within ``risk.objection_days``; then the operator decides (lists it, or
rejects it — upholding the objection). A listing has a reason, a start and an end; it
expires on its own (``expire_due``, a periodic task and ``xyd risk blacklist expire``) or is
removed early on repair.

Every move is a guarded transition of ``LISTINGS`` and a leaf of the ledger
(``risk.blacklist``): the body (the listing's fixed terms and the move) is salted and
stays in the database, so the public leaf names nobody and a guess of who is listed cannot
be tested against it (docs/ledger.md, format 2).

A listing in force is shown, through the access decision, as data of the category
``black_list`` (失信惩戒对象名单): to whoever the catalogue lets read that category.
Proposals, notices and objections are seen only by the parties: the proposing
institution, the enterprise (from the notice on) and the operator.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import Decision
from xinyidai.core import blobs, clock
from xinyidai.core.blobs import Upload as Upload  # what callers hand in
from xinyidai.core.blobs import clean_name
from xinyidai.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xinyidai.core.i18n import N_
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.core.transitions import SYSTEM, Machine, Move
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.ledger import service as ledger_service
from xinyidai.market import service as market_service
from xinyidai.market.models import LoanState
from xinyidai.registry import service as registry_service
from xinyidai.risk.models import (
    OPEN_LISTING_STATES,
    DocumentRole,
    FraudCaseState,
    Listing,
    ListingBasis,
    ListingDocument,
    ListingState,
    ListingStep,
)
from xinyidai.risk.schemas_blacklist import (
    REASON_MAX,
    DocumentOut,
    ListedOut,
    ListingDetailOut,
    ListingIn,
    ListingOut,
    ListingStepOut,
)
from xinyidai.risk.service import fraud_cases

LEDGER_KIND = "risk.blacklist"
LEDGER_ACTOR = "system:risk"
LEDGER_SUBJECT = "blacklist"
# The catalogue category a listing in force is read as (失信惩戒对象名单).
CATEGORY = "black_list"
DEFAULTED_LOAN_STATES = (LoanState.DEFAULTED, LoanState.WRITTEN_OFF)
TERM_MAX_DAYS = 3650
OBJECTION_MAX = 5000
DOCUMENTS_MAX = 10
SYSTEM_EXPIRY = "system:expiry"

_INSTITUTION = (OrgKind.INSTITUTION,)
_OPERATOR = (OrgKind.OPERATOR,)
_ENTERPRISE = (OrgKind.ENTERPRISE,)


# --------------------------------------------------------------------------- the ledger


def terms_body(listing: Listing) -> dict[str, Any]:
    """What never changes after the proposal."""
    return {
        "id": listing.public_id,
        "credit_code": listing.credit_code,
        "institution_id": listing.institution_id,
        "basis": listing.basis,
        "loan_id": listing.loan_id,
        "case_id": listing.case_id,
        "reason": listing.reason,
        "term_days": listing.term_days,
        "proposed_at": clock.as_utc(listing.proposed_at).isoformat(timespec="microseconds"),
    }


def _step_body(listing: Listing, row: ListingStep) -> dict[str, Any]:
    return {
        "listing": terms_body(listing),
        "transition": row.transition,
        "from": row.from_state,
        "to": row.to_state,
        "actor": row.actor,
        "reason": row.reason,
        "at": clock.as_utc(row.at).isoformat(timespec="microseconds"),
    }


LISTINGS: Machine[ListingState] = Machine(
    kind="blacklist_listing",
    states=ListingState,
    subject=Listing,
    moves=(
        Move("propose", (), ListingState.PROPOSED, _INSTITUTION),
        Move("notice", (ListingState.PROPOSED,), ListingState.NOTICE, _OPERATOR),
        Move(
            "reject",
            (ListingState.PROPOSED, ListingState.NOTICE, ListingState.OBJECTED),
            ListingState.REJECTED,
            _OPERATOR,
            reason_required=True,
        ),
        Move("object", (ListingState.NOTICE,), ListingState.OBJECTED, _ENTERPRISE),
        Move("list", (ListingState.NOTICE, ListingState.OBJECTED), ListingState.LISTED, _OPERATOR),
        Move("expire", (ListingState.LISTED,), ListingState.EXPIRED, (SYSTEM,)),
        Move("remove", (ListingState.LISTED,), ListingState.REMOVED, _OPERATOR, True),
    ),
    refusal=N_("the listing is {state}; it cannot be moved by {transition}"),
    forbidden=N_("only the {mover} may {transition} a listing"),
    keeps_reason=True,
    reason_max=REASON_MAX,
    # Each step a row of its own table and a salted leaf of the ledger whose reference
    # names the row (``listing:row id``).
    history=ledger_service.LedgeredSteps(
        LEDGER_KIND,
        step=ListingStep,
        owner=Listing,
        owner_key="listing_id",
        body=_step_body,
        actor=LEDGER_ACTOR,
        subject=LEDGER_SUBJECT,
    ),
)
# The operator's two answers at each stage, by the name the API and the portal use.
REVIEWS = ("notice", "reject")
DECISIONS = ("list", "reject")


def history(session: Session, *, listing: Listing) -> list[ListingStep]:
    """The listing's recorded moves, oldest first."""
    return LISTINGS.history(session, listing)


# --------------------------------------------------------------------------- documents


def documents_dir() -> Path:
    return get_settings().data_dir / "risk" / "documents"


def _check_uploads(uploads: Sequence[Upload], *, field: str) -> list[tuple[Upload, str]]:
    """The real uploads with the types their bytes show (``core.blobs.check``)."""
    return blobs.check(
        uploads, field=field, max_files=DOCUMENTS_MAX, max_mb=get_settings().risk.max_document_mb
    )


def _keep(
    session: Session,
    listing: Listing,
    uploads: Sequence[tuple[Upload, str]],
    *,
    role: str,
    actor: str,
) -> None:
    for upload, kind in uploads:
        digest = blobs.store(documents_dir(), upload.content)
        session.add(
            ListingDocument(
                public_id=new_id("doc"),
                listing_id=listing.id,
                role=role,
                filename=clean_name(upload.filename),
                content_type=kind,
                size=len(upload.content),
                sha256=digest,
                uploaded_by=actor,
            )
        )
    session.flush()


def documents_of(session: Session, *, listing: Listing) -> list[ListingDocument]:
    return list(
        session.scalars(
            select(ListingDocument)
            .where(ListingDocument.listing_id == listing.id)
            .order_by(ListingDocument.id)
        )
    )


def document_or_raise(
    session: Session, *, listing: Listing, document_id: str
) -> tuple[ListingDocument, bytes]:
    """A document of this listing and its bytes; ``NotFound`` naming ``document_id``."""
    row = session.scalar(
        select(ListingDocument).where(
            ListingDocument.listing_id == listing.id, ListingDocument.public_id == document_id
        )
    )
    path = None if row is None else blobs.path_of(documents_dir(), row.sha256)
    if row is None or path is None or not path.exists():
        raise NotFound("no document {id} on this listing", field="document_id", id=document_id)
    return row, path.read_bytes()


# --------------------------------------------------------------------------- reading


def get(session: Session, *, listing_id: str, lock: bool = False) -> Listing | None:
    stmt = select(Listing).where(Listing.public_id == listing_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def get_or_raise(session: Session, *, listing_id: str, lock: bool = False) -> Listing:
    listing = get(session, listing_id=listing_id, lock=lock)
    if listing is None:
        raise NotFound("no blacklist listing {id}", field="listing_id", id=listing_id)
    return listing


def may_see(principal: Principal, listing: Listing) -> bool:
    """The parties: the operator, the proposing institution, the enterprise once noticed."""
    kind = principal.organization_kind
    if kind == OrgKind.OPERATOR:
        return True
    if kind == OrgKind.INSTITUTION:
        return principal.organization_public_id == listing.institution_id
    if kind == OrgKind.ENTERPRISE:
        return principal.credit_code == listing.credit_code and listing.notified_at is not None
    return False


def visible_or_raise(
    session: Session, *, principal: Principal, listing_id: str, lock: bool = False
) -> Listing:
    """The listing if the caller is one of its parties; the same ``NotFound`` otherwise, so
    that nobody learns of a listing it is not party to."""
    listing = get(session, listing_id=listing_id, lock=lock)
    if listing is None or not may_see(principal, listing):
        raise NotFound("no blacklist listing {id}", field="listing_id", id=listing_id)
    return listing


def listings_statement(
    principal: Principal,
    *,
    state: str | None = None,
    credit_code: str | None = None,
    institution_id: str | None = None,
) -> Select[Any]:
    """The listings the caller is party to, newest first, filtered."""
    stmt = select(Listing)
    kind = principal.organization_kind
    if kind == OrgKind.INSTITUTION:
        stmt = stmt.where(Listing.institution_id == principal.organization_public_id)
    elif kind == OrgKind.ENTERPRISE:
        stmt = stmt.where(
            Listing.credit_code == (principal.credit_code or ""), Listing.notified_at.is_not(None)
        )
    elif kind != OrgKind.OPERATOR:
        raise Forbidden("only the parties to a listing may see it", field="listing_id")
    if state:
        if state not in set(ListingState):
            raise ValidationFailed(
                "{value} is not one of {allowed}",
                field="state",
                value=state,
                allowed=", ".join(ListingState),
            )
        stmt = stmt.where(Listing.state == state)
    if credit_code:
        stmt = stmt.where(Listing.credit_code == registry_service.parse_code_or_raise(credit_code))
    if institution_id:
        stmt = stmt.where(Listing.institution_id == institution_id)
    return stmt.order_by(Listing.proposed_at.desc(), Listing.id.desc())


def in_force(session: Session, *, credit_code: str, at: datetime | None = None) -> Listing | None:
    """The enterprise's listing in force now (the longest-running one), if any."""
    moment = at or clock.now()
    return session.scalar(
        select(Listing)
        .where(
            Listing.credit_code == credit_code,
            Listing.state == ListingState.LISTED,
            Listing.listed_until > moment,
        )
        .order_by(Listing.listed_until.desc())
        .limit(1)
    )


def is_listed(session: Session, credit_code: str) -> bool:
    """Whether the enterprise is on the list now (the product rules' ``blacklisted``)."""
    return in_force(session, credit_code=credit_code) is not None


def listed_out(listing: Listing) -> ListedOut:
    assert listing.listed_from is not None
    assert listing.listed_until is not None
    return ListedOut(
        id=listing.public_id,
        reason=listing.reason,
        basis=ListingBasis(listing.basis),
        institution_name=listing.institution_name,
        listed_from=listing.listed_from,
        listed_until=listing.listed_until,
    )


def shown_listing(session: Session, decision: Decision) -> ListedOut | None:
    """The enterprise's listing in force as a decision lets its reader see it: shown when
    the decision grants the ``black_list`` category, never otherwise."""
    if not decision.allowed or CATEGORY not in decision.grants:
        return None
    listing = in_force(session, credit_code=decision.subject)
    return None if listing is None else listed_out(listing)


def listing_for(
    session: Session, *, principal: Principal, credit_code: str, channel: str = "api"
) -> tuple[Decision, ListedOut | None]:
    """Decide (and record) a read of the enterprise's blacklist status; the decision and
    what it lets the reader see."""
    decision = consent_service.decide(
        session, actor=principal, subject=credit_code, categories=[CATEGORY], channel=channel
    )
    return decision, shown_listing(session, decision)


# --------------------------------------------------------------------------- the process


def _text(value: str | None, *, field: str, maximum: int, required: bool = True) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed("must not be empty", field=field)
        return None
    if len(text) > maximum:
        raise ValidationFailed("at most {maximum} characters", field=field, maximum=maximum)
    return text


def _evidence(
    session: Session, principal: Principal, data: ListingIn, credit_code: str
) -> tuple[str | None, str | None]:
    """(loan id, case id) after checking the evidence the basis needs."""
    if data.basis == ListingBasis.DEFAULT:
        if not (data.loan_id or "").strip():
            raise ValidationFailed(
                "a listing on a default needs the defaulted loan as evidence", field="loan_id"
            )
        loan = market_service.loans.get_or_raise(session, loan_id=data.loan_id or "")
        if loan.institution_id != principal.organization_public_id:
            raise Forbidden(
                "loan {loan} is not one of your institution's", field="loan_id", loan=loan.public_id
            )
        if loan.credit_code != credit_code:
            raise ValidationFailed(
                "loan {loan} was not made to this enterprise", field="loan_id", loan=loan.public_id
            )
        if loan.state not in DEFAULTED_LOAN_STATES:
            raise Conflict(
                "loan {loan} is {state}, not defaulted",
                field="loan_id",
                loan=loan.public_id,
                state=loan.state,
            )
        return loan.public_id, None
    if data.basis == ListingBasis.FRAUD:
        if not (data.case_id or "").strip():
            raise ValidationFailed(
                "a listing on fraud needs the confirmed fraud case as evidence", field="case_id"
            )
        case = fraud_cases.get_or_raise(session, case_id=data.case_id or "")
        if case.institution_id != principal.organization_public_id:
            raise Forbidden(
                "fraud case {case} is not one of your institution's",
                field="case_id",
                case=case.public_id,
            )
        if case.credit_code != credit_code:
            raise ValidationFailed(
                "fraud case {case} is not about this enterprise",
                field="case_id",
                case=case.public_id,
            )
        if case.state != FraudCaseState.CONFIRMED:
            raise Conflict(
                "fraud case {case} is {state}, not confirmed",
                field="case_id",
                case=case.public_id,
                state=case.state,
            )
        return None, case.public_id
    raise ValidationFailed(
        "{value} is not one of {allowed}",
        field="basis",
        value=data.basis,
        allowed=", ".join(ListingBasis),
    )


def propose(
    session: Session,
    *,
    principal: Principal,
    data: ListingIn,
    documents: Sequence[Upload] = (),
) -> Listing:
    """An institution proposes to list an enterprise, with its evidence."""
    if principal.organization_kind != OrgKind.INSTITUTION:
        raise Forbidden(
            "only the {mover} may {transition} a listing",
            field="state",
            mover=OrgKind.INSTITUTION,
            transition="propose",
        )
    iam_service.check_active(principal)
    subject = registry_service.get_by_code_or_raise(session, credit_code=data.credit_code)
    loan_id, case_id = _evidence(session, principal, data, subject.credit_code)
    reason = _text(data.reason, field="reason", maximum=REASON_MAX)
    term = data.term_days if data.term_days is not None else get_settings().risk.listing_days
    if not 1 <= term <= TERM_MAX_DAYS:
        raise ValidationFailed(
            "must be between {low} and {high} days", field="term_days", low=1, high=TERM_MAX_DAYS
        )
    uploads = _check_uploads(documents, field="documents")
    earlier = session.scalar(
        select(Listing.public_id).where(
            Listing.credit_code == subject.credit_code,
            Listing.institution_id == principal.organization_public_id,
            Listing.state.in_((*OPEN_LISTING_STATES, ListingState.LISTED)),
        )
    )
    if earlier is not None:
        raise Conflict(
            "your institution's listing {listing} of this enterprise is still open or in force",
            field="credit_code",
            listing=earlier,
        )
    now = clock.now()
    listing = Listing(
        public_id=new_id("bl"),
        credit_code=subject.credit_code,
        enterprise_name=subject.name,
        institution_id=principal.organization_public_id,
        institution_name=principal.organization_name,
        basis=data.basis,
        loan_id=loan_id,
        case_id=case_id,
        reason=reason,
        term_days=term,
        proposed_at=now,
    )
    session.add(listing)
    LISTINGS.begin(session, listing, "propose", actor=principal.actor, at=now)
    _keep(session, listing, uploads, role=DocumentRole.EVIDENCE, actor=principal.actor)
    return listing


def add_evidence(
    session: Session, *, principal: Principal, listing: Listing, documents: Sequence[Upload]
) -> Listing:
    """The proposing institution adds documents to its proposal while it is reviewed."""
    if (
        principal.organization_kind != OrgKind.INSTITUTION
        or principal.organization_public_id != listing.institution_id
    ):
        raise Forbidden("only the proposing institution adds evidence", field="listing_id")
    if listing.state != ListingState.PROPOSED:
        raise Conflict(
            "the listing is {state}; it cannot be moved by {transition}",
            field="state",
            state=listing.state,
            transition="add_evidence",
        )
    uploads = _check_uploads(documents, field="files")
    if not uploads:
        raise ValidationFailed("must not be empty", field="files")
    _keep(session, listing, uploads, role=DocumentRole.EVIDENCE, actor=principal.actor)
    return listing


def _operator(principal: Principal, transition: str) -> None:
    if principal.organization_kind != OrgKind.OPERATOR:
        raise Forbidden(
            "only the {mover} may {transition} a listing",
            field="state",
            mover=OrgKind.OPERATOR,
            transition=transition,
        )


def _choice(value: str, allowed: Sequence[str], field: str) -> str:
    if value not in allowed:
        raise ValidationFailed(
            "{value} is not one of {allowed}", field=field, value=value, allowed=", ".join(allowed)
        )
    return value


def review(
    session: Session, *, principal: Principal, listing: Listing, outcome: str, reason: str | None
) -> Listing:
    """The operator's review of a proposal: ``notice`` (the enterprise is notified and its
    objection window opens) or ``reject``."""
    _operator(principal, outcome)
    _choice(outcome, REVIEWS, "outcome")
    if outcome == "reject":
        LISTINGS.move(
            session,
            listing,
            "reject",
            actor=principal.actor,
            actor_kind=principal.organization_kind,
            reason=reason,
        )
        listing.ended_at = listing.state_changed_at
        return listing
    LISTINGS.check(listing, "notice", actor_kind=principal.organization_kind, reason=reason)
    now = clock.now()
    listing.notified_at = now
    listing.objection_until = now + timedelta(days=get_settings().risk.objection_days)
    LISTINGS.move(
        session,
        listing,
        "notice",
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
        at=now,
    )
    return listing


def object_to(
    session: Session,
    *,
    principal: Principal,
    listing: Listing,
    text: str,
    documents: Sequence[Upload] = (),
) -> Listing:
    """The enterprise answers a proposal within its window, with documents."""
    if (
        principal.organization_kind != OrgKind.ENTERPRISE
        or principal.credit_code != listing.credit_code
    ):
        raise Forbidden("only the enterprise proposed for listing may object", field="listing_id")
    iam_service.check_active(principal)
    LISTINGS.check(listing, "object", actor_kind=principal.organization_kind)
    now = clock.now()
    assert listing.objection_until is not None
    if now > clock.as_utc(listing.objection_until):
        raise Conflict(
            "the objection window closed at {until}",
            field="objection_until",
            until=clock.as_utc(listing.objection_until).isoformat(timespec="seconds"),
        )
    objection = _text(text, field="text", maximum=OBJECTION_MAX)
    uploads = _check_uploads(documents, field="documents")
    listing.objection = objection
    listing.objected_at = now
    LISTINGS.move(
        session,
        listing,
        "object",
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=objection,
        at=now,
    )
    _keep(session, listing, uploads, role=DocumentRole.OBJECTION, actor=principal.actor)
    return listing


def decide(
    session: Session, *, principal: Principal, listing: Listing, outcome: str, reason: str | None
) -> Listing:
    """The operator's decision after the window or on the objection: ``list`` (in force
    from now for the proposal's term) or ``reject`` (the objection upheld)."""
    _operator(principal, outcome)
    _choice(outcome, DECISIONS, "outcome")
    if outcome == "reject":
        if listing.state == ListingState.PROPOSED:
            raise Conflict(
                "the listing is {state}; it cannot be moved by {transition}",
                field="state",
                state=listing.state,
                transition="decide",
            )
        LISTINGS.move(
            session,
            listing,
            "reject",
            actor=principal.actor,
            actor_kind=principal.organization_kind,
            reason=reason,
        )
        listing.ended_at = listing.state_changed_at
        return listing
    LISTINGS.check(listing, "list", actor_kind=principal.organization_kind, reason=reason)
    now = clock.now()
    if listing.state == ListingState.NOTICE:
        assert listing.objection_until is not None
        if now <= clock.as_utc(listing.objection_until):
            raise Conflict(
                "the objection window is open until {until}; decide after it or on the objection",
                field="objection_until",
                until=clock.as_utc(listing.objection_until).isoformat(timespec="seconds"),
            )
    listing.listed_from = now
    listing.listed_until = now + timedelta(days=listing.term_days)
    LISTINGS.move(
        session,
        listing,
        "list",
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
        at=now,
    )
    return listing


def remove(
    session: Session, *, principal: Principal, listing: Listing, reason: str | None
) -> Listing:
    """The operator takes a listing off early: the enterprise repaired its credit."""
    _operator(principal, "remove")
    LISTINGS.move(
        session,
        listing,
        "remove",
        actor=principal.actor,
        actor_kind=principal.organization_kind,
        reason=reason,
    )
    listing.ended_at = listing.state_changed_at
    return listing


def expire_due(session: Session, *, at: datetime | None = None, limit: int = 1000) -> int:
    """Move listings whose term has ended to ``expired``; how many moved."""
    moment = at or clock.now()
    due = session.scalars(
        select(Listing)
        .where(Listing.state == ListingState.LISTED, Listing.listed_until <= moment)
        .order_by(Listing.listed_until)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for listing in due:
        LISTINGS.move(session, listing, "expire", actor=SYSTEM_EXPIRY, actor_kind=SYSTEM, at=moment)
        listing.ended_at = moment
    return len(due)


def available(listing: Listing, principal: Principal) -> list[str]:
    """The moves the caller may make on the listing now (what a page offers)."""
    if not may_see(principal, listing):
        return []
    moves = LISTINGS.available(listing, actor_kind=principal.organization_kind)
    now = clock.now()
    if (
        "object" in moves
        and listing.objection_until is not None
        and (
            now > clock.as_utc(listing.objection_until)
            or principal.credit_code != listing.credit_code
        )
    ):
        moves.remove("object")
    if (
        "list" in moves
        and listing.state == ListingState.NOTICE
        and listing.objection_until is not None
        and now <= clock.as_utc(listing.objection_until)
    ):
        moves.remove("list")
    return moves


def counts(session: Session) -> dict[str, int]:
    """Listings by state (the operator's overview)."""
    return {
        str(state): int(count)
        for state, count in session.execute(
            select(Listing.state, func.count()).group_by(Listing.state)
        )
    }


def detail(session: Session, *, principal: Principal, listing: Listing) -> ListingDetailOut:
    """A listing as one of its parties sees it: with its history, documents and moves."""
    return ListingDetailOut.model_validate(
        {
            **ListingOut.model_validate(listing).model_dump(),
            "public_id": listing.public_id,
            "history": [
                ListingStepOut.model_validate(s) for s in history(session, listing=listing)
            ],
            "documents": [
                DocumentOut.model_validate(d) for d in documents_of(session, listing=listing)
            ],
            "available": available(listing, principal),
        }
    )
