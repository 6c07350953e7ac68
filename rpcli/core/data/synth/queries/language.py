"""Query generators: concept sentences, logic grids, reading comprehension and analogies.

Each generator returns the item dict described in rpcli.core.data.synth.queries.
"""

from __future__ import annotations

from rpcli.core.data.synth.draw import Draw
from rpcli.core.data.synth.vocab import LAST, LETTERS, fmt_num, full_name, mc, mc_item, ordinal, person, place_name

_CONCEPTS = [
    ["ball", "kick", "goal", "referee", "jersey", "stadium", "sprint", "racket", "serve", "net", "coach", "whistle",
     "skateboard", "helmet", "trophy", "dribble", "tackle", "cheer", "court", "jump"],
    ["knife", "chop", "onion", "pan", "stir", "oven", "dough", "bake", "plate", "spoon", "boil", "kettle", "apron",
     "slice", "pepper", "bowl", "whisk", "fry", "recipe", "table"],
    ["tent", "hike", "trail", "river", "fish", "campfire", "mountain", "backpack", "canoe", "paddle", "forest",
     "climb", "rope", "lake", "sunset", "map", "compass", "bird", "rock", "snow"],
    ["street", "bus", "traffic", "crowd", "shop", "tourist", "bridge", "taxi", "station", "sidewalk", "umbrella",
     "market", "buy", "wait", "ticket", "cafe", "sign", "walk", "building", "light"],
]
_COMMON_CONCEPTS = ["dog", "child", "smile", "hold", "carry", "sit", "watch", "run", "throw", "wear", "open", "water"]


def gen_concept_gen(d: Draw) -> dict:
    """A concept-to-sentence task (CommonGen style): write a sentence using the given words."""
    sub = d.int(0, 3)
    n = d.int(4, 12)
    n_common = d.int(0, min(3, n - 3))
    words = d.sample(_CONCEPTS[sub], n - n_common) + d.sample(_COMMON_CONCEPTS, n_common)
    words = d.shuffle(words)
    q = ", ".join(words)
    return {"q": q, "gt": q, "choices": None, "tid": None, "user": None, "sub": sub, "cx": (n - 4) / 8,
            "ans": words, "wrong": words}


_GRID_CATS = [
    ("Each person plays a different musical instrument",
     [("is a guitarist", "the guitarist"), ("is a pianist", "the pianist"), ("is a violinist", "the violinist"),
      ("is a flutist", "the flutist"), ("is a drummer", "the drummer")]),
    ("Each person has different pets",
     [("is a cat lover", "the cat lover"), ("is a dog owner", "the dog owner"), ("is a bird keeper",
      "the bird keeper"), ("owns horses", "the person who owns horses"), ("keeps fish", "the person who keeps fish")]),
    ("Each person has a favorite color",
     [("likes red", "the person who likes red"), ("likes blue", "the person who likes blue"),
      ("likes green", "the person who likes green"), ("likes white", "the person who likes white"),
      ("likes yellow", "the person who likes yellow")]),
    ("Each person has a different kind of car",
     [("drives a sedan", "the person who drives a sedan"), ("drives a truck", "the person who drives a truck"),
      ("drives a convertible", "the person who drives a convertible"), ("drives a minivan",
      "the person who drives a minivan"), ("drives an SUV", "the person who drives an SUV")]),
    ("Each person ate something different for lunch",
     [("had pizza", "the person who had pizza"), ("had stew", "the person who had stew"),
      ("ate spaghetti", "the person who ate spaghetti"), ("ate fried rice", "the person who ate fried rice"),
      ("ate a salad", "the person who ate a salad")]),
    ("Each person is wearing different shoes",
     [("is wearing boots", "the person who is wearing boots"), ("is wearing sandals",
      "the person who is wearing sandals"), ("is wearing loafers", "the person who is wearing loafers"),
      ("is wearing sneakers", "the person who is wearing sneakers"), ("is wearing slippers",
      "the person who is wearing slippers")]),
]


def gen_logic_grid(d: Draw) -> dict:
    """A logic-grid puzzle (houses and attributes) as a multiple-choice question."""
    n = d.int(2, 5)
    n_cat = d.int(2, 4)
    cats = d.sample(range(len(_GRID_CATS)), n_cat)
    people = []  # (category header, [(header, ref)] assigned to houses 0..n-1)
    for ci in cats:
        head, vals = _GRID_CATS[ci]
        people.append((head, d.shuffle(d.sample(vals, n))))
    lines = [f"Q: There are {n} houses in a row, numbered 1 on the left to {n} on the right. There is one person "
             f"living in each house. The people in these houses have different characteristics:"]
    for head, vals in people:
        items = [f"one {h}" for h, _ in d.shuffle(vals)]
        joined = ", ".join(items[:-1]) + (", and " if len(items) > 2 else " and ") + items[-1]
        lines.append(f" - {head}: {joined}")
    refs = [(ref, house) for _, vals in people for house, (_, ref) in enumerate(vals)]
    n_clues = d.int(n + 1, 2 * n + 2)
    clues = []
    tries = 0
    while len(clues) < n_clues and tries < 60:
        tries += 1
        (r1, h1), (r2, h2) = d.sample(refs, 2)
        kind = d.int(0, 4)
        if kind == 0:
            c = f"{r1} lives in the {ordinal(h1 + 1)} house."
        elif kind == 1:
            other = d.pick([h for h in range(n) if h != h1])
            c = f"{r1} does not live in the {ordinal(other + 1)} house."
        elif kind == 2 and abs(h1 - h2) == 1:
            c = f"{r1} and {r2} live directly next to each other."
        elif kind == 3 and h2 == h1 + 1:
            c = f"{r1} lives directly left of {r2}."
        elif kind == 4 and h1 < h2:
            c = f"{r1} lives somewhere to the left of {r2}."
        else:
            continue
        c = c[0].upper() + c[1:]
        if c not in clues:
            clues.append(c)
    target, th = d.pick(refs)
    q = ("\n".join(lines) + "\n\nClue(s):\n" + "\n".join(f"{i + 1}. {c}" for i, c in enumerate(clues))
         + f"\n\nWhat is the number of the house where {target} lives?")
    letter = LETTERS[th]
    choices = repr({"text": [str(i + 1) for i in range(n)], "labels": [LETTERS[i] for i in range(n)]})
    wrong = d.pick([LETTERS[i] for i in range(n) if i != th])
    return {"q": q, "gt": letter, "choices": choices, "tid": None, "user": None, "sub": min(3, n - 2),
            "cx": (n - 2) / 3 * 0.7 + 0.3 * (1 - min(1, len(clues) / (2 * n + 2))), "ans": letter, "wrong": wrong}


_JOBS = ["engineer", "teacher", "nurse", "architect", "carpenter", "journalist", "pharmacist", "pilot", "chef"]
_ORGTYPE = ["workshop", "clinic", "school", "publishing house", "bakery", "shipyard", "design studio"]
_PRODUCTS = ["solar panels", "olive oil", "wool blankets", "bicycle parts", "ceramic tiles", "dried fruit",
             "river boats", "hand tools"]
_CURRENCIES = ["crowns", "marks", "florins", "dollars", "euros"]
_PHENOM = ["meteor shower", "solar flare", "lunar eclipse", "aurora", "radio burst"]
_INSTR = ["radio telescope", "spectrometer", "wide-field camera", "magnetometer"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_TEAMS = ["Rovers", "Mariners", "Falcons", "United", "Wanderers", "Athletic", "Comets", "Rangers"]


def gen_reading_qa(d: Draw) -> dict:
    """A short passage and a question about it."""
    sub = d.int(0, 3)
    name, pro, pos = person(d)
    full = f"{name} {d.pick(LAST)}"
    Pro = pro.capitalize()
    if sub == 0:
        year, a, b = d.int(1900, 1990), d.int(18, 30), d.int(2, 15)
        p1, p2 = place_name(d), place_name(d)
        org = f"{d.pick(LAST)} {d.pick(_ORGTYPE)}"
        staff = d.int(3, 900)
        passage = (f"{full} was born in {p1} in {year}. {Pro} trained as a {d.pick(_JOBS)} and moved to {p2} in "
                   f"{year + a}. {b} years later {pro} founded the {org}, which employed {staff} people by "
                   f"{year + a + b + d.int(3, 20)}.")
        qs = [(f"In which year did {full} move to {p2}?", str(year + a), str(year + a + b)),
              (f"Where was {full} born?", p1, p2), (f"What did {full} found?", f"the {org}", p2)]
    elif sub == 1:
        org = place_name(d)
        year = d.int(1995, 2024)
        r0, r = d.int(5, 400), d.int(5, 400)
        prod = d.pick(_PRODUCTS)
        cur = d.pick(_CURRENCIES)
        pct = d.int(20, 70)
        passage = (f"The {org} cooperative reported revenue of {r} million {cur} in {year}, "
                   f"{'up' if r > r0 else 'down'} from {r0} million the year before. Its largest product line, "
                   f"{prod}, accounted for {pct} percent of sales.")
        qs = [(f"Which product line accounted for the largest share of sales at the {org} cooperative?", prod,
               d.pick([p for p in _PRODUCTS if p != prod])),
              (f"What revenue did the {org} cooperative report in {year}?", f"{r} million {cur}",
               f"{r0} million {cur}"),
              (f"What percentage of sales came from {prod}?", f"{pct} percent", f"{100 - pct} percent")]
    elif sub == 2:
        ph = d.pick(_PHENOM)
        mins = d.int(2, 240)
        obs = place_name(d)
        date = f"{d.pick(_MONTHS)} {d.int(1, 28)}, {d.int(1980, 2024)}"
        passage = (f"Researchers at the {obs} Observatory recorded a {ph} lasting {mins} minutes on {date}. "
                   f"The team, led by {full}, used a {d.pick(_INSTR)} to track it.")
        qs = [(f"Who led the team at the {obs} Observatory?", full, full_name(d)),
              (f"How long did the {ph} recorded at the {obs} Observatory last?", f"{mins} minutes",
               f"{mins + 10} minutes"),
              (f"On what date was the {ph} recorded?", date, f"{d.pick(_MONTHS)} {d.int(1, 28)}")]
    else:
        t1, t2 = d.sample(_TEAMS, 2)
        city = place_name(d)
        year = d.int(1950, 2024)
        s1 = d.int(1, 6)
        s2 = d.int(0, s1 - 1)
        minute = d.int(2, 90)
        passage = (f"In the {year} {city} Cup final, the {city} {t1} beat the {t2} {s1} to {s2}. {full} scored the "
                   f"winning goal in the {minute}th minute.")
        qs = [(f"Who scored the winning goal in the {year} {city} Cup final?", full, full_name(d)),
              (f"What was the final score of the {year} {city} Cup final?", f"{s1} to {s2}", f"{s2} to {s1}"),
              (f"In which minute was the winning goal of the {year} {city} Cup final scored?", f"{minute}th minute",
               f"{minute + 3}th minute")]
    question, a, w = d.pick(qs)
    q = f"Passage: {passage}\nQuestion: {question}"
    return {"q": q, "gt": a, "choices": None, "tid": None, "user": q, "sub": sub, "cx": d.f(), "ans": a, "wrong": w}


_REL = {
    "young": [("dog", "puppy"), ("cat", "kitten"), ("cow", "calf"), ("horse", "foal"), ("sheep", "lamb"),
              ("goose", "gosling"), ("frog", "tadpole"), ("bear", "cub"), ("deer", "fawn"), ("owl", "owlet"),
              ("kangaroo", "joey"), ("swan", "cygnet"), ("goat", "kid"), ("pig", "piglet"), ("duck", "duckling")],
    "tool": [("carpenter", "hammer"), ("painter", "brush"), ("surgeon", "scalpel"), ("chef", "knife"),
             ("farmer", "plow"), ("tailor", "needle"), ("photographer", "camera"), ("writer", "pen"),
             ("gardener", "rake"), ("plumber", "wrench"), ("astronomer", "telescope"), ("barber", "scissors")],
    "antonym": [("hot", "cold"), ("tall", "short"), ("early", "late"), ("bright", "dim"), ("full", "empty"),
                ("ancient", "modern"), ("rough", "smooth"), ("loud", "quiet"), ("generous", "stingy"),
                ("brave", "cowardly"), ("heavy", "light"), ("rare", "common")],
    "home": [("bee", "hive"), ("bird", "nest"), ("horse", "stable"), ("pig", "sty"), ("dog", "kennel"),
             ("lion", "den"), ("rabbit", "burrow"), ("spider", "web"), ("cow", "barn"), ("eagle", "eyrie")],
}
_NUMREL = [("square", lambda x: x * x), ("double", lambda x: 2 * x), ("triple", lambda x: 3 * x),
           ("cube", lambda x: x ** 3), ("successor", lambda x: x + 1), ("half", lambda x: x / 2)]
_ANALOGY_FMT = ["{a} is to {b} as {c} is to", "Complete the analogy: {a} is to {b} as {c} is to ___.",
                "Which word completes the analogy? {a} : {b} :: {c} : ?"]
_NUM_ANALOGY_FMT = ["{a} is to {b} as {c} is to", "Complete the number analogy: {a} is to {b} as {c} is to ___.",
                    "Which number completes the analogy? {a} : {b} :: {c} : ?"]


def gen_analogy(d: Draw) -> dict:
    """An analogy multiple-choice question (word or number relations)."""
    if d.chance(0.25):
        sub = d.int(0, 1)
        rel = d.pick(list(_REL)[sub * 2: sub * 2 + 2])
        (a, b), (c, e) = d.sample(_REL[rel], 2)
        others = [y for r, ps in _REL.items() for x, y in ps if y != e]
        opts, letter = mc(d, e, d.sample(others, 6))
        q = d.pick(_ANALOGY_FMT).format(a=a, b=b, c=c)
        cx = 0.3
    else:
        sub = 2 + d.int(0, 1)
        name, f = d.pick(_NUMREL[sub * 3 - 6: sub * 3 - 3])
        a = d.int(2, 99)
        c = d.int(2, 99)
        while c == a:
            c = d.int(2, 99)
        add = d.int(0, 30)

        def g(x):
            v = f(x) + add
            return fmt_num(v)

        e = g(c)
        cands = [fmt_num(f2(c) + add) for _, f2 in _NUMREL] + [fmt_num(f(c) + add + 1), fmt_num(f(c) + add - 1)]
        opts, letter = mc(d, e, cands)
        q = d.pick(_NUM_ANALOGY_FMT).format(a=a, b=g(a), c=c)
        cx = 0.5 + (add > 0) * 0.3
    return mc_item(d, q, opts, letter, sub, min(1.0, cx + 0.2 * d.f()), kind="list", user_style="list")
