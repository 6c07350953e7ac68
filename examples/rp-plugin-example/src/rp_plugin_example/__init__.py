"""rp-plugin-example: one router for rp, declared as an `rp.routers` entry point (see winrate.py)."""
