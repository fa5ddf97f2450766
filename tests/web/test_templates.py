"""Templates that write a form's CSRF token import the macros with the page's context:
without it ``csrf()`` renders an empty token and every submit of the form is refused."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "xinyidai" / "web" / "templates"
IMPORT = re.compile(r"{%-?\s*from\s+\"_macros\.html\"\s+import\s+([^%]*?)-?%}")


def test_every_template_writing_a_csrf_token_imports_it_with_context() -> None:
    checked = 0
    wrong = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for names in IMPORT.findall(text):
            if re.search(r"\bcsrf\b", names):
                checked += 1
                if "with context" not in names:
                    wrong.append(str(path.relative_to(TEMPLATES)))
    assert checked > 10
    assert wrong == []
