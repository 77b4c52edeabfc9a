"""BLAS thread policy of the alignment package.

Permutation nulls, bootstrap resamples, cross-validated refits and L-BFGS probe
fits make thousands of small matrix products. A threaded BLAS gains nothing on
products that small, and on a busy machine (a sweep training agents next door)
its threads wait on each other at every call: we measured a 1500 x 64 Gram
product 170x slower with two OpenBLAS threads under load than with one, and
even linear CKA on 100k x 256 latents ran 5x slower threaded than on one thread
on a loaded 2-core machine.

The policy is set by the environment variable ``SOCIALVIEW_ALIGNMENT_BLAS``:

``"single"`` (default)
    Every alignment computation runs on one BLAS thread.
``"auto"``
    Resampling loops and problems under :data:`SMALL_PROBLEM_ELEMENTS` input
    elements run on one thread; larger single products keep every thread
    (worth it on an idle machine with many cores).
``"off"``
    The package never touches the BLAS thread count.

Pinning goes through ``threadpoolctl`` when it is installed and does nothing
otherwise; results are identical either way, only the time changes.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

try:  # optional: a speed-up only
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - depends on the environment
    ThreadpoolController = None

__all__ = [
    "POLICIES",
    "POLICY_ENV",
    "SMALL_PROBLEM_ELEMENTS",
    "blas_policy",
    "blas_threads_for",
    "single_blas_thread",
    "single_blas_threaded",
]

#: In ``"auto"`` mode, below this many input elements a metric or map fit runs on one thread.
SMALL_PROBLEM_ELEMENTS = 1 << 24

#: Environment variable selecting the policy, and its allowed values.
POLICY_ENV = "SOCIALVIEW_ALIGNMENT_BLAS"
POLICIES = ("single", "auto", "off")


def blas_policy() -> str:
    """The current policy (read from the environment at every call)."""
    value = os.environ.get(POLICY_ENV, "single").strip().lower() or "single"
    if value not in POLICIES:
        raise ValueError(f"{POLICY_ENV} must be one of {list(POLICIES)}; got {value!r}.")
    return value


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
    """Limit BLAS to one thread inside the block.

    Re-entrant; a no-op without threadpoolctl or under the ``"off"`` policy.
    """
    depth = getattr(_state, "depth", 0)
    if ThreadpoolController is None or depth > 0 or blas_policy() == "off":
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
    """One BLAS thread for a problem of ``n_elements`` input elements, per the policy.

    Under ``"auto"``, problems of at least :data:`SMALL_PROBLEM_ELEMENTS`
    elements keep every thread; under ``"single"`` none do.
    """
    if blas_policy() == "single" or n_elements < SMALL_PROBLEM_ELEMENTS:
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
