"""``keyframeface serve``: the web app (edit a script, generate, watch it on a 3D head, download) on 127.0.0.1."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from typing import Any

from ..errors import KeyframeFaceError
from .common import backend_options

logger = logging.getLogger(__name__)


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the web app (needs the [web] extra)",
                       description="Run the web app on http://127.0.0.1:PORT/. Clients choose backends by name; "
                       "--model/--base-url/--adapter/--option configure the --backend the server offers by default.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default: %(default)s, this machine only; anything else is reachable "
                   "from the network and warns)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default: %(default)s; 0 picks a free one)")
    p.add_argument("--max-concurrency", type=int, default=2,
                   help="generations running at once; more are answered 503 busy (default: %(default)s)")
    p.add_argument("--mesh", default="auto", choices=("auto", "ict", "default"),
                   help="the 3D head: the ICT-FaceKit head when available (auto), or the built-in one")
    p.add_argument("--timeout-s", type=float, default=120.0, help="longest a generation may take (default: %(default)s)")
    p.add_argument("--backend", default=None, help="default backend (see `keyframeface backends`)")
    p.add_argument("--model", default=None, help="model name or GGUF path for the default backend")
    p.add_argument("--base-url", default=None, help="OpenAI-compatible server URL for the openai backend")
    p.add_argument("--adapter", default=None, help="LoRA adapter for the default backend")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="extra option for the default backend (repeatable)")
    p.add_argument("--api-docs", action="store_true",
                   help="also serve the OpenAPI schema (/openapi.json) and its /docs page (which loads Swagger UI "
                   "from a CDN)")
    p.set_defaults(run=run)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn  # noqa: F401  # checked here so a missing extra is one line
    except ImportError:
        raise KeyframeFaceError("keyframeface serve needs uvicorn and FastAPI: pip install 'keyframeface[web]'") from None
    from ..web import create_app
    from ..web.app import DEFAULT_ALLOWED_HOSTS
    from ..web.limits import Limits
    from ..web.serving import bind, make_server

    if not 0 <= args.port <= 65535:
        raise KeyframeFaceError(f"--port must be in [0, 65535], got {args.port}")
    if args.max_concurrency < 1:
        raise KeyframeFaceError(f"--max-concurrency must be >= 1, got {args.max_concurrency}")
    if not args.timeout_s > 0:
        raise KeyframeFaceError(f"--timeout-s must be > 0, got {args.timeout_s}")
    hosts: list[str] | None = None
    if not _is_loopback(args.host):
        logger.warning("binding %s: the web app is reachable from other machines and has no authentication; "
                       "use --host 127.0.0.1 unless you trust that network", args.host)
        hosts = ["*"]  # clients reach a non-loopback bind under names the server cannot know
    limits = Limits(generate_timeout_s=args.timeout_s)
    app = create_app(
        max_concurrency=args.max_concurrency,
        limits=limits,
        backend=args.backend,
        backend_options=backend_options(args),
        mesh=args.mesh,
        allowed_hosts=hosts if hosts is not None else [*DEFAULT_ALLOWED_HOSTS, args.host],
        api_docs=args.api_docs,
    )
    sock = bind(args.host, args.port)  # a taken port fails here, with one line, before "serving on"
    try:
        port = sock.getsockname()[1]
        shown = f"[{args.host}]" if ":" in args.host else args.host
        sys.stderr.write(f"keyframeface: serving on http://{shown}:{port}/ (Ctrl+C to stop)\n")
        sys.stderr.flush()
        make_server(app, limits=limits, log_level="info" if args.debug else "warning").run(sockets=[sock])
    finally:
        sock.close()
    return 0
