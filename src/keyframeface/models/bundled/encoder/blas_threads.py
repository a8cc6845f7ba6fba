"""Run numpy's BLAS (OpenBLAS in the PyPI wheels) with a given number of threads for a while.

Why: the encoder's matrices are small (tens of rows per call). OpenBLAS then gains little from a second thread,
and when the cores are busy (other processes, a web server's workers) its spinning threads make a call 5-15x
slower (measured on the 2-core development machine: a 256-token sentence took 1.3-3.3 s with 2 threads under load,
0.17-0.2 s with 1). numpy has no API for this, so the OpenBLAS bundled with numpy is called through ctypes; with
another BLAS (MKL, Accelerate) or when the library is not found, :func:`limit_blas_threads` does nothing.

The setting is process-wide while a limit is active: other threads' numpy calls also run with the limit. Nested
and concurrent limits are counted, and the previous value is restored when the last one exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import logging
import os
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache

__all__ = ["limit_blas_threads", "openblas_threads"]

logger = logging.getLogger(__name__)

# (setter, getter) symbol names: scipy-openblas (numpy >= 2), openblas64_ (numpy 1.x wheels), plain OpenBLAS.
_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)
_LOCK = threading.Lock()
_state = {"depth": 0, "saved": 0}


@lru_cache(maxsize=1)
def _openblas() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    import numpy

    root = os.path.dirname(numpy.__file__)
    candidates = sorted(
        glob.glob(os.path.join(root, os.pardir, "numpy.libs", "*openblas*"))
        + glob.glob(os.path.join(root, ".dylibs", "*openblas*"))
    )
    for path in candidates:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _SYMBOLS:
            setter, getter = getattr(library, set_name, None), getattr(library, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                getter.argtypes, getter.restype = [], ctypes.c_int
                return setter, getter
    logger.debug("no OpenBLAS found beside numpy; BLAS threads are left as they are")
    return None


def openblas_threads() -> int | None:
    """The current OpenBLAS thread count of numpy's BLAS, or None when it cannot be read."""
    found = _openblas()
    return None if found is None else int(found[1]())


@contextlib.contextmanager
def limit_blas_threads(threads: int | None) -> Iterator[None]:
    """Run the block with numpy's OpenBLAS limited to ``threads`` threads (None or no OpenBLAS: no change)."""
    found = _openblas() if threads is not None else None
    if found is None or threads is None:
        yield
        return
    setter, getter = found
    with _LOCK:
        if _state["depth"] == 0:
            _state["saved"] = int(getter())
            if _state["saved"] > threads:
                setter(threads)
        _state["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _state["depth"] -= 1
            if _state["depth"] == 0 and int(getter()) != _state["saved"]:
                setter(_state["saved"])
