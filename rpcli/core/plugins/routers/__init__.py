"""rp's routers: one module each, its object declared as an `rp.routers` entry point."""
