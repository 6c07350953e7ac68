"""The Textual dashboard: reads the workspace manifest and run records only (never torch or rpcli.core)."""
