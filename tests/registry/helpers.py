"""Small builders shared by the registry tests."""

from __future__ import annotations

from typing import Any

from xinyidai.registry import creditcode
from xinyidai.registry.schemas import EnterpriseIn


def code_for(region: str, serial: int, *, kind: str = "91") -> str:
    """A valid credit code registered in ``region`` (six digits) with a numbered subject."""
    return creditcode.make(f"{kind}{region}MA{serial:07d}")


def enterprise_in(region: str, serial: int, name: str, **fields: Any) -> EnterpriseIn:
    kind = fields.pop("kind_prefix", "91")
    return EnterpriseIn(
        credit_code=code_for(region, serial, kind=kind),
        name=name,
        region_code=fields.pop("region_code", region),
        **fields,
    )
