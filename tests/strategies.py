"""Hypothesis strategies for valid encounters, as the JSON dicts callers hand the engine.

The words come from the contract's schema (tests/contract/encounter.schema.json), so the
generated records stay valid when the contract does. Times are laid out so that the
interesting cases are common rather than lucky: durations sit on both sides of every
threshold the 2026 ruleset names, the same drug comes back around 30 minutes later,
infusions overlap, some are given at the very same times, encounters cross midnight,
and some times carry the encounter's offset (or, with `mixed_offsets`, each
administration its own).

Example:
    @given(encounters())
    def test_something(encounter): ...
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path

from hypothesis import strategies as st

_SCHEMA = json.loads((Path(__file__).resolve().parent / "contract" / "encounter.schema.json").read_text())
_ADMINISTRATION = _SCHEMA["$defs"]["administration"]["properties"]

CLAIMS = tuple(_SCHEMA["properties"]["claim"]["enum"])
CATEGORIES = tuple(_ADMINISTRATION["category"]["enum"])
ROUTES = tuple(_ADMINISTRATION["route"]["enum"])
METHODS = tuple(_ADMINISTRATION["method"]["enum"])

POS = ("11", "19", "22", "23", None)
PAYERS = ("medicare", "commercial", None, "medicaid")  # medicaid: routed to the base rules
DRUGS = ("ondansetron", "normal saline", "ceftriaxone", "cisplatin", "fluorouracil", "leucovorin")
SITES = ("L-forearm", "R-hand", None)
SESSIONS = ("1", "2", None)
EM_CODES = ("99211", "99213", "99215", "99284")
OFFSETS = (None, "Z", "-05:00", "+01:00")

# Minutes on both sides of every time threshold: push/infusion (15), hydration and a
# final part-hour (30), the first hour (60), the additional hours (90, 150) and a
# prolonged chemotherapy infusion (8 h).
THRESHOLD_MINUTES = (0, 1, 14, 15, 16, 17, 29, 30, 31, 32, 59, 60, 61, 89, 90, 91, 92,
                     149, 150, 151, 152, 479, 480, 481)
GAP_MINUTES = (0, 1, 28, 29, 30, 31, 32, 60)

durations = st.one_of(st.sampled_from(THRESHOLD_MINUTES), st.integers(0, 600), st.just(46 * 60))
"""Minutes an administration runs."""

# iv is the route with the most rules behind it, so it comes up most.
_routes = st.sampled_from(("iv",) * 4 + ROUTES)
_methods = st.sampled_from(("infusion", "push") + METHODS)


@st.composite
def _drug_name(draw) -> str:
    """A drug, sometimes written with other case and spaces (still the same drug)."""
    name = draw(st.sampled_from(DRUGS))
    spelling = draw(st.sampled_from(("plain", "plain", "plain", "upper", "spaced")))
    return {"plain": name, "upper": name.upper(), "spaced": f"  {name.title()} "}[spelling]


def _zone(offset: str) -> datetime.timezone:
    """The zone of an offset as written ("Z", "-05:00")."""
    if offset == "Z":
        return datetime.timezone.utc
    hours, minutes = offset[1:].split(":")
    sign = -1 if offset[0] == "-" else 1
    return datetime.timezone(sign * datetime.timedelta(hours=int(hours), minutes=int(minutes)))


def _stamp(moment: datetime.datetime, offset: str | None, seconds: bool) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%dT%H:%M")
    return text + (offset or "")


@st.composite
def encounters(draw, max_administrations: int = 6, mixed_offsets: bool = False) -> dict:
    """One valid encounter dict: any mix of the vocabularies, times around every threshold.

    With `mixed_offsets`, each administration writes both its times with an offset of its
    own or none, so one encounter may hold several offsets beside naive times.
    """
    # Every administration must start in 2026, the period of the rules the date picks: each
    # starts at most about two days after the one before (a 46 h pump, then a gap), so the
    # date leaves two weeks before the year ends.
    date = datetime.date(2026, 1, 1) + datetime.timedelta(days=draw(st.integers(0, 350)))
    # Late starts make midnight crossings common.
    opening = datetime.datetime.combine(date, datetime.time(draw(st.sampled_from((7, 9, 13, 22, 23)))))
    offset = None if mixed_offsets else draw(st.sampled_from(OFFSETS))
    count = draw(st.integers(0, max_administrations))
    administrations, spans = [], []  # spans: (drug, start minute, stop minute or None)
    for index in range(count):
        anchor = draw(st.sampled_from(("after", "overlap", "same", "random"))) if spans else "random"
        earlier = spans[draw(st.integers(0, len(spans) - 1))] if spans else None
        if anchor == "same":  # given together: only the order of the input tells them apart
            drug = earlier[0] if draw(st.booleans()) else draw(_drug_name())
            spans.append((drug, earlier[1], earlier[2]))
            administrations.append(_administration(draw, f"a{index + 1}", drug, opening, earlier[1], earlier[2],
                                                   offset, mixed_offsets))
            continue
        if anchor == "after":
            drug = earlier[0] if draw(st.booleans()) else draw(_drug_name())
            end = earlier[2] if earlier[2] is not None else earlier[1]
            start = end + draw(st.one_of(st.sampled_from(GAP_MINUTES), st.integers(0, 180)))
        elif anchor == "overlap":
            drug = draw(_drug_name())
            start = earlier[1] + draw(st.integers(0, max((earlier[2] or earlier[1]) - earlier[1], 1)))
        else:
            drug = draw(_drug_name())
            start = draw(st.integers(0, 600))
        stop = None if draw(st.integers(0, 9)) == 0 else start + draw(durations)
        spans.append((drug, start, stop))
        administrations.append(_administration(draw, f"a{index + 1}", drug, opening, start, stop, offset,
                                               mixed_offsets))
    encounter = {"id": f"enc-{draw(st.integers(0, 9999))}", "date": date.isoformat(),
                 "claim": draw(st.sampled_from(CLAIMS)), "administrations": administrations}
    for key, choices in (("pos", POS), ("payer", PAYERS)):
        value = draw(st.sampled_from(choices))
        if value is not None:
            encounter[key] = value
    if administrations and draw(st.booleans()):
        encounter["primary"] = draw(st.sampled_from([a["id"] for a in administrations]))
    services = draw(st.lists(_em_service(), max_size=2))
    if services:
        encounter["em"] = services
    return encounter


def _administration(draw, ident: str, drug: str, opening: datetime.datetime, start: int,
                    stop: int | None, offset: str | None, mixed_offsets: bool) -> dict:
    seconds = draw(st.booleans())
    item = {"id": ident, "drug": drug, "category": draw(st.sampled_from(CATEGORIES)),
            "route": draw(_routes), "method": draw(_methods)}
    if mixed_offsets:
        # Start and stop share the offset, so the stop stays at or after the start.
        start_offset = stop_offset = draw(st.sampled_from(OFFSETS))
    else:
        # A time carries the encounter's offset or none; naive times take it (contract: local time).
        start_offset, stop_offset = (offset if draw(st.booleans()) else None for _ in range(2))
    item["start"] = _stamp(opening + datetime.timedelta(minutes=start), start_offset, seconds)
    if stop is not None:
        stop_at = opening + datetime.timedelta(minutes=stop)
        if mixed_offsets and start_offset is not None and draw(st.booleans()):
            # The same instant written in another offset: its wall clock may even read as the start's.
            stop_offset = draw(st.sampled_from([o for o in OFFSETS if o not in (None, start_offset)]))
            stop_at = stop_at.replace(tzinfo=_zone(start_offset)).astimezone(_zone(stop_offset)).replace(tzinfo=None)
        item["stop"] = _stamp(stop_at, stop_offset, seconds)
    for key, choices in (("site", SITES), ("session", SESSIONS)):
        value = draw(st.sampled_from(choices))
        if value is not None:
            item[key] = value
    for key in ("hormonal", "pump"):
        flag = draw(st.sampled_from((None, False, True)))
        if flag is not None:
            item[key] = flag
    for key, text in (("dose", "10 mg"), ("indication", "nausea"), ("response", "tolerated")):
        if draw(st.integers(0, 4)):
            item[key] = text
    return item


@st.composite
def _em_service(draw) -> dict:
    service = {"code": draw(st.sampled_from(EM_CODES))}
    flag = draw(st.sampled_from((None, False, True)))
    if flag is not None:
        service["separately_identifiable"] = flag
    session = draw(st.sampled_from(SESSIONS))
    if session is not None:
        service["session"] = session
    return service
