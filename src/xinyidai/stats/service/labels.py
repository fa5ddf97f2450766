"""Names for the cells of a breakdown: regions and industries from the shipped codes,
institutions from their organizations, departments and categories as they are."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from xinyidai.iam import service as iam_service
from xinyidai.registry import codes
from xinyidai.stats.models import Dimension


def key_labels(session: Session, dimension: Dimension, keys: Iterable[str]) -> dict[str, str]:
    """Each key's name where one is known (the key itself otherwise)."""
    labels: dict[str, str] = {}
    for key in keys:
        name: str | None = None
        if dimension in (Dimension.PROVINCE, Dimension.CITY, Dimension.COUNTY):
            code = codes.region(key)
            name = code.name if code else None
        elif dimension == Dimension.INDUSTRY:
            code = codes.industry(key)
            name = code.name if code else None
        elif dimension == Dimension.INSTITUTION:
            org = iam_service.get_organization(session, public_id=key)
            name = org.name if org else None
        labels[key] = name or key
    return labels
