"""Policy products: which schemes a marketplace product may name as the ones it is
eligible for (a risk-sharing scheme by its id or its family's, an interest-subsidy scheme
by its id), answered to the marketplace through its scheme finder."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xinyidai.market import service as market_service
from xinyidai.sharing.models import Scheme, SchemeState, SubsidyScheme


def open_schemes(session: Session, scheme_ids: Sequence[str]) -> dict[str, str]:
    """The name of each of ``scheme_ids`` that is a risk-sharing or subsidy scheme not
    closed (a risk-sharing family answers with its newest version's name)."""
    wanted = sorted({value for value in scheme_ids if value})
    if not wanted:
        return {}
    found: dict[str, str] = {}
    risk = session.execute(
        select(Scheme.public_id, Scheme.family_id, Scheme.name)
        .where(
            or_(Scheme.public_id.in_(wanted), Scheme.family_id.in_(wanted)),
            Scheme.state != SchemeState.CLOSED,
        )
        .order_by(Scheme.version)
    )
    for public_id, family_id, name in risk:
        for key in (public_id, family_id):
            if key in wanted:
                found[key] = name
    subsidy = session.execute(
        select(SubsidyScheme.public_id, SubsidyScheme.name).where(
            SubsidyScheme.public_id.in_(wanted), SubsidyScheme.state != SchemeState.CLOSED
        )
    )
    found.update({public_id: name for public_id, name in subsidy})
    return found


market_service.products.register_scheme_finder(open_schemes)
