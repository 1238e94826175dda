"""engine.core.day_text: the memo gives what isoformat gives, for any day, however many days
a process has seen (past its bound it starts again)."""
from __future__ import annotations

import datetime

from hypothesis import given
from hypothesis import strategies as st

from engine.core import day_text as module
from engine.core.day_text import day_text


@given(st.dates())
def test_a_day_reads_as_isoformat_writes_it(day):
    assert day_text(day) == day.isoformat()
    assert day_text(day) == day.isoformat()  # from the memo


def test_more_days_than_the_memo_holds_stay_right():
    first = datetime.date(2026, 1, 1)
    days = [first + datetime.timedelta(days=n) for n in range(module._MAX_TEXTS + 10)]
    assert [day_text(day) for day in days] == [day.isoformat() for day in days]
    assert len(module._TEXTS) <= module._MAX_TEXTS
    assert [day_text(day) for day in reversed(days)] == [day.isoformat() for day in reversed(days)]
