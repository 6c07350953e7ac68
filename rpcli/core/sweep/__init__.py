"""Sweeps: a YAML grid of graphs x profiles x routers x modes, validated strictly and expanded into a DAG.

| module      | job                                                                                  |
|-------------|--------------------------------------------------------------------------------------|
| spec.py     | read the YAML (with line numbers), validate it against an option catalog, SweepSpec |
| expand.py   | expand a SweepSpec into deduplicated graph -> profile -> run cells, in build order   |
| estimate.py | estimate a cell's build time from recorded durations of similar artifacts           |

Pure code: no torch, no workspace writes. The option catalog (which methods, routers and options exist) is
passed in by the services layer, which derives it from its registries.
"""
