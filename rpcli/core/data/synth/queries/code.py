"""Query generators: Python functions (mbpp-like), completions (human_eval-like) and SQL.

Each generator returns the item dict described in rpcli.core.data.synth.queries.
"""

from __future__ import annotations

from rpcli.core.data.synth.draw import Draw
from rpcli.core.data.synth.vocab import WORDS

# --- code ops shared by py_func (mbpp-like) and code_complete (human_eval-like) ---


def _rand_list(d: Draw, lo=-20, hi=99, n_lo=3, n_hi=8):
    return [d.int(lo, hi) for _ in range(d.int(n_lo, n_hi))]


def _rand_word_str(d: Draw):
    return " ".join(d.sample(WORDS, d.int(1, 4)))


def _rand_dict(d: Draw, lo=0, hi=999, initial=None):
    keys = d.sample(WORDS, d.int(2, 5))
    if initial is not None and d.chance(0.7):
        starts = [w for w in WORDS if w.startswith(initial) and w not in keys]
        if starts:
            keys.insert(d.int(0, len(keys)), d.pick(starts))
    return {k: d.int(lo, hi) for k in keys}


def _code_op(d: Draw) -> dict:
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
        src = d.pick(WORDS)
        a = d.int(0, len(src) - 2)
        w = src[a:a + d.int(2, 3)]
        n = d.int(5, 200)
        f = lambda s: s[:n].count(w)  # noqa: E731
        spec = dict(sub=1, text=f"count how many times the substring '{w}' occurs in the first {n} characters of a "
                                f"string", fname="count_substring", sig="text: str", ret="int",
                    inputs=lambda: (_rand_word_str(d) + " " + src,), fn=f, sol=f"return VAR[:{n}].count('{w}')",
                    bad=f"return VAR.count('{w}')", cx=0.2)
    elif op == 6:
        w1, w2 = d.pick(WORDS), d.pick(WORDS)
        f = lambda s: s.startswith(w1) and s.endswith(w2)  # noqa: E731

        def inp():
            mid = " ".join(d.sample(WORDS, d.int(0, 2)))
            if d.chance(0.5):
                return (f"{w1} {mid} {w2}".replace("  ", " "),)
            return (f"{d.pick(WORDS)} {mid} {w2}".replace("  ", " "),)
        spec = dict(sub=1, text=f"check whether a string starts with '{w1}' and ends with '{w2}'",
                    fname="check_ends", sig="text: str", ret="bool", inputs=inp, fn=f,
                    sol=f"return VAR.startswith('{w1}') and VAR.endswith('{w2}')",
                    bad=f"return VAR.startswith('{w1}') or VAR.endswith('{w2}')", cx=0.3)
    elif op == 7:
        w1, w2 = d.sample(WORDS, 2)
        f = lambda s: s.replace(w1, w2)  # noqa: E731
        spec = dict(sub=1, text=f"replace every occurrence of the word '{w1}' in a string with '{w2}'",
                    fname="replace_word", sig="text: str", ret="str",
                    inputs=lambda: (" ".join(d.sample(WORDS[:20] + [w1, w1], d.int(2, 5))),), fn=f,
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


def gen_py_func(d: Draw) -> dict:
    """A python function task (MBPP style) with its test asserts."""
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


def gen_code_complete(d: Draw) -> dict:
    """A function-completion task (HumanEval style) with its test asserts."""
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


_TABLES = [("orders", ["amount", "quantity", "discount"], ["customer_id", "region", "status"]),
           ("employees", ["salary", "age", "bonus"], ["department", "city", "title"]),
           ("products", ["price", "stock", "rating"], ["category", "supplier", "brand"]),
           ("sensor_readings", ["temperature", "humidity", "pressure"], ["station_id", "sensor_type", "city"])]
_AGG = [("AVG", "the average {col}"), ("SUM", "the total {col}"), ("MAX", "the largest {col}"),
        ("MIN", "the smallest {col}"), ("COUNT", "the count of non-null {col} values")]


def gen_sql(d: Draw) -> dict:
    """A SQL query task over a small table, with its reference query."""
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
