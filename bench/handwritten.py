"""The 2026 drug administration rules coded by hand in plain Python: the speed floor.

This is what a careful Python developer would write without a rule language: the same
rules as rulesets/2026 (and its medicare and commercial variants), as if/elif chains and
small loops over the encounter's administrations. It leaves out what the generated corpus
never exercises: the supervision table, the horizon and regence variants, the national edit
data, the facts of issue 14 (purpose, integral_to, performer, supervision, lesions), site and
session labels in another case, and the scan for undeclared fields. On that corpus it produces
the same lines as infuse (code, units, modifiers, date, administrations, in claim order) and
the same finding ids, which tests/test_handwritten.py checks, and on tests/cases; the
benchmarks measure infuse against it. It knows nothing of the ruleset files: every
threshold and code is written here again, which is exactly what infuse exists to avoid.

Example:
    result = code_encounter(json.loads(text))   # {"encounter", "lines", "findings"}
"""
from __future__ import annotations

import collections
import datetime

PUSH_LIMIT = 15 * 60  # seconds
PART_HOUR = 30 * 60
HYDRATION_MINIMUM = 30 * 60
REPEAT_PUSH_GAP = 30 * 60
PROLONGED_CHEMO = 8 * 3600
HOUR = 3600
DATE_WINDOW_DAYS = 1  # an administration starting further from the date of service is questioned

FACILITY_POS = frozenset({"19", "21", "22", "23", "24", "26", "51", "52", "61"})
CLAIMS = frozenset({"facility", "professional"})
CATEGORIES = frozenset({"therapeutic", "prophylactic", "diagnostic", "hydration", "chemotherapy"})
ROUTES = frozenset({"iv", "im", "subq", "intra_arterial", "intralesional"})
METHODS = frozenset({"push", "infusion", "injection", "on_body_injector", "other"})
EFFECTIVE = ("2026-01-01", "2026-12-31")

# Claim order of a code: initial services, their add-ons, standalone codes, then E/M.
CLAIM_RANK = {
    **dict.fromkeys(("96360", "96365", "96374", "96409", "96413"), 0),
    **dict.fromkeys(("96361", "96366", "96367", "96368", "96370", "96371", "96375", "96376", "96411",
                     "96415", "96417"), 1),
    **dict.fromkeys(("96369", "96372", "96373", "96377", "96401", "96402", "96416"), 2),
    "99211": 3,
}
IV_CODES = frozenset({"96360", "96361", "96365", "96366", "96367", "96368", "96374", "96375", "96376",
                      "96409", "96411", "96413", "96415", "96416", "96417"})
ADDON_PRIMARIES = {
    "96361": {"96360", "96365", "96374", "96409", "96413"},
    "96366": {"96365", "96367"},
    "96367": {"96365", "96374", "96409", "96413"},
    "96375": {"96365", "96374", "96409", "96413"},
    "96376": {"96365", "96374", "96409", "96413"},
    "96368": {"96365", "96366", "96413", "96415", "96416"},
    "96370": {"96369"},
    "96371": {"96369"},
    "96411": {"96409", "96413"},
    "96415": {"96413", "96417"},
    "96417": {"96413"},
}
SEVERITY = {
    "missing-stop-time": "warning", "not-reportable-in-facility-setting": "info",
    "hydration-not-reportable": "info", "repeat-push-too-soon": "info", "repeat-push-not-reported": "info",
    "concurrent-not-reported": "info", "addon-without-primary": "error", "injection-bundled": "warning",
    "injection-site-not-documented": "warning",
    "subq-site-already-set-up": "info",
    "em-not-separately-identifiable": "info", "outside-scope": "warning", "missing-dose": "warning",
    "missing-indication": "warning", "missing-response": "warning", "em-99211-with-administration": "info",
    "administration-far-from-date": "warning",
    "second-access-site": "warning",
}
# Hierarchy for the initial service through one access site (a lower rank wins). On a
# professional claim the documented primary takes PRIMARY_RANK when it is one of PRIMARY_SERVICES:
# below chemotherapy, above every other infusion and push.
IV_RANK = {"chemo_infusion": 0, "chemo_push": 1, "infusion": 3, "push": 4, "hydration": 5}
PRIMARY_RANK = 2
PRIMARY_SERVICES = frozenset({"infusion", "push"})
CONCURRENT_SERVICES = frozenset({"chemo_infusion", "infusion"})
# Services whose minutes are taken out of the hydration running beside them.
TIMED_SERVICES = frozenset({"infusion", "chemo_infusion", "chemo_pump", "subq_infusion"})


class PayerPolicy:
    """What a payer variant changes: the X modifiers or 59, and a practitioner's repeat push
    (with 76, when the push it repeats was the initial service)."""

    __slots__ = ("separate_session", "separate_site", "repeat_push_76", "no_99211_with_administration")

    def __init__(self, separate_session="XE", separate_site="XS", repeat_push_76=False,
                 no_99211_with_administration=False):
        self.separate_session = separate_session
        self.separate_site = separate_site
        self.repeat_push_76 = repeat_push_76
        self.no_99211_with_administration = no_99211_with_administration


POLICIES = {
    None: PayerPolicy(),
    "medicare": PayerPolicy(no_99211_with_administration=True),
    "commercial": PayerPolicy("59", "59", repeat_push_76=True),
}


# ----- the two big tables, as functions -------------------------------------------------

LESION_LIMIT = 7
INTEGRAL_TO = frozenset({"imaging_contrast", "local_anesthesia", "surgery", "transfusion_line"})


def service(claim, pos, category, route, method, hormonal, pump, integral_to, purpose, lesions, duration):
    """What one administration is: (service or None, finding ids)."""
    if claim == "professional" and pos in FACILITY_POS:
        return None, ("not-reportable-in-facility-setting",)
    if integral_to in INTEGRAL_TO:
        return None, ("integral-to-procedure",)
    if category == "hydration" and purpose in ("kvo", "flush", "carrier"):
        return None, ("fluid-not-hydration", "hydration-not-reportable")
    if route == "intralesional":
        if category != "chemotherapy":
            return None, ("outside-scope",)
        if lesions is None:
            return "chemo_intralesional", ("missing-lesion-count",)
        return ("chemo_intralesional" if lesions <= LESION_LIMIT else "chemo_intralesional_many"), ()
    if method == "on_body_injector":
        return "on_body", ()
    if category == "chemotherapy":
        if route == "intra_arterial":
            return None, ("outside-scope",)
        if method == "other":
            return "chemo_unlisted", ("unlisted-code-review",)
        if route == "im" or route == "subq":
            return ("hormonal_injection" if hormonal else "chemo_injection"), ()
        if method == "infusion":
            if duration is None:
                return ("chemo_pump" if pump else "chemo_push"), ("missing-stop-time",)
            if pump and duration > PROLONGED_CHEMO:
                return "chemo_pump", ()
            if duration > PUSH_LIMIT:
                return "chemo_infusion", ()
        return "chemo_push", ()
    if category == "hydration":
        if method == "infusion":
            if route == "iv":
                if duration is None:
                    return None, ("missing-stop-time", "hydration-not-reportable")
                return "hydration", ()
            if route == "subq" and duration is not None and duration > PUSH_LIMIT:
                return "subq_infusion", ()
        return None, ("hydration-not-reportable",)
    if method == "other" and route in ("iv", "intra_arterial"):
        return "unlisted", ("unlisted-code-review",)
    if route == "intra_arterial":
        return "intra_arterial", ()
    if route == "iv":
        if method == "infusion":
            if duration is None:
                return "push", ("missing-stop-time",)
            if duration > PUSH_LIMIT:
                return "infusion", ()
        return "push", ()
    if route == "subq" and method == "infusion":
        if duration is None:
            return "injection", ("missing-stop-time",)
        if duration > PUSH_LIMIT:
            return "subq_infusion", ()
    return "injection", ()


def coding(service, role, claim, distinct, gap, repeats=None, repeat_push_76=False):
    """The codes of one administration: (code, units, addon, addon units, findings, modifier),
    the services in the order the ruleset's coding table lists them. `repeats` is the role of
    the latest earlier administration of the same drug through the same access.

    `units` and `addon units` name how units come from time: None for one unit,
    "additional" (one per hour after the first, a final part-hour over 30 minutes counted)
    or "hydration" (one per hour from the start, the same part-hour rule).
    """
    if service == "chemo_infusion":
        if role == "initial":
            return "96413", None, "96415", "additional", (), None
        if role == "sequential":
            return "96417", None, "96415", "additional", (), None
        if role == "repeat":
            return "96415", None, "96415", "additional", (), None
        return None, None, None, None, ("concurrent-not-reported",), None
    if service == "chemo_push":
        if role == "initial":
            return "96409", None, None, None, (), None
        if role == "repeat":
            return None, None, None, None, ("repeat-push-not-reported",), None
        if role == "sequential":
            return "96411", None, None, None, (), None
        return None, None, None, None, (), None
    if service == "chemo_pump":
        return "96416", None, None, None, (), None
    if service == "chemo_intralesional":
        return "96405", None, None, None, (), None
    if service == "chemo_intralesional_many":
        return "96406", None, None, None, (), None
    if service == "unlisted":
        return "96379", None, None, None, (), None
    if service == "chemo_unlisted":
        return "96549", None, None, None, (), None
    if service == "chemo_injection":
        return "96401", None, None, None, (), None
    if service == "hormonal_injection":
        return "96402", None, None, None, (), None
    if service == "infusion":
        if role == "initial":
            return "96365", None, "96366", "additional", (), None
        if role == "sequential":
            return "96367", None, "96366", "additional", (), None
        if role == "repeat":
            return "96366", None, "96366", "additional", (), None
        return "96368", None, None, None, (), None
    if service == "push":
        if role == "initial":
            return "96374", None, None, None, (), None
        if role == "repeat":
            if gap is not None and gap <= REPEAT_PUSH_GAP:
                return None, None, None, None, ("repeat-push-too-soon",), None
            if claim == "facility":
                return "96376", None, None, None, (), None
            if claim == "professional" and repeat_push_76 and repeats == "initial":
                return "96374", None, None, None, (), "76"
            if claim == "professional":
                return None, None, None, None, ("repeat-push-not-reported",), None
            return None, None, None, None, (), None
        if role == "sequential":
            return "96375", None, None, None, (), None
        return None, None, None, None, (), None
    if service == "hydration":
        if role == "initial":
            return "96360", None, "96361", "additional", (), None
        return "96361", "hydration", None, None, (), None
    if service == "subq_infusion":
        if role == "initial" and distinct == "site":
            return "96371", None, None, None, (), None
        if role == "initial":
            return "96369", None, "96370", "additional", (), None
        return None, None, None, None, ("subq-site-already-set-up",), None
    if service == "injection":
        return "96372", None, None, None, (), None
    if service == "intra_arterial":
        return "96373", None, None, None, (), None
    if service == "on_body":
        return "96377", None, None, None, (), None
    return None, None, None, None, (), None


def unit_offsets(counted: int, hours_from: int) -> range:
    """The counted second at which each unit is earned: one per hour after `hours_from`,
    a final part-hour counted only when it runs more than 30 minutes."""
    first = hours_from + PART_HOUR + 1
    if counted < first:
        return range(0)
    return range(first, counted + 1, HOUR)


# ----- the encounter --------------------------------------------------------------------

class Event:
    """One administration (or the hydration of one session and site, merged)."""

    __slots__ = ("ids", "drug", "category", "route", "method", "hormonal", "pump", "integral_to", "purpose",
                 "lesions", "site", "session",
                 "start_s", "stop_s", "wall_start", "duration", "gap", "intervals", "order", "service",
                 "role", "distinct", "repeats")

    def wall_date(self, instant: int) -> str:
        return (self.wall_start + datetime.timedelta(seconds=instant - self.start_s)).date().isoformat()


class Line:
    __slots__ = ("code", "units", "date", "ids", "modifiers", "session", "site", "role", "distinct", "part", "service")

    def __init__(self, code, units, date, event, modifiers, part):
        self.code, self.units, self.date, self.ids, self.modifiers, self.part = (
            code, units, date, event.ids, modifiers, part)
        self.session, self.site, self.role, self.distinct = event.session, event.site, event.role, event.distinct
        self.service = event.service


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_NAIVE_EPOCH = datetime.datetime(1970, 1, 1)
_SECOND = datetime.timedelta(seconds=1)


def _time(text) -> datetime.datetime:
    if type(text) is not str or len(text) < 16 or text[10] != "T":
        raise ValueError(f"bad date-time {text!r}")
    return datetime.datetime.fromisoformat(text)


def _word(record: dict, key: str, allowed: frozenset) -> str:
    value = record[key]
    if value not in allowed:
        raise ValueError(f"bad {key} {value!r}")
    return value


def _text(record: dict, key: str) -> str:
    value = record[key]
    if type(value) is not str or not value:
        raise ValueError(f"bad {key} {value!r}")
    return value


def code_encounter(data: dict, payer: str | None = None) -> dict:
    """Code one decoded JSON encounter; raise ValueError (or KeyError) on bad input."""
    date = _text(data, "date")
    if not EFFECTIVE[0] <= date <= EFFECTIVE[1]:
        raise ValueError(f"no rules for {date}")
    encounter_id = _text(data, "id")
    claim = _word(data, "claim", CLAIMS)
    pos = data.get("pos")
    payer = payer or data.get("payer")
    policy = POLICIES.get(payer, POLICIES[None])
    primary = data.get("primary")
    findings: dict = {}

    def found(finding, ids=()):
        listed = findings.setdefault(finding, [])
        listed.extend(i for i in ids if i not in listed)

    events = _events(data["administrations"], found)
    date_of_service = datetime.date.fromisoformat(date)
    for event in events:
        if abs((event.wall_start.date() - date_of_service).days) > DATE_WINDOW_DAYS:
            found("administration-far-from-date", event.ids)
    first_session = next((e.session for e in events if e.session), None)
    if primary is not None and not any(primary in e.ids for e in events):
        raise ValueError(f"primary {primary!r} is no administration")

    for event in events:
        event.service, raised = service(claim, pos, event.category, event.route, event.method,
                                        event.hormonal, event.pump, event.integral_to, event.purpose,
                                        event.lesions, event.duration)
        for finding in raised:
            found(finding, event.ids)
    events = _merge_hydration(events)
    for event in events:
        if event.service == "hydration" and event.duration <= HYDRATION_MINIMUM:
            event.service = None
            found("hydration-not-reportable", event.ids)
    events = _merge_subq_sites(events)
    _initial_iv(events, claim, primary)
    _initial_subq(events)

    lines = []
    for event in events:
        code, units, addon, addon_units, raised, modifier = coding(
            event.service, event.role, claim, event.distinct, event.gap, event.repeats, policy.repeat_push_76)
        for finding in raised:
            found(finding, event.ids)
        if code:
            made = _emit(lines, code, units, event, "base")
            if modifier:
                for line in made:
                    line.modifiers.append(modifier)
        if addon:
            _emit(lines, addon, addon_units, event, "addon")
    for line in lines:
        if line.role == "initial" and line.part == "base":
            subq = line.service == "subq_infusion"  # a new subcutaneous site has its own code
            wanted = (policy.separate_session if line.distinct == "session"
                      else policy.separate_site if line.distinct == "site" and not subq else None)
            if wanted and wanted not in line.modifiers:
                line.modifiers.append(wanted)
            if line.distinct == "site" and not subq:
                found("second-access-site", line.ids)

    lines = _edits(lines, policy, found)
    lines_by_session = collections.Counter(line.session for line in lines)
    em_lines = []
    # E/M services in a canonical order, so the order they are listed in never matters.
    for service_record in sorted(data.get("em", ()), key=lambda s: (s["code"], s.get("session") or "",
                                                                      s.get("separately_identifiable", False))):
        em_code = service_record["code"]
        administration_lines = lines_by_session[service_record.get("session") or first_session]
        if (policy.no_99211_with_administration and claim == "professional" and em_code == "99211"
                and administration_lines > 0):
            found("em-99211-with-administration")
        elif administration_lines == 0:
            em_lines.append((em_code, []))
        elif service_record.get("separately_identifiable", False):
            em_lines.append((em_code, ["25"]))
        else:
            found("em-not-separately-identifiable")

    return {"encounter": encounter_id, "lines": _claim_lines(lines, em_lines, date),
            "findings": [{"id": f, "severity": SEVERITY[f], "administrations": ids} for f, ids in findings.items()]}


def _events(administrations: list, found) -> list:
    """Validated administrations as events in time order, each with its session and its gap
    since the previous administration of the same drug ended."""
    parsed = []
    seen = set()
    aware = []
    for item in administrations:
        ident = _text(item, "id")
        if ident in seen:
            raise ValueError(f"duplicate administration id {ident!r}")
        seen.add(ident)
        start = _time(item["start"])
        stop = item.get("stop")
        stop = None if stop is None else _time(stop)
        if start.tzinfo is not None:
            aware.append(start)
        if stop is not None and stop.tzinfo is not None:
            aware.append(stop)
        parsed.append((item, ident, start, stop))
    # Times written without an offset are in the zone of the earliest one written with one.
    earliest = min(aware, key=lambda t: (t - _EPOCH, t.utcoffset())) if aware else None
    local_offset = earliest.utcoffset() // _SECOND if earliest is not None else 0
    events = []
    for item, ident, start, stop in parsed:
        event = Event()
        event.ids = (ident,)
        event.drug = _text(item, "drug").strip().casefold()
        event.category = _word(item, "category", CATEGORIES)
        event.route = _word(item, "route", ROUTES)
        event.method = _word(item, "method", METHODS)
        event.hormonal = item.get("hormonal", False)
        event.pump = item.get("pump", False)
        event.integral_to = item.get("integral_to")
        event.purpose = item.get("purpose")
        event.lesions = item.get("lesions")
        event.site = item.get("site")
        event.session = item.get("session")
        if start.tzinfo is None:
            event.start_s = (start - _NAIVE_EPOCH) // _SECOND - local_offset
            event.wall_start = start
        else:
            event.start_s = (start - _EPOCH) // _SECOND
            event.wall_start = start.replace(tzinfo=None)
        if stop is None:
            event.stop_s = event.duration = None
            event.intervals = []
        else:
            if stop.tzinfo is None:
                event.stop_s = (stop - _NAIVE_EPOCH) // _SECOND - local_offset
            else:
                event.stop_s = (stop - _EPOCH) // _SECOND
            event.duration = event.stop_s - event.start_s
            if event.duration < 0:
                raise ValueError(f"{ident}: stop before start")
            event.intervals = [(event.start_s, event.stop_s)] if event.duration else []
        event.role = event.distinct = event.repeats = None
        if "dose" not in item:
            found("missing-dose", event.ids)
        if "indication" not in item:
            found("missing-indication", event.ids)
        if "response" not in item:
            found("missing-response", event.ids)
        events.append(event)
    events.sort(key=_time_order)
    # An administration without a session belongs to the first session documented.
    session = next((e.session for e in events if e.session), None)
    last_end: dict = {}
    for order, event in enumerate(events):
        event.order = order
        if not event.session:
            event.session = session
        previous = last_end.get(event.drug)
        event.gap = None if previous is None else event.start_s - previous
        end = event.start_s if event.stop_s is None else event.stop_s
        last_end[event.drug] = end if previous is None or end > previous else previous
    return events


def _time_order(event: Event) -> tuple:
    return event.start_s, event.start_s if event.stop_s is None else event.stop_s, event.ids[0]


def _merge_hydration(events: list) -> list:
    """Hydration of one session and site becomes one event whose time is the union of its
    bags, less any minute another infusion of the session runs. A bag with no documented site
    is at the first site documented for hydration in its session."""
    groups: dict = {}
    hydration = [event for event in events if event.service == "hydration"]
    for event in hydration:
        groups.setdefault((event.session, _site_in_use(event, hydration)), []).append(event)
    if not groups:
        return events
    replaced = {}
    for members in groups.values():
        first = members[0]
        removed = _union([span for other in events
                          if other.service in TIMED_SERVICES and other.session == first.session
                          for span in other.intervals])
        _replace(replaced, members, _subtract(_union([span for m in members for span in m.intervals]), removed))
    return [replaced.get(id(e), e) for e in events if replaced.get(id(e), e) is not None]


def _replace(replaced: dict, members: list, counted: list):
    """Record in `replaced` one event for `members` (the first's fields, their time `counted`)."""
    first = members[0]
    merged = Event()
    for slot in Event.__slots__:
        setattr(merged, slot, getattr(first, slot))
    merged.ids = tuple(i for m in members for i in m.ids)
    merged.intervals = counted
    merged.duration = sum(end - start for start, end in counted)
    merged.stop_s = max((m.stop_s for m in members if m.stop_s is not None), default=None)
    replaced[id(first)] = merged
    for member in members[1:]:
        replaced[id(member)] = None


def _union(spans: list) -> list:
    merged = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(spans: list, removed: list) -> list:
    if not removed:
        return spans
    result = []
    for start, end in spans:
        cursor = start
        for cut_start, cut_end in removed:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            if cut_end > cursor:
                cursor = cut_end
        if cursor < end:
            result.append((cursor, end))
    return result


def _initial_iv(events: list, claim: str, primary):
    """One initial service per session and access site: by hierarchy (a professional claim
    puts the documented primary, when an IV infusion or push, after chemotherapy and before the
    other infusions and pushes), then primary, earliest start, longest duration.

    An IV service with no documented site is at the first site documented in its session: the
    access already in use, not a second one.
    """
    ranked = []
    for event in events:
        rank = IV_RANK.get(event.service)
        if rank is None:
            continue
        is_primary = primary in event.ids
        if claim == "professional" and is_primary and event.service in PRIMARY_SERVICES:
            rank = PRIMARY_RANK
        ranked.append(((rank, 0 if is_primary else 1, event.start_s, -(event.duration or 0), event.order), event))
    groups: dict = {}
    candidates = [event for _, event in ranked]
    for key, event in ranked:
        groups.setdefault((event.session, _site_in_use(event, candidates)), []).append((key, event))
    _assign_roles(groups, ("session", "site"), CONCURRENT_SERVICES)


def _initial_subq(events: list):
    """The first subcutaneous infusion of a session and site is the initial one (earliest,
    longest); a site with no label is the first documented one of its session."""
    subq = [event for event in events if event.service == "subq_infusion"]
    groups: dict = {}
    for event in subq:
        key = (event.start_s, -(event.duration or 0), event.order)
        groups.setdefault((event.session, _site_in_use(event, subq)), []).append((key, event))
    _assign_roles(groups, ("session", "site"), frozenset())


def _site_in_use(event: Event, others: list):
    if event.site is not None:
        return event.site
    return next((o.site for o in others if o.site is not None and o.session == event.session), None)


def _merge_subq_sites(events: list) -> list:
    """Subcutaneous infusions of one drug through one site in a session become one event."""
    subq = [event for event in events if event.service == "subq_infusion"]
    groups: dict = {}
    for event in subq:
        groups.setdefault((event.session, _site_in_use(event, subq), event.drug), []).append(event)
    replaced = {}
    for members in groups.values():
        if len(members) > 1:
            _replace(replaced, members, _union([span for m in members for span in m.intervals]))
    return [replaced.get(id(e), e) for e in events if replaced.get(id(e), e) is not None]


def _assign_roles(groups: dict, key_names: tuple, concurrent: frozenset):
    first_key = None
    for key, members in groups.items():  # groups were filled in time order
        if first_key is None:
            first_key = key
        distinct = next((name for name, a, b in zip(key_names, key, first_key) if a != b), "none")
        initial = min(members, key=lambda m: m[0])[1]
        group = [event for _, event in members]
        for event in group:
            event.distinct = distinct
            event.role = "initial" if event is initial else _role(event, initial, group, concurrent)
            event.repeats = next((other.role for other in reversed(group) if other.order < event.order
                                  and other.drug == event.drug and other.service == event.service), None)


def _role(event: Event, initial: Event, group: list, concurrent: frozenset) -> str:
    if event.service in concurrent:
        for other in group:
            if other is event or not (other is initial or other.order < event.order):
                continue
            if (other.service in concurrent and other.drug != event.drug
                    and any(a[0] < b[1] and b[0] < a[1] for a in other.intervals for b in event.intervals)):
                return "concurrent"
    for other in group:
        if other.order < event.order and other.drug == event.drug:
            return "repeat"
    return "sequential"


def _emit(lines: list, code: str, units, event: Event, part: str) -> list:
    """Lines for one code: one unit, or units from time, one line per date of service."""
    if units is None:
        line = Line(code, 1, event.wall_start.date().isoformat(), event, [], part)
        lines.append(line)
        return [line]
    per_date: dict = {}
    for offset in unit_offsets(event.duration or 0, HOUR if units == "additional" else 0):
        date = event.wall_date(_instant_at(event.intervals, offset))
        per_date[date] = per_date.get(date, 0) + 1
    made = [Line(code, count, date, event, [], part) for date, count in per_date.items()]
    lines.extend(made)
    return made


def _instant_at(intervals: list, offset: int) -> int:
    for start, end in intervals:
        if offset <= end - start:
            return start + offset
        offset -= end - start
    return intervals[-1][1] if intervals else 0


def _edits(lines: list, policy: PayerPolicy, found) -> list:
    """One concurrent infusion per encounter; an injection bundles into the claim's IV services
    unless in a session none of them is in (separate-session modifier) or at a documented site
    of its own that none of them shares (separate-site modifier); add-ons need a primary code
    on the claim."""
    concurrent_seen = False
    kept = []
    for line in lines:
        if line.code == "96368":
            if concurrent_seen:
                found("concurrent-not-reported", line.ids)
                continue
            concurrent_seen = True
        kept.append(line)
    lines = kept
    if any(line.code == "96372" for line in lines):
        kept = []
        for line in lines:
            if line.code == "96372":
                partners = [p for p in lines if p.code in IV_CODES]
                if partners:
                    if line.session is not None and all(p.session != line.session for p in partners):
                        modifier = policy.separate_session
                    elif line.site is not None and all(p.site != line.site for p in partners):
                        modifier = policy.separate_site
                    else:
                        found("injection-bundled", line.ids)
                        if line.site is None:  # not known to share the site: a documentation gap
                            found("injection-site-not-documented", line.ids)
                        continue
                    if modifier not in line.modifiers:
                        line.modifiers.append(modifier)
            kept.append(line)
        lines = kept
    while True:
        codes = {line.code for line in lines}
        orphan = next((line for line in lines
                       if line.code in ADDON_PRIMARIES and not codes & ADDON_PRIMARIES[line.code]), None)
        if orphan is None:
            return lines
        found("addon-without-primary", orphan.ids)
        lines = [line for line in lines if line is not orphan]


def _claim_lines(lines: list, em_lines: list, date: str) -> list:
    """Lines that say the same thing summed; ordered by date, initial codes before add-ons,
    then standalone codes, then E/M."""
    combined: dict = {}
    for line in lines:
        key = (line.code, tuple(line.modifiers), line.date, line.ids)
        combined[key] = combined.get(key, 0) + line.units
    for code, modifiers in em_lines:
        key = (code, tuple(modifiers), date, ())
        combined[key] = combined.get(key, 0) + 1
    ordered = sorted(enumerate(combined.items()),
                     key=lambda item: (item[1][0][2], CLAIM_RANK.get(item[1][0][0], 9), item[0]))
    return [{"code": code, "units": units, "modifiers": list(modifiers), "date": line_date,
             "administrations": list(ids)}
            for _, ((code, modifiers, line_date, ids), units) in ordered]
