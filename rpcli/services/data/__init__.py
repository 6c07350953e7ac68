"""Datasets: `check` (rp data check / synth), `importer` (rp data import), `models` (rp model add)."""
