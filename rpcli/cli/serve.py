"""rp serve: an OpenAI-compatible server that routes each request with a recorded run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._output import cli_errors, err_console
from rpcli.cli._state import session


def serve(ctx: typer.Context,
          run: Annotated[str, typer.Option("--run", "-r", help="Run id or unique prefix (rp ls runs).")],
          endpoints: Annotated[Path, typer.Option("--endpoints", "-e", help="YAML: models: {CANDIDATE: {base_url: "
                                                  "http://HOST:PORT/v1, model: SERVED_NAME, api_key_env: VAR}}.")],
          host: Annotated[str, typer.Option(help="Address to bind (loopback unless told otherwise).")]
          = "127.0.0.1",
          port: Annotated[int, typer.Option(min=0, max=65535, help="Port.")] = 8000,
          lam: Annotated[Optional[float], typer.Option("--lambda", help="Cost-aware routing: argmax of calibrated "
                                                       "quality - LAMBDA x expected cost (quality per dollar).")]
          = None,
          retries: Annotated[int, typer.Option(min=0, max=10, help="Next-best candidates tried after an upstream "
                                               "failure (429, 5xx, timeout, refused) before a 502.")] = 2,
          seed: Annotated[Optional[int], typer.Option("--seed", help="Which seed's router of a multi-seed run.")]
          = None,
          max_batch: Annotated[int, typer.Option("--max-batch", min=1, max=4096, help="Requests routed together at "
                                                 "most: those waiting when the router is free are encoded and "
                                                 "scored as one batch.")] = 64) -> None:
    """Serve POST /v1/chat/completions (model "rp" routes; a candidate's name goes straight to it), GET /v1/models,
    /health and /metrics (JSON; the Prometheus text format for a Prometheus scrape or ?format=prometheus). The
    upstream answer is returned (or streamed) unchanged, with the chosen candidate in the header x-rp-model.

    Example: rp serve --run run-3f2a --endpoints endpoints.yaml --port 8000
    """
    from rpcli.cli._state import check_finite

    check_finite(**{"lambda": lam})
    if lam is not None and lam < 0:
        raise typer.BadParameter("--lambda must be >= 0")
    sess = session(ctx)
    from rpcli.services.serving.inference import load_run
    from rpcli.services.serving.serve import create_app, read_endpoints
    from rpcli.services.serving.serve import serve as run_server

    with cli_errors():
        rr = load_run(sess, run, seed=seed)
        eps = read_endpoints(endpoints, rr.models)
        missing = [m for m in rr.models if m not in eps]
        if missing:
            err_console.print(f"[yellow]no endpoint for {', '.join(missing)}: never chosen[/yellow]", soft_wrap=True)
        app = create_app(rr, eps, lam=lam, retries=retries, log=lambda s: err_console.print(s, soft_wrap=True),
                         max_batch=max_batch)
    err_console.print(f"rp serve: run {rr.id} ({rr.router}) on http://{host}:{port}/v1 "
                      f"(model \"rp\"; candidates {', '.join(m for m in rr.models if m in eps)})", soft_wrap=True)
    run_server(app, host=host, port=port)
