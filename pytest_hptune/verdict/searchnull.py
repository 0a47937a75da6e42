"""The null distribution of the search-level comparison, from data.

"Is the best the new search found worse than the best the old one found?"
Under "nothing changed" both searches draw their configurations from one
space and train each with execution noise; the difference of their best
means then has a distribution that depends on the spread of the
configurations' true means (tau), the execution noise (sigma) and each
side's budget (K trials of n executions). This module simulates it from
the two searches' own trials, vectorised over many comparisons at once
(``benchmarks/simulate.py`` runs the same code as ``compare()``):

* sigma^2: the within-trial variance pooled over every trial of both sides,
  drawn from its fiducial distribution SS_w / chi2(df_w) (this makes the
  test exactly the two-sample t-test when each side has one trial of the
  same configuration);
* the variance of a trial mean, tau^2 + sigma^2 / n: from the trial means'
  spread around their own side's mean (a shift of the whole candidate, the
  regression being tested, does not widen it), pooled over both sides,
  drawn as SS_t / chi2(df_t); tau^2 is what exceeds sigma^2 / n (>= 0);
* configurations: resampled from the observed ones, each as its mean's
  deviation from the mean of the other trials on its side (so a needle, one
  configuration far above the rest, keeps its full height; these
  deviations vary K / (K - 1) times a trial mean, on the safe side), in
  units of the spread's estimate, times tau;
* each side's search: its own K draws, each with noise sigma / sqrt(n),
  its best taken: the difference of the bests under the null, for the
  candidate's K and n and the baseline's own (unequal budgets are adjusted
  for, not only noted).

The p-value is the Monte Carlo one, (1 + #{D* <= D + max_drop}) / (B + 1);
``regressed`` is p <= alpha, exactly when the interval's upper end
(D - D*_(k), k = floor(alpha (B + 1))) lies below -max_drop.
"""

from __future__ import annotations

import numpy as np

DRAWS = 1999  # B: (B + 1) alpha is an integer at alpha = 0.05, 0.01, 0.025, 0.1
POWER = 0.8  # the minimum detectable drop is at this power


def _side_spread(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, K) trial means -> (sum of squared deviations from the side's
    mean (S,), each trial's deviation from the mean of the side's other
    trials (S, K)); no deviations from a side of one trial."""
    k = means.shape[1]
    dev = means - means.mean(axis=1, keepdims=True)
    ss = (dev**2).sum(axis=1)
    if k < 2:
        return ss, np.zeros((means.shape[0], 0))
    return ss, dev * (k / (k - 1))


def null_draws(
    base_means: np.ndarray,
    base_n: int,
    cand_means: np.ndarray,
    cand_n: int,
    ss_within: np.ndarray,
    df_within: int,
    rng: np.random.Generator,
    draws: int = DRAWS,
    no_search_spread: bool = False,
) -> np.ndarray:
    """(S, draws) differences of best means (candidate - baseline) under the
    null, for S comparisons at once. ``base_means`` (S, Kb) and
    ``cand_means`` (S, Kc): each side's trial means (oriented: higher is
    better), each from ``base_n`` / ``cand_n`` executions; ``ss_within``
    (S,): the within-trial sum of squares over both sides, on ``df_within``
    degrees of freedom. ``no_search_spread``: tau = 0 (one trial on each
    side, the same configuration)."""
    s = base_means.shape[0]
    kb, kc = base_means.shape[1], cand_means.shape[1]
    ss_b, z_b = _side_spread(base_means)
    ss_c, z_c = _side_spread(cand_means)
    df_t = (kb - 1) + (kc - 1)
    sigma2 = ss_within[:, None] / rng.chisquare(df_within, (s, draws))
    noise_b = np.sqrt(sigma2 / base_n)[..., None]
    noise_c = np.sqrt(sigma2 / cand_n)[..., None]
    if no_search_spread or df_t == 0:
        tau = np.zeros((s, draws, 1))
        shapes = np.zeros((s, 1))
    else:
        ss_t = ss_b + ss_c
        v = ss_t[:, None] / rng.chisquare(df_t, (s, draws))
        # E[SS_t] = sum over sides of (K - 1) (tau^2 + sigma^2 / n)
        noise_share = ((kb - 1) / base_n + (kc - 1) / cand_n) / df_t
        tau = np.sqrt(np.maximum(v - sigma2 * noise_share, 0.0))[..., None]
        shapes = np.concatenate([z_b, z_c], axis=1)
        scale = np.sqrt(ss_t / df_t)
        shapes = np.divide(shapes, scale[:, None], out=np.zeros_like(shapes), where=scale[:, None] > 0)
    j = shapes.shape[1]
    rows = np.arange(s)[:, None, None]
    pick_b = shapes[rows, rng.integers(0, j, (s, draws, kb))]
    pick_c = shapes[rows, rng.integers(0, j, (s, draws, kc))]
    best_b = (tau * pick_b + noise_b * rng.standard_normal((s, draws, kb))).max(axis=2)
    best_c = (tau * pick_c + noise_c * rng.standard_normal((s, draws, kc))).max(axis=2)
    return np.asarray(best_c - best_b)


def p_values(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Monte Carlo p-values (S,) of observed (S,) (already + max_drop)
    against the null draws (S, B): (1 + #{D* <= observed}) / (B + 1)."""
    count = (null <= observed[:, None]).sum(axis=1)
    return np.asarray((1.0 + count) / (null.shape[1] + 1.0))


def _rank(alpha: float, draws: int) -> int:
    """k = floor(alpha (B + 1)), with a slack: alpha (B + 1) is a whole
    count up to rounding (1 - 0.8 is 0.19999...)."""
    return int(np.floor(alpha * (draws + 1) + 1e-9))


def significant(p_value: float, alpha: float, draws: int) -> bool:
    """p <= alpha by the rank ``critical`` uses: p (B + 1) is a whole count,
    so that the verdict and the interval agree at a tie."""
    return bool(p_value * (draws + 1) <= _rank(alpha, draws) + 1e-9)


def critical(null: np.ndarray, alpha: float) -> np.ndarray:
    """D*_(k), k = floor(alpha (B + 1)): p <= alpha exactly when the
    observed value (+ max_drop) lies below it (-inf when no p can be that
    small with B draws)."""
    b = null.shape[1]
    k = _rank(alpha, b)
    if k < 1:
        return np.full(null.shape[0], -np.inf)
    return np.partition(null, k - 1, axis=1)[:, k - 1]


def upper(null: np.ndarray, alpha: float) -> np.ndarray:
    """D*_(B + 1 - k): the mirror of ``critical`` for the interval's other end."""
    b = null.shape[1]
    k = _rank(alpha, b)
    if k < 1:
        return np.full(null.shape[0], np.inf)
    return np.partition(null, b - k, axis=1)[:, b - k]


def detectable(null: np.ndarray, alpha: float, power: float = POWER) -> np.ndarray:
    """The true drop (beyond max_drop) caught with probability ``power``: a
    drop d moves the observed difference to D* - d, caught when below the
    critical value: d = q_power(D*) - D*_(k)."""
    return np.asarray(np.quantile(null, power, axis=1) - critical(null, alpha))
