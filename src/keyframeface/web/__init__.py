"""The web app (``keyframeface serve``, extra ``[web]``): edit a script, generate, watch it on a 3D head, download.

``create_app()`` (in :mod:`.app`) builds the FastAPI application; the JSON API is in :mod:`.api`, its limits and
worker pool in :mod:`.limits`, the page in ``static/``. FastAPI is imported only when this package is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["create_app"]

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(**options: Any) -> FastAPI:
    """Build the web app; see :func:`keyframeface.web.app.create_app` for the options."""
    try:
        from .app import create_app as _create
    except ImportError as exc:
        from ..errors import KeyframeFaceError

        raise KeyframeFaceError(
            f"the web app needs FastAPI and uvicorn ({exc.name} is missing): pip install 'keyframeface[web]'"
        ) from None
    return _create(**options)
