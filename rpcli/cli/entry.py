"""The `rp` executable's entry point: help texts from a cache, everything else through the Typer app.

Rendering a help text (`rp`, `rp --help`, `rp GROUP --help`, `rp GROUP COMMAND --help`) means importing Typer,
Click and Rich, loading the registry's plugins and building every command (about 0.35-0.5 s of CPU); the text only
changes when the code that makes it, the installed plugins, the terminal or the colour settings change. So the first
rendering is kept in the user's cache directory (``$XDG_CACHE_HOME/rp`` or ``~/.cache/rp``; set
``RP_NO_HELP_CACHE=1`` to turn it off) under a key made of everything it depends on: rp's version, the Python
version, the versions of Typer, Rich and Click, the size and modification time of every file of the ``rpcli/cli``
package, the terminal width, whether stdout is a terminal and the colour variables (NO_COLOR, FORCE_COLOR, TERM,
COLUMNS, TERMINAL_WIDTH, ...). A subcommand's help also depends on the registry (a router's options come from its
Config): its key adds the size and modification time of every file of the ``rpcli`` package, every `rp.routers` /
`rp.profiles` entry point with its distribution's version, and the size and modification time of each installed
plugin's source files (found without importing them). A cached help is printed as it was rendered, with the same
exit code; anything else (or a cache that cannot be read or written) goes through the app as before. Only the
standard library is imported on the cached path. The root help lists command groups only, so installed plugins are
not part of its key (tests/test_plugins.py checks that the text cached before an install is the text rendered after
it).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

_HELP_ARGS = ([], ["--help"])
_ENV_KEYS = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "COLUMNS", "LINES", "TERMINAL_WIDTH",
             "TTY_COMPATIBLE", "TTY_INTERACTIVE", "_TYPER_FORCE_DISABLE_TERMINAL", "JUPYTER_COLUMNS")


def _is_help(argv: list[str]) -> bool:
    """`rp`, `rp --help`, `rp GROUP --help` or `rp GROUP COMMAND --help` (plain command words, no options)."""
    if argv in _HELP_ARGS:
        return True
    words = argv[:-1]
    return (argv[-1:] == ["--help"] and 1 <= len(words) <= 2
            and all(w[:1].isalpha() and w.replace("-", "").replace("_", "").isalnum() for w in words))


def _tree_stamp(h, root: Path) -> None:
    for f in sorted(root.rglob("*.py")):
        st = f.stat()
        h.update(f"|{f.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}".encode())


def _plugin_stamp(h) -> None:
    """The registry's inputs: every rp.routers / rp.profiles entry point, its distribution's version, and the
    sources of the plugins that are not rp's own (found with find_spec on their top-level name: nothing imported)."""
    import importlib.util
    from importlib import metadata

    tops = set()
    for group in ("rp.routers", "rp.profiles"):
        for ep in sorted(metadata.entry_points(group=group), key=lambda e: (e.name, e.value)):
            dist = getattr(ep, "dist", None)
            h.update(f"|{group}:{ep.name}={ep.value}@{dist.name if dist else '?'}-{dist.version if dist else '?'}"
                     .encode())
            top = ep.value.split(":")[0].split(".")[0]
            if top != "rpcli":
                tops.add(top)
    for top in sorted(tops):
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            h.update(f"|{top}:missing".encode())
        elif spec.submodule_search_locations:
            for loc in spec.submodule_search_locations:
                _tree_stamp(h, Path(loc))
        elif spec.origin and Path(spec.origin).is_file():
            st = Path(spec.origin).stat()
            h.update(f"|{spec.origin}:{st.st_size}:{st.st_mtime_ns}".encode())


def help_cache_file(argv: list[str]) -> Path | None:
    """Where the rendering of the help for `argv` is cached (None: not a help call, or caching is off)."""
    if not _is_help(argv) or os.environ.get("RP_NO_HELP_CACHE"):
        return None
    import platform
    import shutil

    from rpcli._version import __version__

    cli_dir = Path(__file__).resolve().parent
    h = hashlib.sha256()
    h.update(f"{__version__}|{platform.python_version()}|{' '.join(argv)}".encode())
    from importlib import metadata

    for dist in ("typer", "rich", "click"):  # the renderers: an upgrade re-renders
        try:
            h.update(f"|{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"|{dist}=none".encode())
    for f in sorted(cli_dir.glob("*.py")):
        st = f.stat()
        h.update(f"|{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    if argv not in _HELP_ARGS:  # a subcommand: its options come from the registry
        _tree_stamp(h, cli_dir.parent)
        _plugin_stamp(h)
    try:
        tty = sys.stdout.isatty()
    except (AttributeError, ValueError):
        return None
    h.update(f"|tty={tty}|width={shutil.get_terminal_size().columns}".encode())
    for k in _ENV_KEYS:
        h.update(f"|{k}={os.environ.get(k)}".encode())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rp"
    return base / f"help-{h.hexdigest()[:24]}.txt"


class _Tee:
    """stdout for the first rendering: writes through and keeps a copy (the terminal queries are delegated, so
    Rich sees the real stream)."""

    def __init__(self, stream) -> None:
        self._stream, self.parts = stream, []

    def write(self, s) -> int:
        self.parts.append(s.decode("utf-8", "replace") if isinstance(s, (bytes, bytearray)) else str(s))
        return self._stream.write(s)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def main() -> None:
    argv = sys.argv[1:]
    cache = help_cache_file(argv)
    if cache is not None:
        try:
            code_s, text = cache.read_text(encoding="utf-8").split("\n", 1)
            sys.stdout.write(text)
            sys.stdout.flush()
            raise SystemExit(int(code_s))
        except (OSError, ValueError):
            pass
    from rpcli.cli.main import main as app_main

    if cache is None:
        app_main()
        return
    real, tee = sys.stdout, _Tee(sys.stdout)
    sys.stdout = tee
    code: object = "crashed"  # a rendering that raised (a plugin's command that cannot be built) is never kept
    try:
        app_main()
        code = 0
    except SystemExit as e:
        code = e.code
        raise
    finally:
        sys.stdout = real
        if isinstance(code, int) or code is None:
            _store(cache, int(code or 0), "".join(tee.parts))


def _store(path: Path, code: int, text: str) -> None:
    """Write the cache file atomically; a cache that cannot be written is no error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{code}\n{text}", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
