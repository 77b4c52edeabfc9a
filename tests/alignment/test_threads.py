"""BLAS thread pinning for resampling loops: effective with threadpoolctl, harmless without."""

from __future__ import annotations

import numpy as np
import pytest

from socialview.alignment import _threads, linear_cka


def test_single_thread_inside_and_restored_after(monkeypatch: pytest.MonkeyPatch) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.delenv(_threads.POLICY_ENV, raising=False)

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


def test_policy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def max_blas_threads() -> int:
        info = threadpoolctl.threadpool_info()
        return max(i["num_threads"] for i in info if i["user_api"] == "blas")

    before = max_blas_threads()
    monkeypatch.setenv(_threads.POLICY_ENV, "auto")
    with _threads.blas_threads_for(_threads.SMALL_PROBLEM_ELEMENTS):
        assert max_blas_threads() == before  # large problem keeps its threads
    with _threads.blas_threads_for(10):
        assert max_blas_threads() == 1
    monkeypatch.setenv(_threads.POLICY_ENV, "single")
    with _threads.blas_threads_for(_threads.SMALL_PROBLEM_ELEMENTS):
        assert max_blas_threads() == 1
    monkeypatch.setenv(_threads.POLICY_ENV, "off")
    with _threads.single_blas_thread():
        assert max_blas_threads() == before
    monkeypatch.setenv(_threads.POLICY_ENV, "many")
    with pytest.raises(ValueError, match=r"SOCIALVIEW_ALIGNMENT_BLAS must be one of \['single'"):
        _threads.blas_policy()
