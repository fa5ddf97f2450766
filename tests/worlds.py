"""Small worlds that tests of several domains build, written once.

- ``register_demo_enterprise``: the demo enterprise's registration as the market department
  sends it (the demo accounts' enterprise, in Nanning).
- ``demo_enterprise_in_a_circle``: the demo enterprise and a partner guarantee each other
  (a guarantee circle of two) and the partner is a dishonest debtor.

The consent tests' world of records and letters is ``tests.consent.world``; the ``world``
fixture (``tests/conftest.py``) builds it over the demo accounts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.accounts import ENTERPRISE_CODE
from tests.graph.records import _push, guarantee, list_as_dishonest, register

DEMO_NAME = "南宁示范科技有限公司"
DEMO_REPRESENTATIVE = "陆明"
DEMO_ADDRESS = "南宁市青秀区民族大道100号"
DEMO_PHONE = "13877001234"
DEMO_REGION = "450100"


def register_demo_enterprise(session: Session, *, phone: str | None = DEMO_PHONE) -> str:
    """The demo enterprise registered by the market department (not committed); its code."""
    row = {
        "credit_code": ENTERPRISE_CODE,
        "enterprise_name": DEMO_NAME,
        "legal_representative": DEMO_REPRESENTATIVE,
        "established_on": "2015-03-01",
        "region_code": DEMO_REGION,
        "address": DEMO_ADDRESS,
    }
    if phone is not None:
        row["phone"] = phone
    _push(session, "market", "registration", [row])
    return ENTERPRISE_CODE


def demo_enterprise_in_a_circle(
    session: Session,
    *,
    partner_representative: str = "黄海",
    partner_name: str | None = None,
    amounts: tuple[str, str] = ("800000.00", "600000.00"),
) -> str:
    """The demo enterprise guarantees test enterprise 2 (``amounts[0]``), which guarantees it
    back (``amounts[1]``) and is a dishonest debtor; both in region 450100. Not committed.

    Returns the partner's code. A partner represented by ``陆明`` (the demo enterprise's
    legal representative) is also linked to it by that person.
    """
    register_demo_enterprise(session)
    partner = register(
        session, 2, region=DEMO_REGION, representative=partner_representative, name=partner_name
    )
    guarantee(session, ENTERPRISE_CODE, partner, amount=amounts[0])
    guarantee(session, partner, ENTERPRISE_CODE, amount=amounts[1])
    list_as_dishonest(session, partner)
    return partner
