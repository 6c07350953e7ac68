"""Property-based tests (hypothesis, issue 13): the dataset loader and the score importer either load a random
(valid or broken) input or raise our clear error type (RpError), never another exception; recipe keys ignore
the order of dict keys, change with any value and are the same in another process; a random sequence of
register/remove/replace on the manifest reloads as the model of it says.

Every random choice is hypothesis's, derandomized (the same examples on every run); the whole file stays well
under 30 s (max_examples per test, deadline off for the slow shared machine).
"""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings  # the `test` extra installs it (pyproject.toml)
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from rpcli.errors import RpError
from tiny import files as tiny_files
from tiny import write_tiny

FAST = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# any JSON value (finite floats: JSON has no NaN; the corpus covers NaN/Infinity tokens separately)
scalars = (st.none() | st.booleans() | st.integers(min_value=-10**20, max_value=10**20)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)

TINY = tiny_files()
DATA_FILES = sorted(TINY)


def _paths(doc, prefix=()):
    """Every (path) to a value inside a JSON document, the root included."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, prefix + (i,))


def _set(doc, path, value, delete=False):
    if not path:
        return value
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    elif delete and isinstance(parent, list):
        parent.pop(path[-1])
    else:
        parent[path[-1]] = value
    return doc


@st.composite
def dataset_edits(draw):
    """One to three edits of the tiny dataset: a value replaced by a random JSON value, a key or item deleted, or a
    file replaced by random text or bytes. Many leave the data valid (they must load); the rest must be refused."""
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        rel = draw(st.sampled_from(DATA_FILES))
        how = draw(st.sampled_from(["value", "value", "delete", "text"]))
        if how == "text":
            edits.append((rel, "text", None, draw(st.text(max_size=40) | st.binary(max_size=40))))
            continue
        paths = list(_paths(TINY[rel]))
        path = paths[draw(st.integers(0, len(paths) - 1))]
        edits.append((rel, how, path, draw(json_values) if how == "value" else None))
    return edits


def _apply(files: dict, edits) -> None:
    for rel, how, path, value in edits:
        if how == "text":
            files[rel] = value
            continue
        doc = files[rel]
        if isinstance(doc, str | bytes):
            continue  # already replaced by text
        try:
            files[rel] = _set(doc, path, copy.deepcopy(value), delete=how == "delete")
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed that path


def _write(root: Path, edits) -> Path:
    binary = {}

    def mutate(f):
        _apply(f, edits)
        for rel, v in list(f.items()):
            if isinstance(v, bytes):
                binary[rel] = f.pop(rel)
            elif rel.endswith(".jsonl") and not isinstance(v, str | list):
                f[rel] = json.dumps(v)  # a JSON lines file whose whole content is one other value

    write_tiny(root, mutate)
    for rel, b in binary.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b)
    return root


_COUNTER = {"n": 0}


def _fresh(tmp_path: Path, name: str) -> Path:
    _COUNTER["n"] += 1
    return tmp_path / f"{name}{_COUNTER['n']}"


@FAST
@given(edits=dataset_edits())
def test_dataset_loader_loads_or_raises_a_clear_error(tmp_path, edits):
    from rpcli.core.data import load_dataset

    root = _write(_fresh(tmp_path, "d"), edits)
    try:
        ds = load_dataset(root)
    except RpError as exc:
        assert str(exc).strip() and "Traceback" not in str(exc)
        return
    for mode in ("standard", "newllm"):  # what loaded is usable: every mode resolves
        ds.mode(mode)


score_records = st.fixed_dictionaries(
    {"query": st.text(max_size=10) | json_values, "task": st.sampled_from(["t1", "t2", ""]) | json_values,
     "model": st.sampled_from(["a", "b", "c"]) | json_values,
     "score": st.floats(min_value=0, max_value=1) | json_values},
    optional={"prompt_tokens": json_values, "cost": json_values, "extra": json_values})


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(records=st.lists(score_records, min_size=0, max_size=14), valid_rows=st.integers(0, 12),
       as_lines=st.booleans())
def test_score_importer_imports_or_raises_a_clear_error(tmp_path, records, valid_rows, as_lines):
    from rpcli.services.data.importer import import_dataset

    good = [{"query": f"q{i}", "task": f"t{i % 2}", "model": m, "score": (i * 7 % 10) / 10}
            for i in range(valid_rows) for m in ("a", "b", "c")]
    rows = good + records
    src = _fresh(tmp_path, "scores").with_suffix(".jsonl" if as_lines else ".json")
    src.write_text("".join(json.dumps(r) + "\n" for r in rows) if as_lines else json.dumps(rows), encoding="utf-8")
    out = _fresh(tmp_path, "out")
    try:
        import_dataset(src, "scores", out, test_fraction=0.3, seed=0, hold_out=None, pairs_per_task=None, cards=None)
    except RpError as exc:
        assert str(exc).strip()
        assert not out.exists() or not any(out.iterdir()), "nothing is written unless the whole dataset is valid"
        return
    from rpcli.core.data import load_dataset

    load_dataset(out)  # what the importer wrote loads with the normal loader


# ------------------------------------------------------------------------------------------------ recipe hashing
recipes = st.fixed_dictionaries({
    "kind": st.sampled_from(["graph", "profile", "run"]),
    "params": st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=6),
    "parents": st.lists(st.text(min_size=1, max_size=8), max_size=3),
    "inputs": st.dictionaries(st.sampled_from(["data", "encoder", "parents"]), st.text(max_size=8), max_size=3)})


def _reorder(obj, rnd):
    """The same JSON value with every dict's keys in another order."""
    if isinstance(obj, dict):
        items = list(obj.items())
        rnd.shuffle(items)
        return {k: _reorder(v, rnd) for k, v in items}
    if isinstance(obj, list):
        return [_reorder(v, rnd) for v in obj]
    return obj


def _key(r):
    from rpcli.workspace.hashing import recipe_key

    return recipe_key(r["kind"], r["params"], r["parents"], r["inputs"])


@FAST
@given(r=recipes, rnd=st.randoms(use_true_random=False))
def test_recipe_key_ignores_dict_key_order(r, rnd):
    assert _key(r) == _key({k: _reorder(v, rnd) for k, v in r.items()})


def _different(a, b) -> bool:
    """True when JSON texts differ (1 and 1.0 and True are different values in a recipe)."""
    from rpcli.workspace.hashing import canonical_json

    return canonical_json(a) != canonical_json(b)


@FAST
@given(r=recipes, data=st.data())
def test_recipe_key_changes_with_any_value(r, data):
    paths = [p for p in _paths(r["params"])]
    path = data.draw(st.sampled_from(paths))
    new_value = data.draw(json_values)
    changed = copy.deepcopy(r)
    changed["params"] = _set(changed["params"], path, copy.deepcopy(new_value))
    if not isinstance(changed["params"], dict):
        return  # the root of params replaced by a non-object: not a recipe
    if _different(changed["params"], r["params"]):
        assert _key(changed) != _key(r)
    else:
        assert _key(changed) == _key(r)
    # a different kind, parent list or input changes it too
    assert _key({**r, "kind": r["kind"] + "x"}) != _key(r)
    assert _key({**r, "parents": [*r["parents"], "p"]}) != _key(r)
    assert _key({**r, "inputs": {**r["inputs"], "data": r["inputs"].get("data", "") + "x"}}) != _key(r)


@settings(max_examples=3, deadline=None, derandomize=True, database=None)
@given(batch=st.lists(recipes, min_size=5, max_size=20))
def test_recipe_key_is_the_same_in_another_process(batch):
    here = [_key(r) for r in batch]
    code = ("import json,sys; from rpcli.workspace.hashing import recipe_key; "
            "print(json.dumps([recipe_key(r['kind'], r['params'], r['parents'], r['inputs']) "
            "for r in json.load(sys.stdin)]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # another str hash seed: nothing may depend on it
    out = subprocess.run([sys.executable, "-c", code], input=json.dumps(batch), capture_output=True, text=True,
                         env=env, timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == here


# ------------------------------------------------------------------------------------------------ the manifest
ids = st.sampled_from([f"{k}-{i:010d}" for k in ("graph", "profile", "run") for i in range(6)])
bodies = st.fixed_dictionaries({"params": st.dictionaries(st.text(max_size=5), scalars, max_size=3),
                                "metrics": st.dictionaries(st.text(max_size=5),
                                                           st.floats(allow_nan=False, allow_infinity=False),
                                                           max_size=2),
                                "note": st.text(max_size=20)})


class ManifestMachine(RuleBasedStateMachine):
    """register / remove / replace-all on a real workspace, with a dict as the model; after every step the
    manifest reloaded from disk (store and export) equals the model."""

    def __init__(self):
        super().__init__()
        import tempfile

        from rpcli.workspace.layout import Workspace

        self.tmp = tempfile.TemporaryDirectory()
        self.ws = Workspace(Path(self.tmp.name) / "ws")
        self.model: dict = {}

    def _entry(self, i, body):
        return {"id": i, "kind": i.split("-")[0], "status": "done", "created_at": "2026-01-01T00:00:00Z", **body}

    @rule(i=ids, body=bodies)
    def register(self, i, body):
        from rpcli.workspace.manifest import register_entry

        e = self._entry(i, body)
        register_entry(self.ws, e)
        self.model[i] = json.loads(json.dumps(e))

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def remove(self, data):
        from rpcli.workspace.manifest import remove_entry

        i = data.draw(st.sampled_from(sorted(self.model)))
        remove_entry(self.ws, i)
        del self.model[i]

    @rule(i=ids)
    def remove_absent_or_present(self, i):
        from rpcli.workspace.manifest import remove_entry

        remove_entry(self.ws, i)
        self.model.pop(i, None)

    @rule(i=ids, body=bodies)
    def update(self, i, body):
        from rpcli.workspace.manifest import update_manifest

        e = self._entry(i, body)

        def fn(doc):
            doc["entries"][i] = e
        update_manifest(self.ws, fn)
        self.model[i] = json.loads(json.dumps(e))

    @invariant()
    def reloads_as_the_model(self):
        from rpcli.workspace.manifest import get_entry, list_entries, load_manifest

        if not self.model and not self.ws.root.exists():
            return
        doc = load_manifest(self.ws)
        assert doc["entries"] == self.model
        assert [e["id"] for e in list_entries(self.ws)] == sorted(self.model)
        export = json.loads(self.ws.manifest_path.read_text(encoding="utf-8"))
        assert export["entries"] == self.model  # the export follows the store (small workspaces)
        for i in self.model:
            assert get_entry(self.ws, i) == self.model[i]
        assert not any(math.isnan(v) for e in self.model.values() for v in e["metrics"].values())

    def teardown(self):
        self.tmp.cleanup()


ManifestMachine.TestCase.settings = settings(max_examples=12, stateful_step_count=12, deadline=None,
                                             derandomize=True, database=None)
test_manifest_register_remove_reload = ManifestMachine.TestCase
