"""Aberration detection: agreement with R surveillance 1.20.3, textbook variants, input rules.

The oracles in ``tests/data/surveillance`` are outputs of R ``surveillance`` 1.20.3 (see the README
there). In R-compatible mode the library must give identical alarms and the same upper bounds,
expected counts, dispersions, trends, scores and p-values. We reach rounding error (about 1e-13
relative), so the tolerance below is 1e-9 relative, far inside the issue's 1e-6 goal.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harbour.surveillance.detection import (
    count_window_alarms,
    ears,
    events_to_counts,
    farrington_flexible,
    poisson_gamma,
    space_time_permutation_scan,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "surveillance"
RTOL, ATOL = 1e-9, 1e-12


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def column(rows: list[dict[str, str]], name: str) -> np.ndarray:
    return np.array([np.nan if row[name] == "NA" else float(row[name]) for row in rows])


def assert_same(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Same NaN positions and values within RTOL/ATOL."""
    actual = np.asarray(actual, dtype=float)
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), f"{what}: NaN positions differ"
    defined = ~np.isnan(expected)
    np.testing.assert_allclose(
        actual[defined], expected[defined], rtol=RTOL, atol=ATOL, err_msg=what
    )


@pytest.fixture(scope="module")
def daily() -> np.ndarray:
    return column(read_csv("daily_counts.csv"), "count")


@pytest.fixture(scope="module")
def weekly() -> np.ndarray:
    return column(read_csv("weekly_counts.csv"), "count")


@pytest.fixture(scope="module")
def agona() -> np.ndarray:
    return column(read_csv("salmonella_agona_counts.csv"), "count")


def test_oracle_inputs_are_consistent(daily: np.ndarray, weekly: np.ndarray) -> None:
    np.testing.assert_array_equal(column(read_csv("ears_daily_results.csv"), "count"), daily)
    np.testing.assert_array_equal(daily[: 312 * 7].reshape(312, 7).sum(axis=1), weekly)
    agona = column(read_csv("salmonella_agona_counts.csv"), "count")
    for name, counts in (
        ("farrington_weekly_results.csv", weekly),
        ("farrington_agona_results.csv", agona),
    ):
        rows = read_csv(name)
        np.testing.assert_array_equal(
            column(rows, "observed"), counts[column(rows, "t").astype(int) - 1]
        )


# --- EARS ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["C1", "C2", "C3"])
def test_ears_matches_r(method: str, daily: np.ndarray) -> None:
    rows = read_csv("ears_daily_results.csv")
    result = ears(daily, method, r_compat=True)  # type: ignore[arg-type]
    r_alarm = column(rows, f"{method}_alarm")
    assert_same(result.upperbound, column(rows, f"{method}_upperbound"), f"{method} upperbound")
    assert np.array_equal(result.alarm, np.nan_to_num(r_alarm) == 1), f"{method} alarms differ"
    assert result.alarm.sum() > 0


def test_ears_c1_c2_textbook_is_r(daily: np.ndarray) -> None:
    for method in ("C1", "C2"):
        textbook, compat = ears(daily, method), ears(daily, method, r_compat=True)  # type: ignore[arg-type]
        assert np.array_equal(textbook.alarm, compat.alarm)
        np.testing.assert_array_equal(textbook.upperbound, compat.upperbound)


def test_ears_formulas_by_hand() -> None:
    y = np.array([3, 5, 4, 6, 2, 5, 4, 9, 7, 30, 4], dtype=float)
    c1 = ears(y, "C1")
    base = y[1:8]
    expected = base.mean() + 3.090232306167813 * base.std(ddof=1)
    assert c1.upperbound[8] == pytest.approx(expected, rel=1e-12)
    assert np.isnan(c1.upperbound[:7]).all() and not c1.alarm[:7].any()
    c2 = ears(y, "C2")
    base = y[0:7]  # t = 9: baseline t-9 .. t-3
    assert c2.upperbound[9] == pytest.approx(base.mean() + 3.090232306167813 * base.std(ddof=1))
    assert c2.alarm[9]


def test_c3_textbook_alarms_on_the_spike_day_r_does_not(daily: np.ndarray) -> None:
    # a quiet week, then a toxic batch: 25 events in one day
    y = np.array([4, 5, 3, 4, 6, 5, 4, 5, 4, 3, 5, 4, 25, 4], dtype=float)
    textbook, compat = ears(y, "C3"), ears(y, "C3", r_compat=True)
    assert textbook.alarm[12] and not compat.alarm[12]
    assert compat.alarm[13]  # R alarms the day after
    assert textbook.statistic[12] > 1.96
    # the same on the oracle series: the 20-event spike of day 2175 (index 2174)
    assert ears(daily, "C3").alarm[2174] and not ears(daily, "C3", r_compat=True).alarm[2174]


def test_ears_min_sigma_and_zero_variance() -> None:
    y = np.array([0, 0, 0, 0, 0, 0, 0, 1, 0], dtype=float)
    assert ears(y, "C1").alarm[7]  # zero-variance baseline: one event alarms
    assert not ears(y, "C1", min_sigma=0.5).alarm[7]
    assert ears(y, "C1", min_sigma=0.5).upperbound[7] == pytest.approx(0.5 * 3.090232306167813)


def test_ears_missing_values_are_left_out_of_the_baseline() -> None:
    y = np.array([3, np.nan, 4, 6, 2, 5, 4, 9, 7], dtype=float)
    result = ears(y, "C1")
    base = np.array([4, 6, 2, 5, 4, 9], dtype=float)  # t = 8: y[1:8] without the NaN
    assert result.upperbound[8] == pytest.approx(base.mean() + 3.0902323061678 * base.std(ddof=1))
    missing_today = ears(np.r_[y, np.nan], "C1")
    assert not np.isnan(missing_today.upperbound[9]) and not missing_today.alarm[9]


# --- Farrington ----------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "b": 5,
    "w": 3,
    "reweight": True,
    "weights_threshold": 2.58,
    "alpha": 0.05,
    "trend": True,
    "p_threshold_trend": 0.05,
    "limit54": (5, 4),
    "powertrans": "2/3",
    "no_periods": 1,
    "past_weeks_not_included": 3,
    "threshold_method": "delta",
}
CONFIGS: dict[str, dict[str, Any]] = {
    "default_delta_w2.58": {},
    "farrington1996_delta_w1": {"weights_threshold": 1.0},
    "noufaily_nbPlugin_noPeriods10_pwni26": {
        "no_periods": 10,
        "past_weeks_not_included": 26,
        "p_threshold_trend": 1.0,
        "threshold_method": "nbPlugin",
    },
}
COLUMNS = ["upperbound", "expected", "phi", "trend_coef", "score", "pvalue"]


@pytest.mark.parametrize(
    ("oracle", "counts", "config"),
    [("farrington_weekly_results.csv", "weekly_counts.csv", name) for name in CONFIGS]
    + [
        ("farrington_agona_results.csv", "salmonella_agona_counts.csv", name)
        for name in ("default_delta_w2.58", "farrington1996_delta_w1")
    ],
)
def test_farrington_matches_r(oracle: str, counts: str, config: str) -> None:
    rows = [row for row in read_csv(oracle) if row["config"] == config]
    assert len(rows) == 49
    y = column(read_csv(counts), "count")
    t = column(rows, "t").astype(int) - 1  # R's 1-based range
    result = farrington_flexible(y, 52, t, r_compat=True, **{**BASE, **CONFIGS[config]})
    for name in COLUMNS:
        assert_same(getattr(result, name)[t], column(rows, name), f"{config} {name}")
    assert np.array_equal(result.alarm[t], column(rows, "alarm") == 1), f"{config} alarms differ"
    assert np.array_equal(result.trend_used[t], column(rows, "trend_used") == 1)
    # outside the range: nothing
    outside = np.ones(y.size, dtype=bool)
    outside[t] = False
    assert np.isnan(result.upperbound[outside]).all() and not result.alarm[outside].any()
    assert np.array_equal(result.expected[t] > 0, ~np.isnan(column(rows, "expected")))


# More calls of R surveillance 1.20.3 (farringtonFlexible with the defaults above changed as
# shown, glmWarnings = FALSE), run as a black box on the same data; one monitored point each.
# "monthly" is the daily series summed over consecutive 30-day blocks (72 blocks, freq 12).
R_POINTS = [
    # series, freq, t (1-based), changes, upperbound, expected, phi, trend_coef, score, pvalue
    ("weekly", 52, 270, {"reweight": False},
     67.8231888689379, 45.2285714285727, 3.51688981561631, np.nan, 0.34395043828198,
     0.277132309518932),
    ("weekly", 52, 300, {"b": 3, "w": 2},
     57.0644594425165, 40.4, 2.2482321027998, np.nan, 0.456060397651418, 0.21955596887493),
    ("weekly", 52, 300, {"past_weeks_not_included": 0},
     56.1005476946747, 40.5855037284531, 1.95258174384018, 0.000566968331144404,
     0.477890767676152, 0.209490919966012),
    ("weekly", 52, 300, {"no_periods": 8, "past_weeks_not_included": 26},
     56.3129099850091, 41.26057468477, 1.81928149903754, 0.000586912058641762,
     0.447732872062912, 0.224340715070944),
    ("weekly", 52, 280, {"no_periods": 8, "w": 2, "past_weeks_not_included": 5},
     60.6760803719948, 45.185535720826, 1.76934578467933, 0.000541224922287389,
     0.246244684423422, 0.337058365074866),
    ("weekly", 52, 290, {"no_periods": 10, "past_weeks_not_included": 26,
                         "threshold_method": "muan"},
     59.0, 42.9245202169104, 1.86280747884394, 0.000502666007571783, 0.51122867728935,
     0.916136860382624),
    ("agona", 52, 300, {"threshold_method": "muan"},
     9.0, 4.25714285714286, 1.51085669944954, np.nan, 0.337871277166628, 0.622767671532645),
    ("monthly", 12, 72, {"past_weeks_not_included": 10, "limit54": (0, 4)},
     224.303366756793, 187.644135809084, 2.48764247085958, 0.00224370835814779,
     -0.835918676330004, 0.927744824306935),
    ("monthly", 12, 70, {"w": 1, "no_periods": 3, "past_weeks_not_included": 2,
                         "limit54": (0, 4)},
     215.955880709611, 181.957424447194, 2.2128239837978, 0.00307127567217592,
     -0.43994422369491, 0.775087795484826),
]  # fmt: skip


@pytest.mark.parametrize("point", R_POINTS, ids=lambda p: f"{p[0]}-{p[2]}-{sorted(p[3])}")
def test_farrington_more_options_match_r(
    point: tuple[Any, ...], daily: np.ndarray, weekly: np.ndarray, agona: np.ndarray
) -> None:
    name, freq, t, changes, *values = point
    series = {
        "weekly": weekly,
        "agona": agona,
        "monthly": daily[: 72 * 30].reshape(72, 30).sum(axis=1),
    }[name]
    result = farrington_flexible(series, freq, [t - 1], r_compat=True, **{**BASE, **changes})
    for column_name, expected in zip(COLUMNS, values, strict=True):
        assert_same(getattr(result, column_name)[t - 1 : t], np.array([expected]), column_name)


def test_farrington_all_zero_baseline_matches_r(agona: np.ndarray) -> None:
    # R: agona with weeks 1-280 set to 0 and weeks 300-305 to 3,4,2,5,1,2; limit54 = c(0, 4),
    # nbPlugin; the GLM iterates the fitted mean down to 3.775e-12 and stops on the deviance
    y = agona.copy()
    y[:280] = 0
    y[299:305] = [3, 4, 2, 5, 1, 2]
    result = farrington_flexible(
        y, 52, [295], r_compat=True, **{**BASE, "limit54": (0, 4), "threshold_method": "nbPlugin"}
    )
    assert result.upperbound[295] == 0 and result.alarm[295]
    assert result.expected[295] == pytest.approx(3.77513454427946e-12, rel=1e-9)
    assert result.phi[295] == 1
    assert result.score[295] == pytest.approx(1.22811446018658, rel=1e-9)
    assert result.pvalue[295] == pytest.approx(4.02033376616747e-72, rel=1e-9)


def test_farrington_textbook_mode(weekly: np.ndarray) -> None:
    t = np.arange(263, 312)
    textbook = farrington_flexible(weekly, 52, t)
    compat = farrington_flexible(weekly, 52, t, r_compat=True)
    # same model family: same predictions where both drop the trend, different trend tests
    both_flat = ~textbook.trend_used[t] & ~compat.trend_used[t]
    assert both_flat.any()
    np.testing.assert_allclose(
        textbook.expected[t][both_flat], compat.expected[t][both_flat], rtol=1e-3
    )
    assert textbook.trend_used[t].sum() < compat.trend_used[t].sum()
    defined = ~np.isnan(textbook.upperbound[t])
    ub, mu0 = textbook.upperbound[t][defined], textbook.expected[t][defined]
    score = (weekly[t][defined] - mu0) / (ub - mu0)
    np.testing.assert_allclose(textbook.score[t][defined], score)
    nb = farrington_flexible(weekly, 52, t, threshold_method="nbPlugin")
    assert np.all(nb.upperbound[t][~np.isnan(nb.upperbound[t])] % 1 == 0)


def test_farrington_2d_equals_row_by_row(weekly: np.ndarray, agona: np.ndarray) -> None:
    stacked = np.vstack([weekly, agona, np.r_[weekly[:100], np.full(212, np.nan)]])
    t = np.arange(250, 312)
    for options in ({}, CONFIGS["noufaily_nbPlugin_noPeriods10_pwni26"]):
        for compat in (False, True):
            together = farrington_flexible(stacked, 52, t, r_compat=compat, **options)
            for row in range(stacked.shape[0]):
                alone = farrington_flexible(stacked[row], 52, t, r_compat=compat, **options)
                for name in ("upperbound", "expected", "phi", "score", "pvalue", "trend_coef"):
                    np.testing.assert_allclose(
                        getattr(together, name)[row], getattr(alone, name), rtol=1e-10
                    )
                assert np.array_equal(together.alarm[row], alone.alarm)


def test_farrington_missing_values(weekly: np.ndarray) -> None:
    y = weekly.copy()
    y[[100, 150, 210]] = np.nan  # in the baselines of week 263 (index 262)
    result = farrington_flexible(y, 52, np.arange(262, 312))
    assert np.isfinite(result.upperbound[262:312]).sum() > 40
    y[311] = np.nan  # a missing current count never alarms
    result = farrington_flexible(y, 52, [311], limit54=None)
    assert not result.alarm[311] and np.isfinite(result.upperbound[311])


def test_farrington_not_enough_history(weekly: np.ndarray) -> None:
    short = farrington_flexible(weekly[:200], 52)  # needs 5 years + 3 weeks of history
    assert np.isnan(short.upperbound).all() and not short.alarm.any()
    early = farrington_flexible(weekly, 52, [10, 262, 263])
    assert np.isnan(early.upperbound[[10, 262]]).all()
    assert np.isfinite(early.upperbound[263])


def test_farrington_refuses_bad_options(weekly: np.ndarray) -> None:
    with pytest.raises(ValueError, match="threshold_method"):
        farrington_flexible(weekly, 52, threshold_method="exact")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="powertrans"):
        farrington_flexible(weekly, 52, powertrans="log")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="range"):
        farrington_flexible(weekly, 52, [400])
    with pytest.raises(ValueError, match="no_periods"):
        farrington_flexible(weekly, 52, no_periods=60)


# --- input rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([1, 2, -1, 3], "non-negative"),
        ([1, 2.5, 3], "whole numbers"),
        ([1, np.inf, 3], "finite"),
        (["1", "two"], "numeric"),
        (np.zeros((2, 2, 2)), "1-D"),
    ],
)
def test_bad_counts_are_refused(counts: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ears(counts)
    with pytest.raises(ValueError, match=message):
        farrington_flexible(counts, 52)
    with pytest.raises(ValueError, match=message):
        poisson_gamma(counts)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        ears([1, 2, 3], "C4")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="alpha"):
        ears([1, 2, 3], alpha=1.5)


def test_short_series_give_nan_and_no_alarm() -> None:
    y = np.array([1, 5, 2], dtype=float)
    for method in ("C1", "C2", "C3"):
        result = ears(y, method)  # type: ignore[arg-type]
        assert np.isnan(result.upperbound).all() and not result.alarm.any()
    assert np.isnan(poisson_gamma(y).upperbound).all()
    assert ears(np.array([], dtype=float)).upperbound.shape == (0,)


def test_ears_2d_equals_row_by_row(daily: np.ndarray) -> None:
    stacked = daily[: 3 * 730].reshape(3, 730).copy()
    stacked[1, 100:103] = np.nan
    for method in ("C1", "C2", "C3"):
        for compat in (False, True):
            together = ears(stacked, method, r_compat=compat)  # type: ignore[arg-type]
            for row in range(3):
                alone = ears(stacked[row], method, r_compat=compat)  # type: ignore[arg-type]
                np.testing.assert_array_equal(together.upperbound[row], alone.upperbound)
                np.testing.assert_array_equal(together.alarm[row], alone.alarm)


# --- Bayesian Poisson-gamma ----------------------------------------------------------------


def test_poisson_gamma_known_answers() -> None:
    # exponential prior (shape 1, rate 0) and a baseline of n zeros: the predictive is
    # geometric, P(Y >= y) = (1 / (n + 1)) ** y
    y = np.zeros(30)
    y[28] = 1
    y[29] = 2
    result = poisson_gamma(y, baseline=7, prior_shape=1.0, alpha=0.05)
    assert result.pvalue[7] == pytest.approx(1.0)
    assert result.pvalue[28] == pytest.approx(1 / 8)
    assert result.expected[28] == pytest.approx(1 / 7)
    assert not result.alarm[28]
    # day 29: the baseline holds the event of day 28: Gamma(2, 7), P(Y >= 2) = 1 - p0 - p1
    p = 7 / 8
    assert result.pvalue[29] == pytest.approx(1 - p**2 - 2 * p**2 * (1 - p))
    assert np.isnan(result.upperbound[:7]).all()


def test_poisson_gamma_sparse_series_is_calmer_than_ears() -> None:
    rng = np.random.default_rng(7)
    y = rng.poisson(0.1, (200, 365)).astype(float)  # a small community: 1 event in 10 days
    bayes = poisson_gamma(y, baseline=28, alpha=0.001)
    c1 = ears(y, "C1")
    assert bayes.alarm.mean() < 0.002 < c1.alarm.mean()
    spike = y.copy()
    spike[:, 300] = 4
    assert poisson_gamma(spike, baseline=28, alpha=0.001).alarm[:, 300].mean() > 0.95
    rows = poisson_gamma(y[:2], baseline=28)
    np.testing.assert_array_equal(rows.upperbound[1], poisson_gamma(y[1], baseline=28).upperbound)


# --- count in 24 hours ---------------------------------------------------------------------


def test_count_window_alarms_24_hours() -> None:
    times = np.array(
        [
            "2024-03-01T10:00",
            "2024-03-02T10:00",  # exactly 24 h later: not in the same window
            "2024-03-02T11:00",
            "2024-03-02T20:00",  # third event within 24 h: alarm
            "2024-03-02T21:00",  # fourth: alarm again, same episode
            "2024-03-10T08:00",
        ],
        dtype="datetime64[m]",
    )
    result = count_window_alarms(times[::-1], threshold=3)  # order does not matter
    assert result.time.tolist() == times[[3, 4]].tolist()
    assert result.window_start.tolist() == times[[1, 1]].tolist()
    assert result.count.tolist() == [3, 4]
    assert result.episode.tolist() == [0, 0]
    assert result.episode_start.tolist() == [times[1]]
    assert result.episode_end.tolist() == [times[4]]
    assert result.episode_events.tolist() == [4]


def test_count_window_alarms_groups_and_numbers() -> None:
    hours = [0.0, 1.0, 2.0, 30.0, 31.0, 100.0, 101.0]
    areas = ["a", "a", "b", "a", "a", "b", "b"]
    result = count_window_alarms(hours, threshold=2, window=24.0, groups=areas)
    assert result.time.tolist() == [1.0, 31.0, 101.0]
    assert result.group.tolist() == ["a", "a", "b"]
    assert result.episode.tolist() == [0, 1, 2]
    assert count_window_alarms(hours, threshold=8, window=24.0).time.size == 0
    with pytest.raises(ValueError, match="timedelta64"):
        count_window_alarms(np.array(["2024-01-01"], dtype="datetime64[D]"), window=24.0)
    with pytest.raises(ValueError, match="threshold"):
        count_window_alarms(hours, threshold=0, window=24.0)


# --- space-time permutation scan -----------------------------------------------------------


@pytest.fixture(scope="module")
def grid() -> tuple[np.ndarray, np.ndarray]:
    """36 areas on a 6 x 6 grid, 56 days of events uniform in space-time (fixed seed)."""
    rng = np.random.default_rng(2024)
    coordinates = np.array([(x, y) for x in range(6) for y in range(6)], dtype=float)
    area_rate = rng.uniform(0.3, 2.0, 36)
    counts = rng.poisson(area_rate[:, None] * np.ones(56)[None, :])
    return counts, coordinates


def test_scan_finds_an_injected_cluster(grid: tuple[np.ndarray, np.ndarray]) -> None:
    counts, coordinates = grid
    outbreak = counts.copy()
    cluster = [8, 13, 14, 15, 20]  # area 14 and its four nearest neighbours, last 3 days
    outbreak[np.ix_(cluster, [53, 54, 55])] += 3
    result = space_time_permutation_scan(
        outbreak, coordinates, max_days=7, n_simulations=199, rng=1
    )
    best = result.clusters[0]
    assert best.p_value < 0.05
    assert set(best.areas) == set(cluster)
    assert (best.start, best.end) == (53, 55)
    assert best.observed > 2 * best.expected and best.relative_risk > 2
    again = space_time_permutation_scan(outbreak, coordinates, max_days=7, n_simulations=199, rng=1)
    assert again.clusters == result.clusters  # seeded: reproducible


def test_scan_on_uniform_data_is_not_significant(grid: tuple[np.ndarray, np.ndarray]) -> None:
    counts, coordinates = grid
    result = space_time_permutation_scan(counts, coordinates, max_days=7, n_simulations=199, rng=1)
    assert result.clusters and result.clusters[0].p_value > 0.2
    retrospective = space_time_permutation_scan(
        counts, coordinates, max_days=7, prospective=False, n_simulations=99, rng=3, n_clusters=3
    )
    assert retrospective.clusters[0].p_value > 0.05
    taken = [set(c.areas) for c in retrospective.clusters]
    assert all(not (a & b) for i, a in enumerate(taken) for b in taken[i + 1 :])


def test_events_to_counts_and_geographic_scan() -> None:
    areas = np.array([0, 0, 1, 2, 2, 2])
    days = np.array([0, 1, 1, 2, 2, 2])
    table = events_to_counts(areas, days, n_areas=3, n_days=3)
    assert table.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 3]]
    lat_lon = np.array([[49.28, -123.12], [49.25, -123.10], [48.43, -123.37]])
    result = space_time_permutation_scan(
        table, lat_lon, geographic=True, max_areas=1, max_days=1, n_simulations=19, rng=0
    )
    assert result.clusters[0].areas == (2,) and result.clusters[0].radius == 0
    with pytest.raises(ValueError, match="coordinates"):
        space_time_permutation_scan(table, lat_lon[:2])
