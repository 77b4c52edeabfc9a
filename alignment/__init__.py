"""socialview.alignment: how close are two agents' latent spaces to one space in new coordinates?

Depends only on numpy, scipy and torch, and knows nothing of envs or agents:
every function takes two arrays whose rows are the same frames seen by two
agents.

* Maps (:mod:`.maps`): :func:`fit_map` with kind ``"orthogonal"``,
  ``"similarity"``, ``"linear"``, ``"affine"`` or ``"ridge"``; estimators with
  ``fit``/``transform``/``inverse_transform``/``score``/``to_dict``.
* Metrics (:mod:`.metrics`): :func:`linear_cka` (biased and debiased),
  :func:`rbf_cka`, :func:`procrustes_distance`, :func:`shape_distance`,
  :func:`svcca`, :func:`mutual_knn`, :func:`rsa`, :func:`heldout_r2`, and a
  registry (:func:`metric_names`, :func:`get_metric`, :func:`register_metric`).
* Honesty (:mod:`.stats`): :func:`permutation_test`, :func:`map_permutation_test`,
  :func:`bootstrap_ci`.
* One call (:mod:`.compare`): :func:`compare` -> :class:`CompareResult`;
  :func:`anchor_curve` -> :class:`AnchorCurve`.
* Knowing the world (:mod:`.state_probe`): :func:`state_probe` -> held-out ridge
  and k-NN R² from latents to world-state targets, split by whole episodes;
  :func:`state_share` -> how much of a latent's variance is a linear function
  of the state (what a linear map from another camera can recover).
* Speed (:mod:`.slowness`): :class:`SlowFeatures` -> linear slow feature
  analysis of one latent (its directions ordered by how little they move from
  frame to frame within an episode), a diagnostic of which directions are the
  world's.
* Transfer (:mod:`.transfer`): :func:`transfer_probe` -> :class:`TransferResult`,
  with the deterministic :class:`LogisticProbe`.
* Input checks (:mod:`.validation`): every entry point raises ``ValueError``
  naming the parameter, the value and the fix; :func:`drop_constant_columns`
  removes dead units.

Conventions: rows are paired frames and widths may differ; all arithmetic is
float64; randomness comes only from an explicit ``seed`` (int or
:class:`numpy.random.Generator`). Computations run on one BLAS thread (through
``threadpoolctl`` when installed), because their many small products gain
nothing from threads and are slowed badly by them on a busy machine; set
``SOCIALVIEW_ALIGNMENT_BLAS=auto`` to let large single products use every
thread, or ``off`` to leave the thread count alone.
"""

from .compare import AnchorCurve, CompareResult, anchor_curve, compare
from .maps import (
    AffineMap,
    AlignmentMap,
    LinearMap,
    OrthogonalMap,
    RidgeMap,
    SimilarityMap,
    fit_map,
    get_map_class,
    map_from_dict,
    map_kinds,
    r2_score,
    register_map,
)
from .metrics import (
    MetricSpec,
    PreparedMetric,
    get_metric,
    heldout_r2,
    linear_cka,
    metric_names,
    mutual_knn,
    procrustes_distance,
    rbf_cka,
    register_metric,
    rsa,
    shape_distance,
    svcca,
    train_test_indices,
)
from .slowness import SlowFeatures
from .state_probe import StateProbeResult, episode_split, state_probe
from .state_share import state_share
from .stats import (
    CI_METHODS,
    BootstrapResult,
    PermutationResult,
    bootstrap_ci,
    bootstrap_interval,
    map_permutation_test,
    permutation_test,
)
from .transfer import LogisticProbe, TransferResult, transfer_probe
from .validation import constant_columns, drop_constant_columns

__all__ = [
    "CI_METHODS",
    "AffineMap",
    "AlignmentMap",
    "AnchorCurve",
    "BootstrapResult",
    "CompareResult",
    "LinearMap",
    "LogisticProbe",
    "MetricSpec",
    "OrthogonalMap",
    "PermutationResult",
    "PreparedMetric",
    "RidgeMap",
    "SimilarityMap",
    "SlowFeatures",
    "StateProbeResult",
    "TransferResult",
    "anchor_curve",
    "bootstrap_ci",
    "bootstrap_interval",
    "compare",
    "constant_columns",
    "drop_constant_columns",
    "episode_split",
    "fit_map",
    "get_map_class",
    "get_metric",
    "heldout_r2",
    "linear_cka",
    "map_from_dict",
    "map_kinds",
    "map_permutation_test",
    "metric_names",
    "mutual_knn",
    "permutation_test",
    "procrustes_distance",
    "r2_score",
    "rbf_cka",
    "register_map",
    "register_metric",
    "rsa",
    "shape_distance",
    "state_probe",
    "state_share",
    "svcca",
    "train_test_indices",
    "transfer_probe",
]
