"""``keyframeface backends``: every backend, whether it is usable here, and why not."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..options import OptionInfo


def add_parser(sub: Any) -> None:
    p = sub.add_parser("backends", help="list backends and whether they are usable here")
    # (each backend's options are listed under it: name, type, default and help, from its Options declaration)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def _options(name: str) -> list[OptionInfo] | None:
    """The backend's declared options; ``None`` when it declares none or cannot be imported here."""
    from ..backends.registry import resolve_backend_class
    from ..errors import BackendUnavailableError

    try:
        return resolve_backend_class(name).options_info()
    except BackendUnavailableError:
        return None


def run(args: argparse.Namespace) -> int:
    from ..backends.registry import list_backends

    rows = list_backends()
    options = {r.name: _options(r.name) for r in rows}
    if args.json:
        out = [{**asdict(r), "options": None if options[r.name] is None else [asdict(o) for o in options[r.name] or []]}
               for r in rows]
        sys.stdout.write(json.dumps(out, indent=1, default=str) + "\n")
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        mark = "yes" if r.usable else "no "
        kind = "chat" if r.chat else "direct"
        default = " (default)" if r.default else ""
        sys.stdout.write(f"{r.name:<{width}}  {mark}  {kind:<6}  {r.reason}{default}\n")
        for o in options[r.name] or []:  # what --option KEY=VALUE (or --model, --adapter, --base-url) takes
            sys.stdout.write(f"{'':<{width}}    {o.name}: {o.type} = {o.default!r}  {o.help}\n")
    return 0
