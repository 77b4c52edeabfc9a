"""BLAS thread pinning for resampling loops: effective with threadpoolctl, harmless without."""

from __future__ import annotations

import numpy as np
import pytest

from socialview.alignment import _threads, linear_cka


def test_single_thread_inside_and_restored_after() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads() -> list[int]:
        return [
            i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"
        ]

    before = blas_threads()
    with _threads.single_blas_thread():
        assert all(n == 1 for n in blas_threads())
        with _threads.single_blas_thread():  # re-entrant
            assert all(n == 1 for n in blas_threads())
        assert all(n == 1 for n in blas_threads())
    assert blas_threads() == before


def test_works_without_threadpoolctl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "ThreadpoolController", None)
    X = np.random.default_rng(0).normal(size=(50, 4))
    with _threads.single_blas_thread():
        assert linear_cka(X, X) == pytest.approx(1.0)
