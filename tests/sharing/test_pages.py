"""The portal's risk-sharing pages, in Chinese by default: the operator's claims queue and
pools, the guarantor's review from a claim's page, the enterprise's enrolled loans."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.market.conftest import Auth
from tests.sharing.conftest import at, declare_default, disbursed_loan, file_claim, later
from tests.web.conftest import csrf_of

Portal = Callable[[str], TestClient]


def test_a_claim_is_reviewed_and_paid_from_the_portal(
    client: TestClient, auth: Auth, scheme: dict[str, Any], portal: Portal
) -> None:
    loan = disbursed_loan(client, auth)
    with at(later()):
        declare_default(client, auth, loan["id"])
        claim = file_claim(client, auth, loan["id"]).json()
        guarantor = portal("guarantor1")
        queue = guarantor.get("/sharing")
        assert queue.status_code == 200
        assert "风险分担" in queue.text
        assert f'data-claim="{claim["id"]}"' in queue.text
        assert 'data-testid="pools"' not in queue.text  # the pools are the operator's
        page = guarantor.get(f"/sharing/claims/{claim['id']}")
        assert "代偿申请" in page.text
        assert 'data-testid="claim-form"' in page.text
        token = csrf_of(page.text)
        reviewed = guarantor.post(
            f"/sharing/claims/{claim['id']}",
            data={"csrf_token": token, "transition": "review"},
            follow_redirects=False,
        )
        assert reviewed.status_code == 303
        refused = guarantor.post(
            f"/sharing/claims/{claim['id']}", data={"csrf_token": token, "transition": "reject"}
        )
        assert refused.status_code == 422
        assert 'data-error-for="reason"' in refused.text
        endorsed = guarantor.post(
            f"/sharing/claims/{claim['id']}",
            data={"csrf_token": token, "transition": "endorse"},
            follow_redirects=False,
        )
        assert endorsed.status_code == 303
        operator = portal("operator")
        overview = operator.get("/sharing")
        assert 'data-testid="pools"' in overview.text
        assert "广西风险补偿资金池" in overview.text
        token = csrf_of(operator.get(f"/sharing/claims/{claim['id']}").text)
        for transition in ("approve", "pay"):
            done = operator.post(
                f"/sharing/claims/{claim['id']}",
                data={"csrf_token": token, "transition": transition},
                follow_redirects=False,
            )
            assert done.status_code == 303, done.text
        paid = operator.get(f"/sharing/claims/{claim['id']}")
    assert 'data-testid="claim-state">已代偿' in paid.text
    assert "市县政府" in paid.text
    assert "资金池承担" in paid.text


def test_the_enterprise_sees_its_enrolled_loans_and_no_claims(
    client: TestClient, auth: Auth, scheme: dict[str, Any], portal: Portal
) -> None:
    loan = disbursed_loan(client, auth)
    shown = portal("enterprise").get(f"/market/loans/{loan['id']}").text
    assert 'data-testid="loan-guarantee"' in shown
    assert "担保费（元）" in shown
    page = portal("enterprise").get("/sharing")
    assert page.status_code == 200
    assert f'data-loan="{loan["id"]}"' in page.text
    assert 'data-testid="claims"' not in page.text
    assert portal("enterprise").get("/sharing/claims/clm_nothing").status_code in (403, 404)


def test_the_lender_sends_documents_from_the_claims_page(
    client: TestClient, auth: Auth, scheme: dict[str, Any], portal: Portal
) -> None:
    loan = disbursed_loan(client, auth)
    with at(later()):
        declare_default(client, auth, loan["id"])
        claim = file_claim(client, auth, loan["id"]).json()
        bank = portal("bank")
        page = bank.get(f"/sharing/claims/{claim['id']}")
        assert 'data-testid="claim-documents-form"' in page.text
        assert "尚无材料" in page.text
        token = csrf_of(page.text)
        wrong = bank.post(
            f"/sharing/claims/{claim['id']}/documents",
            data={"csrf_token": token},
            files=[("files", ("合同.pdf", b"GIF89a", "application/pdf"))],
        )
        assert wrong.status_code == 422
        assert 'data-error-for="files"' in wrong.text
        assert "合同.pdf 不是 PDF、PNG、JPEG 或 OFD 文件" in wrong.text
        sent = bank.post(
            f"/sharing/claims/{claim['id']}/documents",
            data={"csrf_token": token},
            files=[("files", ("合同.pdf", b"%PDF-1.7 contract", "application/pdf"))],
            follow_redirects=False,
        )
        assert sent.status_code == 303, re.findall(r"role=\"alert\"[^>]*>([^<]*)", sent.text)
        shown = portal("guarantor1").get(f"/sharing/claims/{claim['id']}").text
        assert 'data-testid="claim-documents"' in shown
        assert "合同.pdf" in shown
        assert 'data-testid="claim-documents-form"' not in shown  # only the lender sends
