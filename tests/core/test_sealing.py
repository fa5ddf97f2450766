"""Sealed secrets open with this node's key for the row they were sealed for, and only so."""

from __future__ import annotations

import pytest

from tests.conftest import XydEnv
from xinyidai.core import sealing


def test_a_sealed_secret_opens_for_its_row_only(xyd_env: XydEnv) -> None:
    sealed = sealing.seal("whsec_c2VjcmV0", context="endpoint:whk_1")
    assert "c2VjcmV0" not in sealed
    assert sealed != sealing.seal("whsec_c2VjcmV0", context="endpoint:whk_1")  # fresh nonce
    assert sealing.unseal(sealed, context="endpoint:whk_1") == "whsec_c2VjcmV0"
    with pytest.raises(sealing.SealBroken):
        sealing.unseal(sealed, context="endpoint:whk_2")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(sealing.SealBroken):
        sealing.unseal(tampered, context="endpoint:whk_1")
    with pytest.raises(sealing.SealBroken):
        sealing.unseal("whsec_c2VjcmV0", context="endpoint:whk_1")
    xyd_env(XYD_SECRET_KEY="another node's key")
    with pytest.raises(sealing.SealBroken):
        sealing.unseal(sealed, context="endpoint:whk_1")
