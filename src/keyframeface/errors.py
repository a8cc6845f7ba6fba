"""The project's error hierarchy.

Every error a user can cause derives from :class:`KeyframeFaceError`. Messages say what was expected, what came
instead, and what to do; the CLI prints ``str(error)`` as one line and exits non-zero.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "FormatError",
    "GenerationError",
    "KeyframeFaceError",
    "ModelOutputError",
    "ScriptError",
]


class KeyframeFaceError(Exception):
    """Base class of every error raised on purpose by keyframeface."""


class ScriptError(KeyframeFaceError, ValueError):
    """A script, keyframe or keyframes document is invalid.

    ``field`` names the offending field as a path (``keyframes[2].description``) when known.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class FormatError(KeyframeFaceError, ValueError):
    """A file could not be read or written in the expected format (CSV, JSON, glTF, ...)."""


class ModelOutputError(KeyframeFaceError, ValueError):
    """Model text could not be turned into 61 valid values.

    ``raw_text`` keeps the model's full answer so nothing produced is lost.
    """

    def __init__(self, message: str, *, raw_text: str = "") -> None:
        self.raw_text = raw_text
        super().__init__(message)


class BackendError(KeyframeFaceError):
    """A backend failed while generating (server error, timeout, crash).

    ``transient`` marks errors worth retrying (connection reset, HTTP 429/5xx, timeouts).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        self.transient = transient
        super().__init__(message)


class BackendUnavailableError(KeyframeFaceError):
    """A backend is unknown or cannot run here (missing extra, missing model file, no server configured)."""


class GenerationError(KeyframeFaceError):
    """Some keyframes of a script could not be generated.

    ``partial`` holds the keyframes that did succeed (a :class:`keyframeface.script.Keyframes` with the failed
    keyframes left without values) and ``failed`` maps keyframe index to the error that stopped it.
    """

    def __init__(self, message: str, *, partial: object = None, failed: dict[int, Exception] | None = None) -> None:
        self.partial = partial
        self.failed = dict(failed or {})
        super().__init__(message)
