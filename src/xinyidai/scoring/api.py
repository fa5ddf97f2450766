"""HTTP routes of the rating: an enterprise's rating and history, runs, the model in force."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session

from xinyidai.consent import service as consent_service
from xinyidai.consent.api import LetterQuery, PurposeQuery, enforce
from xinyidai.core import jobs, queue
from xinyidai.core.api import ERROR_RESPONSES, JobOut, PageDep, SessionDep, job_out
from xinyidai.core.i18n import current_locale
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import CurrentUser, OperatorUser, OperatorWriter
from xinyidai.iam.schemas import Principal
from xinyidai.registry import service as registry
from xinyidai.scoring import features, service
from xinyidai.scoring.schemas import ModelOut, RatingOut, RatingRunIn, RatingRunOut

router = APIRouter(tags=["rating"], responses=ERROR_RESPONSES)


def may_read_rating(
    session: Session,
    principal: Principal,
    code: str,
    *,
    purpose: str | None = None,
    letter: str | None = None,
    channel: str = "api:rating",
) -> None:
    """Whether ``principal`` may read an enterprise's rating: decided (and logged) by the
    access decision over every category the rating is computed from (its association
    indicators' links included), since the score and its reasons reveal them. The
    enterprise itself and the operator on its duty may; an institution needs a letter
    covering those categories. A refusal is logged and raised.
    """
    enforce(
        session,
        consent_service.decide(
            session,
            actor=principal,
            subject=code,
            categories=features.rated_categories(),
            purpose=purpose,
            letter_id=letter,
            channel=channel,
        ),
    )


@router.get("/enterprises/{code}/rating", response_model=RatingOut)
def read_rating(
    code: str,
    session: SessionDep,
    principal: CurrentUser,
    purpose: PurposeQuery = None,
    letter: LetterQuery = None,
) -> RatingOut:
    """The enterprise's current rating with its reasons (rated now if it has none yet),
    through the access decision."""
    subject = registry.get_by_code_or_raise(session, credit_code=code)
    may_read_rating(session, principal, subject.credit_code, purpose=purpose, letter=letter)
    rating = service.current_or_rate(session, credit_code=subject.credit_code)
    return service.rating_out(session, rating, locale=current_locale())


@router.get("/enterprises/{code}/rating/history", response_model=Page[RatingOut])
def read_rating_history(
    code: str,
    session: SessionDep,
    principal: CurrentUser,
    paging: PageDep,
    purpose: PurposeQuery = None,
    letter: LetterQuery = None,
) -> Page[RatingOut]:
    """Every rating the enterprise was given, newest first, each with its model version
    (through the access decision)."""
    subject = registry.get_by_code_or_raise(session, credit_code=code)
    may_read_rating(
        session,
        principal,
        subject.credit_code,
        purpose=purpose,
        letter=letter,
        channel="api:rating.history",
    )
    locale = current_locale()
    stmt = service.history_statement(credit_code=subject.credit_code)
    return page_of(session, stmt, paging, lambda r: service.rating_out(session, r, locale=locale))


@router.get("/ratings/runs", response_model=Page[RatingRunOut])
def list_runs(session: SessionDep, principal: OperatorUser, paging: PageDep) -> Page[RatingRunOut]:
    """Full-coverage runs, newest first (operator)."""
    return page_of(
        session,
        service.runs_statement(),
        paging,
        lambda r: RatingRunOut.model_validate(r, from_attributes=True),
    )


@router.post("/ratings/runs", response_model=JobOut, status_code=202)
def start_run(body: RatingRunIn, session: SessionDep, principal: OperatorWriter) -> JobOut:
    """Rate every enterprise, as a job run by the workers; poll ``GET /jobs/{id}``."""
    job = jobs.create(
        session,
        kind=service.JOB_KIND,
        params={"as_of": body.as_of.isoformat() if body.as_of else None},
        actor=principal.username or principal.organization_name,
    )
    queue.enqueue_after_commit(session, service.RATE_ALL_TASK, job.id, job.params["as_of"])
    session.commit()  # queued now: the answer shows the job as it stands
    session.refresh(job)
    return job_out(job)


@router.get("/ratings/model", response_model=ModelOut)
def read_model(session: SessionDep, principal: CurrentUser) -> ModelOut:
    """The rating model in force: scaling, grade cut-offs, indicators and their strength."""
    return service.model_out(service.model_in_force(session), locale=current_locale())
