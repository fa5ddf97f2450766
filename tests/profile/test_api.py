"""The panoramic profile through the real app: each part shown or withheld by one access
decision, one audit event per read, and the PDF credit report."""

from __future__ import annotations

import io
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE, OTHER_CODE
from tests.conftest import XydEnv
from tests.consent.world import (
    LEGAL_REPRESENTATIVE,
    TAX_PAID,
    Auth,
    World,
    day,
    events,
    grant,
    push,
)
from xinyidai.consent.models import AuthorizationLetter
from xinyidai.graph import service as graph_service
from xinyidai.scoring import features

URL = f"/api/v1/enterprises/{ENTERPRISE_CODE}/profile"
EVERYTHING = sorted(set(features.source_categories()) | set(graph_service.ASSOCIATION_CATEGORIES))


def profile(client: TestClient, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(URL, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def pdf_text(body: bytes) -> str:
    """The text of every page (through the fonts' ToUnicode maps; pypdf pads each code of
    fpdf2's Identity encoding with a NUL, which is dropped)."""
    pages = PdfReader(io.BytesIO(body)).pages
    return "\n".join(page.extract_text() for page in pages).replace("\x00", "")


def test_the_enterprise_sees_its_whole_profile(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    found = profile(client, auth("enterprise"))
    identity = found["identity"]
    assert identity["credit_code"] == ENTERPRISE_CODE
    assert identity["legal_representative"] == LEGAL_REPRESENTATIVE  # its own: raw
    assert identity["region_name"]
    assert identity["age_years"] > 0
    assert found["basis"] == "self"
    assert found["viewer"] == "user:enterprise"
    rating = found["rating"]
    assert rating["grade"]
    assert rating["reasons"] is not None
    assert [t["grade"] for t in found["rating_trend"]][-1] == rating["grade"]
    sections = {s["category"]: s for s in found["report"]["sections"]}
    assert {"registration", "tax_payment", "admin_penalty"} <= set(sections)
    assert TAX_PAID in {r["data"].get("tax_paid") for r in sections["tax_payment"]["records"]}
    assert found["financing"]["scope"] == "all"
    assert found["associations"]["code"] == ENTERPRISE_CODE
    assert not {"rating", "associations", "financing"} & set(found["withheld"])
    # the whole profile is one read: one decision, one audit event
    [event] = events(session)
    assert (event.outcome, event.channel, event.subject) == (
        "allow",
        "api:profile",
        ENTERPRISE_CODE,
    )
    assert found["access_event"] == event.public_id
    assert found["report_number"].startswith("XYD-")


def test_a_bank_without_a_letter_sees_public_parts_only(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    found = profile(client, auth("bank"))
    assert found["basis"] == "public"
    assert found["rating"] is None
    assert found["withheld"]["rating"] == "no_basis"
    assert found["associations"] is None
    assert found["withheld"]["associations"] == "no_basis"
    assert found["financing"] == {
        "scope": "own",
        "applications": [],
        "loans": [],
        "approved": 0,
        "outstanding": "0",
        "in_default": 0,
    }
    sections = {s["category"] for s in found["report"]["sections"]}
    assert "tax_payment" not in sections
    assert "admin_penalty" in sections
    assert found["withheld"]["tax_payment"] == "no_basis"
    assert TAX_PAID not in str(found)
    # the identity shows each registry fact as the registration's view shows that field:
    # the legal representative's name and the address are public (公示), the phone is not
    [registration] = [s for s in found["report"]["sections"] if s["category"] == "registration"]
    recorded = registration["records"][0]["data"]
    assert found["identity"]["legal_representative"] == LEGAL_REPRESENTATIVE
    assert recorded["legal_representative"] == LEGAL_REPRESENTATIVE
    assert found["identity"]["address"] == recorded["address"]
    assert recorded["phone"] == "138****5678"
    assert len(events(session)) == 1


def test_a_letter_covering_the_rating_and_associations_shows_them(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, categories=EVERYTHING, max_queries=5)
    found = profile(client, auth("bank"), letter=letter.public_id)
    assert found["basis"] == "letter"
    assert found["letter_id"] == letter.public_id
    assert found["rating"]["score"] > 0
    assert "rating" not in found["withheld"]
    assert found["associations"] is not None
    assert found["retain_until"] is not None
    session.expire_all()
    assert session.get(AuthorizationLetter, letter.id).queries_used == 1  # counted once
    assert len(events(session)) == 1


def test_a_revoked_letter_refuses_the_whole_profile(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, categories=EVERYTHING)
    client.post(f"/api/v1/letters/{letter.public_id}/revoke", headers=auth("enterprise"))
    response = client.get(URL, params={"letter": letter.public_id}, headers=auth("bank"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "letter_revoked"
    assert TAX_PAID not in response.text
    assert LEGAL_REPRESENTATIVE not in response.text
    [event] = events(session, channel="api:profile")
    assert event.outcome == "deny"


def test_red_and_black_lists_say_what_is_in_force_today(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    base = {"credit_code": ENTERPRISE_CODE, "enterprise_name": "南宁示范科技有限公司"}
    push(
        session,
        "ndrc",
        "black_list",
        [
            base
            | {
                "list_name": "拖欠农民工工资失信联合惩戒对象名单",
                "reason": "拖欠工资",
                "listed_on": day(60),
                "authority": "南宁市人力资源和社会保障局",
            },
            base
            | {
                "list_name": "重大税收违法失信主体名单",
                "reason": "偷税",
                "listed_on": day(900),
                "authority": "国家税务总局南宁市税务局",
                "removed_on": day(400),
            },
        ],
    )
    push(
        session,
        "ndrc",
        "red_list",
        [
            base
            | {
                "list_name": "纳税信用A级纳税人",
                "listed_on": day(500),
                "authority": "国家税务总局南宁市税务局",
                "valid_until": day(10),
            }
        ],
    )
    session.commit()
    lists = {x["category"]: x for x in profile(client, auth("operator"))["lists"]}
    assert (lists["black_list"]["on_list"], lists["black_list"]["listings"]) == (True, 1)
    assert lists["black_list"]["removed"] == 1
    assert lists["black_list"]["since"] == day(60)
    assert lists["black_list"]["colour"] == "black"
    assert (lists["red_list"]["on_list"], lists["red_list"]["removed"]) == (False, 1)
    assert lists["red_list"]["colour"] == "red"


def test_the_profile_of_an_unknown_code_or_a_bad_parameter_is_refused(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    missing = client.get("/api/v1/enterprises/91450100MA5K0009XX/profile", headers=auth("operator"))
    assert missing.status_code in (404, 422)
    assert client.get(URL, params={"format": "doc"}, headers=auth("operator")).status_code == 422
    assert client.get(URL, params={"depth": 9}, headers=auth("operator")).status_code == 422
    assert client.get(URL).status_code == 401
    assert events(session) == []


def test_the_pdf_report_prints_number_time_viewer_and_basis(
    client: TestClient, auth: Auth, world: World, session: Session
) -> None:
    letter = grant(session, world, categories=EVERYTHING)
    response = client.get(
        URL, params={"format": "pdf", "letter": letter.public_id}, headers=auth("bank")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    body = response.content
    assert body.startswith(b"%PDF-")
    [event] = events(session)
    assert event.channel == "api:profile.pdf"
    number = response.headers["content-disposition"].split('"')[1].removesuffix(".pdf")
    text = pdf_text(body)
    assert "信用报告" in text
    assert number in text
    assert event.public_id in text
    assert "user:bank" in text
    assert "授权书" in text
    assert letter.public_id in text
    assert "南宁示范科技有限公司" in text
    # the Chinese font travels with the file
    reader = PdfReader(io.BytesIO(body))
    fonts = {
        str(font["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("NotoSansCJK" in f for f in fonts), fonts
    assert b"/FontFile" in body


def test_the_pdf_speaks_english_on_request(client: TestClient, auth: Auth, world: World) -> None:
    response = client.get(
        URL, params={"format": "pdf"}, headers=auth("enterprise") | {"Accept-Language": "en"}
    )
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Credit report" in text
    assert "Report number" in text


def test_a_missing_font_is_a_clear_error_and_nothing_is_half_sent(
    client: TestClient, auth: Auth, world: World, xyd_env: XydEnv
) -> None:
    xyd_env(XYD_REPORT_FONT="/nonexistent/font.ttf")
    response = client.get(URL, params={"format": "pdf"}, headers=auth("operator"))
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "unavailable"
    assert error["field"] == "font"
    assert "/nonexistent/font.ttf" in error["message"]


def test_another_enterprise_sees_only_public_data_of_this_one(
    client: TestClient, auth: Auth, world: World
) -> None:
    # the demo enterprise looks at the other enterprise: public categories, no financing
    response = client.get(f"/api/v1/enterprises/{OTHER_CODE}/profile", headers=auth("enterprise"))
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["financing"] is None
    assert found["withheld"]["financing"] == "no_basis"
    assert found["rating"] is None
