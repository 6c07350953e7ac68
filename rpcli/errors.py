"""User-facing errors. Core code raises these; the CLI turns them into one red paragraph and an exit code.

Exit codes: 0 ok, 1 RpError, 2 usage (Click), 3 workspace problems, 130 interrupted.
"""

from __future__ import annotations


class RpError(Exception):
    """An error whose message is meant for the user, with an optional hint naming the next step."""

    exit_code = 1
    title = "Error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message if not self.hint else f"{self.message}\nHint: {self.hint}"


class DataFileError(RpError):
    """Malformed or inconsistent input data. Names the file, the record and the field."""

    title = "Bad input data"

    def __init__(self, path, message: str, record: str | None = None, field: str | None = None,
                 hint: str | None = None) -> None:
        where = [f"{path}"]
        if record is not None:
            where.append(f"record {record}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}", hint)
        self.path = str(path)
        self.record = record
        self.field = field


class UnknownNameError(RpError):
    title = "Unknown name"


class WorkspaceError(RpError):
    exit_code = 3
    title = "Workspace"


class WorkspaceLockedError(WorkspaceError):
    title = "Workspace locked"


class ManifestSchemaError(WorkspaceError):
    title = "Manifest schema"


class ArtifactNotFoundError(RpError):
    title = "Not found"


class ConfigError(RpError):
    title = "Invalid options"


class RunNotComparableError(RpError):
    title = "Not comparable"


class TrainingDataError(RpError):
    title = "Training data"


def did_you_mean(name: str, choices) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
