"""Rating pages: the operator looks up any enterprise's rating, follows the full runs and
starts one; the model in force is shown with its indicators. The enterprise sees its own
rating on its dashboard (``dashboard.py``).

The work is the rating service's; these routes parse, check the role and render.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from xinyidai.core import jobs, queue
from xinyidai.core.api import SessionDep, request_locale
from xinyidai.core.errors import XydError
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.registry import service as registry_service
from xinyidai.scoring import service as rating_service
from xinyidai.scoring.api import may_read_rating
from xinyidai.scoring.schemas import RatingOut
from xinyidai.web.auth import CheckedForm, OperatorViewer, portal_roles
from xinyidai.web.forms import N_, FormState
from xinyidai.web.templating import render

router = APIRouter(include_in_schema=False)

OperatorRunner = Annotated[Principal, Depends(portal_roles(OrgKind.OPERATOR, write=True))]

JOB_STATE_LABELS = {
    jobs.JobState.QUEUED: N_("waiting for a worker"),
    jobs.JobState.RUNNING: N_("running"),
    jobs.JobState.SUCCEEDED: N_("finished"),
    jobs.JobState.FAILED: N_("stopped with an error"),
}


def rating_view(session: Session, *, credit_code: str, locale: str) -> RatingOut:
    """An enterprise's current rating as a page shows it (rated now if it has none)."""
    rating = rating_service.current_or_rate(session, credit_code=credit_code)
    return rating_service.rating_out(session, rating, locale=locale)


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    code: str = "",
    form: FormState | None = None,
    status: int = 200,
    queued: str | None = None,
) -> Response:
    locale = request_locale(request)
    state = form or FormState(values={"code": code})
    looked_up = None
    subject = None
    if code and state.ok:
        try:
            subject = registry_service.get_by_code_or_raise(session, credit_code=code)
            may_read_rating(session, principal, subject.credit_code, channel="portal:rating")
            looked_up = rating_view(session, credit_code=subject.credit_code, locale=locale)
        except XydError as exc:
            state.errors["code"] = (exc.message, dict(exc.params))  # the form's one field
            status = exc.status
    latest = rating_service.latest_run(session)
    runs = session.scalars(rating_service.runs_statement().limit(10)).all()
    model = rating_service.model_in_force(session)
    return render(
        request,
        "scoring/ratings.html",
        status=status,
        form=state,
        subject=subject,
        looked_up=looked_up,
        latest=latest,
        runs=list(runs),
        running=jobs.list_recent(session, kind=rating_service.JOB_KIND, limit=5),
        job_labels=JOB_STATE_LABELS,
        model=rating_service.model_out(model, locale=locale),
        rated=rating_service.rated_subjects(session),
        queued=queued,
    )


@router.get("/ratings")
def ratings(
    request: Request,
    principal: OperatorViewer,
    session: SessionDep,
    code: Annotated[str, Query(max_length=40)] = "",
    queued: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Look up an enterprise's rating; the latest runs and their grades; the model."""
    return _page(request, session, principal, code=code.strip().upper(), queued=queued)


@router.post("/ratings/runs")
def start_run(
    request: Request, principal: OperatorRunner, form: CheckedForm, session: SessionDep
) -> Response:
    """Queue a full run (every enterprise, as of today) for the workers."""
    job = jobs.create(
        session,
        kind=rating_service.JOB_KIND,
        params={"as_of": None},
        actor=principal.username or principal.organization_name,
    )
    queue.enqueue_after_commit(session, rating_service.RATE_ALL_TASK, job.id, None)
    return RedirectResponse(f"/ratings?queued={job.id}", status_code=303)
