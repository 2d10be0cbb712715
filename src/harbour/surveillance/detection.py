"""Aberration detection for counts of drug-related harms: see spikes before the coroner does.

Pure numpy/scipy, vectorised over many series (issue 6). Every detector answers the same
question for a count series: is today's (this week's) count higher than its history makes
plausible?

Methods
-------
``ears``
    The CDC Early Aberration Reporting System C1, C2 and C3 (Hutwagner et al. 2003, 2005):
    a 7-day moving mean and standard deviation, with a guard band of 2 days for C2 and C3.
``farrington_flexible``
    A quasi-Poisson log-linear model with optional trend fitted to the same weeks of past
    years, down-weighting past outbreaks (Farrington et al. 1996), with the improvements of
    Noufaily et al. (2013): a seasonal factor over all past weeks (``no_periods``), excluded
    recent weeks (``past_weeks_not_included``) and negative-binomial thresholds. The GLM is
    solved by iteratively reweighted least squares written here, batched over all series and
    all monitored time points at once.
``poisson_gamma``
    A Bayesian detector for sparse series of small communities: a Poisson count whose rate has
    a gamma posterior given the baseline; the threshold is an upper quantile of the posterior
    predictive, which is negative binomial.
``count_window_alarms``
    The ODMAP-style rule: alarm as soon as a threshold number of events fall within any
    trailing 24 hours (or any window), from event timestamps.
``space_time_permutation_scan``
    Kulldorff's space-time permutation scan statistic (Kulldorff et al. 2005) with Monte Carlo
    p-values, for clusters of events in neighbouring areas over recent days, using only the
    events themselves (no population at risk needed).

Conventions
-----------
* ``counts`` is a 1-D array (one series) or a 2-D array (one series per row, time along the
  columns) of non-negative integer counts at a regular time step (days or weeks). Results have
  the same shape as ``counts``.
* Gaps in dates are the caller's business: every time step must be present and a step without
  events is an explicit 0. A missing step would silently shift every baseline.
* Missing values (e.g. a count published as "Suppressed") are accepted as NaN. They are left
  out of baselines and model fits, and a missing count never alarms. Negative, infinite or
  non-integer counts are refused with ``ValueError``.
* Time positions are 0-based: ``range`` holds the positions to monitor, i.e. R's 1-based
  ``range`` minus one.
* A point without enough history for a method gets a NaN upper bound and no alarm instead of
  an error ("not enough history").
* An alarm is raised when the count is strictly above the upper bound.

R compatibility
---------------
The reference implementation is the R package ``surveillance`` (Salmon, Schumacher and
Höhle 2016). This module was written from the published formulas, not from that GPL-2 code;
the R package was only run as a black box to produce test oracles (``tests/data/surveillance``).
With ``r_compat=True`` the results reproduce R surveillance 1.20.3 to rounding error, including
four behaviours of the R code that differ from the papers:

1. EARS C3: R's upper bound is built from the observed count itself,
   ``max(0, y + sd * (z - excess(t-1) - excess(t-2)))``, so a C3 alarm at ``t`` depends only on
   the C2 statistics of ``t - 1`` and ``t - 2``: a spike does not alarm on its own day. The
   default (textbook, CDC) C3 does. R also lets an undefined C2 statistic (``0 / 0`` on a
   zero-variance baseline) make the next two bounds undefined.
2. farringtonFlexible replaces the GLM's working weights by the Farrington reweighting weights,
   so the trend test and the standard error of the prediction use the dispersion
   ``sum(w * ((y - mu) / mu) ** 2) / (n - p)`` instead of the Pearson statistic.
3. R's ``glm.fit`` returns the working weights and QR decomposition of the iteration before
   the last coefficient update; the dispersion and hat values are computed from those.
4. For the negative-binomial thresholds (``nbPlugin``, ``muan``) the score is computed with
   the linear predictor ``log(mu0)`` in place of ``mu0``.

Without ``r_compat`` the textbook versions are used: C3 alarms on the spike's own day, the
final weights of the IRLS are used, the covariance of the prediction uses the same dispersion
``phi`` as the threshold, and the score is ``(y - mu0) / (U - mu0)``.

References
----------
* Hutwagner L, Thompson W, Seeman GM, Treadwell T. The bioterrorism preparedness and response
  Early Aberration Reporting System (EARS). J Urban Health 2003;80(2 Suppl 1):i89-96.
* Hutwagner L, Browne T, Seeman GM, Fleischauer AT. Comparing aberration detection methods with
  simulated data. Emerg Infect Dis 2005;11(2):314-316.
* Farrington CP, Andrews NJ, Beale AD, Catchpole MA. A statistical algorithm for the early
  detection of outbreaks of infectious disease. J R Stat Soc A 1996;159(3):547-563.
* Noufaily A, Enki DG, Farrington P, Garthwaite P, Andrews N, Charlett A. An improved algorithm
  for outbreak detection in multiple surveillance systems. Stat Med 2013;32(7):1206-1222.
* Kulldorff M, Heffernan R, Hartman J, Assunção R, Mostashari F. A space-time permutation scan
  statistic for disease outbreak detection. PLoS Med 2005;2(3):e59.
* McCullagh P, Nelder JA. Generalized Linear Models, 2nd ed. 1989 (IRLS, quasi-likelihood).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal, NamedTuple, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
ScalarT = TypeVar("ScalarT", bound=np.generic)

# glm.fit's defaults: convergence on the relative change of the deviance, at most 25 iterations.
_GLM_EPSILON = 1e-8
_GLM_MAXIT = 25
# Farrington fits are solved in chunks of (series, time point) pairs of about this many cells.
_CHUNK_CELLS = 4_000_000
# EARS works on blocks of this many series at a time.
_EARS_BLOCK = 256


# --------------------------------------------------------------------------------------------
# input checking
# --------------------------------------------------------------------------------------------


def _as_counts(counts: ArrayLike, name: str = "counts") -> tuple[FloatArray, bool]:
    """Return ``counts`` as a 2-D float array (series x time) and whether the input was 1-D."""
    try:
        array = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric (NaN for missing values): {error}") from None
    if array.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D (one series) or 2-D (one series per row)")
    observed = array[~np.isnan(array)]
    if np.isinf(observed).any():
        raise ValueError(f"{name} must be finite (use NaN for a missing value)")
    if (observed < 0).any():
        raise ValueError(f"{name} must be non-negative; found {observed.min():g}")
    if (observed != np.round(observed)).any():
        bad = observed[observed != np.round(observed)][0]
        raise ValueError(f"{name} must be whole numbers of events; found {bad:g}")
    was_1d = array.ndim == 1
    return np.atleast_2d(array), was_1d


def _shape_back(array: NDArray[ScalarT], was_1d: bool) -> NDArray[ScalarT]:
    return array[0] if was_1d else array


def _window_sums(values: FloatArray, length: int, lag: int) -> tuple[FloatArray, ...]:
    """Sums over the window ``[t - lag - length, t - lag)`` of each time ``t``, NaN-aware.

    Returns the number of observed values, their sum and their sum of squares (zero where the
    window would start before the series); the number of observed values has shape
    ``(1, n_times)`` when nothing is missing. Counts are whole numbers, so these cumulative
    sums are exact in double precision.
    """
    n_times = values.shape[1]
    first = lag + length  # the first time whose window is complete

    def sums(term: FloatArray) -> FloatArray:
        cumulative = np.zeros((term.shape[0], n_times + 1))
        np.cumsum(term, axis=1, out=cumulative[:, 1:])
        result = np.zeros((term.shape[0], n_times))
        if first < n_times:
            np.subtract(
                cumulative[:, length : n_times - lag],
                cumulative[:, : n_times - first],
                out=result[:, first:],
            )
        return result

    missing = np.isnan(values)
    if missing.any():
        filled = np.where(missing, 0.0, values)
        n_observed = sums((~missing).astype(np.float64))
    else:
        filled = values
        n_observed = np.where(np.arange(n_times) >= first, float(length), 0.0)[None, :]
    return n_observed, sums(filled), sums(filled * filled)


# --------------------------------------------------------------------------------------------
# EARS C1, C2, C3
# --------------------------------------------------------------------------------------------


class EarsResult(NamedTuple):
    """Result of :func:`ears`; arrays have the shape of ``counts``.

    Attributes
    ----------
    upperbound
        The count above which the point alarms; NaN where there is not enough history. For the
        textbook C3, -inf when the excesses of ``t - 1`` and ``t - 2`` alone pass the threshold.
    alarm
        True where the count is above the upper bound (textbook C3: where C3 > threshold).
    statistic
        The C1 or C2 statistic ``(y - mean) / sd``; for C3 the textbook C3 sum
        ``sum(max(0, C2 - 1))`` over ``t``, ``t - 1`` and ``t - 2``. NaN where undefined.
    """

    upperbound: FloatArray
    alarm: BoolArray
    statistic: FloatArray


def ears(
    counts: ArrayLike,
    method: Literal["C1", "C2", "C3"] = "C1",
    baseline: int = 7,
    alpha: float | None = None,
    min_sigma: float = 0.0,
    r_compat: bool = False,
) -> EarsResult:
    """EARS C1, C2 or C3 (Hutwagner et al. 2003) on one or many count series.

    C1 compares the count with the mean and standard deviation of the ``baseline`` previous
    points; C2 does the same after a guard band of 2 points (baseline ``t-9 .. t-3`` for 7);
    the upper bound is ``mean + z(1 - alpha) * sd``. C3 sums the excesses
    ``max(0, C2 - 1)`` of the C2 statistics at ``t``, ``t - 1`` and ``t - 2`` and alarms above
    ``z(1 - alpha)`` (about 2 with the default alpha, the CDC threshold).

    Parameters
    ----------
    counts
        1-D or 2-D (one series per row) non-negative whole counts; NaN = missing, left out of
        the baselines (a baseline needs at least 2 observed values) and never alarming.
    method
        "C1", "C2" or "C3".
    baseline
        Number of points in the moving baseline (7 days in EARS).
    alpha
        One-sided level; defaults as R: 0.001 for C1 and C2, 0.025 for C3.
    min_sigma
        Lower limit of the baseline standard deviation. With 0, a baseline of identical values
        makes any count above it alarm; 0.5 to 1 is advisable for sparse series.
    r_compat
        For C3, reproduce R surveillance (the alarm depends only on ``t - 1`` and ``t - 2``;
        see the module docstring). C1 and C2 are the same in both modes.

    Returns
    -------
    EarsResult
        ``upperbound``, ``alarm`` and ``statistic``; the first ``baseline`` points (C1),
        ``baseline + 2`` (C2) or ``baseline + 4`` (C3) have no upper bound.
    """
    if method not in ("C1", "C2", "C3"):
        raise ValueError(f"method must be 'C1', 'C2' or 'C3', not {method!r}")
    if int(baseline) != baseline or baseline < 2:
        raise ValueError("baseline must be a whole number of at least 2")
    if min_sigma < 0:
        raise ValueError("min_sigma must be non-negative")
    if alpha is None:
        alpha = 0.025 if method == "C3" else 0.001
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    y, was_1d = _as_counts(counts)
    z = float(stats.norm.ppf(1 - alpha))
    upperbound = np.empty_like(y)
    alarm = np.empty(y.shape, dtype=bool)
    statistic = np.empty_like(y)
    # blocks of series small enough for the CPU caches
    for start in range(0, y.shape[0], _EARS_BLOCK):
        rows = slice(start, start + _EARS_BLOCK)
        upperbound[rows], alarm[rows], statistic[rows] = _ears_rows(
            y[rows], method, baseline, z, min_sigma, r_compat
        )
    return EarsResult(
        _shape_back(upperbound, was_1d), _shape_back(alarm, was_1d), _shape_back(statistic, was_1d)
    )


def _ears_rows(
    y: FloatArray, method: str, baseline: int, z: float, min_sigma: float, r_compat: bool
) -> tuple[FloatArray, BoolArray, FloatArray]:
    """EARS on a block of series (2-D); see :func:`ears`."""
    lag = 0 if method == "C1" else 2
    n_obs, total, squares = _window_sums(y, baseline, lag)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n_obs >= 2, total / n_obs, np.nan)
        # exact for whole counts: n * sum(y^2) - sum(y)^2 is computed on integers
        variance = (n_obs * squares - total * total) / (n_obs * (n_obs - 1))
        sd = np.maximum(np.sqrt(np.maximum(variance, 0.0)), min_sigma)
        sd = np.where(n_obs >= 2, sd, np.nan)
        statistic = (y - mean) / sd
    if not r_compat:
        # a count equal to a zero-variance baseline is no excess at all (R: 0 / 0 = NaN)
        statistic = np.where((sd == 0) & (y == mean), 0.0, statistic)

    if method != "C3":
        upperbound = mean + z * sd
        return upperbound, np.asarray(y > upperbound), statistic

    # C3 needs the C2 statistics of t - 2 and t - 1, whose baselines must exist
    first = baseline + lag + 2
    excess = np.maximum(statistic - 1.0, 0.0)
    if r_compat:
        # R: undefined C2 statistics (0 / 0) propagate, and the bound is clipped at zero
        previous = np.full_like(excess, np.nan)
        previous[:, 2:] = excess[:, 1:-1] + excess[:, :-2]
        previous[:, :first] = np.nan
        c3 = previous + excess
        with np.errstate(invalid="ignore"):
            upperbound = np.maximum(y + sd * (z - previous), 0.0)
        alarm = np.asarray(y > upperbound)
    else:
        # a missing day adds no excess
        excess = np.where(np.isnan(excess), 0.0, excess)
        previous = np.full_like(excess, np.nan)
        previous[:, 2:] = excess[:, 1:-1] + excess[:, :-2]
        previous[:, :first] = np.nan
        undefined = np.isnan(previous) | np.isnan(mean)
        c3 = np.where(undefined, np.nan, previous + excess)
        # the count at which C3 reaches the threshold; -inf when t-1 and t-2 alone exceed it
        with np.errstate(invalid="ignore"):
            upperbound = np.where(previous <= z, mean + sd * (1.0 + z - previous), -np.inf)
        upperbound[undefined] = np.nan
        alarm = np.asarray((c3 > z) & ~np.isnan(y))
    return upperbound, alarm, c3


# --------------------------------------------------------------------------------------------
# Farrington (1996) / Noufaily (2013): farringtonFlexible
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FarringtonResult:
    """Result of :func:`farrington_flexible`; arrays have the shape of ``counts``.

    Everything is NaN (alarm False, trend_used False) outside ``range`` and where there is not
    enough history. Where the ``limit54`` rule is not met, ``upperbound`` and ``expected`` are
    NaN and there is no alarm, but the other fields are still given (as R does).

    Attributes
    ----------
    upperbound
        Threshold ``U``: the count above which the point alarms.
    alarm
        True where the count is above ``upperbound``.
    expected
        ``mu0``, the count the model predicts for the point.
    phi
        Dispersion of the quasi-Poisson model, at least 1.
    trend_used
        Whether the log-linear time trend was kept (significant, and not predicting more
        than the largest baseline count).
    trend_coef
        The trend's coefficient (log scale, per time step) where it was kept, else NaN.
    score
        ``(y - mu0) / (U - mu0)``: above 1 means an alarm. (R-compatible mode with a
        negative-binomial threshold: ``(y - log mu0) / (U - log mu0)``, as R computes it.)
    pvalue
        Probability of a count at least as high as observed under the model: normal tail of
        the transformed count for ``delta``, negative-binomial tail for ``nbPlugin``/``muan``.
    """

    upperbound: FloatArray
    alarm: BoolArray
    expected: FloatArray
    phi: FloatArray
    trend_used: BoolArray
    trend_coef: FloatArray
    score: FloatArray
    pvalue: FloatArray


@dataclass
class _GlmFit:
    """Poisson log-linear fits of many series on one design matrix."""

    beta: FloatArray  # (m, p) coefficients
    mu: FloatArray  # (m, n) fitted means
    weights: FloatArray  # (m, n) working weights of the returned decomposition
    xtwx_inv: FloatArray  # (m, p, p) inverse of X' W X (the unscaled covariance)


def _poisson_deviance(y: FloatArray, mu: FloatArray, prior: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        y_log = np.where(y > 0, y * np.log(y / mu), 0.0)
    result: FloatArray = 2.0 * np.sum(prior * (y_log - (y - mu)), axis=1)
    return result


def _outer_rows(design: FloatArray) -> FloatArray:
    """``x_k x_k'`` of each row ``x_k`` of the design, flattened: shape (n, p * p)."""
    result: FloatArray = (design[:, :, None] * design[:, None, :]).reshape(design.shape[0], -1)
    return result


def _weighted_cross(outer: FloatArray, weights: FloatArray, ridge: FloatArray) -> FloatArray:
    """Stacked ``X' diag(w) X`` for each row of ``weights``, plus ``ridge`` (aliased columns).

    One matrix product ``weights @ outer`` computes all of them at once.
    """
    result: FloatArray = (weights @ outer).reshape(ridge.shape) + ridge
    return result


def _inverse(matrices: FloatArray) -> FloatArray:
    """Inverses of stacked matrices; pseudo-inverses if one of them is singular."""
    try:
        result = np.linalg.inv(matrices)
    except np.linalg.LinAlgError:
        result = np.linalg.pinv(matrices)
    return np.asarray(result, dtype=np.float64)


def _solve(matrices: FloatArray, vectors: FloatArray) -> FloatArray:
    """Solutions of stacked linear systems (least-squares if one of them is singular)."""
    try:
        result = np.linalg.solve(matrices, vectors[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        result = (np.linalg.pinv(matrices) @ vectors[:, :, None])[:, :, 0]
    return np.asarray(result, dtype=np.float64)


def _fit_poisson_glm(
    design: FloatArray,
    y: FloatArray,
    prior: FloatArray,
    aliased: BoolArray,
    r_compat: bool,
) -> _GlmFit:
    """Fit ``log E[y] = X beta`` by iteratively reweighted least squares, for many series.

    Follows the usual IRLS of a GLM (McCullagh and Nelder 1989): start from ``mu = y + 0.1``,
    then repeatedly regress the working response ``z = eta + (y - mu) / mu`` on ``X`` with
    weights ``prior * mu``, until the deviance changes by less than 1e-8 relative (at most 25
    iterations; the last estimate is kept if it has not converged by then), each series
    stopping on its own. ``prior`` holds the prior weights, 0 for a
    missing value. Aliased columns (no observed value in that column) get coefficient 0.

    With ``r_compat`` the weights and ``(X'WX)^-1`` returned are those of the last iteration,
    computed before its coefficient update, as R's ``glm.fit`` returns them; otherwise they are
    recomputed at the final estimate.
    """
    n_fits, _ = y.shape
    n_params = design.shape[1]
    ridge = aliased[:, :, None] * np.eye(n_params)[None, :, :]
    outer = _outer_rows(design)
    mu = y + 0.1
    eta = np.log(mu)
    deviance_old = _poisson_deviance(y, mu, prior)
    beta = np.zeros((n_fits, n_params))
    weights = np.zeros_like(y)
    xtwx = np.zeros((n_fits, n_params, n_params))
    active = np.arange(n_fits)
    for _ in range(_GLM_MAXIT):
        mu_a, y_a, prior_a = mu[active], y[active], prior[active]
        w = prior_a * mu_a
        working = eta[active] + (y_a - mu_a) / mu_a
        cross = _weighted_cross(outer, w, ridge[active])
        rhs = (w * working) @ design
        beta_a = _solve(cross, rhs)
        eta_a = beta_a @ design.T
        mu_new = np.exp(eta_a)
        deviance = _poisson_deviance(y_a, mu_new, prior_a)
        beta[active], eta[active], mu[active] = beta_a, eta_a, mu_new
        weights[active], xtwx[active] = w, cross
        converged = np.abs(deviance - deviance_old[active]) / (np.abs(deviance) + 0.1)
        deviance_old[active] = deviance
        active = active[~(converged < _GLM_EPSILON)]
        if active.size == 0:
            break
    if not r_compat:
        weights = prior * mu
        xtwx = _weighted_cross(outer, weights, ridge)
    return _GlmFit(
        beta=beta,
        mu=mu,
        weights=weights,
        xtwx_inv=_inverse(xtwx),
    )


@dataclass
class _FarringtonFit:
    glm: _GlmFit
    phi: FloatArray  # (m,) dispersion for the threshold, at least 1
    dispersion: FloatArray  # (m,) dispersion scaling the covariance of the coefficients
    df: FloatArray  # (m,) residual degrees of freedom


def _fit_farrington(
    design: FloatArray,
    y: FloatArray,
    observed: BoolArray,
    reweight: bool,
    weights_threshold: float,
    r_compat: bool,
) -> _FarringtonFit:
    """Quasi-Poisson fit with Farrington's down-weighting of past outbreaks.

    After a first fit, the Anscombe residuals
    ``s = 3/2 (y^(2/3) - mu^(2/3)) / (mu^(1/6) sqrt(phi (1 - h)))`` are computed (``h``: hat
    values), points with ``s`` above ``weights_threshold`` get weight ``s^-2``, the others 1,
    all scaled to sum to the number of points, and the model is refitted with these weights.
    """
    prior = observed.astype(np.float64)
    # columns without an observed value are aliased (a seasonal period with no data)
    aliased = (observed.astype(np.float64) @ (design != 0)) == 0
    n_obs = prior.sum(axis=1)
    df = n_obs - (design.shape[1] - aliased.sum(axis=1))
    fit = _fit_poisson_glm(design, y, prior, aliased, r_compat)
    weights = prior
    if reweight:
        residual = (y - fit.mu) / fit.mu
        phi_first = np.maximum(np.sum(fit.weights * residual**2, axis=1) / df, 1.0)
        n_fits = y.shape[0]
        hat = fit.weights * (fit.xtwx_inv.reshape(n_fits, -1) @ _outer_rows(design).T)
        with np.errstate(divide="ignore", invalid="ignore"):
            anscombe = (
                1.5
                * (y ** (2 / 3) - fit.mu ** (2 / 3))
                / (fit.mu ** (1 / 6) * np.sqrt(phi_first[:, None] * (1.0 - hat)))
            )
            gamma = np.where(anscombe > weights_threshold, anscombe**-2.0, 1.0) * prior
        weights = gamma * (n_obs / gamma.sum(axis=1))[:, None]
        fit = _fit_poisson_glm(design, y, weights, aliased, r_compat)
    residual = (y - fit.mu) / fit.mu
    phi = np.maximum(np.sum(fit.weights * residual**2, axis=1) / df, 1.0)
    if r_compat and reweight:
        # R overwrites the working weights by the reweighting weights before summary()
        dispersion = np.sum(weights * residual**2, axis=1) / df
    elif r_compat:
        dispersion = np.sum(fit.weights * residual**2, axis=1) / df
    else:
        dispersion = phi
    return _FarringtonFit(glm=fit, phi=phi, dispersion=dispersion, df=df)


def _farrington_reference(
    freq: int, b: int, w: int, no_periods: int, past_weeks_not_included: int
) -> tuple[IntArray, IntArray]:
    """Offsets (relative to the monitored time) of the baseline points, and their period.

    With one period, the baseline is the ``2w + 1`` points centred on the same time of each of
    the current time and of the ``b`` previous years (Farrington 1996). With ``no_periods`` > 1
    it is every point from ``b`` years and ``w`` points back (Noufaily et al. 2013); the windows
    are period 0 and the rest of each year is cut into ``no_periods - 1`` consecutive periods of
    (nearly) equal length. Either way the ``past_weeks_not_included`` most recent points and the
    current one are left out, so with ``past_weeks_not_included < w`` the start of the current
    window is part of the baseline.
    """
    last = -(past_weeks_not_included + 1)
    if no_periods == 1:
        offsets = np.array(
            [-k * freq + j for k in range(b + 1) for j in range(-w, w + 1)], dtype=np.int64
        )
        offsets = np.sort(offsets[offsets <= last])
        return offsets, np.zeros_like(offsets)
    offsets = np.arange(-b * freq - w, last + 1, dtype=np.int64)
    in_year = (offsets + w) % freq  # 0 .. 2w: the window of a past year
    # the rest of the year, split into no_periods - 1 consecutive periods whose lengths differ
    # by at most one, the longer ones first (as numpy.array_split does)
    after = in_year - (2 * w + 1)
    length, longer = divmod(freq - (2 * w + 1), no_periods - 1)
    period = np.where(
        after < longer * (length + 1),
        after // (length + 1),
        longer + (after - longer * (length + 1)) // max(length, 1),
    )
    period = np.where(in_year <= 2 * w, 0, 1 + period)
    return offsets, period.astype(np.int64)


def _nb_quantile(q: float, mu: FloatArray, phi: FloatArray) -> FloatArray:
    """Quantile of the negative binomial with mean ``mu`` and variance ``phi * mu``.

    Poisson where ``phi`` is 1 (size ``mu / (phi - 1)`` infinite).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        size = mu / (phi - 1.0)
        nb = stats.nbinom.ppf(q, size, 1.0 / phi)
    result: FloatArray = np.where(phi > 1.0, nb, stats.poisson.ppf(q, mu))
    return result


def _nb_tail(y: FloatArray, mu: FloatArray, phi: FloatArray) -> FloatArray:
    """``P(Y >= y)`` for the negative binomial (Poisson where ``phi`` is 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        size = mu / (phi - 1.0)
        nb = stats.nbinom.sf(y - 1.0, size, 1.0 / phi)
    result: FloatArray = np.where(phi > 1.0, nb, stats.poisson.sf(y - 1.0, mu))
    return result


_POWERS = {"2/3": 2.0 / 3.0, "1/2": 0.5, "none": 1.0}


def farrington_flexible(
    counts: ArrayLike,
    freq: int,
    range: ArrayLike | None = None,
    b: int = 5,
    w: int = 3,
    reweight: bool = True,
    weights_threshold: float = 2.58,
    alpha: float = 0.05,
    trend: bool = True,
    p_threshold_trend: float = 0.05,
    limit54: tuple[int, int] | None = (5, 4),
    powertrans: Literal["2/3", "1/2", "none"] = "2/3",
    no_periods: int = 1,
    past_weeks_not_included: int = 3,
    threshold_method: Literal["delta", "nbPlugin", "muan"] = "delta",
    r_compat: bool = False,
) -> FarringtonResult:
    """Farrington's outbreak detection with Noufaily's improvements, on many series at once.

    For each monitored point ``t0`` a quasi-Poisson log-linear model (with a linear trend when
    ``trend``, ``b >= 3``, the trend significant at ``p_threshold_trend`` and not predicting more
    than the largest baseline count) is fitted to the baseline of past years, down-weighting
    past outbreaks (``reweight``), and predicts ``mu0``. The upper bound is

    * ``delta``: ``U = (mu0^p + z p mu0^(p-1) sqrt(phi mu0 + var(mu0)))^(1/p)``, the normal
      approximation of the ``p``-power-transformed count (Farrington 1996; ``p`` = 2/3, 1/2 or 1
      for ``powertrans`` "2/3", "1/2", "none"), ``z = z(1 - alpha)``;
    * ``nbPlugin``: the ``1 - alpha`` quantile of the negative binomial with mean ``mu0`` and
      variance ``phi mu0`` (Noufaily 2013);
    * ``muan``: the same quantile, with the mean taken at the upper ``1 - alpha`` limit of the
      asymptotic normal distribution of the linear predictor.

    Parameters
    ----------
    counts
        1-D or 2-D (one series per row) non-negative whole counts; NaN = missing, left out of
        the fit. A point is skipped (NaN) when its baseline has no more observed values than
        the model has parameters, or none in the windows.
    freq
        Points per year: 52 for weekly, 12 for monthly, 365 for daily series.
    range
        0-based positions to monitor; default every position with ``b`` years and ``w`` points
        of history.
    b, w
        Years back, and half-width of the window around the same time of past years.
    reweight, weights_threshold
        Down-weight past outbreaks; Anscombe residual above which a point is down-weighted
        (1 in Farrington 1996, 2.58 in Noufaily 2013).
    alpha
        One-sided level of the threshold.
    trend, p_threshold_trend
        Allow a linear trend; p-value below which it is kept.
    limit54
        ``(cases, period)``: no alarm unless the last ``period`` points (the current one
        included) hold at least ``cases`` events; None to switch off. Missing values count as
        0 (R-compatible mode: a missing value there makes the rule fail, as in R).
    powertrans
        Power transformation for ``delta``.
    no_periods, past_weeks_not_included
        Number of levels of the seasonal factor (1 = Farrington's windows only) and the number
        of most recent points left out of the baseline.
    threshold_method
        "delta", "nbPlugin" or "muan" (see above).
    r_compat
        Reproduce R surveillance 1.20.3 (see the module docstring).

    Returns
    -------
    FarringtonResult
    """
    if threshold_method not in ("delta", "nbPlugin", "muan"):
        raise ValueError(
            f"threshold_method must be 'delta', 'nbPlugin' or 'muan', not {threshold_method!r}"
        )
    if powertrans not in _POWERS:
        raise ValueError(f"powertrans must be '2/3', '1/2' or 'none', not {powertrans!r}")
    for name, value, low in (
        ("freq", freq, 1),
        ("b", b, 1),
        ("w", w, 0),
        ("no_periods", no_periods, 1),
        ("past_weeks_not_included", past_weeks_not_included, 0),
    ):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be a whole number of at least {low}")
    if no_periods > 1 and freq - (2 * w + 1) < no_periods - 1:
        raise ValueError("no_periods - 1 periods do not fit in a year outside the window")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    y, was_1d = _as_counts(counts)
    n_series, n_times = y.shape
    offsets, period = _farrington_reference(freq, b, w, no_periods, past_weeks_not_included)
    if range is None:
        positions = np.arange(b * freq + w, n_times)
    else:
        positions = np.unique(np.asarray(range))
        if positions.size and (
            positions.dtype.kind not in "iu" or positions.min() < 0 or positions.max() >= n_times
        ):
            raise ValueError(f"range must hold whole positions between 0 and {n_times - 1}")
        positions = positions.astype(np.int64)
    # not enough history: the baseline would start before the series
    positions = positions[positions + offsets.min() >= 0] if offsets.size else positions[:0]

    # design: intercept, time relative to t0 (so the prediction is exp(intercept)), periods
    columns = [np.ones(offsets.size), offsets.astype(np.float64)]
    columns += [(period == level).astype(np.float64) for level in np.arange(1, no_periods)]
    design_trend = np.column_stack(columns)
    design_flat = np.delete(design_trend, 1, axis=1)
    use_trend = trend and b >= 3

    shape = (n_series, n_times)
    out = {
        name: np.full(shape, np.nan)
        for name in ("upperbound", "expected", "phi", "trend_coef", "score", "pvalue")
    }
    alarm = np.zeros(shape, dtype=bool)
    trend_used = np.zeros(shape, dtype=bool)

    pair_series, pair_time = (
        a.ravel() for a in np.meshgrid(np.arange(n_series), positions, indexing="ij")
    )
    chunk = max(1, _CHUNK_CELLS // max(1, offsets.size * design_trend.shape[1]))
    for start in np.arange(0, pair_series.size, chunk):
        series = pair_series[start : start + chunk]
        t0 = pair_time[start : start + chunk]
        baseline = y[series[:, None], t0[:, None] + offsets[None, :]]
        observed = ~np.isnan(baseline)
        # enough data: more observed points than parameters, some in the current window
        enough = (observed.sum(axis=1) > design_trend.shape[1]) & (
            observed[:, period == 0].any(axis=1)
        )
        series, t0, baseline, observed = (
            series[enough],
            t0[enough],
            baseline[enough],
            observed[enough],
        )
        if series.size == 0:
            continue
        baseline = np.where(observed, baseline, 0.0)
        result = _farrington_points(
            baseline,
            observed,
            y[series, t0],
            design_trend,
            design_flat,
            use_trend,
            reweight=reweight,
            weights_threshold=weights_threshold,
            alpha=alpha,
            p_threshold_trend=p_threshold_trend,
            power=_POWERS[powertrans],
            threshold_method=threshold_method,
            r_compat=r_compat,
        )
        for name, values in result.items():
            if name == "alarm":
                alarm[series, t0] = values
            elif name == "trend_used":
                trend_used[series, t0] = values
            else:
                out[name][series, t0] = values

    if limit54 is not None:
        cases, period_length = limit54
        # events in the last `period_length` points, the current one included; a missing
        # value counts as 0 (R-compatible: makes the rule fail, as R's sum() gives NA)
        monitored = ~np.isnan(out["phi"])
        series, t0 = np.nonzero(monitored)
        lags = np.arange(period_length)
        recent = y[series[:, None], np.maximum(t0[:, None] - lags[None, :], 0)]
        recent[t0[:, None] - lags[None, :] < 0] = 0.0
        totals = recent.sum(axis=1) if r_compat else np.nansum(recent, axis=1)
        too_few = np.zeros(shape, dtype=bool)
        too_few[series, t0] = ~(totals >= cases)
        out["upperbound"][too_few] = np.nan
        out["expected"][too_few] = np.nan
        alarm &= ~too_few

    return FarringtonResult(
        upperbound=_shape_back(out["upperbound"], was_1d),
        alarm=_shape_back(alarm, was_1d),
        expected=_shape_back(out["expected"], was_1d),
        phi=_shape_back(out["phi"], was_1d),
        trend_used=_shape_back(trend_used, was_1d),
        trend_coef=_shape_back(out["trend_coef"], was_1d),
        score=_shape_back(out["score"], was_1d),
        pvalue=_shape_back(out["pvalue"], was_1d),
    )


def _farrington_points(
    baseline: FloatArray,
    observed: BoolArray,
    current: FloatArray,
    design_trend: FloatArray,
    design_flat: FloatArray,
    use_trend: bool,
    *,
    reweight: bool,
    weights_threshold: float,
    alpha: float,
    p_threshold_trend: float,
    power: float,
    threshold_method: str,
    r_compat: bool,
) -> dict[str, NDArray[np.generic]]:
    """Fit, trend selection and threshold for a batch of (series, time point) pairs."""
    n_fits = baseline.shape[0]
    beta0 = np.zeros(n_fits)
    var_eta = np.zeros(n_fits)
    phi = np.zeros(n_fits)
    trend_coef = np.full(n_fits, np.nan)
    flat = np.ones(n_fits, dtype=bool)
    if use_trend:
        fit = _fit_farrington(
            design_trend, baseline, observed, reweight, weights_threshold, r_compat
        )
        slope = fit.glm.beta[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            t_stat = slope / np.sqrt(fit.dispersion * fit.glm.xtwx_inv[:, 1, 1])
        p_trend = 2.0 * stats.t.sf(np.abs(t_stat), fit.df)
        largest = np.max(np.where(observed, baseline, -np.inf), axis=1)
        keep = (p_trend < p_threshold_trend) & (np.exp(fit.glm.beta[:, 0]) <= largest)
        beta0[keep] = fit.glm.beta[keep, 0]
        var_eta[keep] = fit.dispersion[keep] * fit.glm.xtwx_inv[keep, 0, 0]
        phi[keep] = fit.phi[keep]
        trend_coef[keep] = slope[keep]
        flat = ~keep
    if flat.any():
        fit = _fit_farrington(
            design_flat, baseline[flat], observed[flat], reweight, weights_threshold, r_compat
        )
        beta0[flat] = fit.glm.beta[:, 0]
        var_eta[flat] = fit.dispersion * fit.glm.xtwx_inv[:, 0, 0]
        phi[flat] = fit.phi

    # the monitored point is in period 0 at relative time 0: its linear predictor is beta0
    mu0 = np.exp(beta0)
    z = float(stats.norm.ppf(1.0 - alpha))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if threshold_method == "delta":
            sd = np.sqrt(phi * mu0 + mu0**2 * var_eta)  # sd of y0 - mu0_hat
            scale = power * mu0 ** (power - 1.0) * sd  # sd on the transformed scale
            upperbound = (mu0**power + z * scale) ** (1.0 / power)
            pvalue = stats.norm.sf((current**power - mu0**power) / scale)
        else:
            mean = mu0 if threshold_method == "nbPlugin" else np.exp(beta0 + z * np.sqrt(var_eta))
            upperbound = _nb_quantile(1.0 - alpha, mean, phi)
            pvalue = _nb_tail(current, mean, phi)
        centre = beta0 if (r_compat and threshold_method != "delta") else mu0
        score = (current - centre) / (upperbound - centre)
    return {
        "upperbound": upperbound,
        "alarm": current > upperbound,
        "expected": mu0,
        "phi": phi,
        "trend_used": ~flat,
        "trend_coef": trend_coef,
        "score": score,
        "pvalue": pvalue,
    }


# --------------------------------------------------------------------------------------------
# Bayesian Poisson-gamma detector for sparse series
# --------------------------------------------------------------------------------------------


class PoissonGammaResult(NamedTuple):
    """Result of :func:`poisson_gamma`; arrays have the shape of ``counts``.

    Attributes
    ----------
    upperbound
        The ``1 - alpha`` quantile of the posterior predictive distribution of the count.
    alarm
        True where the count is above ``upperbound`` (equivalently ``pvalue <= alpha``).
    expected
        Posterior predictive mean ``(a0 + sum y) / (b0 + n)``.
    pvalue
        Posterior predictive probability of a count at least as high as observed.
    """

    upperbound: FloatArray
    alarm: BoolArray
    expected: FloatArray
    pvalue: FloatArray


def poisson_gamma(
    counts: ArrayLike,
    baseline: int = 28,
    lag: int = 0,
    alpha: float = 0.01,
    prior_shape: float = 0.5,
    prior_rate: float = 0.0,
) -> PoissonGammaResult:
    """Bayesian Poisson-gamma (negative binomial predictive) detector for sparse series.

    The counts of the ``baseline`` points before ``t - lag`` are taken as Poisson with a common
    rate ``lambda`` and a gamma prior ``Gamma(prior_shape, prior_rate)``; the posterior is
    ``Gamma(a, b)`` with ``a = prior_shape + sum(y)`` and ``b = prior_rate + n`` (``n`` observed
    baseline points), and the posterior predictive of the count at ``t`` is negative binomial
    with size ``a`` and probability ``b / (b + 1)``. The default prior (shape 1/2, rate 0, the
    Jeffreys prior of a Poisson rate) lets the data speak; unlike EARS, a baseline of zeros
    does not make a single event alarm: with 28 zero days, one event has predictive
    probability about 1/57, two events about 1/2 200.

    Parameters
    ----------
    counts
        1-D or 2-D (one series per row) non-negative whole counts; NaN = missing.
    baseline, lag
        Length of the baseline and number of points left out between it and ``t``.
    alpha
        Level: alarm when the predictive probability of the count or more is at most ``alpha``.
    prior_shape, prior_rate
        Gamma prior of the rate (shape > 0, rate >= 0, per time step).

    Returns
    -------
    PoissonGammaResult
        NaN / no alarm for the first ``baseline + lag`` points and where no baseline point is
        observed (with ``prior_rate`` 0).
    """
    if int(baseline) != baseline or baseline < 1 or int(lag) != lag or lag < 0:
        raise ValueError("baseline must be a whole number >= 1 and lag a whole number >= 0")
    if prior_shape <= 0 or prior_rate < 0:
        raise ValueError("prior_shape must be positive and prior_rate non-negative")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    y, was_1d = _as_counts(counts)
    n_obs, total, _ = _window_sums(y, baseline, lag)
    shape = prior_shape + total
    rate = prior_rate + n_obs
    defined = rate > 0
    defined[:, : baseline + lag] = False
    with np.errstate(divide="ignore", invalid="ignore"):
        probability = np.where(defined, rate / (rate + 1.0), np.nan)
        upperbound = np.where(defined, stats.nbinom.ppf(1.0 - alpha, shape, probability), np.nan)
        expected = np.where(defined, shape / rate, np.nan)
        pvalue = np.where(
            defined & ~np.isnan(y), stats.nbinom.sf(y - 1.0, shape, probability), np.nan
        )
    alarm = np.asarray(y > upperbound)
    return PoissonGammaResult(
        _shape_back(upperbound, was_1d),
        _shape_back(alarm, was_1d),
        _shape_back(expected, was_1d),
        _shape_back(pvalue, was_1d),
    )


# --------------------------------------------------------------------------------------------
# count in a trailing window (ODMAP's "N overdoses within 24 hours")
# --------------------------------------------------------------------------------------------

TWENTY_FOUR_HOURS = np.timedelta64(24, "h")


@dataclass(frozen=True)
class WindowAlarms:
    """Result of :func:`count_window_alarms`.

    Per alarm (one per event at which the trailing count reached the threshold), sorted by
    group then time:

    Attributes
    ----------
    time
        Time of the event that made the trailing window reach the threshold.
    window_start
        Time of the earliest event in that trailing window.
    count
        Number of events in the trailing window ``(time - window, time]``.
    group
        Group (area) of the alarm; all 0 when no groups were given.
    episode
        Alarms of a group whose windows overlap or touch form one episode, numbered from 0;
        ``episode_start``/``episode_end``/``episode_events`` describe each episode (first event
        of its first window, last alarming event, number of events in between).
    """

    time: NDArray[np.generic]
    window_start: NDArray[np.generic]
    count: IntArray
    group: NDArray[np.generic]
    episode: IntArray
    episode_start: NDArray[np.generic]
    episode_end: NDArray[np.generic]
    episode_events: IntArray
    episode_group: NDArray[np.generic]


def count_window_alarms(
    times: ArrayLike,
    threshold: int = 3,
    window: np.timedelta64 | float = TWENTY_FOUR_HOURS,
    groups: ArrayLike | None = None,
) -> WindowAlarms:
    """Alarm when ``threshold`` events fall within any trailing ``window`` (ODMAP-style rule).

    For each event at time ``t`` the events in ``(t - window, t]`` of the same group are
    counted (so two events exactly 24 hours apart are not in the same window); the rule
    alarms at every event where this count reaches ``threshold``.

    Parameters
    ----------
    times
        Event times: ``numpy.datetime64`` values (or ISO strings), or numbers (e.g. hours).
    threshold
        Number of events that raises the alarm (at least 1).
    window
        Window length: a ``numpy.timedelta64`` for datetimes, a number in the same unit as
        ``times`` otherwise.
    groups
        Optional group (area) of each event; the rule is applied within each group.

    Returns
    -------
    WindowAlarms
    """
    if int(threshold) != threshold or threshold < 1:
        raise ValueError("threshold must be a whole number of at least 1")
    raw = np.asarray(times)
    if raw.ndim != 1:
        raise ValueError("times must be 1-D")
    if raw.dtype.kind in "US":
        raw = raw.astype("datetime64[s]")
    if raw.dtype.kind == "M":
        if np.isnat(raw).any():
            raise ValueError("times must not hold NaT")
        if not isinstance(window, np.timedelta64):
            raise ValueError("window must be a numpy.timedelta64 for datetime times")
    elif raw.dtype.kind in "iuf":
        raw = raw.astype(np.float64)
        if not np.isfinite(raw).all():
            raise ValueError("times must be finite")
        if isinstance(window, np.timedelta64):
            raise ValueError("window must be a number for numeric times")
    else:
        raise ValueError("times must be datetimes or numbers")
    if window <= window * 0:
        raise ValueError("window must be positive")
    group_values = np.zeros(raw.size, dtype=np.int64) if groups is None else np.asarray(groups)
    if group_values.shape != raw.shape:
        raise ValueError("groups must have one value per event")
    _, group_codes = np.unique(group_values, return_inverse=True)
    order = np.lexsort((raw, group_codes))
    time_sorted, code_sorted, group_sorted = raw[order], group_codes[order], group_values[order]

    # position of the first event of the same group inside (t - window, t], group by group
    # (the events are sorted by group, then time)
    key_now = np.arange(raw.size)
    first = np.empty(raw.size, dtype=np.int64)
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(code_sorted)) + 1, [raw.size]))
    for start, stop in itertools.pairwise(bounds):
        inside = time_sorted[start:stop]
        first[start:stop] = start + np.searchsorted(inside, inside - window, side="right")
    count = key_now - first + 1
    alarming = count >= threshold
    alarm_index = np.flatnonzero(alarming)
    window_first = first[alarm_index]
    # episodes: consecutive alarms of a group whose windows overlap (share an event)
    new_episode = np.ones(alarm_index.size, dtype=bool)
    if alarm_index.size > 1:
        same_group = code_sorted[alarm_index[1:]] == code_sorted[alarm_index[:-1]]
        overlaps = window_first[1:] <= alarm_index[:-1]
        new_episode[1:] = ~(same_group & overlaps)
    episode = np.cumsum(new_episode) - 1
    starts = np.flatnonzero(new_episode)
    ends = np.append(starts[1:], alarm_index.size)[: starts.size] - 1
    episode_first = window_first[starts]
    episode_last = alarm_index[ends]
    return WindowAlarms(
        time=time_sorted[alarm_index],
        window_start=time_sorted[window_first],
        count=count[alarm_index].astype(np.int64),
        group=group_sorted[alarm_index],
        episode=episode.astype(np.int64),
        episode_start=time_sorted[episode_first],
        episode_end=time_sorted[episode_last],
        episode_events=(episode_last - episode_first + 1).astype(np.int64),
        episode_group=group_sorted[episode_last],
    )


# --------------------------------------------------------------------------------------------
# Kulldorff's space-time permutation scan statistic
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanCluster:
    """One cluster found by :func:`space_time_permutation_scan`.

    Attributes
    ----------
    areas
        Indices of the areas in the cylinder's base (the centre first, then by distance).
    center, radius
        Centre area and distance from it to the farthest area included.
    start, end
        First and last day (0-based, inclusive) of the cylinder's time window.
    observed, expected
        Events in the cylinder, and the number expected from the area and day totals.
    statistic
        Log-likelihood ratio of the cylinder (Kulldorff et al. 2005, Poisson approximation).
    p_value
        Monte Carlo p-value ``(1 + #{replicates whose maximum >= statistic}) / (1 + R)``;
        for secondary clusters it is compared with the maxima too, which is conservative.
    """

    areas: tuple[int, ...]
    center: int
    radius: float
    start: int
    end: int
    observed: int
    expected: float
    statistic: float
    p_value: float

    @property
    def relative_risk(self) -> float:
        """Observed over expected."""
        return self.observed / self.expected


@dataclass(frozen=True)
class ScanResult:
    """Result of :func:`space_time_permutation_scan`.

    Attributes
    ----------
    clusters
        The most likely cluster first, then secondary clusters sharing no area with a previous
        one, in decreasing order of statistic (only cylinders with more events than expected).
    replicate_maxima
        Maximum statistic of each Monte Carlo replicate.
    """

    clusters: tuple[ScanCluster, ...]
    replicate_maxima: FloatArray


def events_to_counts(
    areas: ArrayLike, days: ArrayLike, n_areas: int | None = None, n_days: int | None = None
) -> IntArray:
    """Counts matrix (areas x days) from one area index and one day index per event."""
    area = np.asarray(areas)
    day = np.asarray(days)
    if area.shape != day.shape or area.ndim != 1:
        raise ValueError("areas and days must be 1-D with one value per event")
    if area.size and (
        area.dtype.kind not in "iu" or day.dtype.kind not in "iu" or area.min() < 0 or day.min() < 0
    ):
        raise ValueError("areas and days must be non-negative whole indices")
    n_areas = int(area.max()) + 1 if n_areas is None and area.size else (n_areas or 0)
    n_days = int(day.max()) + 1 if n_days is None and day.size else (n_days or 0)
    if area.size and (area.max() >= n_areas or day.max() >= n_days):
        raise ValueError("an area or day index is out of range")
    flat = np.bincount(area * n_days + day, minlength=n_areas * n_days)
    return flat.reshape(n_areas, n_days).astype(np.int64)


def _log_likelihood_ratio(observed: FloatArray, expected: FloatArray, total: float) -> FloatArray:
    """Poisson GLR of a cylinder, 0 unless it has more events than expected."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = observed * np.log(observed / expected)
        rest = total - observed
        outside = np.where(rest > 0, rest * np.log(rest / (total - expected)), 0.0)
        result = np.where(observed > expected, inside + outside, 0.0)
    return np.asarray(result, dtype=np.float64)


def space_time_permutation_scan(
    counts: ArrayLike,
    coordinates: ArrayLike,
    max_areas: int | None = None,
    max_radius: float | None = None,
    max_days: int | None = None,
    prospective: bool = True,
    n_simulations: int = 999,
    n_clusters: int = 1,
    rng: np.random.Generator | int | None = None,
    geographic: bool = False,
) -> ScanResult:
    """Kulldorff's space-time permutation scan statistic (Kulldorff et al. 2005).

    The events of an areas x days table are scanned with cylinders: a circle of the ``k``
    nearest areas around each area (``k`` up to ``max_areas``, radius up to ``max_radius``) and
    a window of consecutive days (up to ``max_days``; with ``prospective`` only windows ending
    on the last day, for daily surveillance). The expected count of a cylinder is
    ``sum over its cells of (area total x day total) / total``, so no population at risk is
    needed and purely spatial or purely temporal variation is adjusted for. Each cylinder gets
    the Poisson log-likelihood ratio ``c log(c/mu) + (C-c) log((C-c)/(C-mu))`` (when ``c > mu``)
    and the maximum over cylinders is the test statistic. Its null distribution is simulated
    by randomly permuting the days of the events among them, which keeps both totals.

    Parameters
    ----------
    counts
        Events per area (rows) and day (columns): non-negative whole numbers.
        Use :func:`events_to_counts` for a list of events.
    coordinates
        One point per area: planar ``(x, y)``, or ``(latitude, longitude)`` in degrees with
        ``geographic`` (great-circle distances in km).
    max_areas, max_radius
        Largest number of areas in a circle (default half of them) and largest radius.
    max_days
        Longest time window (default half the days).
    prospective
        Only windows that end on the last day (default), else every window.
    n_simulations
        Monte Carlo replicates (999 gives p-values down to 0.001).
    n_clusters
        How many clusters to report (the most likely one and non-overlapping secondary ones).
    rng
        ``numpy.random.Generator`` or seed, for reproducible p-values.
    geographic
        Coordinates are latitude/longitude in degrees.

    Returns
    -------
    ScanResult
    """
    table, _ = _as_counts(counts)
    if np.isnan(table).any():
        raise ValueError("counts must not hold missing values")
    if np.asarray(counts).ndim != 2:
        raise ValueError("counts must be 2-D: areas x days")
    points = np.asarray(coordinates, dtype=np.float64)
    n_areas, n_days = table.shape
    if points.shape != (n_areas, 2):
        raise ValueError("coordinates must have one (x, y) row per area")
    if n_simulations < 1 or n_clusters < 1:
        raise ValueError("n_simulations and n_clusters must be at least 1")
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    max_areas = max(1, n_areas // 2) if max_areas is None else min(max_areas, n_areas)
    max_days = max(1, n_days // 2) if max_days is None else min(max_days, n_days)
    if max_areas < 1 or max_days < 1:
        raise ValueError("max_areas and max_days must be at least 1")

    # circles: each area's nearest areas, by distance (ties by index)
    if geographic:
        lat, lon = np.radians(points[:, 0]), np.radians(points[:, 1])
        haversine = (
            np.sin((lat[:, None] - lat[None, :]) / 2) ** 2
            + np.cos(lat[:, None])
            * np.cos(lat[None, :])
            * np.sin((lon[:, None] - lon[None, :]) / 2) ** 2
        )
        distance = 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(haversine, 0.0, 1.0)))
    else:
        distance = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    neighbours = np.argsort(distance, axis=1, kind="stable")[:, :max_areas]  # (Z, K)
    radius = np.take_along_axis(distance, neighbours, axis=1)
    allowed = np.ones_like(radius, dtype=bool) if max_radius is None else radius <= max_radius
    allowed[:, 0] = True  # a circle holds at least its centre

    # time windows [start, end]
    if prospective:
        ends = np.full(max_days, n_days - 1)
        starts = n_days - 1 - np.arange(max_days)
    else:
        starts, ends = (
            a.ravel() for a in np.meshgrid(np.arange(n_days), np.arange(max_days), indexing="ij")
        )
        ends = starts + ends
        keep = ends < n_days
        starts, ends = starts[keep], ends[keep]

    def cylinder_sums(cells: FloatArray) -> FloatArray:
        """Sums over every cylinder of a (..., areas, days) array: shape (..., Z, K, W)."""
        cumulative = np.zeros((*cells.shape[:-1], n_days + 1))
        np.cumsum(cells, axis=-1, out=cumulative[..., 1:])
        windows = cumulative[..., ends + 1] - cumulative[..., starts]  # (..., Z, W)
        result: FloatArray = np.cumsum(windows[..., neighbours, :], axis=-2)
        return result

    total = float(table.sum())
    if total == 0:
        return ScanResult(clusters=(), replicate_maxima=np.zeros(n_simulations))
    expected_cells = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    expected = cylinder_sums(expected_cells)
    observed = cylinder_sums(table)
    statistic = _log_likelihood_ratio(observed, expected, total)
    statistic[~allowed] = 0.0

    # Monte Carlo: permute the days of the events (both margins are kept)
    area_of_event = np.repeat(np.arange(n_areas), table.sum(axis=1).astype(np.int64))
    day_of_event = np.concatenate(
        [np.repeat(np.arange(n_days), row.astype(np.int64)) for row in table]
    )
    n_events = area_of_event.size
    cells_per_replicate = n_areas * max_areas * starts.size
    batch = int(max(1, min(n_simulations, 8_000_000 // max(cells_per_replicate, n_events))))
    maxima = np.empty(n_simulations)
    for first in range(0, n_simulations, batch):
        size = min(batch, n_simulations - first)
        days = generator.permuted(np.tile(day_of_event, (size, 1)), axis=1)
        flat = (np.arange(size)[:, None] * n_areas + area_of_event[None, :]) * n_days + days
        replicate = np.bincount(flat.ravel(), minlength=size * n_areas * n_days).reshape(
            size, n_areas, n_days
        )
        simulated = _log_likelihood_ratio(
            cylinder_sums(replicate.astype(np.float64)), expected, total
        )
        simulated[:, ~allowed] = 0.0
        maxima[first : first + size] = simulated.reshape(size, -1).max(axis=1)

    # the most likely cluster, then the best cylinders sharing no area with those taken
    order = np.argsort(statistic, axis=None, kind="stable")[::-1]
    taken = np.zeros(n_areas, dtype=bool)
    clusters: list[ScanCluster] = []
    for flat_index in order:
        value = float(statistic.flat[flat_index])
        if value <= 0 or len(clusters) == n_clusters:
            break
        center, k, window = np.unravel_index(flat_index, statistic.shape)
        members = neighbours[center, : k + 1]
        if taken[members].any():
            continue
        taken[members] = True
        clusters.append(
            ScanCluster(
                areas=tuple(int(a) for a in members),
                center=int(center),
                radius=float(radius[center, k]),
                start=int(starts[window]),
                end=int(ends[window]),
                observed=int(observed[center, k, window]),
                expected=float(expected[center, k, window]),
                statistic=value,
                p_value=float((1 + np.sum(maxima >= value)) / (1 + n_simulations)),
            )
        )
    return ScanResult(clusters=tuple(clusters), replicate_maxima=maxima)
