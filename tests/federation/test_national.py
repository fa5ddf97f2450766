"""The national platform's adapter against a recorded exchange: a batch file the national
platform sent (recorded, signed by its key) is applied once here with its provenance and
answered with a signed receipt file; a batch written here for it is a signed envelope of
this node's records (never those it sent), and its receipt file moves the marks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from xinyidai.core.errors import ValidationFailed
from xinyidai.federation import envelope, keys
from xinyidai.federation.models import NodeRole, ReceivedVersion, Refusal
from xinyidai.federation.schemas import NodeIn
from xinyidai.federation.service import exchange, national, nodes
from xinyidai.ingest import service as ingest_service
from xinyidai.records import service as records_service

DATA = Path(__file__).with_name("data")
NATIONAL = "national.xyd.example"
HERE = "region.xyd.example"  # the recorded batch is addressed to this node


@pytest.fixture
def region(session: Session, xyd_env: Callable[..., object]) -> Session:
    xyd_env(XYD_NODE_NAME=HERE, XYD_OUTBOUND_ALLOW_LOOPBACK="true")
    keys.create_key()
    nodes.register(
        session,
        data=NodeIn(
            name=NATIONAL,
            role=NodeRole.NATIONAL,
            url="http://127.0.0.1:9",
            public_key=keys.public_text(keys.load_key(path=DATA / "national.key")),
            categories=["dishonest_debtor"],
        ),
        actor="user:operator",
    )
    session.commit()
    return session


def test_a_recorded_national_batch_is_applied_once_and_answered(region: Session) -> None:
    text = (DATA / "national-batch.json").read_text(encoding="utf-8")
    receipt_text = national.read_batch(region, text=text)
    region.commit()
    receipt = json.loads(receipt_text)
    assert receipt["format"] == national.FORMAT
    answer = receipt["receipt"]
    envelope.check_signature(answer, keys.parse_public(keys.public_text(keys.load_key())))
    sent = json.loads(text)["envelope"]
    assert answer["body"]["for"] == sent["id"]
    assert answer["body"]["digest"] == envelope.digest(sent)
    assert answer["body"]["result"]["applied"] == 2
    for code in (ENTERPRISE_CODE, OTHER_CODE):
        (group,) = records_service.records_of(
            region, subject_code=code, categories=["dishonest_debtor"]
        )
        (record,) = group.records
        assert record.provider == "court"  # the original department, kept
    origins = set(region.scalars(select(ReceivedVersion.origin)))
    assert origins == {NATIONAL}

    with pytest.raises(exchange.MessageRefused) as again:
        national.read_batch(region, text=text)
    assert again.value.reason == "replayed"
    region.commit()
    assert region.scalar(select(func.count()).select_from(Refusal)) == 1
    assert region.scalar(select(func.count()).select_from(ReceivedVersion)) == 2


def test_a_tampered_batch_file_is_refused(region: Session) -> None:
    document = json.loads((DATA / "national-batch.json").read_text(encoding="utf-8"))
    document["envelope"]["body"]["records"][0]["data"]["amount"] = "1.00"
    with pytest.raises(exchange.MessageRefused) as refused:
        national.read_batch(region, text=json.dumps(document, ensure_ascii=False))
    assert refused.value.reason == "bad_signature"
    with pytest.raises(ValidationFailed):
        national.read_batch(region, text='{"format": "other"}')


def test_a_batch_for_the_national_platform_and_its_receipt(region: Session) -> None:
    region.commit()
    national.read_batch(region, text=(DATA / "national-batch.json").read_text(encoding="utf-8"))
    batch = ingest_service.push_rows(
        region,
        provider="court",
        category="dishonest_debtor",
        rows=[
            {
                "credit_code": ENTERPRISE_CODE,
                "enterprise_name": "南宁示范科技有限公司",
                "case_number": "（2026）桂01执0099号",
                "published_on": "2026-11-20",
                "region_code": "450100",
                "amount": "30000.00",
                "legal_representative": "张三丰",
            }
        ],
        actor="user:provider-court",
    )
    assert batch.accepted == 1
    region.commit()
    written = national.write_batch(region, name=NATIONAL)
    assert written is not None
    text, row = written
    region.commit()
    document = json.loads(text)
    sealed = document["envelope"]
    assert document["format"] == national.FORMAT
    envelope.check_signature(sealed, keys.parse_public(keys.public_text(keys.load_key())))
    (shipped,) = sealed["body"]["records"]  # its own record, not the two it was sent
    assert shipped["data"]["case_number"] == "（2026）桂01执0099号"
    assert shipped["data"]["legal_representative"] != "张三丰"  # desensitized
    assert shipped["desensitized"] is True

    # the national platform answers with its receipt file
    answer = envelope.receipt(
        key=keys.load_key(path=DATA / "national.key"),
        sender=NATIONAL,
        message=sealed,
        result={"items": 1, "applied": 1, "marks": sealed["body"]["marks"]},
    )
    result = national.read_receipt(region, text=national.dumps("receipt", answer))
    region.commit()
    assert result["applied"] == 1
    node = nodes.get_or_raise(region, name=NATIONAL)
    assert node.record_mark_id == shipped["record_id"]
    assert national.write_batch(region, name=NATIONAL) is None  # nothing new
    forged = dict(answer, body=dict(answer["body"], result={"marks": {}}))
    with pytest.raises(ValidationFailed):
        national.read_receipt(region, text=national.dumps("receipt", forged))
    assert row.state == "acknowledged"
