"""JSON API of ``risk`` under ``/api/v1/risk``."""

from __future__ import annotations

from fastapi import APIRouter

from xinyidai.risk import warning_api

router = APIRouter(prefix="/risk", tags=["risk"])
router.include_router(warning_api.router)  # /risk/warnings: early warning
