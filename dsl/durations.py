"""Durations in words: as the rule language writes them, and as a measured time reads."""

SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600


def duration_text(seconds: int) -> str:
    """`8 h` for whole hours, `15 min` for whole minutes, else `15 min 30 s`."""
    if seconds and seconds % SECONDS_PER_HOUR == 0:
        return f"{seconds // SECONDS_PER_HOUR} h"
    return minutes_text(seconds)


def minutes_text(seconds: int) -> str:
    """A measured time in minutes, with the seconds when there are any: `75 min`, never `1 h 15 min`."""
    minutes, rest = divmod(seconds, SECONDS_PER_MINUTE)
    return f"{minutes} min" + (f" {rest} s" if rest else "")
