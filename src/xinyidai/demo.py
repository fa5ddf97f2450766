"""``xyd demo``: a working platform in one command — a synthetic region, its data, accounts.

Idempotent: the region is generated once under the data folder, ingesting it again adds
nothing, and accounts that exist are kept.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from xinyidai import bootstrap
from xinyidai.catalog import service as catalog_service
from xinyidai.consent import service as consent_service
from xinyidai.core.db import new_session, session_scope
from xinyidai.core.settings import get_settings
from xinyidai.federation import keys as node_keys
from xinyidai.graph import service as graph_service
from xinyidai.iam import service as iam_service
from xinyidai.iam.schemas import Principal
from xinyidai.ingest import service as ingest_service
from xinyidai.ingest.models import Batch
from xinyidai.jobs import load_all_tasks
from xinyidai.joint.service import demo as joint_demo
from xinyidai.ledger import keys as ledger_keys
from xinyidai.ledger import service as ledger_service
from xinyidai.market.service import demo as market_demo
from xinyidai.records import service as records_service
from xinyidai.registry import service as registry_service
from xinyidai.registry.models import SubjectKind, SubjectStatus
from xinyidai.rights.service import demo as rights_demo
from xinyidai.risk.service import blacklist_demo
from xinyidai.risk.service import demo as risk_demo
from xinyidai.scoring import service as rating_service
from xinyidai.sharing.service import demo as sharing_demo
from xinyidai.stats.service import demo as stats_demo
from xinyidai.supervision.service import demo as supervision_demo
from xinyidai.synth import generate

log = logging.getLogger(__name__)

DEMO_ENTERPRISES = 1000
DEMO_SEED = 2026


@dataclass
class DemoResult:
    region: Path
    enterprises: int
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    rated: int = 0
    enterprise_code: str = ""
    accounts: list[iam_service.DemoAccount] = field(default_factory=list)
    letter_id: str = ""


def demo_region(*, enterprises: int, seed: int) -> Path:
    """The demo region's folder, generated on first use (and when N or S change)."""
    folder = get_settings().data_dir / f"demo-region-{enterprises}-{seed}"
    if not (folder / "manifest.json").exists():
        generate(folder, enterprises=enterprises, seed=seed)
    return folder


def pick_demo_enterprise() -> str:
    """A clean, active enterprise with records in many categories: a good first profile."""
    negative = {c.code for c in _categories() if c.polarity == "negative"}
    with session_scope() as session:
        candidates, _ = registry_service.search(session, page=1, size=200)
        best = ""
        most = 0
        for subject in candidates:
            if subject.status != SubjectStatus.ACTIVE or subject.kind != SubjectKind.ENTERPRISE:
                continue
            groups = records_service.records_of(session, subject_code=subject.credit_code)
            names = {g.category for g in groups}
            if names & negative:
                continue
            if len(names) > most:
                best, most = subject.credit_code, len(names)
        if not best:
            raise RuntimeError("the demo region has no clean active enterprise")
        return best


def _principal(session: Session, username: str) -> Principal:
    user = iam_service.get_user_or_raise(session, username=username)
    return iam_service.principal_for_user(user, via="token")


def _categories() -> list[catalog_service.Category]:
    with session_scope() as session:
        return list(catalog_service.list_categories(session))


def run(
    *,
    enterprises: int = DEMO_ENTERPRISES,
    seed: int = DEMO_SEED,
    report: Callable[[str], None] = log.info,
) -> DemoResult:
    """Migrate, load the demo region, create the demo accounts; return what was done."""
    load_all_tasks()  # the demo's applications, loans and records queue work by name
    bootstrap.initialize()
    region = demo_region(enterprises=enterprises, seed=seed)
    report(f"demo region: {region}")
    result = DemoResult(region=region, enterprises=enterprises)
    # the whole region is rated once it is in, rather than record by record as it arrives
    feeds = ingest_service.feeds_in(region, provider=None, category=None)
    with session_scope() as session:
        ingest_service.check_sources(session, feeds)
    with rating_service.arrival_paused():
        for feed in feeds:
            session = new_session()

            def committed(_batch: Batch, session=session) -> None:  # type: ignore[no-untyped-def]
                session.commit()

            try:
                batch = ingest_service.ingest_file(
                    session, feed=feed, actor="system:demo", source="demo", on_chunk=committed
                )
                session.commit()
            finally:
                session.close()
            result.rows += batch.total
            result.accepted += batch.accepted
            result.rejected += batch.rejected
    report(
        f"ingested {result.rows} rows: {result.accepted} new, {result.rejected} rejected "
        "(the planted bad rows, kept with their reasons)"
    )
    # before the rating: it stores the bad-neighbour counts the rating reads
    with session_scope() as session:
        analysis = graph_service.analyse(session, actor="system:demo")
        report(
            f"association analysis: {analysis.circles} guarantee circles, {analysis.chains} "
            f"chains, {analysis.bad_neighbours} enterprises with a bad neighbour"
        )
    with session_scope() as session:
        run = rating_service.latest_run(session)
        if run is None:
            run = rating_service.rate_all(session, actor="system:demo")
            report(
                f"rated {run.rated} enterprises with {run.model_version} in {run.seconds:.1f}s: "
                + ", ".join(f"{grade} {count}" for grade, count in run.grades.items())
            )
        result.rated = run.rated
    if not ledger_keys.key_path().exists():
        ledger_keys.create_key()
        report(f"ledger signing key created at {ledger_keys.key_path()}")
    if node_keys.ensure_key():  # signs messages to other nodes (docs/federation.md)
        report(f"node key created at {node_keys.key_path()}")
    with session_scope() as session:
        sequenced = ledger_service.integrate(session)
        checkpoint = ledger_service.publish_checkpoint(session)
        report(f"ledger: {sequenced} new leaves, signed checkpoint at size {checkpoint.size}")
    result.enterprise_code = pick_demo_enterprise()
    with session_scope() as session:
        result.accounts = iam_service.ensure_demo_accounts(
            session, enterprise_code=result.enterprise_code
        )
    with session_scope() as session:
        story = consent_service.ensure_demo_consent(
            session,
            enterprise=_principal(session, "enterprise"),
            bank=_principal(session, "bank"),
        )
        result.letter_id = story.letter_id
        if story.created:
            report(
                f"consent: the enterprise signed the credit commitment and granted the bank "
                f"letter {story.letter_id}; {story.events} access events logged"
            )
    with session_scope() as session:
        candidates, _ = registry_service.search(session, page=1, size=50)
        codes = [result.enterprise_code] + [
            s.credit_code
            for s in candidates
            if s.kind == SubjectKind.ENTERPRISE
            and s.status == SubjectStatus.ACTIVE
            and s.credit_code != result.enterprise_code
        ]
        market = market_demo.ensure_demo_market(session, enterprise_codes=codes)
        if market.created:
            report(
                f"market: {market.products} products from 4 institutions, "
                f"{market.applications} applications, {market.loans} loans in every state"
            )
    with session_scope() as session:
        story_risk = blacklist_demo.ensure_demo_risk(session)
        if story_risk.created:
            report(
                f"risk: {story_risk.scanned} applications scanned, {story_risk.cases} fraud "
                f"cases; listing {story_risk.listing_id} in its objection window"
            )
        monitoring = risk_demo.ensure_demo_alerts(session)
        if monitoring.created:
            report(f"post-loan monitoring: {monitoring.raised} alerts in every inbox state")
    with session_scope() as session:
        rights = rights_demo.ensure_demo_rights(
            session,
            enterprise=_principal(session, "enterprise"),
            department=_principal(session, "provider-tax"),
            operator=_principal(session, "operator"),
        )
        if rights.created:
            report(
                f"rights: {rights.objections} objections (one overdue) and {rights.repairs} "
                f"credit repairs of the demo enterprise"
            )
    with session_scope() as session:
        sharing = sharing_demo.ensure_demo_sharing(session)
        if sharing.created:
            report(
                f"risk sharing: scheme {sharing.scheme_id} (4:3:2:1), {sharing.enrolled} loans "
                f"enrolled, {sharing.claims} claims (under review, paid and recovering)"
            )
    with session_scope() as session:
        history = stats_demo.ensure_demo_history(session)
        if history.created:
            report(
                f"statistics: a year of history, {history.applications} applications and "
                f"{history.loans} loans; the figures rebuilt"
            )
    with session_scope() as session:
        joint = joint_demo.ensure_demo_joint(
            session, enterprise=_principal(session, "enterprise"), bank=_principal(session, "bank")
        )
        if joint.created:
            report(
                f"joint modelling: {joint.answers} threshold answers for the bank; alignment "
                f"{joint.alignment_id} found {joint.matched} of its customers with letters"
            )
    with session_scope() as session:
        supervision = supervision_demo.ensure_demo_supervision(session)
        if supervision.created:
            levels = ", ".join(sorted(set(supervision.levels.values())))
            report(
                f"supervision: institutions at levels {levels}, assessment "
                f"{supervision.overdue} overdue, {supervision.queued} in the operator's queue, "
                f"finding {supervision.finding} open"
            )
    manifest = json.loads((region / "manifest.json").read_text(encoding="utf-8"))
    report(f"region {manifest['region']['name']}: {enterprises} enterprises, seed {seed}")
    return result
