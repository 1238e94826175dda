"""The ISO text of a date (2026-03-14), as lines carry it and ruleset periods compare it, kept
for the days already seen: `date.isoformat` formats through printf (about 0.2 µs), and an
encounter asks for it several times (choosing the ruleset, checking the period, dating each
line), for the few days a batch holds.

Example:
    day_text(datetime.date(2026, 3, 14))  # "2026-03-14"
"""
from __future__ import annotations

import datetime

_TEXTS: dict = {}
_MAX_TEXTS = 4096  # more days than any batch dates its lines with; past it the memo starts again


def day_text(day: datetime.date) -> str:
    """`day.isoformat()` of a date (not a datetime: `day` is a key, and a datetime equals no date)."""
    text = _TEXTS.get(day)
    if text is None:
        if len(_TEXTS) >= _MAX_TEXTS:
            _TEXTS.clear()
        text = _TEXTS[day] = day.isoformat()
    return text
