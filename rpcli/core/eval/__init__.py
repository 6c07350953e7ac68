"""Offline evaluation of routers: metrics, reference rows and cost-quality curves."""
