"""rp serve: an OpenAI-compatible server that routes each request with a recorded run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from rpcli.cli._output import cli_errors, err_console
from rpcli.cli._state import session

_LIMITS = "Limits and authentication"


def serve(ctx: typer.Context,
          run: Annotated[str, typer.Option("--run", "-r", help="Run id or unique prefix (rp ls runs).")],
          endpoints: Annotated[Path, typer.Option("--endpoints", "-e", help="YAML: models: {CANDIDATE: {base_url: "
                                                  "http://HOST:PORT/v1, model: SERVED_NAME, api_key_env: VAR}}.")],
          host: Annotated[str, typer.Option(help="Address to bind; beyond loopback it needs --client-key-env (or "
                                            "--open).")]
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
                                                 "scored as one batch.")] = 64,
          # the defaults are rpcli.services.serving.limits' (not imported here: `rp --help` stays light; a test
          # checks they agree)
          max_body_bytes: Annotated[int, typer.Option("--max-body-bytes", min=1, help="Largest request body; a "
                                                      "larger one gets 413 (Content-Length is checked before "
                                                      "reading, a chunked body while it is read).",
                                                      rich_help_panel=_LIMITS)] = 1_048_576,
          max_messages: Annotated[int, typer.Option("--max-messages", min=1, help="Most messages in a request; "
                                                    "more get 400.", rich_help_panel=_LIMITS)] = 256,
          max_chars: Annotated[int, typer.Option("--max-chars", min=1, help="Longest text to route (the last user "
                                                 "message, with the system prompt when the run embeds one), in "
                                                 "characters; longer gets 400.", rich_help_panel=_LIMITS)]
          = 100_000,
          max_in_flight: Annotated[int, typer.Option("--max-in-flight", min=1, help="Most chat requests handled at "
                                                     "once; beyond, 429 with Retry-After.", rich_help_panel=_LIMITS)]
          = 256,
          max_in_flight_per_client: Annotated[Optional[int], typer.Option(
              "--max-in-flight-per-client", min=1, show_default="half of --max-in-flight",
              help="Most chat requests handled at once for one client address, so one client cannot take every "
                   "slot; beyond, 429.", rich_help_panel=_LIMITS)] = None,
          retry_after: Annotated[int, typer.Option("--retry-after", min=1, max=3600, help="Seconds a 429 answer "
                                                   "tells the client to wait (Retry-After).",
                                                   rich_help_panel=_LIMITS)] = 1,
          body_timeout: Annotated[float, typer.Option("--body-timeout", help="Seconds to receive a whole request "
                                                      "body; a client still sending after that gets 408 and the "
                                                      "connection is closed.", rich_help_panel=_LIMITS)] = 30.0,
          client_key_env: Annotated[Optional[str], typer.Option(
              "--client-key-env", metavar="VAR", help="Environment variable holding the key clients must send as "
              "`Authorization: Bearer KEY` on every route but /health (else 401). Needed to bind a non-loopback "
              "--host, unless --open.", rich_help_panel=_LIMITS)] = None,
          open_server: Annotated[bool, typer.Option("--open", help="I accept an open server: bind a non-loopback "
                                                    "--host with no client key.", rich_help_panel=_LIMITS)]
          = False) -> None:
    """Serve POST /v1/chat/completions (model "rp" routes; a candidate's name goes straight to it), GET /v1/models,
    /health and /metrics (JSON; the Prometheus text format for a Prometheus scrape or ?format=prometheus). The
    upstream answer is returned (or streamed) unchanged, with the chosen candidate in the header x-rp-model.
    Requests are bounded (body bytes, the time to send the body, messages, routed characters, requests in flight:
    413, 408, 400 or 429) and, with --client-key-env, need the client key (401); see docs/serving.md, "Limits and
    authentication".

    Example: rp serve --run run-3f2a --endpoints endpoints.yaml --port 8000

    Example (reachable from other machines): RP_CLIENT_KEY=$(openssl rand -hex 32) rp serve --run run-3f2a
    --endpoints endpoints.yaml --host 0.0.0.0 --client-key-env RP_CLIENT_KEY --max-in-flight 64
    """
    from rpcli.cli._state import check_finite

    check_finite(**{"lambda": lam}, body_timeout=body_timeout)
    if lam is not None and lam < 0:
        raise typer.BadParameter("--lambda must be >= 0")
    if not body_timeout > 0:
        raise typer.BadParameter(f"--body-timeout must be a positive number of seconds, got {body_timeout:g}")
    sess = session(ctx)
    from rpcli.services.serving.inference import load_run
    from rpcli.services.serving.limits import check_bind, read_client_key
    from rpcli.services.serving.serve import create_app, read_endpoints
    from rpcli.services.serving.serve import serve as run_server

    with cli_errors():
        # before the run is loaded: a server that must not start is refused at once
        client_key = read_client_key(client_key_env) if client_key_env else None
        warning = check_bind(host, client_key is not None, open_server)
        if warning:
            err_console.print(f"[yellow]warning: {escape(warning)}[/yellow]", soft_wrap=True)
        rr = load_run(sess, run, seed=seed)
        eps = read_endpoints(endpoints, rr.models)
        missing = [m for m in rr.models if m not in eps]
        if missing:
            err_console.print(f"[yellow]no endpoint for {', '.join(missing)}: never chosen[/yellow]", soft_wrap=True)
        app = create_app(rr, eps, lam=lam, retries=retries, log=lambda s: err_console.print(s, soft_wrap=True),
                         max_batch=max_batch, max_body_bytes=max_body_bytes, max_messages=max_messages,
                         max_chars=max_chars, max_in_flight=max_in_flight,
                         max_in_flight_per_client=max_in_flight_per_client, retry_after=retry_after,
                         body_timeout=body_timeout, client_key=client_key)
    # getattr and open_server passed only when set: bench/serve_throughput.py --server-source runs this command
    # with an older serve.py, whose app has no limits and whose serve() takes no open_server
    lim = getattr(app.state, "limits", None)
    auth = f"client key from ${client_key_env}" if client_key else "no client key"
    bounds = f"; at most {lim.max_in_flight} requests in flight, {lim.max_in_flight_per_client} per client" if lim \
        else ""
    err_console.print(f"rp serve: run {rr.id} ({rr.router}) on http://{host}:{port}/v1 "
                      f"(model \"rp\"; candidates {', '.join(m for m in rr.models if m in eps)}; {auth}{bounds})",
                      soft_wrap=True, markup=False)
    with cli_errors():
        run_server(app, host=host, port=port, **({"open_server": True} if open_server else {}))
