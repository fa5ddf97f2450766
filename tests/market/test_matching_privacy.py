"""Matching is a read like any other: a bank without a letter learns nothing of a grade or
a tax grade from it — not the value, not pass or fail, not through the fit, the order or
whether a need is listed — while the enterprise sees its own reasons in full and a bank
holding a letter that covers them sees the outcomes, each such read an access event.

Replays the attack: a bank refused the rating published products with ``min_grade`` and
``min_tax_grade`` at every level and read the matches to learn the grades."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.consent.world import World, events
from tests.consent.world import grant as grant_letter
from tests.fake_dns import PUBLIC_ADDRESS, FakeDNS
from tests.market.conftest import Auth, apply, need_payload, principal_of, publish
from tests.web.conftest import sign_in
from xinyidai.consent import service as consent_service
from xinyidai.iam import service as iam_service
from xinyidai.market.schemas import GRADES, TAX_GRADES
from xinyidai.market.service import applications, matching, rules, webhooks
from xinyidai.scoring import service as scoring_service

PRIVATE = ("grade", "tax_grade")


def _grade(session: Session) -> str:
    grade = scoring_service.current_or_rate(session, credit_code=ENTERPRISE_CODE).grade
    session.commit()
    return grade


def _shelf(client: TestClient, auth: Auth) -> dict[str, dict[str, Any]]:
    """The bank's probes: one product per grade and per tax grade, otherwise the same, and
    one with no rule on non-public data."""
    bank = auth("bank")
    probes = {f"grade:{g}": publish(client, bank, eligibility={"min_grade": g}) for g in GRADES}
    probes |= {
        f"tax:{t}": publish(client, bank, eligibility={"min_tax_grade": t}) for t in TAX_GRADES
    }
    probes["plain"] = publish(client, bank, eligibility={"min_years": 1})
    return probes


def _need(client: TestClient, auth: Auth) -> str:
    response = client.post("/api/v1/needs", json=need_payload(), headers=auth("enterprise"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _without_product(match: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in match.items() if k not in ("product", "product_id", "need")}


def _private_checks(match: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in match["checks"] if c["rule"] in PRIVATE]


def _bank_letter(session: Session, world: World) -> str:
    """A letter to the bank covering the rating's and the tax grade's categories."""
    letter = grant_letter(session, world, categories=[], levels=["restricted", "confidential"])
    return letter.public_id


def _world(session: Session) -> World:
    enterprise = iam_service.get_user_or_raise(session, username="enterprise")
    bank = iam_service.get_user_or_raise(session, username="bank")
    bank2 = iam_service.get_user_or_raise(session, username="bank2")
    return World(
        platform_id="",
        bank_id=bank.organization.public_id,
        other_bank_id=bank2.organization.public_id,
        enterprise_id=enterprise.organization.public_id,
    )


def test_a_bank_without_a_letter_learns_no_grade_from_matching(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    grade = _grade(session)
    probes = _shelf(client, auth)
    need_id = _need(client, auth)
    bank = auth("bank")
    refused = client.get(f"/api/v1/enterprises/{ENTERPRISE_CODE}/rating", headers=bank)
    assert refused.status_code == 403

    response = client.get(f"/api/v1/needs/{need_id}/matches?lang=en&size=200", headers=bank)
    assert response.status_code == 200, response.text
    matches = {m["product"]["id"]: m for m in response.json()["items"]}
    assert set(matches) == {p["id"] for p in probes.values()}
    # every probe answers the same: no value, no pass or fail, the same fit
    probed = [_without_product(matches[p["id"]]) for k, p in probes.items() if k != "plain"]
    grade_answers = {repr(_without_product(matches[probes[f"grade:{g}"]["id"]])) for g in GRADES}
    tax_answers = {repr(_without_product(matches[probes[f"tax:{t}"]["id"]])) for t in TAX_GRADES}
    assert len(grade_answers) == 1
    assert len(tax_answers) == 1
    for answer in probed:
        (check,) = _private_checks(answer)
        assert check["passed"] is None
        assert check["reason"] == "not checked: needs the enterprise's authorization"
        assert answer["eligible"] is True
        assert answer["complete"] is False
        assert answer["score"] == matches[probes["plain"]["id"]]["score"]
    reasons = " ".join(c["reason"] for m in matches.values() for c in m["checks"])
    assert f"grade {grade}" not in reasons
    assert "tax grade" not in reasons
    # nothing non-public was shown, so nothing was decided
    assert events(session, channel="api:market.matches") == []

    # the institution's pull lists every probe for the need, identically
    for eligible_only in ("true", "false"):
        pulled = client.get(
            f"/api/v1/institution/matches?eligible_only={eligible_only}&size=200", headers=bank
        ).json()["items"]
        assert {m["product_id"] for m in pulled if m["need"]["id"] == need_id} == {
            p["id"] for p in probes.values()
        }
        answers = {
            repr(_without_product(m)) for m in pulled if m["product_id"] != probes["plain"]["id"]
        }
        assert len(answers) == 2  # one for the grade probes, one for the tax probes
        assert all(c["passed"] is None for m in pulled for c in _private_checks(m))
    assert events(session, channel="api:institution.matches") == []


def test_the_portal_match_pages_show_no_grade_to_a_bank_without_a_letter(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    grade = _grade(session)
    probes = _shelf(client, auth)
    need_id = _need(client, auth)
    client.cookies.clear()
    assert sign_in(client, "bank").status_code == 303  # type: ignore[attr-defined]
    page = client.get(f"/market/needs/{need_id}?lang=en")
    assert page.status_code == 200
    assert page.text.count('data-passed="unchecked"') == len(probes) - 1
    assert 'data-rule="grade" data-passed="true"' not in page.text
    assert 'data-rule="grade" data-passed="false"' not in page.text
    assert 'data-rule="tax_grade" data-passed="true"' not in page.text
    assert 'data-rule="tax_grade" data-passed="false"' not in page.text
    assert f"grade {grade}" not in page.text
    chinese = client.get(f"/market/needs/{need_id}?lang=zh_CN").text
    assert f"信用等级 {grade}" not in chinese
    assert "未核验：需企业授权" in chinese
    incoming = client.get("/market/incoming").text
    for product in probes.values():
        assert f'data-product="{product["id"]}"' in incoming
    assert events(session, channel="portal:market.need") == []
    assert events(session, channel="portal:market.incoming") == []


def test_a_letter_covering_the_rating_and_tax_grade_shows_the_outcomes_and_is_logged(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    grade = _grade(session)
    probes = _shelf(client, auth)
    need_id = _need(client, auth)
    _need(client, auth)  # a second need of the same enterprise
    letter_id = _bank_letter(session, _world(session))
    bank = auth("bank")

    matches = {
        m["product"]["id"]: m
        for m in client.get(
            f"/api/v1/needs/{need_id}/matches?lang=en&size=200", headers=bank
        ).json()["items"]
    }
    for g in GRADES:
        (check,) = _private_checks(matches[probes[f"grade:{g}"]["id"]])
        assert check["passed"] is matching.grade_at_least(grade, g)
        assert f"grade {grade}" in check["reason"]
    for t in TAX_GRADES:  # the enterprise's tax grade is A
        (check,) = _private_checks(matches[probes[f"tax:{t}"]["id"]])
        assert check["passed"] is True
    assert all(m["complete"] for m in matches.values())
    (event,) = events(session, channel="api:market.matches")
    assert (event.outcome, event.basis, event.letter_id, event.subject, event.actor) == (
        "allow",
        "letter",
        letter_id,
        ENTERPRISE_CODE,
        "user:bank",
    )
    assert {"tax_rating", *scoring_service.rated_categories()} <= set(event.categories)

    # the pull over two needs of one enterprise is one decision
    pulled = client.get(
        "/api/v1/institution/matches?eligible_only=false&size=200", headers=bank
    ).json()["items"]
    assert len(pulled) == 2 * len(probes)
    assert all(c["passed"] is not None for m in pulled for c in m["checks"])
    assert len(events(session, channel="api:institution.matches")) == 1

    # the rule outcomes now order the list: failing probes are left out when asked
    eligible = client.get("/api/v1/institution/matches?size=200", headers=bank).json()["items"]
    failing = {probes[f"grade:{g}"]["id"] for g in GRADES if not matching.grade_at_least(grade, g)}
    assert failing.isdisjoint({m["product_id"] for m in eligible})


def test_a_revoked_letter_shows_nothing_more(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    _grade(session)
    probes = _shelf(client, auth)
    need_id = _need(client, auth)
    world = _world(session)
    letter = consent_service.get_or_raise(session, letter_id=_bank_letter(session, world))
    consent_service.revoke(
        session, principal=world.principal(session, "enterprise"), letter=letter, reason=None
    )
    session.commit()
    matches = client.get(f"/api/v1/needs/{need_id}/matches?size=200", headers=auth("bank")).json()[
        "items"
    ]
    assert len(matches) == len(probes)
    assert all(c["passed"] is None for m in matches for c in _private_checks(m))
    assert events(session, channel="api:market.matches") == []


def test_the_enterprise_sees_its_own_reasons_in_full(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    grade = _grade(session)
    probes = _shelf(client, auth)
    need_id = _need(client, auth)
    matches = {
        m["product"]["id"]: m
        for m in client.get(
            f"/api/v1/needs/{need_id}/matches?lang=en&size=200", headers=auth("enterprise")
        ).json()["items"]
    }
    for g in GRADES:
        (check,) = _private_checks(matches[probes[f"grade:{g}"]["id"]])
        assert check["passed"] is matching.grade_at_least(grade, g)
        assert f"grade {grade}" in check["reason"]
    assert all(m["complete"] for m in matches.values())
    (event,) = events(session, channel="api:market.matches")
    assert (event.outcome, event.basis, event.actor) == ("allow", "self", "user:enterprise")


def test_need_announcements_do_not_depend_on_private_rules(
    client: TestClient, auth: Auth, market: None, session: Session, dns: FakeDNS
) -> None:
    """The enterprise is not rated and has no tax grade: on the private rules it would
    fail every probe, yet every institution with a probe that fits on public facts hears
    of the need, with the same payload."""
    strict = publish(client, auth("bank"), eligibility={"min_grade": "AAA"})
    lenient = publish(client, auth("bank2"), eligibility={"min_tax_grade": "D"})
    need_id = _need(client, auth)
    dns.answers["hooks.example"] = [PUBLIC_ADDRESS]
    for username in ("bank", "bank2"):
        webhooks.register(
            session, principal=principal_of(session, username), url="https://hooks.example/xyd"
        )
    ids = webhooks.queue_need_matched(
        session, need=matching.get_need_or_raise(session, need_id=need_id)
    )
    assert len(ids) == 2
    payloads = {
        d.payload["data"]["product_ids"][0]: d.payload["data"]
        for username in ("bank", "bank2")
        for d, _endpoint in session.execute(
            webhooks.deliveries_statement(
                institution_id=principal_of(session, username).organization_public_id
            )
        )
    }
    assert set(payloads) == {strict["id"], lenient["id"]}
    assert {k: v for k, v in payloads[strict["id"]].items() if k != "product_ids"} == {
        k: v for k, v in payloads[lenient["id"]].items() if k != "product_ids"
    }
    assert events(session) == []


def _rules_body() -> dict[str, Any]:
    return {
        "min_grade": "C",
        "amount_caps": {"AAA": "3000000.00"},
        "rates": {"AAA": "3.5000"},
        "hard_declines": ["dishonest"],
    }


def test_automatic_approval_reads_under_the_application_letter(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    client.put(f"/api/v1/products/{product['id']}/rules", json=_rules_body(), headers=auth("bank"))
    _grade(session)
    application = apply(client, auth("enterprise"), product["id"])
    assert application["state"] in ("approved", "rejected")
    (event,) = events(session, channel="market:rules")
    assert (event.outcome, event.basis, event.letter_id, event.actor) == (
        "allow",
        "letter",
        application["letter_id"],
        "system:rules",
    )
    assert set(rules.categories_read(rules.get(session, product_id=product["id"]))) <= set(
        event.categories
    )


def test_automatic_approval_waits_for_a_person_when_the_letter_is_revoked(
    client: TestClient, auth: Auth, signed: None, session: Session
) -> None:
    product = publish(client, auth("bank"))
    client.put(
        f"/api/v1/products/{product['id']}/rules",
        json=_rules_body() | {"enabled": False},
        headers=auth("bank"),
    )
    submitted = apply(client, auth("enterprise"), product["id"])
    assert submitted["state"] == "submitted"
    consent_service.revoke(
        session,
        principal=principal_of(session, "enterprise"),
        letter=consent_service.get_or_raise(session, letter_id=submitted["letter_id"]),
        reason=None,
    )
    rule = rules.get(session, product_id=product["id"])
    assert rule is not None
    rule.enabled = True
    application = applications.get_or_raise(session, application_id=submitted["id"])
    rules.decide_on_submit(session, application=application)
    session.commit()
    assert application.state == "submitted"
    assert application.decision_trace == [
        {"rule": "letter", "passed": False, "detail": "letter_revoked"}
    ]
    (event,) = events(session, channel="market:rules")
    assert (event.outcome, event.reason) == ("deny", "letter_revoked")
