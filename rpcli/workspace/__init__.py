"""The workspace: on-disk layout, manifest and locking. Stdlib only (no torch, no UI)."""

from rpcli.workspace.layout import Workspace, resolve_workspace  # noqa: F401
