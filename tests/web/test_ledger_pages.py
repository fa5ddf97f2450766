"""The ledger page over HTTP: the signed checkpoint and its witnesses, and one entry checked
by index, digest or record, with every step of the inclusion proof worked on the server."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.ingest.tables import HEADERS, code, good_row, write
from tests.web.conftest import sign_in
from xinyidai.ingest import service as ingest_service
from xinyidai.ledger import keys, note, tree
from xinyidai.ledger import service as ledger
from xinyidai.records import service as records_service
from xinyidai.records.models import CreditRecord

Portal = Callable[[str], TestClient]


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@pytest.fixture
def logged(session: Session, tmp_path: Path, demo: object) -> Session:
    """Five court records in the ledger (two of them about enterprise 1), sequenced and signed,
    after the leaves the demo accounts left (the demo bank's agreement and assessment): their
    count is ``session.info["base"]``."""
    keys.create_key()
    session.info["base"] = ledger.integrate(session)
    second_case = [code(1), "宁夏测试1有限公司", "(2024)宁0104执99号", "兴庆区人民法院",
                   "2024-05-06", "88.00", "640104"]  # fmt: skip
    rows = [good_row(n) for n in range(1, 5)] + [second_case]
    path = write(tmp_path / "court", "csv", HEADERS, rows)
    ingest_service.ingest_file(
        session,
        feed=ingest_service.FeedFile(path, "court", "court_enforcement"),
        actor="test",
    )
    session.commit()
    ledger.integrate(session)
    ledger.publish_checkpoint(session)
    session.commit()
    return session


def _record(session: Session, n: int) -> CreditRecord:
    session.expire_all()
    return session.scalars(
        select(CreditRecord)
        .where(CreditRecord.subject_code == code(n))
        .order_by(CreditRecord.updated_at, CreditRecord.id)
    ).first()  # type: ignore[return-value]


def _error(html: str, field: str) -> str:
    match = re.search(rf'data-error-for="{re.escape(field)}">([^<]*)<', html)
    assert match, f"no error shown for {field}"
    return match.group(1)


def _testid(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    assert match, f"nothing with data-testid={name}"
    return match.group(1)


def _result(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{name}" data-result="([a-z]+)"', html)
    assert match, f"no verdict {name}"
    return match.group(1)


def _assert_verified(html: str, session: Session, index: int) -> None:
    """The page shows the leaf, each proof step and a root equal to the signed one."""
    entry = ledger.get_by_index_or_raise(session, index=index)
    checkpoint = ledger.latest_checkpoint_or_raise(session)
    assert _testid(html, "event-index") == str(index)
    assert _testid(html, "leaf-hash") == _b64(tree.leaf_hash(bytes(entry.leaf)))
    proof = ledger.inclusion_proof(session, index=index, tree_size=checkpoint.size)
    steps = re.findall(r'<li data-step="(\d+)" data-side="(left|right)">', html)
    assert len(steps) == len(proof) > 0
    for sibling in proof:
        assert _b64(sibling) in html
    assert _testid(html, "computed-root") == _b64(bytes(checkpoint.root_hash))
    assert _testid(html, "signed-root") == _b64(bytes(checkpoint.root_hash))
    assert _result(html, "proof-verdict") == "matches"
    assert "计算所得根哈希与签名根哈希一致" in html
    assert "SHA-256(0x00 ‖ 叶子)" in html


def test_the_page_shows_the_signed_checkpoint_key_and_witnesses(
    portal: Portal, logged: Session
) -> None:
    session = logged
    witnesses = [
        note.generate_signer(name, key_type=note.COSIGNATURE_ED25519)
        for name in ("w.test/early", "w.test/steady")
    ]
    for witness in witnesses:
        ledger.add_witness(session, name=witness.verifier.name, vkey=witness.verifier.vkey)
    first = ledger.latest_checkpoint_or_raise(session)
    ledger.add_cosignature(
        session,
        checkpoint=first.note,
        cosignature=note.cosign(
            note.split_note(first.note)[0], witnesses[0], timestamp=1_700_000_000
        ),
    )
    ledger.append(session, kind="consent.given", actor="org:bank", subject="s", ref="c1", body=b"x")
    ledger.integrate(session)
    current = ledger.publish_checkpoint(session)
    ledger.add_cosignature(
        session,
        checkpoint=current.note,
        cosignature=note.cosign(
            note.split_note(current.note)[0], witnesses[1], timestamp=1_700_000_100
        ),
    )
    session.commit()

    response = portal("auditor").get("/ledger")
    assert response.status_code == 200
    html = response.text
    assert "<h1>账本</h1>" in html
    assert _testid(html, "tree-size") == str(session.info["base"] + 6)
    assert _testid(html, "root-hash") == _b64(bytes(current.root_hash))
    signed_note = _testid(html, "signed-note")
    size = session.info["base"] + 6
    assert signed_note.startswith(f"{keys.origin()}\n{size}\n{_b64(bytes(current.root_hash))}\n")
    assert "— w.test/steady " in signed_note
    assert _testid(html, "verifier-key") == ledger.verifier_key()
    assert re.search(
        rf'data-witness="w.test/early">.*?<td[^>]*>{size - 1}</td>.*?data-covers="no"', html, re.S
    )
    assert re.search(
        rf'data-witness="w.test/steady">.*?<td[^>]*>{size}</td>.*?data-covers="yes"', html, re.S
    )
    assert "2023-11-15 06:15:00" in html  # 1_700_000_100 in Asia/Shanghai


def test_the_operator_sees_it_too_and_others_do_not(portal: Portal, logged: Session) -> None:
    assert portal("operator").get("/ledger").status_code == 200
    for username in ("bank", "provider-tax", "enterprise"):
        response = portal(username).get("/ledger")
        assert response.status_code == 403
        assert portal(username).get("/ledger/check", params={"index": "0"}).status_code == 403


def test_the_menu_has_the_ledger_for_auditors_and_the_operator(portal: Portal) -> None:
    auditor = portal("auditor").get("/dashboard").text
    assert re.findall(r'data-nav="(/ledger|/catalog)"', auditor) == ["/ledger", "/catalog"]
    operator = portal("operator").get("/dashboard").text
    assert re.findall(r'data-nav="(/ledger|/catalog)"', operator) == ["/catalog", "/ledger"]
    assert 'data-nav="/ledger"' not in portal("bank").get("/dashboard").text


def test_signing_in_is_needed(client: TestClient) -> None:
    response = client.get("/ledger/check?by=index&index=0", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/ledger/check")


def test_check_by_index_shows_the_event_and_a_verified_proof(
    portal: Portal, logged: Session
) -> None:
    index = logged.info["base"] + 2
    response = portal("auditor").get("/ledger/check", params={"by": "index", "index": str(index)})
    assert response.status_code == 200
    html = response.text
    _assert_verified(html, logged, index)
    entry = ledger.get_by_index_or_raise(logged, index=index)
    event = ledger.decode_leaf(bytes(entry.leaf))
    assert (event["kind"], event["v"]) == ("record.version", 2)
    assert event["digest"] in html
    # The auditor sees which record version the node keeps the leaf for (not in the leaf).
    assert entry.ref is not None
    assert entry.ref not in bytes(entry.leaf).decode()
    assert _testid(html, "event-ref") == entry.ref
    assert _testid(html, "event-format") == "2"
    assert _result(html, "body-check") == "matches"
    assert "一致：存储的数据仍与叶子中的摘要相符" in html
    # No value of the record itself is on the page.
    for value in ("兴庆区人民法院", "宁夏测试", "1200.50"):
        assert value not in html


def _leaf_digest(record: CreditRecord) -> str:
    return records_service.leaf_digest(
        record_id=record.id,
        version=record.version,
        subject_code=record.subject_code,
        provider=record.provider,
        digest=record.digest,
        salt=record.salt,
    )


def test_check_by_digest_finds_the_entry(portal: Portal, logged: Session) -> None:
    record = _record(logged, 3)
    html = (
        portal("auditor")
        .get("/ledger/check", params={"by": "digest", "digest": _leaf_digest(record)})
        .text
    )
    index = int(_testid(html, "event-index"))
    assert ledger.get_by_index_or_raise(logged, index=index).ref == f"{record.id}:1"
    _assert_verified(html, logged, index)
    assert _result(html, "body-check") == "matches"
    # The data's own digest finds nothing: the leaf holds only its salted commitment.
    plain = portal("auditor").get("/ledger/check", params={"by": "digest", "digest": record.digest})
    assert plain.status_code == 404


def test_check_by_record_checks_its_current_version(portal: Portal, logged: Session) -> None:
    record = _record(logged, 2)
    html = (
        portal("operator")
        .get(
            "/ledger/check",
            params={
                "by": "record",
                "credit_code": code(2).lower(),
                "category": "court_enforcement",
            },
        )
        .text
    )
    assert f"记录 {record.id}，第 1 版（当前版本）" in html
    index = int(_testid(html, "event-index"))
    _assert_verified(html, logged, index)
    assert _result(html, "body-check") == "matches"


def test_a_subject_with_several_records_picks_one(portal: Portal, logged: Session) -> None:
    client = portal("auditor")
    params = {"by": "record", "credit_code": code(1), "category": "court_enforcement"}
    html = client.get("/ledger/check", params=params).text
    links = re.findall(r'href="(/ledger/check\?[^"]+record=([0-9a-f]{32})#result)"', html)
    assert len(links) == 2
    assert 'data-testid="proof-verdict"' not in html
    chosen = links[1][1]
    picked = client.get(links[1][0].replace("&amp;", "&")).text
    assert f"记录 {chosen}，第 1 版" in picked
    _assert_verified(picked, logged, int(_testid(picked, "event-index")))


def test_a_record_edited_in_the_database_does_not_match(portal: Portal, logged: Session) -> None:
    session = logged
    record = _record(session, 4)
    changed = {**record.data, "amount": "1.00"}
    session.execute(update(CreditRecord).where(CreditRecord.id == record.id).values(data=changed))
    session.commit()
    client = portal("auditor")
    params = {"by": "record", "credit_code": code(4), "category": "court_enforcement"}
    html = client.get("/ledger/check", params=params).text
    assert _result(html, "body-check") == "differs"
    assert "不一致：存储的数据与叶子中的摘要不再相符" in html
    # The leaf itself is intact and in the signed tree: only the stored data moved.
    assert _result(html, "proof-verdict") == "matches"
    by_digest = client.get(
        "/ledger/check", params={"by": "digest", "digest": _leaf_digest(record)}
    ).text
    assert _result(by_digest, "body-check") == "differs"


def test_a_record_whose_digest_was_rewritten_too_has_no_leaf(
    portal: Portal, logged: Session
) -> None:
    session = logged
    record = _record(session, 3)
    changed = {**record.data, "amount": "2.00"}
    forged = ledger.digest_of(b"anything else")
    session.execute(
        update(CreditRecord).where(CreditRecord.id == record.id).values(data=changed, digest=forged)
    )
    session.commit()
    html = (
        portal("auditor")
        .get(
            "/ledger/check",
            params={"by": "record", "credit_code": code(3), "category": "court_enforcement"},
        )
        .text
    )
    assert _result(html, "body-check") == "differs"
    assert "账本中没有条目以该记录此版本所存的摘要记录它" in html


def test_a_leaf_changed_in_the_database_fails_its_proof(portal: Portal, logged: Session) -> None:
    from xinyidai.ledger.models import LedgerEntry

    session = logged
    index = session.info["base"] + 1
    entry = ledger.get_by_index_or_raise(session, index=index)
    forged = bytes(entry.leaf).replace(b'"record.version"', b'"record.forged"')
    assert forged != bytes(entry.leaf)
    session.execute(update(LedgerEntry).where(LedgerEntry.idx == index).values(leaf=forged))
    session.commit()
    html = portal("auditor").get("/ledger/check", params={"by": "index", "index": str(index)}).text
    assert _result(html, "proof-verdict") == "mismatch"
    assert "计算所得根哈希与签名根哈希不一致" in html
    assert _testid(html, "computed-root") != _testid(html, "signed-root")


BAD_INPUTS = [
    ({"by": "index", "index": ""}, "index", "此项为必填项"),
    ({"by": "index", "index": "abc"}, "index", "必须是整数"),
    ({"by": "index", "index": "99"}, "index", "账本中没有序号为 99 的条目"),
    ({"by": "index", "index": "-1"}, "index", "账本中没有序号为 -1 的条目"),
    ({"by": "digest", "digest": "xyz"}, "digest", "摘要必须是 64 位十六进制字符"),
    ({"by": "digest", "digest": "0" * 64}, "digest", "账本中没有摘要为"),
    (
        {"by": "record", "credit_code": "91640104MA0000000X", "category": "court_enforcement"},
        "credit_code",
        "校验码错误",
    ),
    (
        {"by": "record", "credit_code": "", "category": "court_enforcement"},
        "credit_code",
        "此项为必填项",
    ),
    ({"by": "record", "credit_code": code(1), "category": ""}, "category", "此项为必填项"),
    (
        {"by": "record", "credit_code": code(1), "category": "weather"},
        "category",
        "没有目录类别 weather",
    ),
    (
        {"by": "record", "credit_code": code(9), "category": "court_enforcement"},
        "credit_code",
        "在类别 court_enforcement 下没有记录",
    ),
]


@pytest.mark.parametrize(("params", "field", "reason"), BAD_INPUTS)
def test_bad_inputs_are_shown_next_to_their_field(
    portal: Portal, logged: Session, params: dict[str, str], field: str, reason: str
) -> None:
    response = portal("auditor").get("/ledger/check", params=params)
    assert response.status_code in (404, 422)
    html = response.text
    assert reason in _error(html, field)
    typed = params.get(field, "")
    if typed and field != "category":  # a select offers only real categories
        assert f'value="{typed}"' in html or f'value="{typed}" selected' in html
    assert 'data-testid="proof-verdict"' not in html
    assert 'data-testid="checkpoint"' in html  # the rest of the page is still there


def test_without_a_signing_key_the_page_says_what_to_do(portal: Portal) -> None:
    html = portal("auditor").get("/ledger").text
    assert "xyd ledger init" in _testid(html, "ledger-unavailable")
    failed = portal("auditor").get("/ledger/check", params={"by": "index", "index": "0"})
    assert "xyd ledger init" in failed.text


def test_english_on_request(client: TestClient, logged: Session) -> None:
    sign_in(client, "auditor")
    client.get("/lang/en")
    html = client.get("/ledger/check", params={"by": "index", "index": "0"}).text
    assert "The computed root matches the signed root" in html
    assert "Sibling on the" in html
