"""The portal's early-warning page: the institution's ranked watch list with reasons, in
Chinese by default; the operator's view; a bad filter refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.risk.conftest import Book
from tests.web.conftest import portal  # noqa: F401 - the signed-in client fixture
from xinyidai.risk.service import warning

Portal = Callable[[str], TestClient]


@pytest.fixture
def warned(session: Session, book: Book) -> Book:
    warning.refresh(session)
    session.commit()
    return book


def test_the_lender_sees_its_watch_list_with_reasons(
    portal: Portal,  # noqa: F811
    warned: Book,
    monitoring_letter: str,
) -> None:
    page = portal("bank").get("/risk/warnings")
    assert page.status_code == 200
    assert "违约预警" in page.text
    assert 'href="/risk/warnings"' in page.text  # in the menu
    assert page.text.index(f'data-loan="{warned.troubled}"') < page.text.index(
        f'data-loan="{warned.clean}"'
    )
    assert f'data-loan="{warned.elsewhere}"' not in page.text
    assert "本笔贷款当前逾期天数" in page.text  # a reason, in Chinese
    assert 'data-testid="withheld"' in page.text  # the borrower without a letter
    english = portal("bank").get("/risk/warnings?lang=en")
    assert "Early warning" in english.text
    assert "Days overdue now on this loan" in english.text


def test_the_operator_sees_every_lenders_loans(
    portal: Portal,  # noqa: F811
    warned: Book,
) -> None:
    page = portal("operator").get("/risk/warnings")
    assert page.status_code == 200
    for loan in (warned.troubled, warned.clean, warned.elsewhere):
        assert f'data-loan="{loan}"' in page.text
    assert 'data-testid="withheld"' not in page.text


def test_a_bad_threshold_is_refused_and_an_enterprise_is_not_shown_the_page(
    portal: Portal,  # noqa: F811
    warned: Book,
) -> None:
    bad = portal("bank").get("/risk/warnings?min_probability=0.33")
    assert bad.status_code == 422
    assert 'data-testid="warning-error"' in bad.text
    assert "data-loan=" not in bad.text
    assert portal("enterprise").get("/risk/warnings").status_code == 403
