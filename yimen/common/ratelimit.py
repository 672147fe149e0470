"""A per-address rate limit for public look-ups (progress query, document verification):
numbers and codes are not to be guessed in bulk."""

from __future__ import annotations

import time

from django.core.cache import cache


def current_window() -> int:
    """The number of the current one-minute window."""
    return int(time.time() // 60)


def over_limit(request, *, scope: str, per_minute: int) -> bool:
    """Count this request in a fixed one-minute window of its address; True past the limit."""
    key = f"yimen:ratelimit:{scope}:{request.META.get('REMOTE_ADDR', '')}:{current_window()}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # the entry expired between add and incr
        cache.set(key, 1, timeout=60)
        count = 1
    return count > per_minute
