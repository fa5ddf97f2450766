"""Three nodes as three processes, each with its own database, on loopback ports: the
center and two city platforms (one joining by itself, ``xyd node join``). Records flow down
per entitlement, usage and collected data flow up, a repair at the center disappears from
both platforms' views, a platform stopped while changes happen catches up with identical
counts, a tampered and a replayed message are refused, and the evidence on both ledgers
matches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.federation.network import NetworkNode, acting_as
from tests.rights.conftest import PDF
from xinyidai.core import clock
from xinyidai.core.blobs import Upload
from xinyidai.core.db import session_scope
from xinyidai.federation import envelope, keys
from xinyidai.federation.models import (
    Collected,
    Direction,
    Message,
    MessageState,
    Node,
    NodeRole,
    ReceivedVersion,
    Refusal,
    Usage,
    UsageKind,
)
from xinyidai.federation.schemas import NodeIn, NodeUpdate, UsageIn
from xinyidai.federation.service import nodes, sync, up
from xinyidai.iam import service as iam_service
from xinyidai.iam.models import OrgKind, OrgState
from xinyidai.iam.schemas import Principal
from xinyidai.ingest.models import Batch
from xinyidai.ledger import keys as ledger_keys
from xinyidai.ledger import service as ledger_service
from xinyidai.ledger.verify import verify_ledger
from xinyidai.records import service as records_service
from xinyidai.records.models import CreditRecord
from xinyidai.registry.models import Enterprise
from xinyidai.rights.schemas import RepairIn
from xinyidai.rights.service import repairs

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

CITY_A, CITY_B = "city-a.xyd.test", "city-b.xyd.test"
PASSWORD = "center-operator-password"
PENALTY_HEAD = (
    "行政相对人名称,统一社会信用代码,法定代表人,行政处罚决定书文号,违法行为类型,处罚类别,"
    "罚款金额（元）,处罚决定日期,处罚机关,地方编码,数据来源单位"
)


class Network:
    def __init__(self, root: Path, template: Path) -> None:
        self.center = NetworkNode("center.xyd.test", root / "center")
        self.a = NetworkNode(CITY_A, root / "a")
        self.b = NetworkNode(CITY_B, root / "b")
        self.public = {node.name: node.create(template) for node in self.nodes}
        self.root = root

    @property
    def nodes(self) -> tuple[NetworkNode, ...]:
        return (self.center, self.a, self.b)


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Network]:
    root = tmp_path_factory.mktemp("network")
    net = Network(root, sqlite_template)
    net.center.run("synth", "--enterprises", "120", "--seed", "7", "--out", str(root / "synth"))
    net.center.run("ingest", str(root / "synth"), "--no-rate")
    with acting_as(net.center), session_scope() as session:
        # city A: Yinchuan, every unconditional category and the tax rating
        nodes.register(
            session,
            data=NodeIn(
                name=CITY_A,
                role=NodeRole.CITY,
                url=net.a.url,
                public_key=net.public[CITY_A],
                categories=["*", "tax_rating"],
                regions=["6401"],
            ),
            actor="user:operator",
        )
        operator = iam_service.create_organization(
            session, kind=OrgKind.OPERATOR, name="数据中心", actor="test", state=OrgState.ACTIVE
        )
        iam_service.create_user(
            session,
            organization=operator,
            username="center-operator",
            display_name="中心操作员",
            password=PASSWORD,
            role="admin",
            email=None,
            actor="test",
        )
    net.center.start()
    # city B joins by itself: all of Ningxia, unconditional categories only
    net.b.run(
        "node",
        "join",
        net.center.url,
        "--url",
        net.b.url,
        "--regions",
        "64",
        "--user",
        "center-operator",
        "--password",
        PASSWORD,
    )
    with acting_as(net.center), session_scope() as session:
        nodes.update(  # the center's operator lets it send penalties up
            session, name=CITY_B, data=NodeUpdate(accepts=["admin_penalty"]), actor="user:operator"
        )
    with acting_as(net.b), session_scope() as session:
        nodes.update(
            session,
            name=net.center.name,
            data=NodeUpdate(categories=["admin_penalty"]),
            actor="user:operator",
        )
    with acting_as(net.a), session_scope() as session:
        nodes.register(
            session,
            data=NodeIn(
                name=net.center.name,
                role=NodeRole.CENTER,
                url=net.center.url,
                public_key=net.public[net.center.name],
                categories=["admin_penalty"],
            ),
            actor="user:operator",
        )
    for node in (net.a, net.b):
        node.start()
    try:
        yield net
    finally:
        for node in net.nodes:
            node.stop()


def _sync(node: NetworkNode, peer: str, *, force: bool = False) -> sync.SyncReport:
    with acting_as(node):
        return sync.sync_node(peer, force=force)


def _expected(center: NetworkNode, peer: str) -> set[str]:
    """The record ids the center should have shipped ``peer``: its categories and regions,
    repaired records left out."""
    with acting_as(center), session_scope() as session:
        node = nodes.get_or_raise(session, name=peer)
        categories = nodes.shared_categories(session, node)
        repaired = records_service.repaired_ids(session)
        rows = session.execute(
            select(CreditRecord.id, Enterprise.region_code)
            .join(Enterprise, Enterprise.credit_code == CreditRecord.subject_code)
            .where(CreditRecord.category.in_(categories))
        )
        return {
            rid
            for rid, region in rows
            if rid not in repaired and any((region or "").startswith(p) for p in node.regions)
        }


def _held(node: NetworkNode) -> dict[str, Any]:
    """What a platform holds from the center: record ids shown, versions applied."""
    with acting_as(node), session_scope() as session:
        received = session.scalar(select(func.count()).select_from(ReceivedVersion))
        ids = set(session.scalars(select(ReceivedVersion.record_id)))
        repaired = records_service.repaired_ids(session)
        categories = set(session.scalars(select(CreditRecord.category).distinct()))
        records = session.scalar(select(func.count()).select_from(CreditRecord))
        return {
            "shown": ids - repaired,
            "versions": int(received or 0),
            "categories": categories,
            "records": int(records or 0),
        }


def _principal(kind: OrgKind, **more: Any) -> Principal:
    return Principal(
        organization_id=1,
        organization_public_id="org_test",
        organization_kind=kind,
        organization_name="test",
        organization_state="active",
        role="admin",
        user_id=1,
        **more,
    )


def _repair_one_penalty(center: NetworkNode, in_region: str) -> str:
    """An approved repair of a penalty of a subject in ``in_region``, as rights makes it."""
    with acting_as(center), session_scope() as session:
        rows = session.execute(
            select(CreditRecord)
            .join(Enterprise, Enterprise.credit_code == CreditRecord.subject_code)
            .where(CreditRecord.category == "admin_penalty")
            .where(Enterprise.region_code.like(in_region + "%"))
        ).scalars()
        rule = repairs.rule_or_raise("admin_penalty")
        record = next(
            r
            for r in rows
            if repairs.eligible_from(rule, event_on=r.event_on, data=r.data) <= clock.today()
        )
        enterprise = _principal(
            OrgKind.ENTERPRISE, username="enterprise", credit_code=record.subject_code
        )
        repair = repairs.apply(
            session,
            principal=enterprise,
            data=RepairIn(record_id=record.id, statement="已整改", commitment_signed=True),
            uploads=[Upload("proof.pdf", "application/pdf", PDF)] * len(rule.documents),
        )
        operator = _principal(OrgKind.OPERATOR, username="operator")
        if repair.department_review:
            department = _principal(
                OrgKind.PROVIDER, username="dept", organization_code=repair.department
            )
            repairs.move(session, principal=operator, repair=repair, name="refer")
            repairs.move(session, principal=department, repair=repair, name="concur")
        repairs.move(session, principal=operator, repair=repair, name="approve", reason="已履行")
        return record.id


def test_records_down_usage_up_repairs_and_catch_up_across_three_processes(
    network: Network,
) -> None:
    center, a, b = network.center, network.a, network.b
    for city in (CITY_A, CITY_B):
        report = _sync(center, city)
        assert report.failed is None
        assert report.messages >= 1

    # down, per entitlement: region, category (tax rating to city A only), personal fields
    held_a, held_b = _held(a), _held(b)
    assert held_a["shown"] == _expected(center, CITY_A) != set()
    assert held_b["shown"] == _expected(center, CITY_B)
    assert held_b["shown"] - _expected(center, CITY_A)  # beyond Yinchuan
    assert "tax_rating" in held_a["categories"]
    assert "tax_rating" not in held_b["categories"]
    assert not held_b["categories"] & {"tax_payment", "social_insurance", "housing_fund"}
    with acting_as(a), session_scope() as session:
        holders = list(
            session.scalars(select(CreditRecord.data).where(CreditRecord.category == "shareholder"))
        )
        names = [row["shareholder_name"] for row in holders if row.get("shareholder_name")]
        people = [n for n in names if "*" in n]
        assert people, "natural-person shareholders arrive desensitized"
        provenance = session.scalars(select(ReceivedVersion)).first()
        assert provenance is not None
        assert provenance.origin == center.name
        assert provenance.department  # the original department is kept

    # up: usage (数据回流) and data a city collected itself, through the normal ingest
    with acting_as(a), session_scope() as session:
        used = sorted(held_a["shown"])[:3]
        up.note_usage(session, data=UsageIn(record_ids=used, loan_ref="LN-2026-001"))
    penalties = b.folder / "local-penalties.csv"
    penalties.write_text(
        PENALTY_HEAD
        + "\n银川市本地测试有限公司,91640106MA0HFFC602,杨艳霞,宁罚字〔2026〕000009999号,"
        "未按规定申报纳税,罚款,2600.00,2026年4月6日,银川市金凤区税务局,640106,银川市金凤区税务局"
        + "\n坏行,BADCODE,某,宁罚字〔2026〕000009998号,未按规定申报纳税,罚款,1.00,"
        "2026年4月6日,银川市金凤区税务局,640106,银川市金凤区税务局\n",
        encoding="utf-8",
    )
    b.run(
        "ingest", str(penalties), "--provider", "credit", "--category", "admin_penalty", "--no-rate"
    )
    assert _sync(a, center.name).failed is None
    assert _sync(b, center.name).failed is None
    with acting_as(center), session_scope() as session:
        usage = list(session.scalars(select(Usage).where(Usage.kind == UsageKind.RECEIVED)))
        assert sorted(u.record_id for u in usage) == used
        assert {u.node for u in usage} == {CITY_A}
        (collected,) = session.scalars(select(Collected))
        # the bad row stayed in city B's own quarantine; the good one passed the center's
        assert (collected.node, collected.rows, collected.accepted) == (CITY_B, 1, 1)
        batch = session.get(Batch, collected.batch_id)
        assert batch is not None
        assert batch.created_by == f"node:{CITY_B}"
    assert _sync(a, center.name).messages == 0  # nothing new: nothing sent

    # city B is down while the center changes: new records and a repair
    b.stop()
    repaired = _repair_one_penalty(center, "6401")
    more = network.root / "more-penalties.csv"
    more.write_text(
        PENALTY_HEAD
        + "".join(
            f"\n宁夏追加测试{i}有限公司,{code},张三,宁罚字〔2026〕00000{i:04d}号,未按规定公示,"
            f"警告,0.00,2026年5月{i + 1}日,银川市市场监督管理局,640104,银川市市场监督管理局"
            for i, code in enumerate(_codes(center, "6401", 5))
        )
        + "\n",
        encoding="utf-8",
    )
    center.run(
        "ingest", str(more), "--provider", "credit", "--category", "admin_penalty", "--no-rate"
    )
    assert _sync(center, CITY_A).failed is None
    down = _sync(center, CITY_B)
    assert down.failed is not None
    with acting_as(center), session_scope() as session:
        node = nodes.get_or_raise(session, name=CITY_B)
        assert node.failures == 1
        assert node.next_try_at is not None
        assert nodes.status(session, node).pending_records > 0
    assert _sync(center, CITY_B).skipped  # backing off
    b.start()
    assert _sync(center, CITY_B, force=True).failed is None

    held_a, held_b = _held(a), _held(b)
    assert repaired not in held_a["shown"]
    assert repaired not in held_b["shown"]
    assert held_a["shown"] == _expected(center, CITY_A)
    assert held_b["shown"] == _expected(center, CITY_B)
    for city in (a, b):
        with acting_as(city), session_scope() as session:
            (penalty,) = [
                r.id
                for group in records_service.records_of(
                    session,
                    subject_code=_subject_of(center, repaired),
                    categories=["admin_penalty"],
                )
                for r in group.records
                if r.id == repaired
            ] or [None]
            assert penalty is None  # gone from the platform's view, kept underneath
            assert session.scalar(
                select(func.count()).select_from(CreditRecord).where(CreditRecord.id == repaired)
            )
    with acting_as(center), session_scope() as session:
        assert nodes.status(session, nodes.get_or_raise(session, name=CITY_B)).pending_records == 0

    # evidence: each acknowledged message is stored at both ends with the same digests,
    # and each ledger holds a matching leaf for it
    evidence = {}
    for node in network.nodes:
        with acting_as(node), session_scope() as session:
            rows = session.scalars(select(Message).where(Message.salt.is_not(None)))
            for row in rows:
                evidence.setdefault(row.message_id, []).append(
                    (node.name, row.direction, row.message_digest, row.receipt_digest)
                )
            ledger_keys.create_key()
            ledger_service.integrate(session)
            ledger_service.publish_checkpoint(session)
            session.commit()
            report = verify_ledger(session)
            assert report.ok, report.problems
            assert report.sources["federation.exchange"] == session.scalar(
                select(func.count()).select_from(Message).where(Message.salt.is_not(None))
            )
    assert evidence
    for message_id, copies in evidence.items():
        assert len(copies) == 2, message_id
        (_sender, out_dir, *out), (_receiver, in_dir, *inn) = sorted(
            copies, key=lambda c: c[1] != Direction.OUT
        )
        assert (out_dir, in_dir) == (Direction.OUT, Direction.IN)
        assert out == inn
        assert None not in out


def _codes(center: NetworkNode, region: str, count: int) -> list[str]:
    with acting_as(center), session_scope() as session:
        return list(
            session.scalars(
                select(Enterprise.credit_code)
                .where(Enterprise.region_code.like(region + "%"))
                .order_by(Enterprise.credit_code)
                .limit(count)
            )
        )


def _subject_of(center: NetworkNode, record_id: str) -> str:
    with acting_as(center), session_scope() as session:
        return records_service.get_or_raise(session, record_id=record_id).subject_code


def _post(node: NetworkNode, message: Any) -> httpx.Response:
    return httpx.post(node.url + "/api/v1/federation/inbox", json=message, timeout=30)


def test_tampered_replayed_unknown_and_stale_messages_are_refused_and_logged(
    network: Network,
) -> None:
    center, a = network.center, network.a
    with acting_as(center):
        key = keys.load_key()

    def sealed(**more: Any) -> dict[str, Any]:
        return envelope.seal(
            key=more.pop("key", key),
            sender=more.pop("sender", center.name),
            receiver=CITY_A,
            kind="usage",
            body={"usage": [], "marks": {}},
            **more,
        )

    good = sealed()
    tampered = json.loads(json.dumps(good))
    tampered["body"]["marks"] = {"usage": 99}
    answers = {
        "bad_signature": _post(a, tampered),
        "good": _post(a, good),
        "replayed": _post(a, good),
        "unknown_node": _post(a, sealed(sender="stranger.xyd.test")),
        "stale": _post(a, sealed(at=clock.now() - timedelta(hours=1))),
        "malformed": _post(a, {"id": "x"}),
    }
    assert answers["good"].status_code == 200
    receipt = answers["good"].json()
    envelope.check_signature(receipt, keys.parse_public(network.public[CITY_A]))
    assert receipt["body"]["for"] == good["id"]
    assert receipt["body"]["digest"] == envelope.digest(good)
    assert answers["bad_signature"].status_code == 401
    assert answers["replayed"].status_code == 409
    assert answers["unknown_node"].status_code == 401
    assert answers["stale"].status_code == 401
    assert answers["malformed"].status_code == 400
    with acting_as(a), session_scope() as session:
        reasons = {
            row.reason: row
            for row in session.scalars(select(Refusal).where(Refusal.claimed_sender != ""))
        }
        assert set(reasons) >= {"bad_signature", "replayed", "unknown_node", "stale"}
        assert reasons["replayed"].message_id == good["id"]
        received = session.scalar(select(Message).where(Message.message_id == good["id"]))
        assert received is not None
        assert received.state == MessageState.RECEIVED
        assert session.scalar(select(Node.last_received_at).where(Node.name == center.name))
