"""Every message id of the portal, iam, core, registry, scoring, profile, consent, graph,
market and backup has a Chinese translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from xinyidai.core.i18n import catalog

SRC = Path(__file__).resolve().parents[2] / "src" / "xinyidai"
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    **{
        name: None
        for name in (
            "N_",
            "XydError",
            "ValidationFailed",
            "NotFound",
            "Conflict",
            "Unauthorized",
            "Forbidden",
            "TooManyRequests",
            "PayloadTooLarge",
            "CreditCodeError",
            "PortalForbidden",
            "Unavailable",
            "OutboundRefused",
        )
    },
}
METHODS = [
    ("**.py", "python"),
    ("**.html", "jinja2"),
]
OPTIONS = {"**.html": {"extensions": "jinja2.ext.i18n"}}


@pytest.mark.parametrize(
    "area",
    [
        "core",
        "registry",
        "iam",
        "web",
        "scoring",
        "profile",
        "consent",
        "graph",
        "market",
        "backup",
    ],
)
def test_every_message_id_has_a_chinese_translation(area: str) -> None:
    ids = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(
            SRC / area, method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS
        )
    }
    assert ids, f"no message ids found in {area}"
    missing = sorted(message for message in ids if message not in catalog("zh_CN"))
    assert missing == []
