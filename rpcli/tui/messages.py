"""Past-tense events the dashboard's workers and widgets post; handlers on the app own the state."""

from __future__ import annotations

from textual.message import Message


class ManifestLoaded(Message):
    """A worker read the manifest."""

    def __init__(self, doc: dict, stamp: tuple | None) -> None:
        super().__init__()
        self.doc = doc
        self.stamp = stamp  # (mtime_ns, size) of manifest.json when it was read; None when absent


class ManifestLoadFailed(Message):
    """A worker could not read the manifest (the error's text and hint, for a notification)."""

    def __init__(self, error: str, hint: str | None = None) -> None:
        super().__init__()
        self.error = error
        self.hint = hint


class RunSelected(Message):
    """The user chose a row (Enter or click) in a leaderboard or the heatmap."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key  # run id, or "reference:<name>" / "single:<name>"
