"""Visitors' ratings of resolved conversations (docs/inbox.md "Ratings").

One rating per resolution: a visitor who rates again before the conversation is reopened
replaces their rating. Reports aggregate them by day and by the operator who held the
conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from causerie.domain.errors import Invalid

COMMENT_MAX = 1000


@dataclass(frozen=True)
class Rating:
    id: str
    website_id: str
    conversation_id: str
    operator_id: str | None
    resolved_at: datetime
    rating: int
    comment: str | None
    created_at: datetime


def check_rating(rating: object, comment: object) -> tuple[int, str | None]:
    """The rating (1 to 5) and the comment (stripped; empty is none), or `Invalid`."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise Invalid("rating: a whole number from 1 to 5", "invalid_rating")
    if comment is None:
        return rating, None
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        raise Invalid(f"comment: text of at most {COMMENT_MAX} characters", "invalid_rating")
    return rating, comment.strip() or None
