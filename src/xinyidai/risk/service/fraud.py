"""Anti-fraud rules over applications, and the scans that run them.

Each rule is a piece of configuration — whether it runs, its thresholds and window, and the
explanation shown with every hit — read from ``risk/data/fraud_rules.json`` or the file
``risk.fraud_rules_file`` names:

- ``shared_phone``, ``shared_address``, ``shared_representative``: the same phone, address
  or legal representative (in one county) behind ``min_applicants`` or more applicants
  within ``window_days``;
- ``many_institutions``: one enterprise applying to ``min_institutions`` or more
  institutions within ``window_hours``;
- ``recent_change``: a registration fact (legal representative, address, capital) changed
  within ``window_days`` before applying;
- ``young_large``: an enterprise younger than ``max_age_days`` asking ``min_amount`` or more;
- ``self_report_mismatch``: a figure the enterprise reported itself more than
  ``max_ratio`` times what the department's data say (read under the application's letter;
  not checked when the letter does not allow it);
- ``hub``: an address or phone shared by ``min_enterprises`` or more enterprises (the
  association index of ``graph``).

A scan (``scan``) runs after each application is committed (the queue task
``risk.fraud_scan``) and by hand (``xyd risk fraud-scan``). Hits open a fraud case for the
application (``fraud_cases``); a hit on a group (a shared key, many institutions) marks
every application of the group within the window, so a ring is flagged whole.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyidai.catalog import service as catalog_service
from xinyidai.consent import service as consent_service
from xinyidai.consent.schemas import LOAN_APPLICATION
from xinyidai.core import clock, queue
from xinyidai.core.errors import ValidationFailed
from xinyidai.core.ids import new_id
from xinyidai.core.settings import get_settings
from xinyidai.graph import service as graph_service
from xinyidai.market import service as market_service
from xinyidai.market.models import Application
from xinyidai.records import service as records_service
from xinyidai.registry import service as registry_service
from xinyidai.risk.models import OPEN_CASE_STATES, FraudCase, FraudHit, FraudRule, FraudScan
from xinyidai.risk.service import fraud_cases
from xinyidai.risk.service.fraud_cases import CASES, SYSTEM_SCAN

SCAN_TASK = "risk.fraud_scan"
RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "fraud_rules.json"
REGISTRATION = "registration"
SELF_REPORTED = "self_reported"
FIELD_LABELS = {
    "legal_representative": "法定代表人",
    "address": "住所",
    "registered_capital": "注册资本",
}
KIND_LABELS = {"address": "住所", "phone": "联系电话", "representative": "法定代表人"}
SHARED_RULES = {
    FraudRule.SHARED_PHONE: "phone",
    FraudRule.SHARED_ADDRESS: "address",
    FraudRule.SHARED_REPRESENTATIVE: "representative",
}
LETTER_SKIPPED = "letter"


# --------------------------------------------------------------------------- configuration


@lru_cache(maxsize=4)
def _read_rules(path: str, mtime: float) -> dict[str, dict[str, Any]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    rules = data.get("rules")
    if not isinstance(rules, dict):
        raise ValueError(f"{path}: no 'rules' mapping")
    unknown = sorted(set(rules) - set(FraudRule))
    if unknown:
        raise ValueError(f"{path}: unknown fraud rules {', '.join(unknown)}")
    for name, rule in rules.items():
        if not isinstance(rule, dict) or not isinstance(rule.get("explanation"), str):
            raise ValueError(f"{path}: rule {name} needs an explanation")
    return {str(name): dict(rule) for name, rule in rules.items()}


def rules_config() -> dict[str, dict[str, Any]]:
    """Every rule's configuration (enabled, thresholds, window, explanation), by name."""
    path = get_settings().risk.fraud_rules_file or RULES_FILE
    return _read_rules(str(path), Path(path).stat().st_mtime)


def enabled_rules() -> dict[str, dict[str, Any]]:
    return {name: rule for name, rule in rules_config().items() if rule.get("enabled", True)}


def explain(rule: str, params: dict[str, Any]) -> str:
    """The rule's explanation with the hit's figures filled in."""
    return str(rules_config()[rule]["explanation"]).format(**params)


# --------------------------------------------------------------------------- the facts


@dataclass(frozen=True)
class Hit:
    rule: str
    params: dict[str, Any]  # what the institution may see: figures, its own applicant's facts
    operator: dict[str, Any] = field(default_factory=dict)  # the others behind a shared key
    others: tuple[str, ...] = ()  # other applications of the group, marked with the same hit


@dataclass
class Scan:
    application_id: str
    hits: list[str]
    case_id: str | None
    skipped: list[str]
    marked: list[str] = field(default_factory=list)  # other applications the group marked


def _money(value: Any) -> Decimal | None:
    if value is None:
        return None
    text = str(value).replace(",", "").replace("，", "").strip()
    factor = Decimal(1)
    if "亿" in text:
        factor = Decimal(100_000_000)
    elif "万" in text:
        factor = Decimal(10_000)
    found = re.search(r"-?\d+(?:\.\d+)?", text)
    if found is None:
        return None
    try:
        return Decimal(found.group()) * factor
    except InvalidOperation:
        return None


def _as_datetime(value: Any) -> datetime:
    return clock.as_utc(value)


def _window_applications(
    session: Session, *, start: datetime, end: datetime
) -> list[tuple[str, str, str, datetime]]:
    """(application id, credit code, institution id, submitted at) of every application
    submitted in [start, end]."""
    rows = session.execute(
        select(
            Application.public_id,
            Application.credit_code,
            Application.institution_id,
            Application.submitted_at,
        ).where(Application.submitted_at >= start, Application.submitted_at <= end)
    )
    return [(a, c, i, _as_datetime(t)) for a, c, i, t in rows]


class _Context:
    """What a batch of applications is checked against, read once for the batch."""

    def __init__(self, session: Session, applications: Sequence[Application]) -> None:
        self.rules = enabled_rules()
        times = [_as_datetime(a.submitted_at) for a in applications]
        days = max(
            [int(r.get("window_days", 0)) for n, r in self.rules.items() if n in SHARED_RULES] + [1]
        )
        hours = int(self.rules.get(FraudRule.MANY_INSTITUTIONS, {}).get("window_hours", 24))
        back = max(timedelta(days=days), timedelta(hours=hours))
        self.window = _window_applications(session, start=min(times) - back, end=max(times))
        codes = sorted({a.credit_code for a in applications})
        self.holders = graph_service.key_holders(session, codes=codes)
        self.subjects = registry_service.get_many_by_code(session, credit_codes=codes)


def _shared(context: _Context, application: Application, rule: str, kind: str) -> Hit | None:
    config = context.rules[rule]
    holders = context.holders.get(application.credit_code, {}).get(kind)
    if not holders:
        return None
    end = _as_datetime(application.submitted_at)
    start = end - timedelta(days=int(config["window_days"]))
    group = [
        (app_id, code)
        for app_id, code, _, at in context.window
        if code in holders and start <= at <= end
    ]
    applicants = sorted({code for _, code in group} | {application.credit_code})
    if len(applicants) < int(config["min_applicants"]):
        return None
    return Hit(
        rule=rule,
        params={
            "count": len(applicants),
            "window_days": config["window_days"],
            "min_applicants": config["min_applicants"],
        },
        operator={"applicants": applicants, "applications": sorted(a for a, _ in group)},
        others=tuple(sorted(a for a, _ in group if a != application.public_id)),
    )


def _many_institutions(context: _Context, application: Application) -> Hit | None:
    config = context.rules[FraudRule.MANY_INSTITUTIONS]
    end = _as_datetime(application.submitted_at)
    start = end - timedelta(hours=int(config["window_hours"]))
    group = [
        (app_id, institution)
        for app_id, code, institution, at in context.window
        if code == application.credit_code and start <= at <= end
    ]
    institutions = {institution for _, institution in group} | {application.institution_id}
    if len(institutions) < int(config["min_institutions"]):
        return None
    return Hit(
        rule=FraudRule.MANY_INSTITUTIONS,
        params={
            "count": len(institutions),
            "window_hours": config["window_hours"],
            "min_institutions": config["min_institutions"],
        },
        operator={"applications": sorted(a for a, _ in group)},
        others=tuple(sorted(a for a, _ in group if a != application.public_id)),
    )


def _same(field_name: str, old: Any, new: Any) -> bool:
    if field_name == "registered_capital":
        return _money(old) == _money(new)
    return str(old or "").strip() == str(new or "").strip()


def _recent_change(session: Session, context: _Context, application: Application) -> Hit | None:
    config = context.rules[FraudRule.RECENT_CHANGE]
    end = _as_datetime(application.submitted_at)
    start = end - timedelta(days=int(config["window_days"]))
    fields = [str(f) for f in config.get("fields", FIELD_LABELS)]
    changed: set[str] = set()
    last_at: datetime | None = None
    for group in records_service.records_of(
        session, subject_code=application.credit_code, categories=[REGISTRATION], with_history=True
    ):
        for record in group.records:
            versions = record.history or []  # newest first
            for newer, older in itertools.pairwise(versions):
                at = _as_datetime(newer.created_at)
                if not start <= at <= end:
                    continue
                moved = [f for f in fields if not _same(f, older.data.get(f), newer.data.get(f))]
                if moved:
                    changed.update(moved)
                    last_at = at if last_at is None or at > last_at else last_at
    if not changed:
        return None
    ordered = [f for f in fields if f in changed]
    return Hit(
        rule=FraudRule.RECENT_CHANGE,
        params={
            "window_days": config["window_days"],
            "fields": "、".join(FIELD_LABELS.get(f, f) for f in ordered),
            "changed": ordered,
            "changed_at": last_at.isoformat(timespec="seconds") if last_at else None,
        },
    )


def _young_large(context: _Context, application: Application) -> Hit | None:
    config = context.rules[FraudRule.YOUNG_LARGE]
    subject = context.subjects.get(application.credit_code)
    if subject is None or subject.established_on is None:
        return None
    age = (
        clock.to_local(_as_datetime(application.submitted_at)).date() - subject.established_on
    ).days
    minimum = Decimal(str(config["min_amount"]))
    if age >= int(config["max_age_days"]) or application.amount < minimum:
        return None
    return Hit(
        rule=FraudRule.YOUNG_LARGE,
        params={
            "age_days": age,
            "max_age_days": config["max_age_days"],
            "amount": str(application.amount),
            "min_amount": str(minimum),
        },
    )


def _mismatch(session: Session, context: _Context, application: Application) -> Hit | None:
    config = context.rules[FraudRule.SELF_REPORT_MISMATCH]
    figures = list(config.get("figures", []))
    categories = sorted({SELF_REPORTED, *(str(f["category"]) for f in figures)})
    rows = list(
        records_service.current_data(
            session, categories=categories, subject_codes=[application.credit_code]
        )
    )
    end = clock.to_local(_as_datetime(application.submitted_at)).date()
    start = end - timedelta(days=int(config.get("window_days", 365)))
    limit = Decimal(str(config["max_ratio"]))
    for figure in figures:
        items = set(figure["items"])
        reported = max(
            (
                value
                for row in rows
                if row.category == SELF_REPORTED and str(row.data.get("item") or "") in items
                for value in [_money(row.data.get("content"))]
                if value is not None
            ),
            default=None,
        )
        if reported is None or reported <= 0:
            continue
        values = [
            _money(row.data.get(figure["field"]))
            for row in rows
            if row.category == figure["category"]
            and (row.event_on is None or start <= row.event_on <= end)
        ]
        present = [v for v in values if v is not None]
        if not present:
            continue  # the department says nothing: nothing to contradict
        department = sum(present, Decimal(0))
        if department > 0 and reported / department <= limit:
            continue
        ratio = "∞" if department <= 0 else f"{reported / department:.1f}"
        return Hit(
            rule=FraudRule.SELF_REPORT_MISMATCH,
            params={
                "label": figure.get("label", figure["field"]),
                "reported": f"{reported:.2f}",
                "department": f"{department:.2f}",
                "ratio": ratio,
                "max_ratio": str(limit),
            },
        )
    return None


def _hub(context: _Context, application: Application) -> Hit | None:
    config = context.rules[FraudRule.HUB]
    minimum = int(config["min_enterprises"])
    held = context.holders.get(application.credit_code, {})
    hubs = {
        kind: len(held[kind]) for kind in ("address", "phone") if len(held.get(kind, ())) >= minimum
    }
    if not hubs:
        return None
    return Hit(
        rule=FraudRule.HUB,
        params={
            "kinds": "、".join(KIND_LABELS[k] for k in hubs),
            "count": max(hubs.values()),
            "min_enterprises": minimum,
        },
    )


def _letter_allows(session: Session, application: Application, categories: list[str]) -> bool:
    """Whether the application's letter lets its institution read these categories of the
    applicant (decided and recorded, channel ``risk:fraud``)."""
    known = {c.code for c in catalog_service.list_categories(session)}
    wanted = [c for c in categories if c in known]
    if not wanted or application.letter_id is None:
        return False
    decision = consent_service.decide(
        session,
        actor=market_service.rules.rules_principal(
            session, institution_id=application.institution_id
        ),
        subject=application.credit_code,
        categories=wanted,
        purpose=LOAN_APPLICATION,
        letter_id=application.letter_id,
        channel="risk:fraud",
    )
    return decision.allowed


def check(
    session: Session, context: _Context, application: Application
) -> tuple[list[Hit], list[str]]:
    """The rules' hits on one application, and the rules it could not check."""
    hits: list[Hit] = []
    skipped: list[str] = []
    rules = context.rules
    for rule, kind in SHARED_RULES.items():
        if rule in rules and (hit := _shared(context, application, rule, kind)):
            hits.append(hit)
    if FraudRule.MANY_INSTITUTIONS in rules and (hit := _many_institutions(context, application)):
        hits.append(hit)
    if FraudRule.RECENT_CHANGE in rules and (hit := _recent_change(session, context, application)):
        hits.append(hit)
    if FraudRule.YOUNG_LARGE in rules and (hit := _young_large(context, application)):
        hits.append(hit)
    if FraudRule.SELF_REPORT_MISMATCH in rules:
        figures = rules[FraudRule.SELF_REPORT_MISMATCH].get("figures", [])
        categories = sorted({SELF_REPORTED, *(str(f["category"]) for f in figures)})
        if _letter_allows(session, application, categories):
            if hit := _mismatch(session, context, application):
                hits.append(hit)
        else:
            skipped.append(f"{FraudRule.SELF_REPORT_MISMATCH}:{LETTER_SKIPPED}")
    if FraudRule.HUB in rules and (hit := _hub(context, application)):
        hits.append(hit)
    return hits, skipped


# --------------------------------------------------------------------------- recording


def _case_for(session: Session, application: Application) -> FraudCase | None:
    """The application's case, opened now if it has none; None when its case is closed
    (confirmed or dismissed: a later hit does not reopen it)."""
    case = fraud_cases.of_application(session, application_id=application.public_id)
    if case is None:
        case = FraudCase(
            public_id=new_id("frc"),
            application_id=application.public_id,
            credit_code=application.credit_code,
            enterprise_name=application.enterprise_name,
            institution_id=application.institution_id,
            institution_name=application.institution_name,
            rules=[],
        )
        session.add(case)
        CASES.begin(session, case, "open", actor=SYSTEM_SCAN)
        return case
    if case.state not in {str(s) for s in OPEN_CASE_STATES}:
        return None
    return case


def _record(session: Session, application: Application, hit: Hit) -> FraudCase | None:
    case = _case_for(session, application)
    if case is None:
        return None
    exists = session.scalar(
        select(FraudHit.id).where(FraudHit.case_id == case.id, FraudHit.rule == hit.rule)
    )
    if exists is None:
        params = {k: v for k, v in hit.params.items()}
        session.add(
            FraudHit(
                case_id=case.id,
                rule=hit.rule,
                explanation=explain(hit.rule, params),
                evidence=params,
                operator_evidence=hit.operator,
            )
        )
        case.rules = sorted({*case.rules, hit.rule})
        session.flush()
    return case


def _mark_scanned(session: Session, application_id: str, hits: int, skipped: list[str]) -> None:
    row = session.scalar(select(FraudScan).where(FraudScan.application_id == application_id))
    if row is None:
        session.add(FraudScan(application_id=application_id, hits=hits, skipped=skipped))
    else:
        row.scanned_at = clock.now()
        row.hits = hits
        row.skipped = skipped
    session.flush()


def scan_applications(session: Session, applications: Sequence[Application]) -> list[Scan]:
    """Run the rules over these applications; record hits, cases and the scans."""
    if not applications:
        return []
    context = _Context(session, applications)
    results: list[Scan] = []
    by_id: dict[str, Application] = {}
    for application in applications:
        hits, skipped = check(session, context, application)
        case: FraudCase | None = None
        marked: list[str] = []
        for hit in hits:
            case = _record(session, application, hit) or case
            for other_id in hit.others:
                other = by_id.get(other_id) or market_service.applications.get(
                    session, application_id=other_id
                )
                if other is not None:
                    by_id[other_id] = other
                    if _record(session, other, hit) is not None:
                        marked.append(other_id)
        if case is None and hits:
            case = fraud_cases.of_application(session, application_id=application.public_id)
        _mark_scanned(session, application.public_id, len(hits), skipped)
        results.append(
            Scan(
                application_id=application.public_id,
                hits=[h.rule for h in hits],
                case_id=None if case is None else case.public_id,
                skipped=skipped,
                marked=sorted(set(marked)),
            )
        )
    return results


def scan(session: Session, *, application_id: str) -> Scan:
    """Scan one application (the task after submission, or by hand)."""
    application = market_service.applications.get_or_raise(session, application_id=application_id)
    return scan_applications(session, [application])[0]


def scan_pending(
    session: Session,
    *,
    rescan: bool = False,
    since: datetime | None = None,
    limit: int = 10_000,
    batch: int = 500,
) -> list[Scan]:
    """Scan the applications not scanned yet (every one with ``rescan``), oldest first,
    submitted at ``since`` or later."""
    if limit < 1:
        raise ValidationFailed("must be at least {minimum}", field="limit", minimum=1)
    stmt = select(Application).order_by(Application.submitted_at, Application.id)
    if since is not None:
        stmt = stmt.where(Application.submitted_at >= since)
    if not rescan:
        stmt = stmt.where(Application.public_id.not_in(select(FraudScan.application_id)))
    chosen = list(session.scalars(stmt.limit(limit)))
    results: list[Scan] = []
    for start in range(0, len(chosen), batch):
        results.extend(scan_applications(session, chosen[start : start + batch]))
    return results


def scan_of(session: Session, *, application_id: str) -> FraudScan | None:
    return session.scalar(select(FraudScan).where(FraudScan.application_id == application_id))


# --------------------------------------------------------------------------- the hook


@market_service.applications.on_submitted
def _scan_after_commit(session: Session, application: Application) -> None:
    """Each new application is scanned once it is committed (``risk.fraud_scan``)."""
    if get_settings().risk.fraud_scan_on_apply:
        queue.enqueue_after_commit(session, SCAN_TASK, application.public_id)
