"""A platform joins a center: it signs in to the center's API as the center's operator,
reads the center's identity, registers itself there (its name, key, address, role and the
entitlements asked for, which the center's operator may change later) and registers the
center here. Requests go through the outbound guard like every other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy.orm import Session

from xinyidai.core import outbound
from xinyidai.core.errors import Conflict, Unavailable
from xinyidai.core.settings import get_settings
from xinyidai.federation import keys
from xinyidai.federation.models import NodeRole
from xinyidai.federation.schemas import NodeIn
from xinyidai.federation.service import nodes


@dataclass(frozen=True)
class Joined:
    center: str
    registered_there: bool  # False: it was registered there already
    registered_here: bool


def _answer(method: str, url: str, *, headers: dict[str, str], content: bytes | None = None) -> Any:
    target = outbound.check_url(url, field="center_url")
    timeout = get_settings().federation.timeout_seconds
    try:
        if method == "GET":
            answer = outbound.get(target, headers=headers, timeout=timeout)
        else:
            answer = outbound.post(target, content=content or b"", headers=headers, timeout=timeout)
    except httpx.HTTPError:
        raise Unavailable(
            "the center {url} cannot be reached", field="center_url", url=url
        ) from None
    if answer.status_code == Conflict.status:
        return None
    if answer.status_code >= 300:
        raise Unavailable(
            "the center answered {status}: {text}",
            field="center_url",
            status=answer.status_code,
            text=answer.text[:200],
        )
    return json.loads(answer.text)


def join(
    session: Session,
    *,
    center_url: str,
    username: str,
    password: str,
    url: str,
    role: NodeRole,
    categories: list[str],
    regions: list[str],
    actor: str,
) -> Joined:
    """Register this node at the center and the center here."""
    base = center_url.rstrip("/") + "/api/v1"
    token = _answer(
        "POST",
        base + "/auth/token",
        headers={"content-type": "application/x-www-form-urlencoded"},
        content=urlencode({"username": username, "password": password}).encode(),
    )
    bearer = {"authorization": f"Bearer {token['access_token']}"}
    identity = _answer("GET", base + "/federation/identity", headers=bearer)
    mine = NodeIn(
        name=keys.node_name(),
        role=role,
        url=url,
        public_key=keys.public_text(keys.load_key()),
        categories=categories,
        regions=regions,
    )
    there = _answer(
        "POST",
        base + "/federation/nodes",
        headers={**bearer, "content-type": "application/json"},
        content=mine.model_dump_json().encode(),
    )
    here = nodes.get(session, name=identity["name"]) is None
    if here:
        nodes.register(
            session,
            data=NodeIn(
                name=identity["name"],
                role=NodeRole.CENTER,
                url=center_url,
                public_key=identity["public_key"],
            ),
            actor=actor,
        )
    return Joined(center=identity["name"], registered_there=there is not None, registered_here=here)
