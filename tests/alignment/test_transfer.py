"""Zero-shot probe transfer through a map."""

from __future__ import annotations

import json

import numpy as np
import pytest

from socialview.alignment import LogisticProbe, transfer_probe


def two_agents(seed: int = 0, n: int = 800, d: int = 10, related: bool = True):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    labels = np.argmax(Z[:, :4], axis=1)  # four classes read off the shared state
    A = Z @ rng.normal(size=(d, d)) + 0.05 * rng.normal(size=(n, d))
    if related:
        Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
        B = A @ Q - 4.0 + 0.05 * rng.normal(size=(n, d))
    else:
        B = rng.normal(size=(n, d))
    split = int(0.75 * n)
    return (A[:split], B[:split], labels[:split], A[split:], B[split:], labels[split:])


def test_transfer_through_a_rotation_reaches_the_ceiling() -> None:
    r = transfer_probe(*two_agents())
    assert r.source_accuracy > 0.85
    assert r.transfer_accuracy >= r.native_accuracy - 0.05
    assert r.transfer_accuracy > r.chance + 0.4
    assert r.map_r2 > 0.99
    assert (r.n_train, r.n_test, r.n_classes, r.map_kind) == (600, 200, 4, "orthogonal")


def test_transfer_from_unrelated_agent_is_near_chance() -> None:
    r = transfer_probe(*two_agents(related=False))
    assert r.transfer_accuracy < r.chance + 0.15
    assert r.native_accuracy < r.chance + 0.15  # B knows nothing about the labels either
    assert r.map_r2 < 0.05


def test_chance_is_majority_rate_and_result_serialises() -> None:
    data = two_agents(1)
    r = transfer_probe(*data, map_kind="ridge")
    _, counts = np.unique(data[5], return_counts=True)
    assert r.chance == counts.max() / counts.sum()
    d = json.loads(json.dumps(r.to_dict()))
    assert d["transfer_accuracy"] == r.transfer_accuracy
    assert transfer_probe(*data, map_kind="ridge") == r  # deterministic


def test_labels_of_the_target_are_never_used_for_the_map() -> None:
    # Shuffling the training labels changes both probes but never the map: the
    # map R2 is the same, so the map saw only paired latents.
    s_tr, t_tr, y_tr, s_te, t_te, y_te = two_agents(2)
    a = transfer_probe(s_tr, t_tr, y_tr, s_te, t_te, y_te)
    b = transfer_probe(s_tr, t_tr, y_tr[::-1].copy(), s_te, t_te, y_te)
    assert a.map_r2 == b.map_r2


def test_probe_learns_and_handles_string_labels() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] + X[:, 1] > 0, "left", "right")
    probe = LogisticProbe().fit(X, y)
    assert probe.score(X, y) > 0.97
    assert set(probe.predict(X)) <= {"left", "right"}
    np.testing.assert_allclose(probe.predict_proba(X).sum(axis=1), 1.0)


def test_transfer_errors() -> None:
    s_tr, t_tr, y_tr, s_te, t_te, y_te = two_agents(4, n=80)
    with pytest.raises(ValueError, match="labels_train has 59 labels but the paired latents"):
        transfer_probe(s_tr, t_tr, y_tr[:-1], s_te, t_te, y_te)
    with pytest.raises(ValueError, match="single class"):
        transfer_probe(s_tr, t_tr, np.zeros(60), s_te, t_te, y_te)
    with pytest.raises(ValueError, match="same number of rows"):
        transfer_probe(s_tr, t_tr[:50], y_tr, s_te, t_te, y_te)
    with pytest.raises(ValueError, match="same widths as the training latents"):
        transfer_probe(s_tr, t_tr, y_tr, s_te[:, :5], t_te, y_te)
    with pytest.raises(ValueError, match="kind must be one of"):
        transfer_probe(s_tr, t_tr, y_tr, s_te, t_te, y_te, map_kind="cca")


def test_target_with_more_dimensions_than_source() -> None:
    # B embeds A's space isometrically in 16 dims (plus a shift): orthogonal is exact.
    s_tr, _, y_tr, s_te, _, y_te = two_agents(5)
    rng = np.random.default_rng(5)
    E = np.linalg.qr(rng.normal(size=(16, 16)))[0][:10]
    r = transfer_probe(s_tr, s_tr @ E + 1.0, y_tr, s_te, s_te @ E + 1.0, y_te)
    assert r.map_r2 > 0.999
    assert r.transfer_accuracy == r.source_accuracy
