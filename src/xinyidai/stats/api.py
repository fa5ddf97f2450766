"""JSON API of ``stats`` under ``/api/v1/stats``: the operator and auditors read the
figures; breakdowns are suppressed below ``stats.min_cell`` for everyone but the operator."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import PlainTextResponse, Response

from xinyidai.core import clock
from xinyidai.core.api import ERROR_RESPONSES, PageDep, SessionDep
from xinyidai.core.i18n import gettext
from xinyidai.core.pagination import Page, page_of
from xinyidai.iam.auth import OperatorWriter, require_roles
from xinyidai.iam.models import OrgKind
from xinyidai.iam.schemas import Principal
from xinyidai.stats.models import Bulletin, Case, Dimension, Grain
from xinyidai.stats.schemas import (
    BulletinDetailOut,
    BulletinIn,
    BulletinOut,
    CaseConsentIn,
    CaseIn,
    CaseMoveIn,
    CaseOut,
    FigureOut,
    IndicatorOut,
    MarkOut,
    MethodOut,
    RankingOut,
    RefreshOut,
    ScoreOut,
    TableOut,
    TargetOut,
    ValueOut,
)
from xinyidai.stats.service import bulletins, cases, evaluation, figures, labels, refresh, targets
from xinyidai.stats.sources import FIGURES

router = APIRouter(prefix="/stats", tags=["stats"], responses=ERROR_RESPONSES)

Reader = Annotated[Principal, Depends(require_roles(OrgKind.OPERATOR, OrgKind.AUDITOR))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FigureQuery = Annotated[
    list[str], Query(min_length=1, max_length=12, description="figure names (GET /stats/figures)")
]
GrainQuery = Annotated[Grain, Query(description="day, month, quarter or year")]
DimensionQuery = Annotated[Dimension, Query(description="all, province, city, county, …")]
KeyQuery = Annotated[list[str] | None, Query(max_length=50, description="only these cells")]


def _start(start: date | None) -> date:
    return start or date(clock.today().year, 1, 1)


def _table(
    session: SessionDep,
    principal: Principal,
    figure: list[str],
    grain: Grain,
    start: date | None,
    end: date | None,
    dimension: Dimension,
    key: list[str] | None,
) -> TableOut:
    min_cell = figures.reader_min_cell(principal.organization_kind == OrgKind.OPERATOR)
    first, last = _start(start), end or clock.today()
    values = figures.table(
        session,
        figures=figure,
        grain=grain,
        start=first,
        end=last,
        dimension=dimension,
        keys=key,
        min_cell=min_cell,
    )
    names = labels.key_labels(session, dimension, {v.key for v in values})
    last_refresh = refresh.last_refresh(session)
    return TableOut(
        grain=grain,
        dimension=dimension,
        start=first,
        end=last,
        suppressed_below=min_cell,
        refreshed_at=last_refresh.finished_at if last_refresh else None,
        items=[
            ValueOut(
                period=v.period,
                key=v.key,
                name=names.get(v.key, v.key),
                figure=v.figure,
                value=v.value,
                suppressed=v.suppressed,
            )
            for v in values
        ],
    )


@router.get("/figures", response_model=list[FigureOut])
def list_figures(principal: Reader) -> list[FigureOut]:
    """Every figure: what it counts, its unit, the breakdowns it has."""
    return [
        FigureOut(
            name=f.name,
            label=gettext(f.label),
            kind=f.kind,
            unit=f.unit,
            dimensions=[str(d) for d in f.dimensions],
        )
        for f in figures.shown_figures()
    ]


@router.get("/table", response_model=TableOut)
def read_table(
    session: SessionDep,
    principal: Reader,
    figure: FigureQuery,
    grain: GrainQuery = Grain.MONTH,
    dimension: DimensionQuery = Dimension.ALL,
    start: Annotated[date | None, Query(description="first day (default: 1 January)")] = None,
    end: Annotated[date | None, Query(description="last day (default: today)")] = None,
    key: KeyQuery = None,
) -> TableOut:
    """Figures per period (day, month, quarter, year) and cell of one dimension."""
    return _table(session, principal, figure, grain, start, end, dimension, key)


@router.get(
    "/export",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}},
)
def export_table(
    session: SessionDep,
    principal: Reader,
    figure: FigureQuery,
    grain: GrainQuery = Grain.MONTH,
    dimension: DimensionQuery = Dimension.ALL,
    start: Annotated[date | None, Query()] = None,
    end: Annotated[date | None, Query()] = None,
    key: KeyQuery = None,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
) -> Response:
    """The same table as a CSV or Excel file (suppressed cells stay empty)."""
    table = _table(session, principal, figure, grain, start, end, dimension, key)
    names = {v.key: v.name for v in table.items}
    values = [figures.Value(v.period, v.key, v.figure, v.value, v.suppressed) for v in table.items]
    rows = figures.export_rows(values, dimension, names)
    stem = f"xyd-figures-{table.start.isoformat()}-{table.end.isoformat()}"
    if format == "xlsx":
        return Response(
            figures.export_xlsx(rows),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'},
        )
    return Response(
        figures.export_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
    )


@router.get("/targets", response_model=list[TargetOut])
def read_targets(session: SessionDep, principal: Reader) -> list[TargetOut]:
    """The platform's targets and how far along it is."""
    return [
        TargetOut(
            name=p.target.name,
            label=gettext(p.target.label),
            figure=p.target.figure,
            amount=p.target.amount,
            start=p.target.start,
            end=p.target.end,
            reached=p.reached,
            share=p.share,
            elapsed=p.elapsed,
        )
        for p in targets.progress(session)
    ]


@router.post("/refresh", response_model=RefreshOut)
def run_refresh(session: SessionDep, principal: OperatorWriter) -> RefreshOut:
    """Refresh the summary now (the worker does every five minutes)."""
    done = refresh.refresh(session)
    return RefreshOut(kind=done.kind, since=done.since, days=done.days, rows=done.rows)


# --------------------------------------------------------------------------- typical cases


def case_out(case: Case) -> CaseOut:
    return CaseOut(
        id=case.public_id,
        title=case.title,
        summary=case.summary,
        body=case.body,
        region_code=case.region_code,
        industry_code=case.industry_code,
        credit_code=case.credit_code,
        named=cases.named(case),
        consent_reference=case.consent_reference,
        written_by=case.written_by,
        state=case.state,
        state_reason=case.state_reason,
        state_changed_at=case.state_changed_at,
        published_at=case.published_at,
    )


CaseId = Annotated[str, Path(max_length=40)]


@router.get("/cases", response_model=Page[CaseOut])
def list_typical_cases(
    session: SessionDep,
    principal: Reader,
    paging: PageDep,
    state: Annotated[
        str | None, Query(max_length=20, description="draft, review, published, withdrawn")
    ] = None,
) -> Page[CaseOut]:
    """Typical cases in every state, newest first."""
    return page_of(session, cases.cases_statement(state=state), paging, case_out)


@router.post("/cases", response_model=CaseOut, status_code=201)
def write_typical_case(body: CaseIn, session: SessionDep, principal: OperatorWriter) -> CaseOut:
    """A new typical case, in draft."""
    draft = cases.CaseDraft(**body.model_dump())
    return case_out(cases.write(session, principal=principal, draft=draft))


@router.get("/cases/{case_id}", response_model=CaseOut)
def read_typical_case(case_id: CaseId, session: SessionDep, principal: Reader) -> CaseOut:
    """One case."""
    return case_out(cases.get_or_raise(session, case_id=case_id))


@router.post("/cases/{case_id}/consent", response_model=CaseOut)
def record_case_consent(
    case_id: CaseId, body: CaseConsentIn, session: SessionDep, principal: OperatorWriter
) -> CaseOut:
    """Record the enterprise's consent to be named in the case."""
    case = cases.get_or_raise(session, case_id=case_id)
    return case_out(
        cases.record_consent(session, principal=principal, case=case, reference=body.reference)
    )


@router.post("/cases/{case_id}/{move}", response_model=CaseOut)
def move_typical_case(
    case_id: CaseId,
    move: Annotated[str, Path(max_length=20, description="submit, return, publish, withdraw")],
    session: SessionDep,
    principal: OperatorWriter,
    body: CaseMoveIn | None = None,
) -> CaseOut:
    """Submit a draft, return it with a reason, publish it (not its author), withdraw it."""
    case = cases.get_or_raise(session, case_id=case_id)
    done = cases.move(
        session, principal=principal, case=case, name=move, reason=body.reason if body else None
    )
    return case_out(done)


# --------------------------------------------------------------------------- evaluation

Year = Annotated[int, Query(ge=2000, le=2100, description="the method's year")]


def method_out(method: evaluation.Method) -> MethodOut:
    return MethodOut(
        year=method.year,
        title=gettext(method.title),
        subjects={
            subject: [
                IndicatorOut(
                    figure=i.figure,
                    label=gettext(FIGURES[i.figure].label),
                    unit=FIGURES[i.figure].unit,
                    weight=i.weight,
                    direction=i.direction,
                    bands=i.bands,
                )
                for i in chosen.indicators
            ]
            for subject, chosen in method.subjects.items()
        },
        dimensions={subject: str(chosen.dimension) for subject, chosen in method.subjects.items()},
    )


@router.get("/evaluation/method", response_model=MethodOut)
def read_method(principal: Reader, year: Year) -> MethodOut:
    """The year's published method: indicators, weights and scoring bands per subject."""
    return method_out(evaluation.method_or_raise(year))


@router.get("/evaluation", response_model=RankingOut)
def read_ranking(
    session: SessionDep,
    principal: Reader,
    year: Year,
    quarter: Annotated[int, Query(ge=1, le=4)],
    subject: Annotated[
        str, Query(max_length=20, description="institution or region")
    ] = "institution",
) -> RankingOut:
    """Every institution (or region) of a quarter scored by the year's method, best first,
    with each indicator's value and points."""
    ranking = evaluation.rank(session, year=year, quarter=quarter, subject=subject)
    return RankingOut(
        year=ranking.year,
        quarter=ranking.quarter,
        subject=ranking.subject,
        dimension=ranking.dimension,
        start=ranking.start,
        end=ranking.end,
        scores=[
            ScoreOut(
                rank=s.rank,
                key=s.key,
                name=s.name,
                score=s.score,
                marks=[
                    MarkOut(figure=m.figure, value=m.value, points=m.points, weighted=m.weighted)
                    for m in s.marks
                ],
            )
            for s in ranking.scores
        ],
    )


# --------------------------------------------------------------------------- bulletins

Month = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]


def bulletin_out(bulletin: Bulletin) -> BulletinOut:
    return BulletinOut(
        month=bulletin.month, generated_at=bulletin.generated_at, generated_by=bulletin.generated_by
    )


@router.get("/bulletins", response_model=Page[BulletinOut])
def list_bulletins(session: SessionDep, principal: Reader, paging: PageDep) -> Page[BulletinOut]:
    """The archive of monthly bulletins, newest first."""
    return page_of(session, bulletins.bulletins_statement(), paging, bulletin_out)


@router.post("/bulletins", response_model=BulletinDetailOut, status_code=201)
def generate_bulletin(
    body: BulletinIn, session: SessionDep, principal: OperatorWriter
) -> BulletinDetailOut:
    """Generate a month's bulletin now (again, if it was generated before)."""
    done = bulletins.generate(session, month=body.month, actor=principal.actor)
    return BulletinDetailOut(**bulletin_out(done).model_dump(), content=done.content)


@router.get("/bulletins/{month}", response_model=BulletinDetailOut)
def read_bulletin(month: Month, session: SessionDep, principal: Reader) -> BulletinDetailOut:
    """One bulletin's content as it was generated."""
    found = bulletins.get_or_raise(session, month=month)
    return BulletinDetailOut(**bulletin_out(found).model_dump(), content=found.content)


@router.get(
    "/bulletins/{month}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def bulletin_pdf(month: Month, session: SessionDep, principal: Reader) -> Response:
    """One bulletin as the PDF it was issued as."""
    found = bulletins.get_or_raise(session, month=month)
    return Response(
        found.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="xyd-bulletin-{month}.pdf"'},
    )
