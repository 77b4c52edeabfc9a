"""Run many-small-BLAS-call loops on one BLAS thread.

Permutation nulls, bootstrap resamples, cross-validated refits and L-BFGS probe
fits make thousands of small matrix products. A threaded BLAS gains nothing on
products that small, and on a busy machine (a sweep training agents next door)
its threads wait on each other at every call: we measured a 1500 x 64 Gram
product 170x slower with two OpenBLAS threads under load than with one.
:func:`single_blas_thread` pins BLAS to one thread for the duration of such a
loop through ``threadpoolctl`` when it is installed, and does nothing otherwise
(results are identical either way; only the time changes). Single large
products (a metric on 100k x 256 latents) keep every thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

try:  # optional: a speed-up only
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - depends on the environment
    ThreadpoolController = None

__all__ = [
    "SMALL_PROBLEM_ELEMENTS",
    "blas_threads_for",
    "single_blas_thread",
    "single_blas_threaded",
]

#: Below this many input elements a metric or map fit runs on one BLAS thread.
SMALL_PROBLEM_ELEMENTS = 1 << 24

_state = threading.local()
_controller_lock = threading.Lock()
_controller = None


def _get_controller():
    """One shared controller: scanning the loaded libraries costs milliseconds."""
    global _controller
    with _controller_lock:
        if _controller is None:
            _controller = ThreadpoolController()
        return _controller


P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (re-entrant, no-op without threadpoolctl)."""
    depth = getattr(_state, "depth", 0)
    if ThreadpoolController is None or depth > 0:
        _state.depth = depth + 1
        try:
            yield
        finally:
            _state.depth = depth
        return
    _state.depth = 1
    try:
        with _get_controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        _state.depth = 0


@contextmanager
def blas_threads_for(n_elements: int) -> Iterator[None]:
    """One BLAS thread for problems under :data:`SMALL_PROBLEM_ELEMENTS` input elements.

    Large products (100k x 256 latents) keep every thread, where threading pays.
    """
    if n_elements < SMALL_PROBLEM_ELEMENTS:
        with single_blas_thread():
            yield
    else:
        yield


def single_blas_threaded(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator form of :func:`single_blas_thread`."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with single_blas_thread():
            return fn(*args, **kwargs)

    return wrapper
