"""Vocabulary pools (names, places, titles, words) and the helpers that draw from them and format choices."""

from __future__ import annotations

from rpcli.core.data.synth.draw import Draw

LETTERS = "ABCDE"

_FEM = ["Alice", "Maya", "Sofia", "Priya", "Elena", "Hannah", "Grace", "Ines", "Leila", "Nora", "Olivia", "Rosa",
        "Tara", "Yuki", "Zoe", "Amara", "Clara", "Freya", "Ivy", "Lucia", "Mei", "Nadia", "Sana", "Vera"]
_MASC = ["Ben", "Carlos", "David", "Ethan", "Felix", "George", "Hugo", "Ivan", "Jamal", "Kenji", "Liam", "Marco",
         "Noah", "Omar", "Pavel", "Rahul", "Samuel", "Tomas", "Victor", "Wei", "Arjun", "Diego", "Emil", "Lars"]
LAST = ["Abbott", "Brennan", "Castillo", "Dumont", "Eriksen", "Fontaine", "Galloway", "Hartmann", "Ibarra",
         "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinlan", "Rossi", "Sandoval",
         "Takahashi", "Ulrich", "Vasquez", "Whitaker", "Yilmaz", "Zeller", "Achebe", "Bianchi", "Delacroix",
         "Fairbanks", "Grimaldi"]
SYL1 = ["Bel", "Cor", "Dra", "Eld", "Fen", "Gal", "Hal", "Ist", "Jor", "Kel", "Lun", "Mar", "Nor", "Ost", "Pel",
         "Quen", "Ros", "Sel", "Tor", "Val", "Wyn", "Zar", "Alt", "Bran"]
SYL2 = ["a", "e", "i", "o", "u", "ar", "en", "or", "is", "an"]
SYL3 = ["dor", "heim", "mont", "via", "stad", "grad", "port", "ford", "land", "mere", "wick", "burg"]
WORDS = ["apple", "river", "stone", "cloud", "garden", "silver", "window", "rocket", "forest", "candle", "harbor",
          "pencil", "marble", "thunder", "meadow", "lantern", "copper", "violet", "island", "orbit", "falcon",
          "prism", "quartz", "saddle", "tunnel", "velvet", "willow", "zephyr", "anchor", "beacon", "canyon",
          "dragon", "ember", "feather", "glacier", "hollow", "ivory", "jungle", "kettle", "ladder", "mirror",
          "needle", "oyster", "pepper", "ribbon", "shadow", "timber", "umbrella", "walnut", "yarrow"]
_ADJ = ["Silent", "Crimson", "Hidden", "Broken", "Golden", "Distant", "Forgotten", "Northern", "Endless", "Quiet",
        "Burning", "Hollow", "Painted", "Restless", "Scarlet", "Wandering", "Iron", "Glass", "Winter", "Amber"]
_NOUN = ["Harbor", "Orchard", "Lantern", "Meridian", "Tide", "Garden", "Empire", "Mirror", "Voyage", "Archive",
         "Citadel", "Compass", "Covenant", "Frontier", "Horizon", "Labyrinth", "Monument", "Pilgrim", "Requiem",
         "Sanctuary"]


def person(d: Draw):
    """A random first name with its pronoun and possessive: (name, 'she'/'he', 'her'/'his')."""
    if d.chance(0.5):
        return d.pick(_FEM), "she", "her"
    return d.pick(_MASC), "he", "his"


def full_name(d: Draw) -> str:
    """A random first and last name."""
    return f"{d.pick(_FEM + _MASC)} {d.pick(LAST)}"


def place_name(d: Draw) -> str:
    """A made-up place name of three syllables."""
    return d.pick(SYL1) + d.pick(SYL2) + d.pick(SYL3)


def title(d: Draw) -> str:
    """A made-up title of a book, film or work."""
    r = d.f()
    if r < 0.4:
        return f"The {d.pick(_ADJ)} {d.pick(_NOUN)}"
    if r < 0.7:
        return f"{d.pick(_NOUN)} of {place_name(d)}"
    return f"The {d.pick(_NOUN)} and the {d.pick(_NOUN)}"


def ordinal(n: int) -> str:
    """The ordinal word of 1..10 ('first' .. 'tenth')."""
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
            9: "ninth", 10: "tenth"}[n]


def fmt_num(x: float) -> str:
    """A number with at most two decimals, trailing zeros dropped ('0' for zero)."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def mc(d: Draw, correct: str, distractors, n: int = 4):
    """Up to n options: distinct distractors and the correct answer at a random place; (options, its letter)."""
    uniq = []
    for x in distractors:
        if x != correct and x not in uniq:
            uniq.append(x)
    uniq = d.sample(uniq, n - 1)
    pos = d.int(0, len(uniq))
    opts = uniq[:pos] + [correct] + uniq[pos:]
    return opts, LETTERS[pos]


def _user_list_mc(q: str, opts) -> str:
    return "## Question:\n" + q + "\n\n## Options:\n" + "".join(f"{LETTERS[i]}. {o}\n" for i, o in enumerate(opts))


def _user_paren_mc(q: str, opts) -> str:
    return "Question: " + q + "\n\n" + "\n".join(f"({LETTERS[i]}) {o}" for i, o in enumerate(opts))


def mc_item(d, q, opts, letter, sub, cx, kind="list", user_style="list", labels_key="label"):
    """One multiple-choice item (question, options, answer letter, a wrong letter) as a generator's dict."""
    if kind == "list":
        choices = repr(list(opts))
    else:
        labels = [LETTERS[i] for i in range(len(opts))]
        choices = repr({"text": list(opts), labels_key: labels} if labels_key == "labels" else
                       {"label": labels, "text": list(opts)})
    wrong = d.pick([LETTERS[i] for i in range(len(opts)) if LETTERS[i] != letter])
    user = _user_list_mc(q, opts) if user_style == "list" else _user_paren_mc(q, opts)
    return {"q": q, "gt": letter, "choices": choices, "tid": None, "user": user, "sub": sub, "cx": cx,
            "ans": f"({letter})", "wrong": f"({wrong})"}


# Sub-topic themes of --query-structure: a label and a vocabulary each. The vocabularies are disjoint, so the queries
# of one sub-topic share words that the queries of the other sub-topics lack.
THEMES = [
    ("harbour logistics", ["cargo", "freighter", "dockyard", "container", "manifest", "tugboat", "wharf", "customs",
                           "berth", "crane"]),
    ("astronomy", ["telescope", "nebula", "comet", "galaxy", "planet", "supernova", "quasar", "constellation",
                   "asteroid", "pulsar"]),
    ("farming", ["tractor", "harvest", "barley", "orchard", "irrigation", "livestock", "silo", "fertiliser", "pasture",
                 "plough"]),
    ("medicine", ["clinic", "diagnosis", "vaccine", "surgeon", "pharmacy", "symptom", "ward", "dosage", "antibiotic",
                  "stethoscope"]),
    ("railways", ["locomotive", "platform", "signalbox", "timetable", "carriage", "junction", "sleeper", "depot",
                  "railcar", "gauge"]),
    ("music", ["orchestra", "melody", "rhythm", "chord", "symphony", "choir", "tempo", "violin", "sonata",
               "crescendo"]),
    ("banking", ["mortgage", "deposit", "interest", "loan", "ledger", "teller", "dividend", "overdraft", "savings",
                 "cheque"]),
    ("weather", ["rainfall", "humidity", "forecast", "cyclone", "drizzle", "barometer", "thunderstorm", "frost",
                 "monsoon", "breeze"]),
    ("mining", ["quarry", "ore", "shaft", "excavation", "drill", "nickel", "seam", "miner", "smelter", "bauxite"]),
    ("theatre", ["actor", "curtain", "playwright", "audience", "costume", "matinee", "backstage", "script", "usher",
                 "footlights"]),
    ("fisheries", ["trawler", "salmon", "tuna", "hook", "shoal", "bait", "catch", "coastline", "hatchery",
                   "mackerel"]),
    ("aviation", ["airport", "runway", "cockpit", "hangar", "turbulence", "altitude", "jetliner", "terminal",
                  "propeller", "airliner"]),
]
