"""Routing new text with a recorded run: `inference` (load_run -> RunRouter: rp route query/batch, the API) and
`serve` (rp serve: the OpenAI-compatible HTTP server)."""
