"""rp's profile methods: one module each, its object declared as an `rp.profiles` entry point."""

SEED_MAX = 2**32 - 1  # numpy's seed range (as rpcli.cli._state.SEED_MAX): every seed option accepts 0..SEED_MAX
