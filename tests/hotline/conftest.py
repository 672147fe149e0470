"""Fixtures of every hotline test."""

import pytest

from yimen.hotline import search


@pytest.fixture(autouse=True)
def _fresh_search_caches():
    # The search remembers N, avgdl and document frequencies in the process for a minute;
    # each test has its own articles (and its own transaction), so it starts from nothing.
    search.invalidate()
    yield
    search.invalidate()
