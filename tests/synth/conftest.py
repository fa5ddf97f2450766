"""A region generated once per test session; tests that change output make their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from xinyidai.synth import generate

SIZE = 2000
SEED = 20240501


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("region")
    manifest = generate(out, enterprises=SIZE, seed=SEED)
    return out, manifest
