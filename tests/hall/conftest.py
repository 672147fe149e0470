"""Fixtures of the hall tests: Monday 2026-11-23 at 08:30 (a working day), and a hall set up
on it."""

import pytest

from .factories import Floor, FrozenTime, at


@pytest.fixture
def clock(monkeypatch):
    return FrozenTime(monkeypatch, at(2026, 11, 23, 8, 30))


@pytest.fixture
def floor(clock):
    return Floor.make()
