"""Routers (SimRouter, MLPRouter, GraphRouter) and the evaluation they share (spec §5)."""
