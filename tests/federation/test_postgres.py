"""On PostgreSQL (partitioned records, COPY-based stores): a recorded national batch is
applied once with its provenance; the records after a mark are read in pages that split one
change mark, each version once, and none sent back to the node it came from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.accounts import ENTERPRISE_CODE
from xinyidai.core import db as core_db
from xinyidai.federation import keys
from xinyidai.federation.models import NodeRole, ReceivedVersion
from xinyidai.federation.schemas import NodeIn
from xinyidai.federation.service import down, national, nodes
from xinyidai.ingest import service as ingest_service

pytestmark = pytest.mark.postgres

DATA = Path(__file__).with_name("data")


def test_the_network_on_postgres(pg_url: str, xyd_env: Callable[..., object]) -> None:
    xyd_env(XYD_NODE_NAME="region.xyd.example", XYD_OUTBOUND_ALLOW_LOOPBACK="true")
    keys.create_key()
    session = core_db.new_session()
    try:
        national_node = nodes.register(
            session,
            data=NodeIn(
                name="national.xyd.example",
                role=NodeRole.NATIONAL,
                url="http://127.0.0.1:9",
                public_key=keys.public_text(keys.load_key(path=DATA / "national.key")),
                categories=["dishonest_debtor", "*"],
            ),
            actor="user:operator",
        )
        session.commit()
        text = (DATA / "national-batch.json").read_text(encoding="utf-8")
        national.read_batch(session, text=text)
        session.commit()
        assert session.scalar(select(func.count()).select_from(ReceivedVersion)) == 2
        rows = [
            {
                "credit_code": ENTERPRISE_CODE,
                "enterprise_name": "南宁示范科技有限公司",
                "decision_number": f"桂罚〔2026〕{i}号",
                "decided_on": "2026-06-01",
                "fine_amount": "100.00",
                "region_code": "450100",
            }
            for i in range(7)
        ]
        batch = ingest_service.push_rows(
            session, provider="credit", category="admin_penalty", rows=rows, actor="test"
        )
        assert batch.accepted == 7
        session.commit()
        # seven versions of one store share a change mark: pages of three split it
        shipped: list[str] = []
        for _ in range(5):
            body, items = down.records_body(session, node=national_node, limit=3)
            if not items:
                break
            shipped += [item["record_id"] for item in body["records"]]
            down.advance(national_node, body["marks"])
        assert len(shipped) == len(set(shipped)) == 7  # not the two it sent
    finally:
        session.close()
