"""JSON API of ``risk`` under ``/api/v1/risk``."""

from __future__ import annotations

from fastapi import APIRouter

from xinyidai.risk import blacklist_api, fraud_api

router = APIRouter(prefix="/risk", tags=["risk"])
router.include_router(blacklist_api.router)
router.include_router(fraud_api.router)
