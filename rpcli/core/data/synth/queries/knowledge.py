"""Query generators: factoid and open questions, academic, science, commonsense and graduate multiple choice.

Each generator returns the item dict described in rpcli.core.data.synth.queries.
"""

from __future__ import annotations

import math

from rpcli.core.data.synth.draw import Draw
from rpcli.core.data.synth.vocab import (
    SYL1, SYL2, SYL3, fmt_num, full_name, mc, mc_item, ordinal, person, place_name, title)

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


def gen_factoid(d: Draw) -> dict:
    """A short factoid question (dates, people, places) with its answer."""
    sub = d.int(0, 3)
    year = d.int(1610, 2015)
    if sub == 0:
        t = d.int(0, 2)
        if t == 0:
            q = f"Which {d.pick(_TITLES)} of {place_name(d)} signed the Treaty of {place_name(d)} in {year}?"
            a, w = full_name(d), full_name(d)
        elif t == 1:
            q = f"In what year did the {place_name(d)} {d.pick(_EVENTS)} begin?"
            a, w = str(year), str(year + d.int(1, 30))
        else:
            q = f"Who led the {place_name(d)} expedition that reached the {d.pick(_GEO)} in {year}?"
            a, w = full_name(d), full_name(d)
    elif sub == 1:
        t = d.int(0, 1)
        if t == 0:
            q = (f"Which {d.pick(_SCI_ROLE)} first isolated the compound "
                 f"{d.pick(_COMPOUND_A)}{d.pick(_COMPOUND_B)} at the {place_name(d)} laboratory in {year}?")
        else:
            genus = d.pick(SYL1) + d.pick(["ia", "ella", "opsis", "anthus", "odon", "ura"])
            q = (f"Which naturalist first described the {d.pick(_ORGANISM)} {genus} "
                 f"{d.pick(SYL2)}{d.pick(SYL3)}ensis, collected near {place_name(d)}?")
        a, w = full_name(d), full_name(d)
    elif sub == 2:
        t = d.int(0, 2)
        if t == 0:
            q = f"What is the capital city of the province of {place_name(d)}?"
            a, w = place_name(d), place_name(d)
        elif t == 1:
            q = f"Which river flows through the city of {place_name(d)} before emptying into the {d.pick(_SEAS)}?"
            a, w = f"the {place_name(d)} River", f"the {place_name(d)} River"
        else:
            q = f"On which continent are the {place_name(d)} {d.pick(_LANDFORM)} located?"
            a = d.pick(_CONTINENTS)
            w = d.pick([c for c in _CONTINENTS if c != a])
    else:
        t = d.int(0, 2)
        if t == 0:
            q = f"Who wrote the {year} novel '{title(d)}'?"
        elif t == 1:
            q = f"Which painter created the work '{title(d)}', completed in {year}?"
        else:
            q = f"Who composed the opera '{title(d)}', first performed in {place_name(d)} in {year}?"
        a, w = full_name(d), full_name(d)
    cx = min(1.0, max(0.0, (2015 - year) / 400 * 0.6 + d.f() * 0.4))
    return {"q": q, "gt": a, "choices": None, "tid": None, "user": q, "sub": sub, "cx": cx, "ans": a, "wrong": w}


_SHOW_KIND = ["the tv series", "the film", "the animated series", "the stage musical", "the miniseries"]
_ROLES = ["the detective", "the young queen", "the ship's captain", "the mayor", "the villain", "the narrator",
          "the old fisherman", "the lead scientist", "the twin sisters' father", "the headmaster"]
_SPORT_COMP = ["world cup", "continental championship", "national league", "olympic gold in hockey",
               "rugby sevens title", "basketball championship", "chess olympiad", "cycling grand tour"]
_OFFICE = ["president", "prime minister", "mayor", "chief justice", "governor", "foreign minister"]


def gen_open_qa(d: Draw) -> dict:
    """An open question (who/where/when) with its answer."""
    sub = d.int(0, 3)
    if sub == 0:
        q = f"who plays {d.pick(_ROLES)} in {d.pick(_SHOW_KIND)} {title(d)}"
        a, w = full_name(d), full_name(d)
        if d.chance(0.4):
            q += f" season {d.int(1, 9)}"
    elif sub == 1:
        yr = d.int(1920, 2022)
        q = f"when did {place_name(d)} win the {d.pick(_SPORT_COMP)} for the first time"
        a, w = str(yr), str(yr + d.int(1, 12))
    elif sub == 2:
        n = d.int(1, 10)
        q = f"who was the {ordinal(n)} {d.pick(_OFFICE)} of {place_name(d)}"
        a, w = full_name(d), full_name(d)
    else:
        yr = d.int(1955, 2022)
        q = f"who sang {title(d).lower()} in {yr}"
        a, w = full_name(d), full_name(d)
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


def gen_academic_mc(d: Draw) -> dict:
    """An academic multiple-choice question (MMLU style)."""
    sub = d.int(0, 3)
    if sub == 0:  # physics
        if d.chance(0.5):
            m = d.int(2, 250)
            F = d.int(5, 2000)
            q = f"A {d.pick(_OBJECTS)} of mass {m} kg is pushed with a net force of {F} N. What is its acceleration?"
            c = F / m
            opts, letter = mc(d, f"{fmt_num(c)} m/s^2", [f"{fmt_num(F * m)} m/s^2", f"{fmt_num(m / F)} m/s^2",
                                                           f"{fmt_num(2 * c)} m/s^2", f"{fmt_num(c / 2)} m/s^2"])
            cx = 0.3 + 0.4 * (F % m != 0)
        else:
            t = d.int(1, 40) / 2
            q = (f"A {d.pick(_OBJECTS)} is dropped from rest from a cliff near {place_name(d)} and falls for "
                 f"{fmt_num(t)} s. "
                 f"Ignoring air resistance, how far does it fall? (g = 9.8 m/s^2)")
            c = 4.9 * t * t
            opts, letter = mc(d, f"{fmt_num(c)} m", [f"{fmt_num(9.8 * t)} m", f"{fmt_num(2 * c)} m",
                                                       f"{fmt_num(9.8 * t * t)} m", f"{fmt_num(c / 4)} m"])
            cx = 0.5 + t / 80
    elif sub == 1:  # economics
        if d.chance(0.5):
            p = d.int(2, 60)
            qq = d.int(1, 90)
            while qq == p:
                qq = d.int(1, 90)
            q = (f"If the price of {d.pick(_GOODS)} rises by {p}% and the quantity demanded falls by {qq}%, "
                 f"what is the price elasticity of demand?")
            opts, letter = mc(d, f"{-qq / p:.2f}", [f"{-p / qq:.2f}", f"{qq / p:.2f}", f"{-(qq + p) / 100:.2f}",
                                                      f"{p / qq:.2f}"])
            cx = 0.4
        else:
            fc = d.int(10, 500) * 100
            vc = d.int(1, 90)
            n = d.int(10, 2000)
            q = (f"A firm in {place_name(d)} has fixed costs of ${fc} and a constant variable cost of ${vc} per unit. "
                 f"What is its average total cost of producing {n} units?")
            c = (fc + vc * n) / n
            opts, letter = mc(d, f"${c:.2f}", [f"${fc / n:.2f}", f"${vc:.2f}", f"${(fc + vc) / n:.2f}",
                                                f"${c * 1.5:.2f}"])
            cx = 0.6
    elif sub == 2:  # biology
        if d.chance(0.5):
            func = d.pick(list(_ORGANELLE))
            q = (f"Which organelle is primarily responsible for {func} in a {d.pick(_CELLS)} cell of "
                 f"a species found near {place_name(d)}?")
            opts, letter = mc(d, _ORGANELLE[func], list(_ORGANELLE.values()))
            cx = 0.2
        else:
            N = d.int(2, 99) * 100
            qf = d.int(1, 9) / 10
            q = (f"In a population of {N} {d.pick(_CREATURES)} in Hardy-Weinberg equilibrium, the frequency of the "
                 f"recessive allele is {qf}. How many individuals are expected to be heterozygous?")
            c = 2 * qf * (1 - qf) * N
            opts, letter = mc(d, fmt_num(c), [fmt_num(qf * qf * N), fmt_num((1 - qf) ** 2 * N),
                                                fmt_num(qf * (1 - qf) * N), fmt_num(2 * qf * N)])
            cx = 0.75
    else:  # law
        doc = d.pick(list(_DOCTRINES))
        q = (f"Under the doctrine of {doc}, a court in {place_name(d)} would most likely hold that "
             f"{d.pick(_LAW_PARTY)} is")
        opts, letter = mc(d, _DOCTRINES[doc], [v for k, v in _DOCTRINES.items() if k != doc])
        cx = 0.5 + d.f() * 0.3
    return mc_item(d, q, opts, letter, sub, cx, kind="list", user_style="list")


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


def gen_science_mc(d: Draw) -> dict:
    """A grade-school science multiple-choice question (ARC style)."""
    sub = d.int(0, 3)
    if sub == 0:
        obs, proc = d.pick(_EARTH)
        q = f"A student in {place_name(d)} notices that {obs}. Which process best explains this observation?"
        opts, letter = mc(d, proc, [p for _, p in _EARTH])
        cx = 0.3
    elif sub == 1:
        org, hab, trait, ben = d.pick(_LIFE)
        adj = d.pick(["small", "young", "wild", "common", "native"])
        q = (f"{adj.capitalize()} {org} living in {hab} near {place_name(d)} have {trait}. "
             f"How does this trait most likely help them survive?")
        opts, letter = mc(d, ben, [b for _, _, _, b in _LIFE])
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
        opts, letter = mc(d, hot_to_cold, [other, f"Cold moves from the {obj} to the spoon.",
                                            "No energy is transferred between them.",
                                            f"The spoon and the {obj} both get warmer."])
        cx = 0.45 - abs(t1 - t2) / 400
    else:
        dist = d.int(5, 900)
        days = d.int(2, 300)
        q = (f"A space probe launched from {place_name(d)} travels {dist} million kilometres in {days} days. "
             f"What is its average speed?")
        c = dist / days
        opts, letter = mc(d, f"{c:.2f} million km per day", [f"{days / dist:.2f} million km per day",
                                                             f"{dist * days:.0f} million km per day",
                                                             f"{c * 24:.2f} million km per day",
                                                             f"{c / 2:.2f} million km per day"])
        cx = 0.55
    return mc_item(d, q, opts, letter, sub, max(0.0, cx + 0.2 * d.f()), kind="dict", user_style="paren")


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


def gen_commonsense_mc(d: Draw) -> dict:
    """A commonsense multiple-choice question about everyday situations."""
    sub = d.int(0, 2)
    name, pro, _ = person(d)
    if d.chance(0.6):
        rel, pro = d.pick(_RELATIVES)
        name = f"{name}'s {rel}"
    if sub == 0:
        goal, act = d.pick(_GOALS)
        q = f"{name} wanted to {goal} {d.pick(_TIMES)}, so what did {pro} most likely do first?"
        opts, letter = mc(d, act, [a for g, a in _GOALS if g != goal], n=5)
    elif sub == 1:
        obj, place = d.pick(_KEEP)
        q = f"Where would {name} from {place_name(d)} most likely keep a {obj}?"
        opts, letter = mc(d, place, [p for o, p in _KEEP if o != obj], n=5)
    else:
        ev, feel = d.pick(_FEEL)
        q = f"{name} {ev} {d.pick(_TIMES)}. How did {pro} most likely feel?"
        opts, letter = mc(d, feel, [f for e, f in _FEEL if e != ev], n=5)
    return mc_item(d, q, opts, letter, sub, d.f(), kind="dict", user_style="paren")


_GASES = ["nitrogen", "argon", "helium", "oxygen", "neon", "carbon dioxide"]


def gen_grad_science(d: Draw) -> dict:
    """A graduate-level science multiple-choice question (the extra task of the jsonl files)."""
    sub = d.int(0, 3)
    if sub == 0:
        P, V, T = d.int(1, 50) / 2, d.int(1, 400) / 4, d.int(200, 900)
        c = P * V / (0.082057 * T)
        q = (f"A sample of {d.pick(_GASES)} at {T} K and {fmt_num(P)} atm occupies {fmt_num(V)} L. Assuming ideal "
             f"behaviour, how many moles of gas are present?")
        opts, letter = mc(d, f"{c:.3g} mol", [f"{c * 2:.3g} mol", f"{c / 2:.3g} mol", f"{c * 10:.3g} mol",
                                               f"{P * V / (8.314 * T):.3g} mol"])
    elif sub == 1:
        lam = d.int(100, 2000)
        c = 1239.84 / lam
        src = d.pick(["a laser", "a distant star", "an LED", "a hydrogen lamp", "a synchrotron", "a fluorescent dye",
                      "a quantum dot", "an X-ray tube", "a sodium lamp", "a nebula"])
        q = f"A photon emitted by {src} has a wavelength of {lam} nm. What is its energy?"
        opts, letter = mc(d, f"{c:.3g} eV", [f"{c * 10:.3g} eV", f"{c / 10:.3g} eV", f"{lam / 1239.84:.3g} eV",
                                              f"{c * 2:.3g} eV"])
    elif sub == 2:
        m, e = d.int(10, 99) / 10, d.int(1, 6)
        conc = m * 10 ** (-e)
        c = -math.log10(conc)
        acid = d.pick(["hydrochloric acid", "hydrobromic acid", "hydroiodic acid", "nitric acid", "perchloric acid"])
        q = (f"A {d.int(5, 500)} mL sample of {m} x 10^-{e} M aqueous {acid} is prepared. "
             f"What is the pH of the solution?")
        opts, letter = mc(d, f"{c:.2f}", [f"{14 - c:.2f}", f"{c + 1:.2f}", f"{e:.2f}", f"{c - 0.5:.2f}"])
    else:
        t = d.int(2, 500)
        k = d.int(2, 8)
        q = (f"At {d.int(250, 800)} K a first-order reaction has a half-life of {t} s. What fraction of the reactant "
             f"remains after {t * k} s?")
        opts, letter = mc(d, f"1/{2 ** k}", [f"1/{2 * k}", f"1/{k}", f"1/{2 ** (k + 1)}", f"1/{k * k}"])
    return mc_item(d, q, opts, letter, sub, 0.7 + 0.3 * d.f(), kind="list", user_style="list")
