"""Query generators: arithmetic word problems and contest mathematics.

Each generator returns the item dict described in rpcli.core.data.synth.queries.
"""

from __future__ import annotations

import math

from rpcli.core.data.synth.draw import Draw
from rpcli.core.data.synth.vocab import full_name, person, place_name

_SHOP_ITEMS = ["notebooks", "apples", "pencils", "candles", "socks", "mugs", "plant pots", "tennis balls", "comics"]
_VEHICLES = ["train", "bus", "truck", "ferry", "car", "motorcycle"]
_BAKED = ["cookies", "muffins", "cupcakes", "rolls", "scones", "brownies"]
_THINGS = ["bicycle", "guitar", "tablet", "camping trip", "pair of boots", "telescope", "video game console"]


def gen_word_math(d: Draw) -> dict:
    """A grade-school word problem (GSM8K style) with its worked solution and answer."""
    sub = d.int(0, 3)
    name, pro, pos = person(d)
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
        q = (f"A {d.pick(_VEHICLES)} leaves {place_name(d)} and travels at {v} miles per hour for {t} hours, then at "
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


def gen_contest_math(d: Draw) -> dict:
    """A contest-style math problem (MATH style) with its boxed answer."""
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
            who = full_name(d)
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
        name, pro, _ = person(d)
        body = f"{name} is practising for a mathematics contest in {place_name(d)}. " + body
    q = body + _BOXED
    ans_s = str(ans)
    wrong = str(ans + d.pick([-2, -1, 1, 3, 7])) if isinstance(ans, int) else str(ans + 1)
    return {"q": q, "gt": ans_s, "choices": None, "tid": None, "user": None, "sub": sub, "cx": min(1.0, cx),
            "ans": f"\\boxed{{{ans_s}}}", "wrong": f"\\boxed{{{wrong}}}"}
