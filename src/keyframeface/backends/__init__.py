"""Backends: one file each, looked up by name through :mod:`keyframeface.backends.registry`."""

from .base import Backend, Capabilities, DirectResult, GenerationOptions
from .registry import DEFAULT_BACKEND, get_backend, list_backends, register_backend

__all__ = [
    "DEFAULT_BACKEND",
    "Backend",
    "Capabilities",
    "DirectResult",
    "GenerationOptions",
    "get_backend",
    "list_backends",
    "register_backend",
]
