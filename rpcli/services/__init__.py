"""Coordinating verbs (build or reuse an artifact, register it). See base.py for the mechanism."""

from rpcli.services.base import BuildResult, Session, build_artifact  # noqa: F401
