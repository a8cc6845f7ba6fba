"""The user config file: default constructor options per backend, so ``--base-url`` and ``--model`` need not be
repeated on every command.

Location: ``$KEYFRAMEFACE_CONFIG`` if set, else ``$XDG_CONFIG_HOME/keyframeface/config.toml``, else
``~/.config/keyframeface/config.toml``. Format (TOML)::

    [backends.openai]
    base_url = "http://gpu-box:8000/v1"
    model = "keyframeface"
    api_key_env = "MY_SERVER_KEY"     # the NAME of the variable holding the key, never the key itself
    enable_thinking = false

Options given explicitly (command-line flags, keyword arguments) win over the file. Keys that look like secrets
(``api_key``, ``key``, ``token``, ``password``) are refused: keys belong in the environment.
TOML is read with the standard library's ``tomllib`` (Python 3.11+) or ``tomli`` when installed; on Python 3.10
without ``tomli`` the file is ignored with a warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from ..errors import FormatError

__all__ = ["backend_defaults", "config_path", "load_config"]

logger = logging.getLogger(__name__)

_SECRET_KEYS: Final[frozenset[str]] = frozenset({"api_key", "apikey", "key", "token", "password", "secret"})
#: The file is a few lines; anything bigger is not a config file.
_MAX_BYTES: Final[int] = 1_000_000


def config_path() -> Path:
    """Where the config file is looked for (it need not exist)."""
    explicit = os.environ.get("KEYFRAMEFACE_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "keyframeface" / "config.toml"


def _toml_loads(text: str, where: Path) -> dict[str, Any] | None:
    import importlib

    toml: Any = None
    for module in ("tomllib", "tomli"):  # tomllib: Python 3.11+; tomli: its backport
        try:
            toml = importlib.import_module(module)
            break
        except ImportError:
            continue
    if toml is None:
        logger.warning("the keyframeface config file needs Python 3.11+ or 'pip install tomli'; ignored")
        return None
    try:
        return dict(toml.loads(text))
    except toml.TOMLDecodeError as exc:
        raise FormatError(f"the config file {where} is not valid TOML: {exc}") from None


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The whole config file as a dict (``{}`` when there is none). Raises :class:`FormatError` for a file that
    is not TOML or is too large."""
    target = Path(path) if path is not None else config_path()
    try:
        if not target.is_file():
            return {}
        if target.stat().st_size > _MAX_BYTES:
            raise FormatError(f"the config file {target} is larger than {_MAX_BYTES} bytes; expected a few lines of "
                              "TOML")
        text = target.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"the config file {target} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it "
                          "as UTF-8 TOML") from None
    except OSError as exc:
        raise FormatError(f"cannot read the config file {target} ({exc.strerror or exc}); fix its permissions or "
                          "point KEYFRAMEFACE_CONFIG elsewhere") from None
    data = _toml_loads(text, target)
    return data or {}


def backend_defaults(name: str, *, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The ``[backends.<name>]`` table of the config file (``{}`` when absent).

    Raises :class:`FormatError` when the table is not a table or holds a secret-looking key.
    """
    backends = load_config(path).get("backends", {})
    if not isinstance(backends, Mapping):
        raise FormatError(f"'backends' in {config_path()} must be a table ([backends.{name}])")
    table = backends.get(name, {})
    if not isinstance(table, Mapping):
        raise FormatError(f"[backends.{name}] in {config_path()} must be a table of options")
    secrets = sorted(k for k in table if str(k).lower() in _SECRET_KEYS)
    if secrets:
        raise FormatError(
            f"[backends.{name}] in {config_path()} holds {', '.join(secrets)}; API keys never go in files: put the "
            "key in an environment variable and name it with api_key_env = \"VARIABLE\""
        )
    return {str(k): v for k, v in table.items()}
