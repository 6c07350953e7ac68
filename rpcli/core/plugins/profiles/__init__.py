"""rp's profile methods: one module each, its object declared as an `rp.profiles` entry point."""
