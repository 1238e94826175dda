"""Generated encounters for the benchmarks and the hand-written reference, by named shape.

Each generator takes a count and a seed and returns the same list of encounter dicts
(as the contract shapes them) every time, so a benchmark or a test run on one machine
can be repeated on another:

- `domain`: the whole input domain, for checking that two coders agree: every word of
  every vocabulary, places of service inside and outside the facility set, every payer
  variant and an unknown payer, durations on both sides of every threshold of the 2026
  ruleset, repeats of a drug around 30 minutes apart, overlaps, missing stop times,
  midnight crossings, offsets and second-precision times; one encounter in five is drawn
  around a single access instead (`_access_encounter`): drugs given again, sites documented
  on some administrations only, hydration beside a chemotherapy pump.
- `typical_day`: a day of an emergency department, a hospital infusion suite and an
  office, one to four administrations each, the mix the throughput targets are about.
- `oncology`: long chemotherapy chair days, 10 to 16 administrations each.
- `adversarial`: 50 infusions that all overlap, through one access site.
- `many_administrations`: encounters of thousands of administrations (pushes, overlapping
  infusions, hydration, chemotherapy, injections), of one drug, a few or each its own, with
  or without sites and sessions documented: the cost must grow about linearly with the size.

Example:
    from bench import corpus
    encounters = corpus.typical_day(1000, seed=1)
"""
from __future__ import annotations

import datetime
import random

CATEGORIES = ("therapeutic", "prophylactic", "diagnostic", "hydration", "chemotherapy")
ROUTES = ("iv", "im", "subq", "intra_arterial")
METHODS = ("push", "infusion", "injection", "on_body_injector")
FACILITY_POS = ("19", "21", "22", "23", "24", "26", "51", "52", "61")
OTHER_POS = ("11", "12", "49")
PAYERS = ("medicare", "commercial", "medicaid")
EM_CODES = ("99211", "99213", "99215", "99283", "99284", "99285")
DRUGS = ("ondansetron", "normal saline", "ceftriaxone", "famotidine", "cisplatin", "fluorouracil",
         "leucovorin", "vancomycin", "ketorolac", "diphenhydramine")
SITES = ("L-forearm", "R-hand", "port")
SESSIONS = ("1", "2")
OFFSETS = ("Z", "-05:00", "+01:00")
# Minutes on both sides of each threshold: push (15), hydration minimum and final part-hour
# (30), first hour (60), additional hours (90, 150, 210) and prolonged chemotherapy (8 h).
THRESHOLD_MINUTES = (0, 1, 2, 14, 15, 16, 29, 30, 31, 59, 60, 61, 89, 90, 91, 149, 150, 151,
                     209, 210, 211, 479, 480, 481, 46 * 60)
GAP_MINUTES = (0, 1, 29, 30, 31, 32, 45, 60)


def domain(count: int, seed: int = 0) -> list[dict]:
    """Encounters spread over the whole input domain (see the module docstring)."""
    rng = random.Random(seed)
    return [(_access_encounter if rng.random() < 0.2 else _domain_encounter)(rng, f"dom-{seed}-{n}")
            for n in range(count)]


def typical_day(count: int, seed: int = 0) -> list[dict]:
    """An ED / infusion suite / office day mix: mostly 1-4 administrations per encounter."""
    rng = random.Random(seed)
    makers = (_ed_visit,) * 5 + (_infusion_suite,) * 3 + (_office_visit,) * 2 + (_chemo_chair,)
    return [rng.choice(makers)(rng, f"day-{seed}-{n}") for n in range(count)]


def oncology(count: int, seed: int = 0) -> list[dict]:
    """Long oncology chair days: premedication, hydration and 10 to 16 administrations."""
    rng = random.Random(seed)
    return [_chemo_chair(rng, f"onc-{seed}-{n}", size=rng.randint(10, 16)) for n in range(count)]


def adversarial(count: int, seed: int = 0, infusions: int = 50) -> list[dict]:
    """Encounters of `infusions` infusions that all overlap one another, one access site."""
    rng = random.Random(seed)
    encounters = []
    for n in range(count):
        opening = _opening(rng, hour=8)
        administrations = []
        for i in range(infusions):
            start = rng.randint(0, 20)
            category = rng.choice(("therapeutic", "therapeutic", "hydration", "chemotherapy"))
            administrations.append(_administration(
                f"a{i + 1}", rng.choice(DRUGS), category, "iv", "infusion", opening, start,
                start + rng.randint(60, 300), site="port"))
        encounters.append(_encounter(f"adv-{seed}-{n}", opening, "facility", "19", administrations))
    return encounters


def many_administrations(count: int, seed: int = 0, administrations: int = 1000, drugs: int = len(DRUGS),
                         documented: bool = True) -> list[dict]:
    """Encounters of `administrations` administrations over a day, of `drugs` different drugs
    (the usual ones first, then made-up names), and with `documented`, sites and sessions on
    most of them (else on none)."""
    rng = random.Random(seed)
    kinds = (("therapeutic", "iv", "push", 2), ("therapeutic", "iv", "infusion", 45),
             ("hydration", "iv", "infusion", 120), ("chemotherapy", "iv", "infusion", 90),
             ("therapeutic", "im", "injection", None))
    encounters = []
    for n in range(count):
        opening = _opening(rng, hour=7)
        items = []
        for i in range(administrations):
            category, route, method, length = rng.choice(kinds)
            k = rng.randrange(drugs)
            drug = DRUGS[k] if k < len(DRUGS) else f"drug-{k}"
            start = rng.randint(0, 14 * 60)
            site = rng.choice((None, *SITES)) if documented else None
            session = rng.choice((None, *SESSIONS)) if documented else None
            stop = None if length is None or rng.random() < 0.1 else start + rng.randint(1, length)
            item = _administration(f"a{i + 1}", drug, category, route, method, opening, start, stop,
                                   site=site, session=session)
            if rng.random() < 0.3:
                del item["indication"]  # a finding for many of them
            items.append(item)
        encounters.append(_encounter(f"many-{seed}-{n}", opening, "facility",
                                     "22", items, em=[{"code": "99284", "separately_identifiable": True}]))
    return encounters


# ----- the whole domain -----------------------------------------------------------

def _domain_encounter(rng: random.Random, ident: str) -> dict:
    opening = _opening(rng, hour=rng.choice((7, 9, 13, 22, 23)))
    offset = rng.choice((None, None, *OFFSETS))
    seconds = rng.random() < 0.2
    spans = []  # (drug, start minute, stop minute or None)
    administrations = []
    for i in range(rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 6, 8))):
        drug, start, stop = _domain_times(rng, spans)
        spans.append((drug, start, stop))
        item = _administration(f"a{i + 1}", _spelling(rng, drug), rng.choice(CATEGORIES),
                               rng.choice(("iv", "iv", "iv", *ROUTES)),
                               rng.choice(("infusion", "push", *METHODS)), opening, start, stop,
                               site=rng.choice((None, *SITES[:2])), session=rng.choice((None, None, *SESSIONS)),
                               offset=offset, seconds=seconds, rng=rng)
        for key in ("hormonal", "pump"):
            flag = rng.choice((None, None, False, True))
            if flag is not None:
                item[key] = flag
        for key in ("dose", "indication", "response"):
            if rng.random() < 0.15:
                del item[key]
        administrations.append(item)
    claim = rng.choice(("facility", "professional"))
    pos = rng.choice((None, *FACILITY_POS[:4], *OTHER_POS))
    encounter = _encounter(ident, opening, claim, pos, administrations, payer=rng.choice((None, *PAYERS)))
    if administrations and rng.random() < 0.5:
        encounter["primary"] = rng.choice(administrations)["id"]
    em = []
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        service = {"code": rng.choice(EM_CODES)}
        flag = rng.choice((None, False, True))
        if flag is not None:
            service["separately_identifiable"] = flag
        if rng.random() < 0.2:
            service["session"] = rng.choice(SESSIONS)
        em.append(service)
    if em:
        encounter["em"] = em
    return encounter


def _access_encounter(rng: random.Random, ident: str) -> dict:
    """Two to six administrations through one access, where roles, repeats and sites decide:
    two drugs pushed and infused again at gaps around 30 minutes, hydration beside them and
    beside a chemotherapy pump (its stop time sometimes missing), an injection, and a site
    documented on some administrations only."""
    opening = _opening(rng, hour=rng.choice((8, 13, 23)))
    drugs = rng.sample(DRUGS, 2)
    minute = 0
    administrations = []
    for i in range(rng.randint(2, 6)):
        kind = rng.choice(("push", "push", "infusion", "hydration", "pump", "injection"))
        start = max(0, minute - rng.choice((0, 0, 10, 30)))  # now and then beside the one before
        drug, category, route, method = {
            "push": (rng.choice(drugs), "therapeutic", "iv", "push"),
            "infusion": (rng.choice(drugs), "therapeutic", "iv", "infusion"),
            "hydration": ("normal saline", "hydration", "iv", "infusion"),
            "pump": ("fluorouracil", "chemotherapy", "iv", "infusion"),
            "injection": ("ketorolac", "therapeutic", rng.choice(("im", "subq")), "injection"),
        }[kind]
        length = {"push": 2, "infusion": rng.choice((16, 45, 61, 91)), "hydration": rng.choice((31, 45, 75, 120)),
                  "pump": rng.choice((None, 8 * 60, 46 * 60)), "injection": None}[kind]
        item = _administration(f"a{i + 1}", drug, category, route, method, opening, start,
                               None if length is None else start + length, site=rng.choice((None, None, *SITES[:2])))
        if kind == "pump":
            item["pump"] = True
        administrations.append(item)
        # The next one follows this one (a pump runs on: the next follows its start).
        minute = start + (2 if length is None or kind == "pump" else length) + rng.choice(GAP_MINUTES)
    claim = rng.choice(("facility", "professional"))
    pos = rng.choice(("19", "22", "23")) if claim == "facility" else rng.choice(OTHER_POS)
    encounter = _encounter(ident, opening, claim, pos, administrations,
                           payer=rng.choice((None, "medicare", "commercial", "commercial")))
    if rng.random() < 0.3:
        encounter["primary"] = rng.choice(administrations)["id"]
    return encounter


def _domain_times(rng: random.Random, spans: list) -> tuple:
    """A drug and its start and stop minutes: after, overlapping or apart from earlier ones."""
    how = rng.choice(("after", "overlap", "apart")) if spans else "apart"
    if how == "after":
        drug, start, stop = rng.choice(spans)
        drug = drug if rng.random() < 0.5 else rng.choice(DRUGS)
        start = (stop if stop is not None else start) + rng.choice((*GAP_MINUTES, rng.randint(0, 180)))
    elif how == "overlap":
        _, earlier_start, earlier_stop = rng.choice(spans)
        drug = rng.choice(DRUGS)
        start = earlier_start + rng.randint(0, max((earlier_stop or earlier_start) - earlier_start, 1))
    else:
        drug = rng.choice(DRUGS)
        start = rng.randint(0, 600)
    if rng.random() < 0.1:
        return drug, start, None
    return drug, start, start + rng.choice((*THRESHOLD_MINUTES, rng.randint(0, 600)))


def _spelling(rng: random.Random, drug: str) -> str:
    """The same drug as written by different people: case and surrounding spaces vary."""
    return rng.choice((drug, drug, drug, drug.upper(), f"  {drug.title()} "))


# ----- the day mix ----------------------------------------------------------------

def _ed_visit(rng: random.Random, ident: str) -> dict:
    opening = _opening(rng, hour=rng.randint(0, 23))
    minute = 0
    administrations = []
    for i in range(rng.choice((1, 1, 2, 2, 3))):
        drug = rng.choice(("ondansetron", "ketorolac", "famotidine", "diphenhydramine"))
        administrations.append(_administration(f"a{i + 1}", drug, "therapeutic", "iv", "push",
                                               opening, minute, minute + 2, site="L-forearm"))
        minute += rng.choice((5, 10, 40))
    if rng.random() < 0.6:
        administrations.append(_administration(f"a{len(administrations) + 1}", "normal saline", "hydration",
                                               "iv", "infusion", opening, minute, minute + rng.choice((25, 45, 75, 120)),
                                               site="L-forearm"))
    em = [{"code": rng.choice(("99283", "99284", "99285")), "separately_identifiable": rng.random() < 0.7}]
    return _encounter(ident, opening, "facility", "23", administrations, payer=rng.choice((None, *PAYERS)), em=em)


def _infusion_suite(rng: random.Random, ident: str) -> dict:
    opening = _opening(rng, hour=rng.randint(7, 16))
    administrations = []
    if rng.random() < 0.5:
        administrations.append(_administration("a1", "diphenhydramine", "prophylactic", "iv", "push",
                                               opening, 0, 2, site="R-hand"))
    length = rng.choice((30, 45, 60, 95, 160))
    drug = rng.choice(("ceftriaxone", "vancomycin"))
    administrations.append(_administration(f"a{len(administrations) + 1}", drug, "therapeutic", "iv",
                                           "infusion", opening, 5, 5 + length, site="R-hand"))
    if rng.random() < 0.4:
        administrations.append(_administration(f"a{len(administrations) + 1}", "normal saline", "hydration", "iv",
                                               "infusion", opening, 10 + length, 10 + length + rng.choice((40, 70)),
                                               site="R-hand"))
    return _encounter(ident, opening, "facility", rng.choice(("19", "22")), administrations,
                      payer=rng.choice((None, *PAYERS)))


def _office_visit(rng: random.Random, ident: str) -> dict:
    opening = _opening(rng, hour=rng.randint(8, 17))
    administrations = [_administration("a1", rng.choice(("ceftriaxone", "ketorolac")), "therapeutic",
                                       rng.choice(("im", "subq")), "injection", opening, 0, None, site="L-deltoid")]
    if rng.random() < 0.4:
        administrations.append(_administration("a2", "ondansetron", "therapeutic", "iv", "push",
                                               opening, 10, 12, site="R-hand"))
    em = [{"code": rng.choice(("99211", "99213", "99214")), "separately_identifiable": rng.random() < 0.5}]
    encounter = _encounter(ident, opening, "professional", "11", administrations,
                           payer=rng.choice((None, *PAYERS)), em=em)
    encounter["primary"] = "a1"
    return encounter


def _chemo_chair(rng: random.Random, ident: str, size: int | None = None) -> dict:
    """Premedication pushes, hydration, then chemotherapy infusions one after another."""
    opening = _opening(rng, hour=rng.randint(7, 11))
    size = size or rng.randint(3, 5)
    administrations = []
    minute = 0
    for drug in ("ondansetron", "diphenhydramine", "famotidine")[:max(1, size // 4)]:
        administrations.append(_administration(f"a{len(administrations) + 1}", drug, "prophylactic", "iv", "push",
                                               opening, minute, minute + 2, site="port"))
        minute += 5
    administrations.append(_administration(f"a{len(administrations) + 1}", "normal saline", "hydration", "iv",
                                           "infusion", opening, minute, minute + 60, site="port"))
    minute += 60
    chemo = ("cisplatin", "paclitaxel", "carboplatin", "leucovorin", "gemcitabine", "oxaliplatin")
    while len(administrations) < size - 1:
        length = rng.choice((20, 30, 60, 90, 180))
        drug = rng.choice(chemo)
        if rng.random() < 0.25:  # a second drug running alongside the last one
            start = minute - rng.randint(5, 15)
        else:
            start = minute
        administrations.append(_administration(f"a{len(administrations) + 1}", drug, "chemotherapy", "iv",
                                               "infusion", opening, start, start + length, site="port"))
        minute = start + length + rng.choice((0, 5))
    if size > 5 and rng.random() < 0.3:  # a take-home pump runs on for two days
        pump = _administration(f"a{len(administrations) + 1}", "fluorouracil", "chemotherapy", "iv", "infusion",
                               opening, minute, minute + 46 * 60, site="port")
        pump["pump"] = True
        administrations.append(pump)
    else:
        administrations.append(_administration(f"a{len(administrations) + 1}", "normal saline", "hydration", "iv",
                                               "infusion", opening, minute, minute + 45, site="port"))
    return _encounter(ident, opening, "facility", "19", administrations, payer=rng.choice((None, *PAYERS)))


# ----- shared pieces ------------------------------------------------------------------

def _opening(rng: random.Random, hour: int) -> datetime.datetime:
    """An encounter's opening time in 2026, on 30 December at the latest: an encounter
    crossing into 2027 is outside the 2026 ruleset's period (engine/core/period.py)."""
    day = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randint(0, 363))
    return datetime.datetime.combine(day, datetime.time(hour, rng.choice((0, 15, 30))))


def _stamp(moment: datetime.datetime, offset: str | None, seconds: bool) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%dT%H:%M") + (offset or "")


def _administration(ident: str, drug: str, category: str, route: str, method: str,
                    opening: datetime.datetime, start: int, stop: int | None, *, site: str | None = None,
                    session: str | None = None, offset: str | None = None, seconds: bool = False,
                    rng: random.Random | None = None) -> dict:
    """One administration; with `rng`, each time carries the offset or not, by chance, and
    with `seconds` the times are written to the second (a stop never before its start)."""
    def stamp(minute, second):
        moment = opening + datetime.timedelta(minutes=minute, seconds=second)
        return _stamp(moment, offset if rng is None or rng.random() < 0.5 else None, seconds)

    start_second = rng.randint(0, 59) if seconds and rng else 0
    item = {"id": ident, "drug": drug, "dose": "10 mg", "category": category, "route": route, "method": method,
            "start": stamp(start, start_second)}
    if stop is not None:
        item["stop"] = stamp(stop, rng.randint(0, 59) if seconds and rng and stop > start else start_second)
    if site is not None:
        item["site"] = site
    if session is not None:
        item["session"] = session
    item["indication"] = "documented"
    item["response"] = "tolerated, monitored"
    return item


def _encounter(ident: str, opening: datetime.datetime, claim: str, pos: str | None, administrations: list,
               payer: str | None = None, em: list | None = None) -> dict:
    encounter = {"id": ident, "date": opening.date().isoformat(), "claim": claim}
    if pos is not None:
        encounter["pos"] = pos
    if payer is not None:
        encounter["payer"] = payer
    encounter["administrations"] = administrations
    if em:
        encounter["em"] = em
    return encounter


def table_inputs(coder, encounters: list[dict], table: str) -> list[dict]:
    """The inputs table `table` was asked to decide while `coder` coded `encounters`, in
    order, read from the decision trace: realistic inputs for benchmarking one table."""
    from engine.core.trace import TableRecord

    seen = []
    for data in encounters:
        ruleset, encounter = coder.select(data)
        trace: list = []
        coder.pipeline(ruleset).run(encounter, trace=trace)
        seen.extend(record.inputs for record in trace if isinstance(record, TableRecord) and record.table == table)
    return seen
