"""Synthetic RouteProfile-layout dataset generator.

``generate_dataset(out_dir, ...)`` writes a complete dataset in the layout of the released RouteProfile data
(spec §7): ``profile_data/`` (model, family, task and domain descriptions, benchmark scores, prices, task query
lists) and ``route_data/`` (routing test rows with every candidate's score and token counts, the default query
jsonl files, and pairwise training data for the ``standard`` and ``newllm`` modes).

Nothing here is real. The data come from a latent-skill model:

* every model has a skill per task: a general ability, plus a family x task effect (each family has a theme, e.g.
  maths and code), plus a size effect, plus model x task noise; and a skill offset per (task, sub-topic);
* every query comes from a per-task template generator whose text carries the task (and its sub-topic) and has a
  latent difficulty that grows with the query's complexity;
* a candidate's score on a query follows an item-response model,
  ``p = sigmoid(skill[m, task] + subtopic[m, task, sub] - difficulty[q] + noise * N(0, 1))``; 0/1 metrics draw
  Bernoulli(p), the one continuous metric (``commongen_coverage``) draws a coverage fraction in (0.2, 1].

The first ``n_candidates`` models are the routing candidates, the rest are auxiliaries (graph context only). The
strongest candidate is the held-out "new" model of newllm mode: its routing-task scores (all but one task) are null
in ``model_feature_newllm.json`` and it appears in no newllm training pair; it stays a candidate in the test rows.

Quirks of the real data that are reproduced on purpose, so that loaders meet them:

* the last candidate (unless it is the held-out one) has null prices and ``role: auxiliary`` in model_feature; its
  prices are only in ``candidate_models.json``;
* one auxiliary has null size, parameters and licence;
* a few routing-task scores are null for some candidates, auxiliaries miss tasks at random, and one task
  (``tool_calling``) is null for every model (so it never becomes a graph node) yet is listed in the domain map;
* ``task_feature.json`` carries two descriptions of tasks that nothing uses;
* the jsonl and pairwise files spell the ``math``/``gsm8k`` metrics in upper case, the test file in lower case;
* ``formatted_query`` is absent on the test rows of the tasks without a formatter (concept_gen, contest_math,
  logic_grid), and ``candidate_models.json`` has no ``router_enabled``/``role`` keys;
* the train jsonl has one extra, non-routing task (``grad_science``, like the real gpqa/math) and three training
  queries are copies of test queries (the train/test leakage of the real data), all of them in the pairwise files.

Self-contained: standard library and numpy only. Same parameters and seed give byte-identical files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

__all__ = ["generate_dataset", "ARCHETYPE_NAMES", "MAX_TASKS", "DOMAIN_POOL"]

LETTERS = "ABCDE"

# ---------------------------------------------------------------------------------------------------------------
# Random helper: every draw comes from a numpy Generator (np.random.default_rng) in a fixed sequence.
# ---------------------------------------------------------------------------------------------------------------


class _Draw:
    """Uniform draws for one generated item, taken from a numpy Generator in blocks."""

    __slots__ = ("_rng", "_u", "_i")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._u = rng.random(48).tolist()
        self._i = 0

    def f(self) -> float:
        if self._i >= len(self._u):
            self._u.extend(self._rng.random(48).tolist())
        v = self._u[self._i]
        self._i += 1
        return v

    def int(self, lo: int, hi: int) -> int:  # inclusive
        return lo + min(int(self.f() * (hi - lo + 1)), hi - lo)

    def pick(self, seq):
        return seq[min(int(self.f() * len(seq)), len(seq) - 1)]

    def sample(self, seq, k: int) -> list:
        pool = list(seq)
        out = []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(min(int(self.f() * len(pool)), len(pool) - 1)))
        return out

    def shuffle(self, seq) -> list:
        return self.sample(seq, len(seq))

    def chance(self, p: float) -> bool:
        return self.f() < p


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), *stream]))


# ---------------------------------------------------------------------------------------------------------------
# Vocabulary pools
# ---------------------------------------------------------------------------------------------------------------

_FEM = ["Alice", "Maya", "Sofia", "Priya", "Elena", "Hannah", "Grace", "Ines", "Leila", "Nora", "Olivia", "Rosa",
        "Tara", "Yuki", "Zoe", "Amara", "Clara", "Freya", "Ivy", "Lucia", "Mei", "Nadia", "Sana", "Vera"]
_MASC = ["Ben", "Carlos", "David", "Ethan", "Felix", "George", "Hugo", "Ivan", "Jamal", "Kenji", "Liam", "Marco",
         "Noah", "Omar", "Pavel", "Rahul", "Samuel", "Tomas", "Victor", "Wei", "Arjun", "Diego", "Emil", "Lars"]
_LAST = ["Abbott", "Brennan", "Castillo", "Dumont", "Eriksen", "Fontaine", "Galloway", "Hartmann", "Ibarra",
         "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinlan", "Rossi", "Sandoval",
         "Takahashi", "Ulrich", "Vasquez", "Whitaker", "Yilmaz", "Zeller", "Achebe", "Bianchi", "Delacroix",
         "Fairbanks", "Grimaldi"]
_SYL1 = ["Bel", "Cor", "Dra", "Eld", "Fen", "Gal", "Hal", "Ist", "Jor", "Kel", "Lun", "Mar", "Nor", "Ost", "Pel",
         "Quen", "Ros", "Sel", "Tor", "Val", "Wyn", "Zar", "Alt", "Bran"]
_SYL2 = ["a", "e", "i", "o", "u", "ar", "en", "or", "is", "an"]
_SYL3 = ["dor", "heim", "mont", "via", "stad", "grad", "port", "ford", "land", "mere", "wick", "burg"]
_WORDS = ["apple", "river", "stone", "cloud", "garden", "silver", "window", "rocket", "forest", "candle", "harbor",
          "pencil", "marble", "thunder", "meadow", "lantern", "copper", "violet", "island", "orbit", "falcon",
          "prism", "quartz", "saddle", "tunnel", "velvet", "willow", "zephyr", "anchor", "beacon", "canyon",
          "dragon", "ember", "feather", "glacier", "hollow", "ivory", "jungle", "kettle", "ladder", "mirror",
          "needle", "oyster", "pepper", "ribbon", "shadow", "timber", "umbrella", "walnut", "yarrow"]
_ADJ = ["Silent", "Crimson", "Hidden", "Broken", "Golden", "Distant", "Forgotten", "Northern", "Endless", "Quiet",
        "Burning", "Hollow", "Painted", "Restless", "Scarlet", "Wandering", "Iron", "Glass", "Winter", "Amber"]
_NOUN = ["Harbor", "Orchard", "Lantern", "Meridian", "Tide", "Garden", "Empire", "Mirror", "Voyage", "Archive",
         "Citadel", "Compass", "Covenant", "Frontier", "Horizon", "Labyrinth", "Monument", "Pilgrim", "Requiem",
         "Sanctuary"]


def _person(d: _Draw):
    if d.chance(0.5):
        return d.pick(_FEM), "she", "her"
    return d.pick(_MASC), "he", "his"


def _full_name(d: _Draw) -> str:
    return f"{d.pick(_FEM + _MASC)} {d.pick(_LAST)}"


def _place(d: _Draw) -> str:
    return d.pick(_SYL1) + d.pick(_SYL2) + d.pick(_SYL3)


def _title(d: _Draw) -> str:
    r = d.f()
    if r < 0.4:
        return f"The {d.pick(_ADJ)} {d.pick(_NOUN)}"
    if r < 0.7:
        return f"{d.pick(_NOUN)} of {_place(d)}"
    return f"The {d.pick(_NOUN)} and the {d.pick(_NOUN)}"


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
            9: "ninth", 10: "tenth"}[n]


def _fmt_num(x: float) -> str:
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def _mc(d: _Draw, correct: str, distractors, n: int = 4):
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


def _mc_item(d, q, opts, letter, sub, cx, kind="list", user_style="list", labels_key="label"):
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


# ---------------------------------------------------------------------------------------------------------------
# Query generators, one per task archetype. Each returns a dict:
#   q (query), gt (ground truth), choices (str | None), tid (task_id), user (formatted user turn or None),
#   sub (sub-topic 0..3), cx (complexity in [0, 1]), ans / wrong (short responses when right / wrong).
# ---------------------------------------------------------------------------------------------------------------

_TITLES = ["king", "queen", "chancellor", "governor", "prime minister", "duke", "archbishop", "president"]
_EVENTS = ["Revolution", "Gold Rush", "Railway Strike", "Famine", "Reform Movement", "Civil War", "Trade Embargo",
           "Silver Crisis", "Harbour Uprising", "Salt March"]
_GEO = ["source of the Amber River", "summit of Mount Kessler", "eastern ice shelf", "Great Salt Basin",
        "northern archipelago", "Valley of Mists", "Cape of Storms"]
_SCI_ROLE = ["chemist", "physicist", "botanist", "geologist", "astronomer", "physician", "biologist"]
_COMPOUND_A = ["chloro", "bromo", "methyl", "ethyl", "fluoro", "nitro", "amino", "hydroxy", "thio", "cyano"]
_COMPOUND_B = ["valine", "benzene", "toluene", "phenol", "pyridine", "acetate", "sulfide", "borane", "silane"]
_ORGANISM = ["beetle", "orchid", "frog", "moth", "fern", "lizard", "sea snail", "finch", "lichen", "shrew"]
_SEAS = ["Sea of Veil", "Northern Ocean", "Gulf of Amaro", "Coral Sea", "Bay of Lanterns", "Western Strait"]
_CONTINENTS = ["Africa", "Asia", "Europe", "South America", "North America", "Oceania", "Antarctica"]
_LANDFORM = ["highlands", "plateau", "desert", "delta", "peninsula", "volcanic range", "lake district"]


def _gen_factoid(d: _Draw) -> dict:
    sub = d.int(0, 3)
    year = d.int(1610, 2015)
    if sub == 0:
        t = d.int(0, 2)
        if t == 0:
            q = f"Which {d.pick(_TITLES)} of {_place(d)} signed the Treaty of {_place(d)} in {year}?"
            a, w = _full_name(d), _full_name(d)
        elif t == 1:
            q = f"In what year did the {_place(d)} {d.pick(_EVENTS)} begin?"
            a, w = str(year), str(year + d.int(1, 30))
        else:
            q = f"Who led the {_place(d)} expedition that reached the {d.pick(_GEO)} in {year}?"
            a, w = _full_name(d), _full_name(d)
    elif sub == 1:
        t = d.int(0, 1)
        if t == 0:
            q = (f"Which {d.pick(_SCI_ROLE)} first isolated the compound "
                 f"{d.pick(_COMPOUND_A)}{d.pick(_COMPOUND_B)} at the {_place(d)} laboratory in {year}?")
        else:
            genus = d.pick(_SYL1) + d.pick(["ia", "ella", "opsis", "anthus", "odon", "ura"])
            q = (f"Which naturalist first described the {d.pick(_ORGANISM)} {genus} "
                 f"{d.pick(_SYL2)}{d.pick(_SYL3)}ensis, collected near {_place(d)}?")
        a, w = _full_name(d), _full_name(d)
    elif sub == 2:
        t = d.int(0, 2)
        if t == 0:
            q = f"What is the capital city of the province of {_place(d)}?"
            a, w = _place(d), _place(d)
        elif t == 1:
            q = f"Which river flows through the city of {_place(d)} before emptying into the {d.pick(_SEAS)}?"
            a, w = f"the {_place(d)} River", f"the {_place(d)} River"
        else:
            q = f"On which continent are the {_place(d)} {d.pick(_LANDFORM)} located?"
            a = d.pick(_CONTINENTS)
            w = d.pick([c for c in _CONTINENTS if c != a])
    else:
        t = d.int(0, 2)
        if t == 0:
            q = f"Who wrote the {year} novel '{_title(d)}'?"
        elif t == 1:
            q = f"Which painter created the work '{_title(d)}', completed in {year}?"
        else:
            q = f"Who composed the opera '{_title(d)}', first performed in {_place(d)} in {year}?"
        a, w = _full_name(d), _full_name(d)
    cx = min(1.0, max(0.0, (2015 - year) / 400 * 0.6 + d.f() * 0.4))
    return {"q": q, "gt": a, "choices": None, "tid": None, "user": q, "sub": sub, "cx": cx, "ans": a, "wrong": w}


_SHOW_KIND = ["the tv series", "the film", "the animated series", "the stage musical", "the miniseries"]
_ROLES = ["the detective", "the young queen", "the ship's captain", "the mayor", "the villain", "the narrator",
          "the old fisherman", "the lead scientist", "the twin sisters' father", "the headmaster"]
_SPORT_COMP = ["world cup", "continental championship", "national league", "olympic gold in hockey",
               "rugby sevens title", "basketball championship", "chess olympiad", "cycling grand tour"]
_OFFICE = ["president", "prime minister", "mayor", "chief justice", "governor", "foreign minister"]


def _gen_open_qa(d: _Draw) -> dict:
    sub = d.int(0, 3)
    if sub == 0:
        q = f"who plays {d.pick(_ROLES)} in {d.pick(_SHOW_KIND)} {_title(d)}"
        a, w = _full_name(d), _full_name(d)
        if d.chance(0.4):
            q += f" season {d.int(1, 9)}"
    elif sub == 1:
        yr = d.int(1920, 2022)
        q = f"when did {_place(d)} win the {d.pick(_SPORT_COMP)} for the first time"
        a, w = str(yr), str(yr + d.int(1, 12))
    elif sub == 2:
        n = d.int(1, 10)
        q = f"who was the {_ordinal(n)} {d.pick(_OFFICE)} of {_place(d)}"
        a, w = _full_name(d), _full_name(d)
    else:
        yr = d.int(1955, 2022)
        q = f"who sang {_title(d).lower()} in {yr}"
        a, w = _full_name(d), _full_name(d)
    q = q.lower()
    cx = d.f()
    return {"q": q, "gt": a, "choices": None, "tid": None, "user": q, "sub": sub, "cx": cx, "ans": a, "wrong": w}


_OBJECTS = ["cart", "crate", "sled", "block", "trolley", "drone", "canoe", "robot", "wagon", "buoy"]
_ORGANELLE = {"producing ATP through cellular respiration": "mitochondrion",
              "synthesising proteins from messenger RNA": "ribosome",
              "capturing light energy for photosynthesis": "chloroplast",
              "modifying and packaging proteins for secretion": "Golgi apparatus",
              "breaking down worn-out organelles": "lysosome",
              "storing the cell's genetic material": "nucleus",
              "synthesising lipids": "smooth endoplasmic reticulum",
              "maintaining turgor pressure": "central vacuole"}
_CELLS = ["leaf", "liver", "root", "muscle", "yeast", "pancreatic", "neuron", "algal"]
_CREATURES = ["field mice", "moths", "snails", "sparrows", "beetles", "lizards", "frogs", "squirrels", "voles"]
_GOODS = ["coffee", "bicycles", "wheat", "concert tickets", "smartphones", "rice", "gasoline", "textbooks", "tea"]
_DOCTRINES = {"promissory estoppel": "bound by the promise if the other party reasonably relied on it",
              "respondeat superior": "liable for torts its employee commits within the scope of employment",
              "res ipsa loquitur": "presumed negligent when the harm would not ordinarily occur without negligence",
              "adverse possession": "able to acquire title after open and continuous possession for the "
                                    "statutory period",
              "the parol evidence rule": "barred from using prior oral statements to contradict a final written "
                                         "contract",
              "contributory negligence": "barred from recovery if the plaintiff was even slightly at fault",
              "the mailbox rule": "bound by an acceptance as soon as it is dispatched",
              "strict liability": "liable for harm from abnormally dangerous activities regardless of care"}
_LAW_PARTY = ["a landowner", "an employer", "a shipping company", "a tenant", "a retailer", "a contractor",
              "a hospital", "a farmer", "a software vendor", "a bakery owner"]


def _gen_academic_mc(d: _Draw) -> dict:
    sub = d.int(0, 3)
    if sub == 0:  # physics
        if d.chance(0.5):
            m = d.int(2, 250)
            F = d.int(5, 2000)
            q = f"A {d.pick(_OBJECTS)} of mass {m} kg is pushed with a net force of {F} N. What is its acceleration?"
            c = F / m
            opts, letter = _mc(d, f"{_fmt_num(c)} m/s^2", [f"{_fmt_num(F * m)} m/s^2", f"{_fmt_num(m / F)} m/s^2",
                                                           f"{_fmt_num(2 * c)} m/s^2", f"{_fmt_num(c / 2)} m/s^2"])
            cx = 0.3 + 0.4 * (F % m != 0)
        else:
            t = d.int(1, 40) / 2
            q = (f"A {d.pick(_OBJECTS)} is dropped from rest from a cliff near {_place(d)} and falls for "
                 f"{_fmt_num(t)} s. "
                 f"Ignoring air resistance, how far does it fall? (g = 9.8 m/s^2)")
            c = 4.9 * t * t
            opts, letter = _mc(d, f"{_fmt_num(c)} m", [f"{_fmt_num(9.8 * t)} m", f"{_fmt_num(2 * c)} m",
                                                       f"{_fmt_num(9.8 * t * t)} m", f"{_fmt_num(c / 4)} m"])
            cx = 0.5 + t / 80
    elif sub == 1:  # economics
        if d.chance(0.5):
            p = d.int(2, 60)
            qq = d.int(1, 90)
            while qq == p:
                qq = d.int(1, 90)
            q = (f"If the price of {d.pick(_GOODS)} rises by {p}% and the quantity demanded falls by {qq}%, "
                 f"what is the price elasticity of demand?")
            opts, letter = _mc(d, f"{-qq / p:.2f}", [f"{-p / qq:.2f}", f"{qq / p:.2f}", f"{-(qq + p) / 100:.2f}",
                                                      f"{p / qq:.2f}"])
            cx = 0.4
        else:
            fc = d.int(10, 500) * 100
            vc = d.int(1, 90)
            n = d.int(10, 2000)
            q = (f"A firm in {_place(d)} has fixed costs of ${fc} and a constant variable cost of ${vc} per unit. "
                 f"What is its average total cost of producing {n} units?")
            c = (fc + vc * n) / n
            opts, letter = _mc(d, f"${c:.2f}", [f"${fc / n:.2f}", f"${vc:.2f}", f"${(fc + vc) / n:.2f}",
                                                f"${c * 1.5:.2f}"])
            cx = 0.6
    elif sub == 2:  # biology
        if d.chance(0.5):
            func = d.pick(list(_ORGANELLE))
            q = (f"Which organelle is primarily responsible for {func} in a {d.pick(_CELLS)} cell of "
                 f"a species found near {_place(d)}?")
            opts, letter = _mc(d, _ORGANELLE[func], list(_ORGANELLE.values()))
            cx = 0.2
        else:
            N = d.int(2, 99) * 100
            qf = d.int(1, 9) / 10
            q = (f"In a population of {N} {d.pick(_CREATURES)} in Hardy-Weinberg equilibrium, the frequency of the "
                 f"recessive allele is {qf}. How many individuals are expected to be heterozygous?")
            c = 2 * qf * (1 - qf) * N
            opts, letter = _mc(d, _fmt_num(c), [_fmt_num(qf * qf * N), _fmt_num((1 - qf) ** 2 * N),
                                                _fmt_num(qf * (1 - qf) * N), _fmt_num(2 * qf * N)])
            cx = 0.75
    else:  # law
        doc = d.pick(list(_DOCTRINES))
        q = (f"Under the doctrine of {doc}, a court in {_place(d)} would most likely hold that "
             f"{d.pick(_LAW_PARTY)} is")
        opts, letter = _mc(d, _DOCTRINES[doc], [v for k, v in _DOCTRINES.items() if k != doc])
        cx = 0.5 + d.f() * 0.3
    return _mc_item(d, q, opts, letter, sub, cx, kind="list", user_style="list")


_EARTH = [("the rocks along the riverbank are smooth and rounded", "erosion by moving water"),
          ("puddles on the playground disappear on a sunny afternoon", "evaporation"),
          ("frost forms on car windows on a cold, clear morning", "deposition of water vapor"),
          ("layers of sand build up at the mouth of a river", "deposition of sediment"),
          ("cracks in a boulder widen after many freezing winters", "ice wedging"),
          ("a mountain valley has a wide U shape", "glacial erosion"),
          ("dew covers the grass at dawn", "condensation"),
          ("a cave has formed in a limestone hill", "chemical weathering")]
_LIFE = [("hares", "a snowy tundra", "fur that turns white in winter", "It helps them hide from predators."),
         ("cacti", "a dry desert", "thick waxy stems", "It helps them store and keep water."),
         ("ducks", "a cold lake", "webbed feet", "It helps them swim efficiently."),
         ("owls", "a dark forest", "very large eyes", "It helps them see prey at night."),
         ("camels", "a sandy desert", "long eyelashes", "It helps protect their eyes from blowing sand."),
         ("seals", "icy coastal waters", "a thick layer of blubber", "It helps them keep warm."),
         ("stick insects", "a shrubland", "bodies shaped like twigs", "It helps them avoid being seen."),
         ("pine trees", "a snowy mountain slope", "needle-shaped leaves", "It helps them lose less water.")]
_METALS = ["copper", "steel", "aluminum", "silver", "iron", "brass"]
_MEDIA = ["a cup of water", "a bowl of oil", "a jar of sand", "a pot of soup"]


def _gen_science_mc(d: _Draw) -> dict:
    sub = d.int(0, 3)
    if sub == 0:
        obs, proc = d.pick(_EARTH)
        q = f"A student in {_place(d)} notices that {obs}. Which process best explains this observation?"
        opts, letter = _mc(d, proc, [p for _, p in _EARTH])
        cx = 0.3
    elif sub == 1:
        org, hab, trait, ben = d.pick(_LIFE)
        adj = d.pick(["small", "young", "wild", "common", "native"])
        q = (f"{adj.capitalize()} {org} living in {hab} near {_place(d)} have {trait}. "
             f"How does this trait most likely help them survive?")
        opts, letter = _mc(d, ben, [b for _, _, _, b in _LIFE])
        cx = 0.25
    elif sub == 2:
        metal = d.pick(_METALS)
        med = d.pick(_MEDIA)
        t1 = d.int(0, 100)
        t2 = d.int(0, 100)
        while t2 == t1:
            t2 = d.int(0, 100)
        q = (f"A {metal} spoon at {t1} degrees Celsius is placed in {med} at {t2} degrees Celsius. "
             f"Which statement best describes what happens next?")
        obj = med.split(" of ")[-1]
        s2o, o2s = f"Heat moves from the spoon to the {obj}.", f"Heat moves from the {obj} to the spoon."
        hot_to_cold, other = (s2o, o2s) if t1 > t2 else (o2s, s2o)
        opts, letter = _mc(d, hot_to_cold, [other, f"Cold moves from the {obj} to the spoon.",
                                            "No energy is transferred between them.",
                                            f"The spoon and the {obj} both get warmer."])
        cx = 0.45 - abs(t1 - t2) / 400
    else:
        dist = d.int(5, 900)
        days = d.int(2, 300)
        q = (f"A space probe launched from {_place(d)} travels {dist} million kilometres in {days} days. "
             f"What is its average speed?")
        c = dist / days
        opts, letter = _mc(d, f"{c:.2f} million km per day", [f"{days / dist:.2f} million km per day",
                                                             f"{dist * days:.0f} million km per day",
                                                             f"{c * 24:.2f} million km per day",
                                                             f"{c / 2:.2f} million km per day"])
        cx = 0.55
    return _mc_item(d, q, opts, letter, sub, max(0.0, cx + 0.2 * d.f()), kind="dict", user_style="paren")


_GOALS = [("bake a cake", "preheat the oven"), ("go swimming", "put on a swimsuit"), ("mail a letter", "buy a stamp"),
          ("plant tomatoes", "dig a hole in the garden"), ("paint the fence", "buy a can of paint"),
          ("watch a movie", "turn on the television"), ("ride a bicycle", "pump up the tires"),
          ("make tea", "boil some water"), ("go camping", "pack a tent"), ("wash the car", "fill a bucket with water"),
          ("read a book", "go to the library"), ("take a photo", "charge the camera"),
          ("build a bookshelf", "measure the wall"), ("catch a train", "check the timetable"),
          ("go skiing", "rent skis"), ("write an essay", "open a notebook"), ("cook pasta", "fill a pot with water"),
          ("fly a kite", "wait for a windy day"), ("learn a song", "listen to the melody"),
          ("clean the attic", "find a ladder")]
_TIMES = ["before dinner", "on Saturday morning", "after work", "during the holidays", "this weekend",
          "before the guests arrived", "on a rainy afternoon", "early in the morning", "after school", "at night",
          "on a sunny Sunday", "after lunch", "on the first day of spring", "before the trip", "last Friday",
          "during the summer break", "on a snowy evening", "after the meeting", "at the end of the month",
          "on a public holiday"]
_KEEP = [("toothbrush", "bathroom"), ("frying pan", "kitchen"), ("lawn mower", "garage"), ("winter coat", "closet"),
         ("pillow", "bedroom"), ("textbook", "backpack"), ("spare tire", "car trunk"), ("milk", "refrigerator"),
         ("hammer", "toolbox"), ("passport", "desk drawer"), ("umbrella", "hallway stand"), ("seeds", "garden shed")]
_FEEL = [("won first prize at the science fair", "proud"), ("lost the house keys again", "frustrated"),
         ("heard a strange noise downstairs at midnight", "scared"), ("received a surprise party", "delighted"),
         ("missed the last bus home", "annoyed"), ("said goodbye to a best friend moving away", "sad"),
         ("finished a marathon", "exhausted"), ("was waiting for exam results", "nervous"),
         ("tripped in front of the whole class", "embarrassed"), ("got a puppy for a birthday", "excited")]


_RELATIVES = [("sister", "she"), ("brother", "he"), ("aunt", "she"), ("uncle", "he"), ("grandmother", "she"),
              ("grandfather", "he"), ("son", "he"), ("daughter", "she")]


def _gen_commonsense_mc(d: _Draw) -> dict:
    sub = d.int(0, 2)
    name, pro, _ = _person(d)
    if d.chance(0.6):
        rel, pro = d.pick(_RELATIVES)
        name = f"{name}'s {rel}"
    if sub == 0:
        goal, act = d.pick(_GOALS)
        q = f"{name} wanted to {goal} {d.pick(_TIMES)}, so what did {pro} most likely do first?"
        opts, letter = _mc(d, act, [a for g, a in _GOALS if g != goal], n=5)
    elif sub == 1:
        obj, place = d.pick(_KEEP)
        q = f"Where would {name} from {_place(d)} most likely keep a {obj}?"
        opts, letter = _mc(d, place, [p for o, p in _KEEP if o != obj], n=5)
    else:
        ev, feel = d.pick(_FEEL)
        q = f"{name} {ev} {d.pick(_TIMES)}. How did {pro} most likely feel?"
        opts, letter = _mc(d, feel, [f for e, f in _FEEL if e != ev], n=5)
    return _mc_item(d, q, opts, letter, sub, d.f(), kind="dict", user_style="paren")


_SHOP_ITEMS = ["notebooks", "apples", "pencils", "candles", "socks", "mugs", "plant pots", "tennis balls", "comics"]
_VEHICLES = ["train", "bus", "truck", "ferry", "car", "motorcycle"]
_BAKED = ["cookies", "muffins", "cupcakes", "rolls", "scones", "brownies"]
_THINGS = ["bicycle", "guitar", "tablet", "camping trip", "pair of boots", "telescope", "video game console"]


def _gen_word_math(d: _Draw) -> dict:
    sub = d.int(0, 3)
    name, pro, pos = _person(d)
    Pro = pro.capitalize()
    if sub == 0:
        i1, i2 = d.sample(_SHOP_ITEMS, 2)
        a, p, b, qq = d.int(2, 12), d.int(2, 25), d.int(1, 9), d.int(3, 40)
        total = a * p + b * qq
        bill = next(x for x in (20, 50, 100, 200, 500, 1000) if x >= total)
        ch = bill - total
        q = (f"{name} buys {a} {i1} at ${p} each and {b} {i2} at ${qq} each. {Pro} pays with a ${bill} bill. "
             f"How much change does {pro} get back?")
        gt = (f"The {i1} cost {a} * {p} = <<{a}*{p}={a * p}>>{a * p} dollars.\n"
              f"The {i2} cost {b} * {qq} = <<{b}*{qq}={b * qq}>>{b * qq} dollars.\n"
              f"In total {pro} spends {a * p} + {b * qq} = <<{a * p}+{b * qq}={total}>>{total} dollars.\n"
              f"So the change is {bill} - {total} = <<{bill}-{total}={ch}>>{ch} dollars.\n#### {ch}")
        ans, cx = ch, min(1.0, total / 500)
    elif sub == 1:
        v, t, v2, t2 = d.int(20, 80), d.int(1, 9), d.int(20, 80), d.int(1, 9)
        tot = v * t + v2 * t2
        q = (f"A {d.pick(_VEHICLES)} leaves {_place(d)} and travels at {v} miles per hour for {t} hours, then at "
             f"{v2} miles per hour for {t2} hours. How many miles does it travel in total?")
        gt = (f"In the first part it travels {v} * {t} = <<{v}*{t}={v * t}>>{v * t} miles.\n"
              f"In the second part it travels {v2} * {t2} = <<{v2}*{t2}={v2 * t2}>>{v2 * t2} miles.\n"
              f"In total it travels {v * t} + {v2 * t2} = <<{v * t}+{v2 * t2}={tot}>>{tot} miles.\n#### {tot}")
        ans, cx = tot, min(1.0, tot / 1400)
    elif sub == 2:
        baked = d.pick(_BAKED)
        n, k = d.int(2, 9), d.int(6, 24)
        made = n * k
        g = d.int(1, made - 1)
        box = d.int(2, 12)
        rest = made - g
        boxes = rest // box
        q = (f"{name} bakes {n} trays of {baked} with {k} {baked} on each tray. {Pro} gives away {g} {baked} "
             f"and packs the rest into boxes of {box}. How many full boxes does {pro} fill?")
        gt = (f"{Pro} bakes {n} * {k} = <<{n}*{k}={made}>>{made} {baked}.\n"
              f"After giving some away, {made} - {g} = <<{made}-{g}={rest}>>{rest} are left.\n"
              f"That fills {rest} // {box} = <<{rest}//{box}={boxes}>>{boxes} full boxes.\n#### {boxes}")
        ans, cx = boxes, 0.5 + 0.5 * (rest % box != 0)
    else:
        s = 20 * d.int(1, 15)
        w = d.int(2, 30)
        pct = d.pick([10, 15, 20, 25, 30, 40, 50, 60, 75])
        saved = s * w
        spent = saved * pct // 100
        left = saved - spent
        q = (f"{name} saves ${s} every week for {w} weeks and then spends {pct}% of {pos} savings on a "
             f"{d.pick(_THINGS)}. How much money does {pro} have left?")
        gt = (f"{Pro} saves {s} * {w} = <<{s}*{w}={saved}>>{saved} dollars.\n"
              f"{Pro} spends {saved} * {pct} / 100 = <<{saved}*{pct}/100={spent}>>{spent} dollars.\n"
              f"So {pro} has {saved} - {spent} = <<{saved}-{spent}={left}>>{left} dollars left.\n#### {left}")
        ans, cx = left, min(1.0, saved / 4500 + 0.3)
    wrong = ans + d.pick([-10, -3, -1, 1, 2, 5, 12])
    return {"q": q, "gt": gt, "choices": None, "tid": None, "user": "Question: " + q, "sub": sub, "cx": cx,
            "ans": f"The answer is {ans}.", "wrong": f"The answer is {wrong}."}


_BOXED = "\nAfter careful thought, put your final answer in \\boxed{...}."
_TRIPLES = [(3, 4, 5), (5, 12, 13), (8, 15, 17), (7, 24, 25), (20, 21, 29), (9, 40, 41)]


def _gen_contest_math(d: _Draw) -> dict:
    sub = d.int(0, 3)
    if sub == 0:
        if d.chance(0.5):
            a, b, m = d.int(2, 99), d.int(10, 999), d.int(3, 97)
            body = f"Find the remainder when {a}^{b} is divided by {m}."
            ans = pow(a, b, m)
            cx = 0.5 + b / 2000
        else:
            n = d.int(10, 50000)
            body = f"What is the sum of all positive divisors of {n}?"
            ans = sum(x + (n // x if x * x != n else 0) for x in range(1, int(math.isqrt(n)) + 1) if n % x == 0)
            cx = 0.3 + n / 10000
    elif sub == 1:
        if d.chance(0.5):
            n = d.int(4, 9)
            k = d.int(2, n - 1)
            obj = d.pick(["books", "flags", "paintings", "students", "trophies", "plants", "cars", "chairs",
                          "lamps", "statues", "posters", "bottles"])
            where = d.pick(["in a row", "on a shelf", "in a line", "along a wall", "on a bench", "in a display case"])
            body = (f"In how many ways can {n} distinct {obj} be arranged {where} if {k} particular {obj} "
                    f"must stand next to each other?")
            ans = math.factorial(k) * math.factorial(n - k + 1)
            cx = 0.4 + n / 20
        else:
            n = d.int(6, 30)
            k = d.int(2, min(8, n - 1))
            who = _full_name(d)
            body = f"How many {k}-member committees can be chosen from {n} people if {who} must be included?"
            ans = math.comb(n - 1, k - 1)
            cx = 0.35 + k / 20
    elif sub == 2:
        x = d.int(-30, 30)
        a = d.int(1, 15)
        c = d.int(1, 15)
        while c == a:
            c = d.int(1, 15)
        b = d.int(-60, 60)
        dd = a * x + b - c * x

        def lin(coef, const):
            return f"{coef}x {'+' if const >= 0 else '-'} {abs(const)}"

        body = f"Solve for x: {lin(a, b)} = {lin(c, dd)}."
        ans = x
        cx = 0.25 + (x < 0) * 0.2
    else:
        if d.chance(0.5):
            L, W = d.int(2, 300), d.int(2, 300)
            P = 2 * (L + W)
            body = (f"A rectangle has a perimeter of {P} cm and one side of length {L} cm. "
                    f"What is its area in square centimetres?")
            ans = L * W
            cx = 0.3
        else:
            a, b, c = d.pick(_TRIPLES)
            s = d.int(1, 60)
            if d.chance(0.5):
                body = f"A right triangle has legs of length {a * s} and {b * s}. What is the length of its hypotenuse?"
                ans = c * s
            else:
                body = (f"A right triangle has a hypotenuse of length {c * s} and one leg of length {a * s}. "
                        f"What is its area?")
                ans = a * s * b * s // 2 if (a * s * b * s) % 2 == 0 else a * s * b * s / 2
            cx = 0.5 + s / 200
    if d.chance(0.3):
        name, pro, _ = _person(d)
        body = f"{name} is practising for a mathematics contest in {_place(d)}. " + body
    q = body + _BOXED
    ans_s = str(ans)
    wrong = str(ans + d.pick([-2, -1, 1, 3, 7])) if isinstance(ans, int) else str(ans + 1)
    return {"q": q, "gt": ans_s, "choices": None, "tid": None, "user": None, "sub": sub, "cx": min(1.0, cx),
            "ans": f"\\boxed{{{ans_s}}}", "wrong": f"\\boxed{{{wrong}}}"}


# --- code ops shared by py_func (mbpp-like) and code_complete (human_eval-like) ---


def _rand_list(d: _Draw, lo=-20, hi=99, n_lo=3, n_hi=8):
    return [d.int(lo, hi) for _ in range(d.int(n_lo, n_hi))]


def _rand_word_str(d: _Draw):
    return " ".join(d.sample(_WORDS, d.int(1, 4)))


def _rand_dict(d: _Draw, lo=0, hi=999, initial=None):
    keys = d.sample(_WORDS, d.int(2, 5))
    if initial is not None and d.chance(0.7):
        starts = [w for w in _WORDS if w.startswith(initial) and w not in keys]
        if starts:
            keys.insert(d.int(0, len(keys)), d.pick(starts))
    return {k: d.int(lo, hi) for k in keys}


def _code_op(d: _Draw) -> dict:
    """One programming problem: description, function name, typed signature, tests, solution snippets."""
    op = d.int(0, 15)
    if op == 0:
        k = d.int(2, 9999)
        f = lambda x: sum(1 for v in x if v % k == 0)  # noqa: E731
        spec = dict(sub=0, text=f"count the elements of a list that are divisible by {k}", fname="count_divisible",
                    sig="numbers: List[int]", ret="int", inputs=lambda: (_rand_list(d, 0, 8 * k),), fn=f,
                    sol=f"return sum(1 for x in VAR if x % {k} == 0)", bad=f"return sum(1 for x in VAR if x % {k})",
                    cx=0.2)
    elif op == 1:
        k = d.int(-500, 5000)
        f = lambda x: sum(v for v in x if v > k)  # noqa: E731
        spec = dict(sub=0, text=f"return the sum of the numbers in a list that are greater than {k}",
                    fname="sum_greater", sig="numbers: List[int]", ret="int",
                    inputs=lambda: (_rand_list(d, k - 40, k + 60),), fn=f,
                    sol=f"return sum(x for x in VAR if x > {k})", bad=f"return sum(x for x in VAR if x >= {k})",
                    cx=0.25)
    elif op == 2:
        k = d.int(2, 30)
        o = d.int(0, k - 1)
        m = d.int(2, 50)
        f = lambda x: [v * m for v in x[o::k]]  # noqa: E731
        spec = dict(sub=0, text=f"return every {k}-th element of a list, starting from index {o}, multiplied by {m}",
                    fname="every_kth", sig="items: List[int]", ret="List[int]",
                    inputs=lambda: (_rand_list(d, 0, 99, k, 2 * k + 6),), fn=f,
                    sol=f"return [x * {m} for x in VAR[{o}::{k}]]", bad=f"return [x * {m} for x in VAR[{o + 1}::{k}]]",
                    cx=0.35)
    elif op == 3:
        k = d.int(1, 20000)
        f = lambda x: sum(1 for a, b in zip(x, x[1:]) if abs(a - b) >= k)  # noqa: E731
        spec = dict(sub=0, text=f"count the pairs of adjacent elements in a list whose difference is at least {k}",
                    fname="count_big_steps", sig="values: List[int]", ret="int",
                    inputs=lambda: (_rand_list(d, 0, 3 * k + 10, 4, 9),), fn=f,
                    sol=f"return sum(abs(a - b) >= {k} for a, b in zip(VAR, VAR[1:]))",
                    bad=f"return sum(abs(a - b) > {k} for a, b in zip(VAR, VAR[1:]))", cx=0.55)
    elif op == 4:
        c, c2 = d.sample("abcdefghijklmnopqrstuvwxyz", 2)
        case = d.pick(["upper", "lower", "title"])
        f = lambda s: getattr(s.replace(c, "").replace(c2, ""), case)()  # noqa: E731
        spec = dict(sub=1, text=f"remove every occurrence of the characters '{c}' and '{c2}' from a string and return "
                                f"the result in {case} case", fname="strip_chars", sig="text: str", ret="str",
                    inputs=lambda: (_rand_word_str(d),), fn=f,
                    sol=f"return VAR.replace('{c}', '').replace('{c2}', '').{case}()",
                    bad=f"return VAR.replace('{c}', '').{case}()", cx=0.3)
    elif op == 5:
        src = d.pick(_WORDS)
        a = d.int(0, len(src) - 2)
        w = src[a:a + d.int(2, 3)]
        n = d.int(5, 200)
        f = lambda s: s[:n].count(w)  # noqa: E731
        spec = dict(sub=1, text=f"count how many times the substring '{w}' occurs in the first {n} characters of a "
                                f"string", fname="count_substring", sig="text: str", ret="int",
                    inputs=lambda: (_rand_word_str(d) + " " + src,), fn=f, sol=f"return VAR[:{n}].count('{w}')",
                    bad=f"return VAR.count('{w}')", cx=0.2)
    elif op == 6:
        w1, w2 = d.pick(_WORDS), d.pick(_WORDS)
        f = lambda s: s.startswith(w1) and s.endswith(w2)  # noqa: E731

        def inp():
            mid = " ".join(d.sample(_WORDS, d.int(0, 2)))
            if d.chance(0.5):
                return (f"{w1} {mid} {w2}".replace("  ", " "),)
            return (f"{d.pick(_WORDS)} {mid} {w2}".replace("  ", " "),)
        spec = dict(sub=1, text=f"check whether a string starts with '{w1}' and ends with '{w2}'",
                    fname="check_ends", sig="text: str", ret="bool", inputs=inp, fn=f,
                    sol=f"return VAR.startswith('{w1}') and VAR.endswith('{w2}')",
                    bad=f"return VAR.startswith('{w1}') or VAR.endswith('{w2}')", cx=0.3)
    elif op == 7:
        w1, w2 = d.sample(_WORDS, 2)
        f = lambda s: s.replace(w1, w2)  # noqa: E731
        spec = dict(sub=1, text=f"replace every occurrence of the word '{w1}' in a string with '{w2}'",
                    fname="replace_word", sig="text: str", ret="str",
                    inputs=lambda: (" ".join(d.sample(_WORDS[:20] + [w1, w1], d.int(2, 5))),), fn=f,
                    sol=f"return VAR.replace('{w1}', '{w2}')", bad=f"return VAR.replace('{w1}', '{w2}', 1)", cx=0.25)
    elif op == 8:
        a = d.int(2, 150)
        b = d.int(a + 1, 199)
        f = lambda n: n % a == 0 and n % b == 0  # noqa: E731
        spec = dict(sub=2, text=f"check whether a number is a multiple of both {a} and {b}",
                    fname="is_common_multiple", sig="n: int", ret="bool",
                    inputs=lambda: (d.pick([a * b, a * b * d.int(2, 5), d.int(1, 5000)]),), fn=f,
                    sol=f"return n % {a} == 0 and n % {b} == 0", bad=f"return n % {a * b} == 0", cx=0.3)
    elif op == 9:
        k = d.int(2, 9999)
        f = lambda n: (n // k + 1) * k  # noqa: E731
        spec = dict(sub=2, text=f"find the smallest multiple of {k} that is strictly greater than a given number",
                    fname="next_multiple", sig="n: int", ret="int", inputs=lambda: (d.int(0, 20 * k),), fn=f,
                    sol=f"return (n // {k} + 1) * {k}", bad=f"return -(-n // {k}) * {k}", cx=0.45)
    elif op == 10:
        a, b = d.int(-100, 1000), d.int(1, 99)
        f = lambda n: n * a + b * n * (n - 1) // 2  # noqa: E731
        spec = dict(sub=2, text=f"compute the sum of the first n terms of the arithmetic sequence that starts at "
                                f"{a} with common difference {b}", fname="arith_sum", sig="n: int", ret="int",
                    inputs=lambda: (d.int(1, 40),), fn=f,
                    sol=f"return n * {a} + {b} * n * (n - 1) // 2", bad=f"return n * {a} + {b} * n * n // 2",
                    cx=0.6)
    elif op == 11:
        k = d.int(0, 8)
        p = d.int(2, 9)
        m = d.int(2, 999)
        f = lambda n: sum(int(c) ** p for c in str(n) if int(c) > k) % m  # noqa: E731
        spec = dict(sub=2, text=f"return the sum of the {p}-th powers of the digits of a number that are greater "
                                f"than {k}, modulo {m}", fname="digit_power_sum", sig="n: int", ret="int",
                    inputs=lambda: (d.int(10, 10 ** 6),), fn=f,
                    sol=f"return sum(int(c) ** {p} for c in str(n) if int(c) > {k}) % {m}",
                    bad=f"return sum(int(c) ** {p} for c in str(n)) % {m}", cx=0.65)
    elif op == 12:
        k = d.int(0, 9999)
        f = lambda m: sorted(x for x, v in m.items() if v > k)  # noqa: E731
        spec = dict(sub=3, text=f"return the keys of a dictionary whose values are greater than {k}, sorted "
                                f"alphabetically", fname="keys_above", sig="scores: Dict[str, int]",
                    ret="List[str]", inputs=lambda: (_rand_dict(d, max(0, k - 300), k + 300),), fn=f,
                    sol=f"return sorted(k for k, v in VAR.items() if v > {k})",
                    bad=f"return [k for k, v in VAR.items() if v > {k}]", cx=0.4)
    elif op == 13:
        k = d.int(2, 9999)
        f = lambda m: {x: v * k for x, v in m.items()}  # noqa: E731
        spec = dict(sub=3, text=f"return a new dictionary in which every value of the input dictionary is "
                                f"multiplied by {k}", fname="scale_values", sig="table: Dict[str, int]",
                    ret="Dict[str, int]", inputs=lambda: (_rand_dict(d, 0, 50),), fn=f,
                    sol=f"return {{k: v * {k} for k, v in VAR.items()}}",
                    bad=f"return {{k: v + {k} for k, v in VAR.items()}}",
                    cx=0.2)
    elif op == 14:
        c = d.pick("abcdefghiklmnoprstw")
        k = d.int(0, 999)
        f = lambda m: sum(1 for x, v in m.items() if x.startswith(c) and v >= k)  # noqa: E731
        spec = dict(sub=3, text=f"count the keys of a dictionary that start with the letter '{c}' and whose values "
                                f"are at least {k}", fname="count_keys_with", sig="table: Dict[str, int]", ret="int",
                    inputs=lambda: (_rand_dict(d, max(0, k - 200), k + 200, initial=c),), fn=f,
                    sol=f"return sum(k.startswith('{c}') and v >= {k} for k, v in VAR.items())",
                    bad=f"return sum(k.startswith('{c}') for k in VAR)", cx=0.3)
    else:
        k = d.int(1, 9)
        m = d.int(10, 999)
        f = lambda t: sum(v for x, v in t.items() if len(x) > k and v <= m)  # noqa: E731
        spec = dict(sub=3, text=f"return the sum of the values of a dictionary whose keys have more than {k} "
                                f"characters, ignoring values above {m}", fname="sum_long_keys",
                    sig="table: Dict[str, int]", ret="int", inputs=lambda: (_rand_dict(d, 0, 2 * m),), fn=f,
                    sol=f"return sum(v for k, v in VAR.items() if len(k) > {k} and v <= {m})",
                    bad=f"return sum(v for k, v in VAR.items() if len(k) >= {k})", cx=0.4)
    tests = []
    seen_args = []
    for _ in range(6):
        args = spec["inputs"]()
        if repr(args) in seen_args:
            continue
        seen_args.append(repr(args))
        tests.append((", ".join(repr(a) for a in args), repr(spec["fn"](*args))))
        if len(tests) == 3:
            break
    spec["tests"] = tests
    var = spec["sig"].split(":")[0]
    spec["sol"] = spec["sol"].replace("VAR", var)
    spec["bad"] = spec["bad"].replace("VAR", var)
    return spec


_MBPP_PREFIX = ["Write a function to ", "Write a python function to ", "Write a function that will ",
                "Write a Python function to ", "Create a function to ", "Implement a function to "]


def _gen_py_func(d: _Draw) -> dict:
    spec = _code_op(d)
    q = d.pick(_MBPP_PREFIX) + spec["text"] + "."
    fn = spec["fname"]
    asserts = [f"assert {fn}({a}) == {r}" for a, r in spec["tests"]]
    user = "Task: " + q + "\n\nYour code should pass these tests:\n\n" + "\n".join(asserts)
    choices = repr(asserts)
    return {"q": q, "gt": choices, "choices": choices, "tid": None, "user": user, "sub": spec["sub"],
            "cx": min(1.0, spec["cx"] + 0.3 * d.f()), "ans": f"[BEGIN] {spec['sol']} [Done]",
            "wrong": f"[BEGIN] {spec['bad']} [Done]"}


_HE_VERBS = {"count": "Count", "return": "Return", "remove": "Remove", "check": "Check", "replace": "Replace",
             "find": "Find", "compute": "Compute"}


def _gen_code_complete(d: _Draw) -> dict:
    spec = _code_op(d)
    text = spec["text"]
    first, rest = text.split(" ", 1)
    doc = _HE_VERBS.get(first, first.capitalize()) + " " + rest + "."
    fn = spec["fname"]
    typing = [t for t in ("List", "Dict") if t in spec["sig"] or t in spec["ret"]]
    head = f"from typing import {', '.join(typing)}\n\n\n" if typing else ""
    ex = spec["tests"][:2]
    examples = "".join(f"    >>> {fn}({a})\n    {r}\n" for a, r in ex)
    q = f'{head}def {fn}({spec["sig"]}) -> {spec["ret"]}:\n    """ {doc}\n{examples}    """\n'
    checks = "".join(f"    assert candidate({a}) == {r}\n" for a, r in spec["tests"])
    gt = f"\n\nMETADATA = {{\n    'author': 'synth',\n    'dataset': 'test'\n}}\n\n\ndef check(candidate):\n{checks}"
    user = "Complete the following function:\n\n" + q
    return {"q": q, "gt": gt, "choices": None, "tid": None, "user": user, "sub": spec["sub"],
            "cx": min(1.0, spec["cx"] + 0.3 * d.f() + 0.1), "ans": f"[BEGIN] {spec['sol']} [Done]",
            "wrong": f"[BEGIN] {spec['bad']} [Done]"}


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


def _gen_concept_gen(d: _Draw) -> dict:
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


def _gen_logic_grid(d: _Draw) -> dict:
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
            c = f"{r1} lives in the {_ordinal(h1 + 1)} house."
        elif kind == 1:
            other = d.pick([h for h in range(n) if h != h1])
            c = f"{r1} does not live in the {_ordinal(other + 1)} house."
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


def _gen_reading_qa(d: _Draw) -> dict:
    sub = d.int(0, 3)
    name, pro, pos = _person(d)
    full = f"{name} {d.pick(_LAST)}"
    Pro = pro.capitalize()
    if sub == 0:
        year, a, b = d.int(1900, 1990), d.int(18, 30), d.int(2, 15)
        p1, p2 = _place(d), _place(d)
        org = f"{d.pick(_LAST)} {d.pick(_ORGTYPE)}"
        staff = d.int(3, 900)
        passage = (f"{full} was born in {p1} in {year}. {Pro} trained as a {d.pick(_JOBS)} and moved to {p2} in "
                   f"{year + a}. {b} years later {pro} founded the {org}, which employed {staff} people by "
                   f"{year + a + b + d.int(3, 20)}.")
        qs = [(f"In which year did {full} move to {p2}?", str(year + a), str(year + a + b)),
              (f"Where was {full} born?", p1, p2), (f"What did {full} found?", f"the {org}", p2)]
    elif sub == 1:
        org = _place(d)
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
        obs = _place(d)
        date = f"{d.pick(_MONTHS)} {d.int(1, 28)}, {d.int(1980, 2024)}"
        passage = (f"Researchers at the {obs} Observatory recorded a {ph} lasting {mins} minutes on {date}. "
                   f"The team, led by {full}, used a {d.pick(_INSTR)} to track it.")
        qs = [(f"Who led the team at the {obs} Observatory?", full, _full_name(d)),
              (f"How long did the {ph} recorded at the {obs} Observatory last?", f"{mins} minutes",
               f"{mins + 10} minutes"),
              (f"On what date was the {ph} recorded?", date, f"{d.pick(_MONTHS)} {d.int(1, 28)}")]
    else:
        t1, t2 = d.sample(_TEAMS, 2)
        city = _place(d)
        year = d.int(1950, 2024)
        s1 = d.int(1, 6)
        s2 = d.int(0, s1 - 1)
        minute = d.int(2, 90)
        passage = (f"In the {year} {city} Cup final, the {city} {t1} beat the {t2} {s1} to {s2}. {full} scored the "
                   f"winning goal in the {minute}th minute.")
        qs = [(f"Who scored the winning goal in the {year} {city} Cup final?", full, _full_name(d)),
              (f"What was the final score of the {year} {city} Cup final?", f"{s1} to {s2}", f"{s2} to {s1}"),
              (f"In which minute was the winning goal of the {year} {city} Cup final scored?", f"{minute}th minute",
               f"{minute + 3}th minute")]
    question, a, w = d.pick(qs)
    q = f"Passage: {passage}\nQuestion: {question}"
    return {"q": q, "gt": a, "choices": None, "tid": None, "user": q, "sub": sub, "cx": d.f(), "ans": a, "wrong": w}


_TABLES = [("orders", ["amount", "quantity", "discount"], ["customer_id", "region", "status"]),
           ("employees", ["salary", "age", "bonus"], ["department", "city", "title"]),
           ("products", ["price", "stock", "rating"], ["category", "supplier", "brand"]),
           ("sensor_readings", ["temperature", "humidity", "pressure"], ["station_id", "sensor_type", "city"])]
_AGG = [("AVG", "the average {col}"), ("SUM", "the total {col}"), ("MAX", "the largest {col}"),
        ("MIN", "the smallest {col}"), ("COUNT", "the count of non-null {col} values")]


def _gen_sql(d: _Draw) -> dict:
    sub = d.int(0, 3)
    table, nums, groups = _TABLES[sub]
    agg, aw = d.pick(_AGG)
    col, ccol = d.pick(nums), d.pick(nums)
    g = d.pick(groups)
    k = d.int(1, 10000)
    q = (f"Write a SQL query that returns {aw.format(col=col)} of {table} for each {g}, considering only rows where "
         f"{ccol} is greater than {k}.")
    gt = f"SELECT {g}, {agg}({col}) FROM {table} WHERE {ccol} > {k} GROUP BY {g}"
    bad = f"SELECT {g}, {agg}({col}) FROM {table} WHERE {ccol} < {k} GROUP BY {g}"
    cx = 0.3
    if d.chance(0.4):
        lim = d.int(3, 50)
        q = q[:-1] + f", ordered by the result in descending order and limited to {lim} rows."
        gt += f" ORDER BY {agg}({col}) DESC LIMIT {lim}"
        bad += f" ORDER BY {agg}({col}) LIMIT {lim}"
        cx = 0.7
    gt += ";"
    bad += ";"
    return {"q": q, "gt": gt, "choices": None, "tid": None, "user": "Task: " + q, "sub": sub, "cx": cx + 0.2 * d.f(),
            "ans": f"[BEGIN] {gt} [Done]", "wrong": f"[BEGIN] {bad} [Done]"}


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


def _gen_analogy(d: _Draw) -> dict:
    if d.chance(0.25):
        sub = d.int(0, 1)
        rel = d.pick(list(_REL)[sub * 2: sub * 2 + 2])
        (a, b), (c, e) = d.sample(_REL[rel], 2)
        others = [y for r, ps in _REL.items() for x, y in ps if y != e]
        opts, letter = _mc(d, e, d.sample(others, 6))
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
            return _fmt_num(v)

        e = g(c)
        cands = [_fmt_num(f2(c) + add) for _, f2 in _NUMREL] + [_fmt_num(f(c) + add + 1), _fmt_num(f(c) + add - 1)]
        opts, letter = _mc(d, e, cands)
        q = d.pick(_NUM_ANALOGY_FMT).format(a=a, b=g(a), c=c)
        cx = 0.5 + (add > 0) * 0.3
    return _mc_item(d, q, opts, letter, sub, min(1.0, cx + 0.2 * d.f()), kind="list", user_style="list")


_GASES = ["nitrogen", "argon", "helium", "oxygen", "neon", "carbon dioxide"]


def _gen_grad_science(d: _Draw) -> dict:
    sub = d.int(0, 3)
    if sub == 0:
        P, V, T = d.int(1, 50) / 2, d.int(1, 400) / 4, d.int(200, 900)
        c = P * V / (0.082057 * T)
        q = (f"A sample of {d.pick(_GASES)} at {T} K and {_fmt_num(P)} atm occupies {_fmt_num(V)} L. Assuming ideal "
             f"behaviour, how many moles of gas are present?")
        opts, letter = _mc(d, f"{c:.3g} mol", [f"{c * 2:.3g} mol", f"{c / 2:.3g} mol", f"{c * 10:.3g} mol",
                                               f"{P * V / (8.314 * T):.3g} mol"])
    elif sub == 1:
        lam = d.int(100, 2000)
        c = 1239.84 / lam
        src = d.pick(["a laser", "a distant star", "an LED", "a hydrogen lamp", "a synchrotron", "a fluorescent dye",
                      "a quantum dot", "an X-ray tube", "a sodium lamp", "a nebula"])
        q = f"A photon emitted by {src} has a wavelength of {lam} nm. What is its energy?"
        opts, letter = _mc(d, f"{c:.3g} eV", [f"{c * 10:.3g} eV", f"{c / 10:.3g} eV", f"{lam / 1239.84:.3g} eV",
                                              f"{c * 2:.3g} eV"])
    elif sub == 2:
        m, e = d.int(10, 99) / 10, d.int(1, 6)
        conc = m * 10 ** (-e)
        c = -math.log10(conc)
        acid = d.pick(["hydrochloric acid", "hydrobromic acid", "hydroiodic acid", "nitric acid", "perchloric acid"])
        q = (f"A {d.int(5, 500)} mL sample of {m} x 10^-{e} M aqueous {acid} is prepared. "
             f"What is the pH of the solution?")
        opts, letter = _mc(d, f"{c:.2f}", [f"{14 - c:.2f}", f"{c + 1:.2f}", f"{e:.2f}", f"{c - 0.5:.2f}"])
    else:
        t = d.int(2, 500)
        k = d.int(2, 8)
        q = (f"At {d.int(250, 800)} K a first-order reaction has a half-life of {t} s. What fraction of the reactant "
             f"remains after {t * k} s?")
        opts, letter = _mc(d, f"1/{2 ** k}", [f"1/{2 * k}", f"1/{k}", f"1/{2 ** (k + 1)}", f"1/{k * k}"])
    return _mc_item(d, q, opts, letter, sub, 0.7 + 0.3 * d.f(), kind="list", user_style="list")


# ---------------------------------------------------------------------------------------------------------------
# Task archetypes (routing tasks are the first n_tasks of this list), leaderboard tasks, domains, families
# ---------------------------------------------------------------------------------------------------------------

SYS_MC = ("Answer the following multiple-choice question by selecting the correct option (A, B, C, or D). "
          "You MUST put your final answer letter in a parenthesis.\n")
SYS_MATH = "Answer the following math question step by step.\n"
SYS_PY = ("You are an expert Python programmer. Implement the function with no irrelevant words or comments. "
          "Put your code in this format: [BEGIN] <Your Code> [Done]\n")
SYS_PY_BODY = ("You are an expert Python programmer. Implement the function body only. Do not repeat the function "
               "signature or docstring. Put the code in this format: [BEGIN] <Your Code - function body only> [Done]\n")
SYS_SQL = ("You are an expert SQL developer. Write a single query with no explanation. "
           "Put your query in this format: [BEGIN] <Your Query> [Done]\n")
SYS_READ = "Answer the question using only information from the passage. Reply with a short phrase.\n"

DOMAIN_POOL = ["knowledge", "reasoning", "math", "coding", "qa", "alignment"]
_DOMAIN_DESC = {
    "knowledge": "Tasks that test stored factual and academic knowledge across history, science, law and culture.",
    "reasoning": "Tasks that require commonsense inference, deduction over constraints and multi-step logical "
                 "thinking.",
    "math": "Tasks that require arithmetic, algebraic manipulation and multi-step quantitative problem solving.",
    "coding": "Tasks that require writing correct programs or queries that pass executable checks.",
    "qa": "Tasks centred on answering questions from memory or from a given passage with a short, faithful answer.",
    "alignment": "Tasks that evaluate instruction following, controllable generation and well-formed helpful output.",
}


def _arch(name, gen, metric, domains, two, cat, acc, tok, system, desc, phrase, tid=None):
    return dict(name=name, gen=gen, metric=metric, domains=domains, two=two, cat=cat, acc=acc, tok=tok,
                system=system, desc=desc, phrase=phrase, tid=tid)


_ARCHETYPES = [
    _arch("factoid_qa", _gen_factoid, "f1_score", ["knowledge", "qa", "reasoning"], True, "knowledge", 0.35,
          (8, 40), None,
          "FactoidQA is a synthetic trivia benchmark of single-answer factual questions about history, science, "
          "geography and the arts. Answers are short names, places or years and are scored by token overlap with "
          "the reference answer.", "factual trivia recall"),
    _arch("academic_mc", _gen_academic_mc, "em_mc", ["knowledge", "reasoning", "qa"], False, "knowledge", 0.62,
          (2, 3), SYS_MC,
          "AcademicMC is a synthetic multiple-choice exam covering physics, economics, biology and law at "
          "undergraduate level. Each question has four options and only the chosen letter is scored.",
          "academic multiple-choice exams"),
    _arch("word_math", _gen_word_math, "gsm8k", ["math", "reasoning"], False, "math", 0.7, (90, 220), SYS_MATH,
          "WordMath is a synthetic set of grade-school arithmetic word problems about shopping, travel, baking and "
          "saving money. Each problem needs two to four elementary steps and the final number is checked against "
          "the reference.", "arithmetic word problems"),
    _arch("py_func", _gen_py_func, "code_eval", ["coding", "reasoning"], False, "coding", 0.45, (25, 90), SYS_PY,
          "PyFunc is a synthetic benchmark of short Python programming problems on lists, strings, integers and "
          "dictionaries. A solution passes only if it satisfies all three hidden assert statements.",
          "short Python function synthesis"),
    _arch("science_mc", _gen_science_mc, "em_mc", ["reasoning", "knowledge", "qa"], True, "reasoning", 0.72,
          (2, 3), SYS_MC,
          "ScienceMC is a synthetic grade-school science exam with four-option questions about earth science, life "
          "science, heat transfer and space. It rewards applying simple scientific reasoning to a described "
          "observation.", "grade-school science reasoning"),
    _arch("concept_gen", _gen_concept_gen, "commongen_coverage", ["qa", "alignment", "reasoning", "knowledge"], True,
          "language", 0.7, (20, 60), None,
          "ConceptGen is a synthetic constrained generation task: given a list of everyday concepts, the model must "
          "write a coherent sentence that uses all of them. It is scored by the fraction of the concepts the "
          "sentence covers.", "constrained sentence generation"),
    _arch("contest_math", _gen_contest_math, "math", ["math", "reasoning"], False, "math", 0.45, (120, 320), None,
          "ContestMath is a synthetic collection of short competition-style problems in number theory, "
          "combinatorics, algebra and geometry. The final answer must be given in a box and is compared exactly with "
          "the reference value.", "competition mathematics"),
    _arch("code_complete", _gen_code_complete, "code_eval", ["coding", "reasoning"], False, "coding", 0.4, (30, 110),
          SYS_PY_BODY,
          "CodeComplete is a synthetic function-completion benchmark: each prompt is a typed Python signature with a "
          "docstring and examples, and the model must write the body. The completion is executed against a hidden "
          "check function.", "docstring-to-code completion", tid="SynthEval/{i}"),
    _arch("logic_grid", _gen_logic_grid, "em_mc", ["reasoning", "math"], False, "reasoning", 0.4, (1, 4), None,
          "LogicGrid is a synthetic set of zebra-style logic puzzles in which people living in a row of houses have "
          "different attributes. Clues constrain the arrangement and the model must name the house of one person.",
          "logic grid puzzles"),
    _arch("open_qa", _gen_open_qa, "f1_score", ["qa", "knowledge", "reasoning"], True, "qa", 0.38, (10, 60), None,
          "OpenQA is a synthetic open-domain question set written like search-engine queries, in lower case and "
          "without punctuation, about entertainment, sports, politics and music. Short answers are scored by token "
          "overlap.", "search-style open questions"),
    _arch("commonsense_mc", _gen_commonsense_mc, "em_mc", ["reasoning", "knowledge"], False, "reasoning", 0.75,
          (2, 3), SYS_MC,
          "CommonsenseMC is a synthetic five-option benchmark of everyday situations: what people do first to reach "
          "a goal, where objects are kept and how people feel. It tests practical commonsense rather than "
          "specialist knowledge.", "everyday commonsense"),
    _arch("reading_qa", _gen_reading_qa, "f1_score", ["qa", "reasoning", "knowledge"], True, "qa", 0.65, (6, 25),
          SYS_READ,
          "ReadingQA is a synthetic reading-comprehension task: a short passage (a biography, a business report, a "
          "science note or a match report) is followed by one question whose answer is a span of the passage.",
          "short-passage reading comprehension"),
    _arch("sql_gen", _gen_sql, "code_eval", ["coding", "knowledge"], False, "coding", 0.5, (25, 60), SYS_SQL,
          "SQLGen is a synthetic text-to-SQL benchmark over four small relational tables. Each request asks for a "
          "filtered, grouped aggregate and the generated query is executed and compared with the reference result.",
          "text-to-SQL"),
    _arch("analogy_mc", _gen_analogy, "em_mc", ["reasoning", "knowledge"], False, "reasoning", 0.6, (2, 3), SYS_MC,
          "AnalogyMC is a synthetic four-option analogy test mixing word relations (animals and their young, workers "
          "and tools, antonyms, animal homes) with numeric relations such as squaring or doubling.",
          "verbal and numeric analogies"),
]
ARCHETYPE_NAMES = [a["name"] for a in _ARCHETYPES]
MAX_TASKS = len(_ARCHETYPES)
_NO_FORMATTER = {"concept_gen", "contest_math", "logic_grid"}
_KEPT_TASK_PREF = "academic_mc"  # the held-out model keeps this routing-task score in newllm (like mmlu)

# Non-routing "leaderboard" tasks: scores only in detailed_scores (like ifeval/bbh/...). grad_science also has
# queries in the default_query jsonl files (like the real gpqa/math).
_LEADERBOARD = [
    dict(name="instruct_eval", domains=["alignment", "reasoning"], two=False, cat="language", base=0.65,
         desc="InstructEval is a synthetic instruction-following benchmark whose prompts carry automatically "
              "verifiable constraints such as word limits, required keywords or output formats. It measures how "
              "reliably a model obeys explicit formatting instructions.", phrase="instruction following"),
    dict(name="hard_reasoning", domains=["reasoning", "math"], two=False, cat="reasoning", base=0.45,
         desc="HardReasoning is a synthetic suite of difficult multi-step reasoning problems, including symbolic "
              "manipulation, date arithmetic and tracking shuffled objects. It is designed so that shallow pattern "
              "matching rarely succeeds.", phrase="hard multi-step reasoning"),
    dict(name="grad_science", domains=["knowledge", "reasoning"], two=True, cat="knowledge", base=0.3,
         desc="GradScience is a synthetic graduate-level multiple-choice exam in physical chemistry and physics. "
              "Questions need quantitative reasoning with physical constants and are hard to answer by retrieval "
              "alone.", phrase="graduate-level science questions"),
    dict(name="multistep_reasoning", domains=["reasoning", "qa"], two=False, cat="reasoning", base=0.4,
         desc="MultistepReasoning is a synthetic benchmark of long narrative puzzles, such as murder mysteries and "
              "object placement stories, in which the answer follows from several soft inferences across the text.",
         phrase="long narrative reasoning"),
]
_EXTRA_JSONL_TASK = "grad_science"
_ALL_NULL_TASK = dict(name="tool_calling", domains=["coding", "alignment"],
                      desc="ToolCalling is a synthetic function-calling benchmark in which the model must choose an "
                           "API from a list and fill in its arguments as JSON. No model in this dataset has a score "
                           "on it.")
_UNUSED_TASKS = {
    "dialogue_arena": "DialogueArena is a synthetic pairwise preference benchmark of open-ended multi-turn chats "
                      "judged by a strong reference model. It is described here for completeness but no model has "
                      "a score on it.",
    "long_context_qa": "LongContextQA is a synthetic question-answering task over documents of tens of thousands "
                       "of tokens that tests retrieval of facts buried deep in the context. It is not used by any "
                       "model in this dataset.",
}

_FAMILIES = [
    dict(key="acme", arch="AcmeForCausalLM", brand="Acme", org="acme-ai", license="apache-2.0",
         sizes=[0.5, 1.5, 3, 7, 14, 32, 72], versions=["2", "2.5", "3"], pattern="acme{ver}-{size}b-instruct",
         tags=["chat"], languages=["en", "zh"], tok=1.0, theme={"math": 0.45, "coding": 0.35},
         desc="A family of decoder-only Transformer language models from the fictional Acme Research lab, trained "
              "with next-token prediction on a large multilingual web, book and code corpus. Instruction-tuned "
              "variants range from under one billion to more than seventy billion parameters and share a single "
              "tokenizer. The series is known for strong mathematics and coding for its size."),
    dict(key="borealis", arch="BorealisForCausalLM", brand="Borealis", org="borealis-collective",
         license="borealis", sizes=[2, 9, 27], versions=["2", "3"], pattern="borealis-{ver}-{size}b-it",
         tags=["conversational"], languages=["en"], tok=1.08, theme={"qa": 0.35, "language": 0.35, "coding": -0.2},
         desc="An open-weight family of compact decoder-only models from the fictional Borealis collective, using "
              "grouped-query attention with alternating local and global attention layers. Models are released at "
              "a few fixed scales with instruction-tuned chat variants. They are tuned for efficient inference and "
              "fluent, well-formed answers, with weaker code generation."),
    dict(key="cobalt", arch="CobaltMoeForCausalLM", brand="Cobalt", org="cobalt-ai", license="apache-2.0",
         sizes=[(4, 3), (8, 7), (8, 22), (16, 12)], versions=["0.1", "0.2"], pattern="cobalt-{size}b-instruct-v{ver}",
         tags=["moe", "vllm"], languages=["en", "fr", "de", "es", "it"], tok=0.95,
         theme={"knowledge": 0.35, "reasoning": 0.2},
         desc="A sparse mixture-of-experts family from the fictional Cobalt AI, in which a learned router sends each "
              "token to two of its expert feed-forward blocks, so only a fraction of the total parameters is active "
              "per step. This gives large capacity at moderate inference cost. The instruction-tuned versions are "
              "broad generalists with good multilingual coverage and factual recall."),
    dict(key="dune", arch="DuneForCausalLM", brand="Dune", org="dune-foundation", license="dune-community",
         sizes=[1, 3, 8, 70, 180], versions=["3", "3.1", "3.2"], pattern="dune-{ver}-{size}b-chat",
         tags=["dune", "conversational", "text-generation-inference"], languages=["multilingual"], tok=1.03,
         theme={"knowledge": 0.3, "qa": 0.3, "math": -0.25},
         desc="A family of autoregressive Transformer models from the fictional Dune Foundation, trained with an "
              "emphasis on data quality and long training runs relative to model size. Chat variants are aligned "
              "with supervised fine-tuning and preference optimisation. Larger members are strong at open-domain "
              "knowledge and question answering but less reliable at arithmetic."),
    dict(key="ember", arch="EmberForCausalLM", brand="Ember", org="ember-labs", license="ember-research",
         sizes=[8, 12, 22, 24, 123], versions=["2407", "2410", "2501", "2506"], pattern="ember-{size}b-instruct-{ver}",
         tags=["ember-common", "vllm"], languages=["en", "fr", "de", "es", "it", "pt", "ja"], tok=0.98,
         theme={"reasoning": 0.35, "coding": 0.3},
         desc="A family of dense decoder-only models from the fictional Ember Labs, released as dated checkpoints "
              "under a research licence. The models use sliding-window attention and a large-vocabulary tokenizer. "
              "They aim at a balance of reasoning, coding and latency for agentic and API use."),
]
_FOCUS = ["enterprise assistants", "on-device chat", "retrieval-augmented pipelines", "agentic tool use",
          "multilingual customer support", "research prototyping", "low-latency API serving", "long-form writing"]
_SERVICES = [("SynthCloud", "https://api.synthcloud.example/v1"), ("ModelHub", "https://inference.modelhub.example/v1")]


# ---------------------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------------------


def _size_str(s) -> str:
    return _fmt_num(s)


def _make_models(rng: np.random.Generator, n_models: int, n_candidates: int) -> list[dict]:
    order = rng.permutation(len(_FAMILIES)).tolist()
    models: list[dict] = []
    names: set = set()
    for i in range(n_models):
        if i < n_candidates:
            fam = _FAMILIES[order[i % len(order)]]
        else:
            fam = _FAMILIES[int(rng.integers(len(_FAMILIES)))]
        name = None
        for attempt in range(30):
            size = fam["sizes"][int(rng.integers(len(fam["sizes"])))]
            if i < n_candidates and attempt < 10 and not isinstance(size, tuple) and size < 3 \
                    and len(fam["sizes"]) > 3:
                continue  # candidates: avoid the very smallest models
            ver = fam["versions"][int(rng.integers(len(fam["versions"])))]
            sz = f"{size[0]}x{size[1]}" if isinstance(size, tuple) else _size_str(size)
            cand = fam["pattern"].format(ver=ver, size=sz)
            if attempt >= 20:
                cand += f"-r{attempt - 19}"
            if cand not in names:
                name = cand
                break
        if name is None:
            name = f"{fam['key']}-{i}-instruct"
        names.add(name)
        if isinstance(size, tuple):
            params = round(size[0] * size[1] * float(rng.uniform(0.8, 0.86)), 3)
            size_label = f"{size[0] * size[1]}B"
        else:
            params = round(size * float(rng.uniform(0.97, 1.12)), 3)
            size_label = f"{_size_str(size)}B"
        models.append(dict(name=name, fam=fam, params=params, size=size_label, moe=isinstance(size, tuple)))
    return models


# ---------------------------------------------------------------------------------------------------------------
# Writing helpers
# ---------------------------------------------------------------------------------------------------------------


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _r2(x) -> float:
    return float(round(float(x), 2))


# ---------------------------------------------------------------------------------------------------------------
# Main entry point
# ---------------------------------------------------------------------------------------------------------------


def generate_dataset(out_dir: str | Path, *, seed: int = 0, n_models: int = 12, n_candidates: int = 6,
                     n_tasks: int = 8, n_domains: int = 4, train_queries_per_task: int = 60,
                     test_queries_per_task: int = 30, pairs_per_task: int = 80, noise: float = 0.5,
                     with_task_queries: bool = True, progress=None) -> dict:
    """Write a complete RouteProfile-layout dataset into out_dir (creating profile_data/ and route_data/).

    Returns a summary dict (counts, held-out model name, seed, params, sanity numbers).
    Same parameters and seed give byte-identical files.
    """
    params = dict(seed=int(seed), n_models=int(n_models), n_candidates=int(n_candidates), n_tasks=int(n_tasks),
                  n_domains=int(n_domains), train_queries_per_task=int(train_queries_per_task),
                  test_queries_per_task=int(test_queries_per_task), pairs_per_task=int(pairs_per_task),
                  noise=float(noise), with_task_queries=bool(with_task_queries))
    if not 2 <= n_candidates <= n_models:
        raise ValueError(f"need 2 <= n_candidates <= n_models (got n_candidates={n_candidates}, n_models={n_models})")
    if not 1 <= n_tasks <= MAX_TASKS:
        raise ValueError(f"n_tasks must be between 1 and {MAX_TASKS} (got {n_tasks})")
    if not 1 <= n_domains <= len(DOMAIN_POOL):
        raise ValueError(f"n_domains must be between 1 and {len(DOMAIN_POOL)} (got {n_domains})")
    if train_queries_per_task < 1 or test_queries_per_task < 1:
        raise ValueError("train_queries_per_task and test_queries_per_task must be >= 1")
    if pairs_per_task < 0:
        raise ValueError("pairs_per_task must be >= 0")
    if noise < 0:
        raise ValueError("noise must be >= 0")

    def note(msg: str) -> None:
        if progress is not None:
            progress.note(msg)

    out = Path(out_dir)
    pdir, rdir = out / "profile_data", out / "route_data"
    pdir.mkdir(parents=True, exist_ok=True)
    rdir.mkdir(parents=True, exist_ok=True)

    # ---- tasks and domains --------------------------------------------------------------------------------
    archs = _ARCHETYPES[:n_tasks]
    if n_tasks < 6:  # one continuous-metric task only when n_tasks >= 6
        archs = [a for a in _ARCHETYPES if a["metric"] != "commongen_coverage"][:n_tasks]
    tasks = [a["name"] for a in archs]
    lb_names = [t["name"] for t in _LEADERBOARD]
    T, L = len(tasks), len(lb_names)
    domains = DOMAIN_POOL[:n_domains]

    def assign(ranking, two):
        full = ranking + [x for x in DOMAIN_POOL if x not in ranking]
        chosen = [x for x in full if x in domains]
        return chosen[:2] if (two and len(chosen) >= 2) else chosen[:1]

    domain_map = {dm: [] for dm in domains}
    for a in archs:
        for dm in assign(a["domains"], a["two"]):
            domain_map[dm].append(a["name"])
    for lb in _LEADERBOARD:
        for dm in assign(lb["domains"], lb["two"]):
            domain_map[dm].append(lb["name"])
    for dm in assign(_ALL_NULL_TASK["domains"], False):  # dangling: no model scores it, so no dataset node
        domain_map[dm].append(_ALL_NULL_TASK["name"])

    # ---- queries ------------------------------------------------------------------------------------------
    note(f"generating queries for {T} routing tasks (+1 extra jsonl task)")
    seen: set = set()

    def gen_items(gen, n, rng, tid_pattern, start_idx):
        items = []
        misses = 0
        while len(items) < n:
            it = gen(_Draw(rng))
            if it["q"] in seen:
                misses += 1
                if misses > 2000 + n:
                    raise ValueError(f"query space of {gen.__name__} exhausted after {len(items)} queries; "
                                     f"ask for fewer queries per task")
                continue
            seen.add(it["q"])
            items.append(it)
        for j, it in enumerate(items):
            if tid_pattern is not None:
                it["tid"] = tid_pattern.format(i=start_idx + j)
        return items

    test_items, train_items = {}, {}
    for ti, a in enumerate(archs):
        rq = _rng(seed, 10, ti)
        if a["name"] in ("py_func", "concept_gen", "sql_gen"):
            pat = "{i}"
        else:
            pat = a["tid"]
        test_items[a["name"]] = gen_items(a["gen"], test_queries_per_task, rq, pat, 1)
        train_items[a["name"]] = gen_items(a["gen"], train_queries_per_task, rq, pat, 1 + test_queries_per_task)
    rq = _rng(seed, 11)
    extra_test = gen_items(_gen_grad_science, test_queries_per_task, rq, None, 0)
    extra_train = gen_items(_gen_grad_science, train_queries_per_task, rq, None, 0)

    # ---- models and latent skills -------------------------------------------------------------------------
    note(f"drawing {n_models} models and their latent skills")
    rm = _rng(seed, 20)
    models = _make_models(rm, n_models, n_candidates)
    M, C = len(models), n_candidates
    names = [m["name"] for m in models]
    cands = names[:C]
    fam_keys = [f["key"] for f in _FAMILIES]
    fam_idx = np.array([fam_keys.index(m["fam"]["key"]) for m in models])
    cats_all = [a["cat"] for a in archs] + [lb["cat"] for lb in _LEADERBOARD]
    general = rm.normal(0.0, 0.5, M)
    theme = np.array([[f["theme"].get(c, 0.0) for c in cats_all] for f in _FAMILIES])
    fam_eff = theme + rm.normal(0.0, 0.45, theme.shape)
    size_coef = rm.uniform(0.15, 0.35, T + L)
    logp = np.log2(np.array([m["params"] for m in models]) / 8.0)
    task_noise = rm.normal(0.0, 0.45, (M, T + L))
    skill = general[:, None] + fam_eff[fam_idx] + logp[:, None] * size_coef[None, :] + task_noise
    sub_eff = rm.normal(0.0, 0.4, (M, T, 4))
    verbosity = np.exp(rm.normal(0.0, 0.3, M))
    task_base = np.array([-math.log(a["acc"] / (1 - a["acc"])) for a in archs]) + rm.normal(0, 0.2, T)
    lb_base = np.array([-math.log(lb["base"] / (1 - lb["base"])) for lb in _LEADERBOARD])

    # ---- per-query difficulty and candidate scores ----------------------------------------------------------
    note("scoring queries with the item-response model")
    rs = _rng(seed, 30)
    test_scores, train_scores, train_p_aux = {}, {}, {}
    test_tok = {}
    for ti, a in enumerate(archs):
        t = a["name"]
        items = test_items[t] + train_items[t]
        nte = len(test_items[t])
        cx = np.array([it["cx"] for it in items])
        sub = np.array([it["sub"] for it in items], dtype=int)
        diff = task_base[ti] + 1.5 * (cx - 0.5) + rs.normal(0.0, 2.3, len(items))
        base_logit = skill[:, ti][:, None] + sub_eff[:, ti, :][:, sub] - diff[None, :]  # [M, Q]
        p = _sigmoid(base_logit[:C] + noise * rs.normal(0.0, 1.0, (C, len(items))))
        p = np.clip(p, 1e-9, 1.0 - 1e-9)
        if a["metric"] == "commongen_coverage":
            n_words = np.array([len(it["ans"]) for it in items])
            v = _sigmoid(np.log(p / (1 - p)) + rs.normal(0.0, 0.4, p.shape))
            k = rs.binomial(np.broadcast_to(n_words, p.shape), 0.3 + 0.7 * v)
            k = np.maximum(k, np.floor(0.2 * n_words).astype(int) + 1)
            sc = k / n_words[None, :]
        else:
            sc = (rs.random(p.shape) < p).astype(float)
        test_scores[t] = sc[:, :nte]
        train_scores[t] = sc[:, nte:]
        # expected (noise-free) accuracy on the training queries, for every model (auxiliaries' scores)
        pe = _sigmoid(base_logit[:, nte:])
        if a["metric"] == "commongen_coverage":
            pe = 0.3 + 0.7 * pe
        train_p_aux[t] = pe.mean(axis=1)
        # token counts on the test rows
        lo, hi = a["tok"]
        texts = [(a["system"] or "") + it["user"] if a["name"] not in _NO_FORMATTER else it["q"]
                 for it in items[:nte]]
        plen = np.array([len(x) for x in texts], dtype=float)
        tokf = np.array([m["fam"]["tok"] for m in models[:C]])
        prompt = np.ceil(plen[None, :] / (3.8 * tokf[:, None])).astype(int) + 6
        mu = math.log(lo) + (math.log(hi) - math.log(lo)) * rs.random(nte)
        comp = np.exp(mu[None, :] + np.log(verbosity[:C])[:, None] + rs.normal(0.0, 0.25, (C, nte)))
        comp = np.maximum(1, np.round(comp)).astype(int)
        test_tok[t] = (prompt, comp)

    # ---- held-out model: the strongest candidate on the training queries -----------------------------------
    train_acc = np.array([[train_scores[t][c].mean() for t in tasks] for c in range(C)])  # [C, T]
    held_idx = int(np.argmax(train_acc.mean(axis=1)))
    held = cands[held_idx]
    kept_task = _KEPT_TASK_PREF if _KEPT_TASK_PREF in tasks else tasks[0]

    # ---- leakage: copies of a few test queries among the training queries -----------------------------------
    rl = _rng(seed, 40)
    leak_tasks = [t for t, a in zip(tasks, archs) if a["metric"] == "code_eval"] or list(tasks)
    leaked = []  # (task, test index, train index)
    n_leak = 3 if train_queries_per_task >= 2 else 0
    others = [c for c in range(C) if c != held_idx]
    for li in range(n_leak):
        t = leak_tasks[li % len(leak_tasks)]
        used_te = {x[1] for x in leaked if x[0] == t}
        used_tr = {x[2] for x in leaked if x[0] == t}
        ts = test_scores[t]
        disc = [j for j in range(ts.shape[1]) if j not in used_te and len(set(ts[others, j].tolist())) > 1]
        pool_te = disc or [j for j in range(ts.shape[1]) if j not in used_te]
        pool_tr = [j for j in range(len(train_items[t])) if j not in used_tr]
        if not pool_te or not pool_tr:
            continue
        j_te = pool_te[int(rl.integers(len(pool_te)))]
        j_tr = pool_tr[int(rl.integers(len(pool_tr)))]
        seen.discard(train_items[t][j_tr]["q"])
        train_items[t][j_tr] = dict(test_items[t][j_te])
        train_scores[t][:, j_tr] = test_scores[t][:, j_te]
        leaked.append((t, j_te, j_tr))
    leaked_queries = [test_items[t][j]["q"] for t, j, _ in leaked]

    # ---- row builders -------------------------------------------------------------------------------------
    def metric_for(a, upper):
        m = a["metric"]
        if upper and m in ("math", "gsm8k"):
            return m.upper()
        return m

    def base_row(t, a, it, upper):
        return {"task_name": t, "query": it["q"], "ground_truth": it["gt"], "metric": metric_for(a, upper),
                "choices": it["choices"], "task_id": it["tid"]}

    # ---- routing_test_data.json ----------------------------------------------------------------------------
    note("writing route_data/")
    rr = _rng(seed, 50)
    test_rows = []
    for ti, a in enumerate(archs):
        t = a["name"]
        prompt, comp = test_tok[t]
        for j, it in enumerate(test_items[t]):
            row = base_row(t, a, it, upper=False)
            if t not in _NO_FORMATTER:
                row["formatted_query"] = {"system": a["system"], "user": it["user"]}
            perf = {}
            for c in range(C):
                s = float(test_scores[t][c, j])
                if a["metric"] == "commongen_coverage":
                    words = it["ans"]
                    k = max(1, int(round(s * len(words))))
                    used = [words[x] for x in sorted(rr.permutation(len(words))[:k].tolist())][:6]
                    resp = "A scene with " + ", ".join(used) + "."
                else:
                    resp = it["ans"] if s >= 1.0 else it["wrong"]
                pt, ct = int(prompt[c, j]), int(comp[c, j])
                perf[cands[c]] = {"response": resp, "prompt_tokens": pt, "completion_tokens": ct,
                                  "input_token": pt, "output_token": ct, "success": True, "task_performance": s}
            row["model_performance"] = perf
            test_rows.append(row)
    _write_json(rdir / "routing_test_data.json", test_rows)

    # ---- default_query_{train,test}.jsonl -----------------------------------------------------------------
    extra_arch = dict(metric="em_mc")
    train_rows = []
    for a in archs:
        train_rows.extend(base_row(a["name"], a, it, upper=True) for it in train_items[a["name"]])
    train_rows.extend(base_row(_EXTRA_JSONL_TASK, extra_arch, it, upper=True) for it in extra_train)
    _write_jsonl(rdir / "default_query_train.jsonl", train_rows)
    jtest = []
    for a in archs:
        items = test_items[a["name"]]
        perm = rr.permutation(len(items)).tolist()
        jtest.extend(base_row(a["name"], a, items[j], upper=True) for j in perm)
    jtest.extend(base_row(_EXTRA_JSONL_TASK, extra_arch, it, upper=True) for it in extra_test)
    _write_jsonl(rdir / "default_query_test.jsonl", jtest)

    # ---- pairwise training data ----------------------------------------------------------------------------
    rp = _rng(seed, 60)
    pi, pj = np.triu_indices(C, k=1)
    pair_counts = {}
    for mode in ("standard", "newllm"):
        keep = np.ones(len(pi), bool) if mode == "standard" else (pi != held_idx) & (pj != held_idx)
        mpi, mpj = pi[keep], pj[keep]
        counts, rows = {}, []
        for a in archs:
            t = a["name"]
            s = train_scores[t]  # [C, Q]
            si, sj = s[mpi], s[mpj]  # [P, Q]
            qidx, pidx = np.nonzero((si != sj).T)  # row-major over (query, pair): pool order
            counts[t] = int(len(qidx))
            k = min(pairs_per_task, len(qidx))
            sel = np.sort(rp.choice(len(qidx), size=k, replace=False)) if k > 0 else np.array([], dtype=int)
            leaked_here = [j_tr for (lt, _, j_tr) in leaked if lt == t]
            if k > 0:
                sel_list = sel.tolist()
                for j_tr in leaked_here:
                    have = [x for x in sel_list if qidx[x] == j_tr]
                    avail = np.nonzero(qidx == j_tr)[0]
                    if have or len(avail) == 0:
                        continue
                    victims = [x for x in range(len(sel_list)) if int(qidx[sel_list[x]]) not in leaked_here]
                    if not victims:
                        continue
                    sel_list[victims[-1]] = int(avail[0])
                sel = np.array(sorted(sel_list), dtype=int)
            for x in sel.tolist():
                q, pp = int(qidx[x]), int(pidx[x])
                ci, cj = int(mpi[pp]), int(mpj[pp])
                better, worse = (ci, cj) if s[ci, q] > s[cj, q] else (cj, ci)
                row = base_row(t, a, train_items[t][q], upper=True)
                row["better_model"] = cands[better]
                row["worse_model"] = cands[worse]
                rows.append(row)
        _write_json(rdir / f"pairwise_training_data_{mode}.json", {"task_data_count": counts, "pairwise_data": rows})
        pair_counts[mode] = dict(pairs=len(rows), pool=counts)

    # ---- detailed scores -----------------------------------------------------------------------------------
    note("writing profile_data/")
    rd = _rng(seed, 70)
    lb_scores = 100 * _sigmoid(skill[:, T:] - lb_base[None, :]) + rd.normal(0.0, 1.5, (M, L))
    lb_scores = np.clip(lb_scores, 0.0, 100.0)
    routing_scores = np.zeros((M, T))
    for ti, t in enumerate(tasks):
        routing_scores[:C, ti] = 100 * train_scores[t].mean(axis=1)
        routing_scores[C:, ti] = np.clip(100 * train_p_aux[t][C:] + rd.normal(0.0, 1.0, M - C), 0, 100)
    null_r = np.zeros((M, T), bool)
    null_l = np.zeros((M, L), bool)
    for m in range(C, M):
        null_r[m] = rd.random(T) < 0.35
        null_l[m] = rd.random(L) < 0.15
        if (~null_r[m]).sum() + (~null_l[m]).sum() < 2:
            null_l[m] = False
    for c in range(C):
        if rd.random() < 0.3 and T >= 2:
            ti = int(rd.integers(T))
            if not (c == held_idx and tasks[ti] == kept_task):
                null_r[c, ti] = True
    for ti in range(T):  # every routing task keeps at least two candidate scores
        if (~null_r[:C, ti]).sum() < 2:
            null_r[:C, ti] = False
    odd_aux = int(C + rd.integers(M - C)) if M > C else None  # auxiliary with null size/parameters/licence

    def detailed(m: int, newllm: bool) -> dict:
        ds = {}
        for li, lb in enumerate(lb_names):
            ds[lb] = None if null_l[m, li] else _r2(lb_scores[m, li])
        for ti, t in enumerate(tasks):
            v = None if null_r[m, ti] else _r2(routing_scores[m, ti])
            if newllm and m == held_idx and t != kept_task:
                v = None
            ds[t] = v
        ds[_ALL_NULL_TASK["name"]] = None
        return ds

    # prices (candidates only), correlated with size
    prices = {}
    for c in range(C):
        ip = max(0.01, round(0.035 * models[c]["params"] ** 0.75 * float(np.exp(rd.normal(0.0, 0.25))), 2))
        op = round(ip * float(rd.choice([1.0, 1.0, 1.5, 2.0, 3.0])), 2)
        prices[cands[c]] = (ip, op)
    quirk = None
    if C >= 3:
        quirk = C - 1 if C - 1 != held_idx else C - 2

    all_phr = [a["phrase"] for a in archs] + [lb["phrase"] for lb in _LEADERBOARD]
    rel_skill = skill - skill.mean(axis=0, keepdims=True)  # strengths relative to the other models
    features = {}
    for m, mod in enumerate(models):
        fam = mod["fam"]
        noisy = rel_skill[m] + rd.normal(0.0, 0.3, T + L)
        order = np.argsort(-noisy, kind="stable")
        s1, s2, w1 = all_phr[order[0]], all_phr[order[1]], all_phr[order[-1]]
        kind = "sparse mixture-of-experts" if mod["moe"] else "dense"
        art = "an" if mod["size"].startswith(("8", "11", "18")) else "a"
        text = (f"{mod['name']} is {art} {mod['size']} {kind} instruction-tuned model from the {fam['brand']} family "
                f"({fam['arch']}). It is comparatively strong at {s1} and {s2}, while {w1} is a relative weakness. "
                f"It is aimed at {_FOCUS[int(rd.integers(len(_FOCUS)))]}.")
        if m < C and m != quirk:
            ip, op = prices[mod["name"]]
            text += f" It is offered at ${ip:.2f} per million input tokens and ${op:.2f} per million output tokens."
        features[mod["name"]] = text

    def record(m: int, newllm: bool, for_candidates_file: bool = False) -> dict:
        mod = models[m]
        fam = mod["fam"]
        is_c = m < C
        priced = is_c and (for_candidates_file or m != quirk)
        ds = detailed(m, newllm)
        lb_vals = [ds[x] for x in lb_names if ds[x] is not None]
        avg = _r2(sum(lb_vals) / len(lb_vals)) if lb_vals and (is_c or m % 3 != 0) else None
        if m == quirk:
            avg = None
        odd = m == odd_aux
        svc = _SERVICES[m % 2] if priced else (None, None)
        rec = {
            "size": None if odd else mod["size"],
            "feature": features[mod["name"]],
            "input_price": prices[mod["name"]][0] if priced else None,
            "output_price": prices[mod["name"]][1] if priced else None,
            "model": f"{fam['org']}/{mod['name']}",
            "service": svc[0],
            "api_endpoint": svc[1],
            "average_score": avg,
            "detailed_scores": {k: ds[k] for k in lb_names} if for_candidates_file else ds,
            "parameters": None if odd else mod["params"],
            "architecture": fam["arch"],
            "license": None if odd else fam["license"],
            "tags": [] if odd else list(fam["tags"]),
            "languages": [] if odd else list(fam["languages"]),
        }
        if not for_candidates_file:
            primary = is_c and m != quirk
            rec["router_enabled"] = primary
            rec["role"] = "primary" if primary else "auxiliary"
        return rec

    for mode in ("standard", "newllm"):
        _write_json(pdir / f"model_feature_{mode}.json", {names[m]: record(m, mode == "newllm") for m in range(M)})
    _write_json(pdir / "candidate_models.json", {names[c]: record(c, False, True) for c in range(C)})

    fam_seen = []
    for mod in models:
        if mod["fam"]["arch"] not in [f["arch"] for f in fam_seen]:
            fam_seen.append(mod["fam"])
    _write_json(pdir / "model_family_feature.json", {f["arch"]: f["desc"] for f in fam_seen})
    task_desc = {lb["name"]: lb["desc"] for lb in _LEADERBOARD}
    task_desc.update({a["name"]: a["desc"] for a in archs})
    task_desc[_ALL_NULL_TASK["name"]] = _ALL_NULL_TASK["desc"]
    task_desc.update(_UNUSED_TASKS)
    _write_json(pdir / "task_feature.json", task_desc)
    _write_json(pdir / "domain_feature.json", {dm: _DOMAIN_DESC[dm] for dm in domains})
    _write_json(pdir / "domain_task_map.json", domain_map)
    if with_task_queries:
        tq = {t: [it["q"] for it in train_items[t]] for t in tasks}
        for mode in ("standard", "newllm"):
            _write_json(pdir / f"task_queries_{mode}.json", tq)

    # ---- summary and sanity numbers ------------------------------------------------------------------------
    S = np.concatenate([test_scores[t] for t in tasks], axis=1)  # [C, N]
    per_model = S.mean(axis=1)
    best_c = int(np.argmax(per_model))
    oracle = float(S.max(axis=0).mean())
    per_task_pick = {t: cands[int(np.argmax(train_acc[:, ti]))] for ti, t in enumerate(tasks)}
    per_task_score = float(np.mean(np.concatenate(
        [test_scores[t][cands.index(per_task_pick[t])] for t in tasks])))
    mx, mn = S.max(axis=0), S.min(axis=0)
    disc = mx > mn
    held_best = (S[held_idx] == mx) & disc
    held_unique = held_best & ((S == mx[None, :]).sum(axis=0) == 1)
    files = sorted(str(p.relative_to(out)) for p in list(pdir.glob("*.json")) + list(rdir.glob("*.json*")))
    summary = {
        "out_dir": str(out),
        "seed": int(seed),
        "params": params,
        "held_out": held,
        "held_out_kept_task": kept_task,
        "candidates": cands,
        "n_models": M,
        "n_candidates": C,
        "n_auxiliary": M - C,
        "families": [f["arch"] for f in fam_seen],
        "routing_tasks": tasks,
        "leaderboard_tasks": lb_names,
        "domains": domains,
        "n_test_rows": len(test_rows),
        "n_train_queries": sum(len(train_items[t]) for t in tasks),
        "n_train_jsonl_rows": len(train_rows),
        "n_test_jsonl_rows": len(jtest),
        "pairs": {m: v["pairs"] for m, v in pair_counts.items()},
        "pair_pool": {m: v["pool"] for m, v in pair_counts.items()},
        "leaked_queries": len(leaked_queries),
        "price_quirk_model": cands[quirk] if quirk is not None else None,
        "files": files,
        "sanity": {
            "per_model_test_mean": {cands[c]: round(float(per_model[c]), 4) for c in range(C)},
            "best_single": {"model": cands[best_c], "score": round(float(per_model[best_c]), 4)},
            "oracle": round(oracle, 4),
            "per_task_best": {"score": round(per_task_score, 4), "picks": per_task_pick},
            "discriminative_rows": int(disc.sum()),
            "all_zero_rows": int((mx == 0).sum()),
            "held_out_best_rows": int(held_best.sum()),
            "held_out_unique_best_rows": int(held_unique.sum()),
        },
    }
    note(f"done: {len(test_rows)} test rows, {summary['n_train_queries']} training queries, held-out {held}")
    return summary
