"""Heterogeneous profile graphs: one generic builder driven by node-type presets (spec §3)."""
