"""Business logic of joint modelling. Callers use this package
(``from xinyidai.joint import service``); the modules behind it: ``thresholds`` (threshold
answers and the limit that keeps them from being walked)."""

from __future__ import annotations

from xinyidai.joint.service.thresholds import (
    QUESTIONS,
    Answer,
    answer,
    answers_of,
    answers_statement,
    check_limit,
    parse_threshold,
    question_or_raise,
)

__all__ = [
    "QUESTIONS",
    "Answer",
    "answer",
    "answers_of",
    "answers_statement",
    "check_limit",
    "parse_threshold",
    "question_or_raise",
]
