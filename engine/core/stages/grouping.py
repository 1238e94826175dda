"""The groups that merge and initial stages share out their events by: each event's key
values, a missing one filled in from the events before it."""
from __future__ import annotations


def group_keys(keys: tuple, events: list) -> list[tuple]:
    """Each event's group: its key values, a missing one taking the first documented value
    among the events that agree on the keys before it (an administration with no documented
    site is at the access already in use, not at a second one). The first documented value
    after each run of key values is noted in one pass, then looked up."""
    first: dict = {}  # (i, values of keys[:i]) -> the first documented value of keys[i] after them
    for event in events:
        for i, name in enumerate(keys):
            value = event.values.get(name)
            if value is not None:
                first.setdefault((i, tuple(map(event.values.get, keys[:i]))), value)
    found = []
    for event in events:
        key: list = []
        for i, name in enumerate(keys):
            value = event.values.get(name)
            key.append(first.get((i, tuple(key))) if value is None else value)
        found.append(tuple(key))
    return found
