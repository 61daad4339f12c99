"""The spawn benchmark's statistics: the median's order-statistic interval,
the bootstrap ratio interval, and what an interval lets one say."""

import math
import random
import statistics

import pytest

from vm.bench.spawn import stats


@pytest.mark.parametrize("n, rank", [(6, 1), (10, 2), (20, 6), (30, 10), (50, 18),
                                     (100, 40)])
def test_median_rank_matches_the_binomial_tables(n: int, rank: int) -> None:
    assert stats.median_rank(n) == rank


def test_median_rank_is_the_narrowest_with_95_percent() -> None:
    for n in range(6, 400):
        k = stats.median_rank(n)
        assert k is not None
        assert stats.coverage(n) >= 0.95
        # One rank further in would fall short of 95%.
        if k + 1 <= (n + 1) // 2:
            below = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
            assert 1 - 2 * below < 0.95, n


def test_too_few_samples_have_no_interval() -> None:
    assert stats.median_rank(5) is None
    assert stats.median_ci([1.0, 2.0, 3.0, 4.0, 5.0]) is None
    s = stats.summarize([1.0, 2.0, 3.0])
    assert s.ci is None and s.rel_halfwidth is None


def test_median_ci_is_made_of_order_statistics() -> None:
    samples = [float(x) for x in range(20, 0, -1)]  # 1..20, unsorted
    ci = stats.median_ci(samples)
    assert ci == stats.Interval(6.0, 15.0)


@pytest.mark.parametrize("draw, true_median", [
    (lambda r: r.expovariate(1.0), math.log(2)),
    (lambda r: r.lognormvariate(0.0, 1.0), 1.0),
    (lambda r: r.uniform(10.0, 20.0), 15.0),
])
def test_median_ci_covers_the_true_median_about_95_percent(draw, true_median) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(18)
    trials, n = 600, 41
    hits = 0
    for _ in range(trials):
        ci = stats.median_ci([draw(rng) for _ in range(n)])
        assert ci is not None
        hits += ci.contains(true_median)
    # Exact coverage for n = 41 is stats.coverage(41) (about 0.97); allow
    # three binomial standard deviations around it.
    expected = stats.coverage(n)
    sd = math.sqrt(expected * (1 - expected) / trials)
    assert abs(hits / trials - expected) < 3 * sd + 1e-9


def test_bootstrap_medians_are_sample_values_around_the_median() -> None:
    rng = random.Random(1)
    samples = [float(x) for x in range(1, 102)]  # median 51
    draws = stats.bootstrap_medians(samples, 2000, rng)
    assert set(draws) <= set(samples)
    assert abs(statistics.median(draws) - 51) <= 2
    # Bootstrap sd of the median of U(1, 101), n = 101: about 5 (sqrt(n)/2 ranks).
    assert 3 < statistics.pstdev(draws) < 8


def test_ratio_interval_covers_a_known_ratio() -> None:
    rng = random.Random(7)
    trials, hits = 120, 0
    for t in range(trials):
        a = [rng.lognormvariate(0.0, 0.4) for _ in range(60)]
        b = [1.5 * rng.lognormvariate(0.0, 0.4) for _ in range(60)]
        r = stats.ratio(b, a, seed=t, draws=1000)
        hits += r.ci.contains(1.5)
    assert hits / trials >= 0.88  # percentile bootstrap: about nominal


def test_ratio_of_a_sample_to_itself_is_no_measurable_difference() -> None:
    rng = random.Random(3)
    a = [rng.gauss(100.0, 5.0) for _ in range(50)]
    r = stats.ratio(a, a)
    assert r.value == 1.0
    assert r.ci.contains(1.0)
    assert r.verdict == stats.NO_DIFFERENCE


def test_a_clear_difference_is_faster_or_slower() -> None:
    rng = random.Random(4)
    a = [rng.gauss(100.0, 2.0) for _ in range(50)]
    b = [rng.gauss(130.0, 2.0) for _ in range(50)]
    assert stats.ratio(b, a).verdict == stats.SLOWER
    assert stats.ratio(a, b).verdict == stats.FASTER
    assert stats.ratio(b, a).ci.low > 1.2


@pytest.mark.parametrize("low, high, said", [
    (0.9, 1.1, stats.NO_DIFFERENCE),
    (1.0, 1.2, stats.NO_DIFFERENCE),  # 1.0 on the edge: still inside
    (0.8, 1.0, stats.NO_DIFFERENCE),
    (1.01, 1.2, stats.SLOWER),
    (0.7, 0.99, stats.FASTER),
])
def test_verdict(low: float, high: float, said: str) -> None:
    assert stats.verdict(stats.Interval(low, high)) == said


def test_ratio_interval_is_reproducible() -> None:
    rng = random.Random(5)
    a = [rng.random() + 1 for _ in range(30)]
    b = [rng.random() + 1 for _ in range(30)]
    assert stats.ratio_ci(a, b) == stats.ratio_ci(a, b)


def test_normalized_ratio_divides_a_common_drift_out() -> None:
    rng = random.Random(6)
    a_ref = [rng.gauss(100.0, 3.0) for _ in range(60)]
    a = [rng.gauss(80.0, 3.0) for _ in range(60)]
    # B: the whole machine 20% slower, the method no different otherwise.
    b_ref = [1.2 * rng.gauss(100.0, 3.0) for _ in range(60)]
    b = [1.2 * rng.gauss(80.0, 3.0) for _ in range(60)]
    assert stats.ratio(b, a).verdict == stats.SLOWER
    n = stats.normalized_ratio(b, b_ref, a, a_ref)
    assert n.verdict == stats.NO_DIFFERENCE
    assert abs(n.value - 1.0) < 0.05


def test_summary() -> None:
    s = stats.summarize([float(x) for x in range(1, 21)])
    assert s.n == 20 and s.median == 10.5 and s.minimum == 1 and s.maximum == 20
    assert s.ci == stats.Interval(6.0, 15.0)
    assert s.rel_halfwidth == pytest.approx(4.5 / 10.5)
    with pytest.raises(ValueError):
        stats.summarize([])


def test_pass_ratio_is_the_median_of_the_pass_ratios_with_min_max() -> None:
    # Six passes; the host 10% slower for the numerator's kind of work in
    # the last three: the within-pass samples cannot show that, the passes do.
    ref = [[100.0, 101.0, 99.0]] * 6
    num = [[80.0, 81.0, 79.0]] * 3 + [[88.0, 89.0, 87.0]] * 3
    r = stats.pass_ratio(num, ref)
    assert r is not None
    assert r.ci.low == 0.8 and r.ci.high == 0.88 and 0.8 < r.value < 0.88
    # [min, max] of six is the order-statistic interval at >= 95%.
    assert stats.coverage(6) >= 0.95 > stats.coverage(5)
    # Fewer passes, or unequal counts: no pass interval (the caller pools).
    assert stats.pass_ratio(num[:5], ref[:5]) is None
    assert stats.pass_ratio(num, ref[:5]) is None


def test_pass_quotient_bootstraps_over_passes() -> None:
    a = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0]
    same = stats.pass_quotient(a, a)
    assert same.value == 1.0 and same.ci.contains(1.0)
    slower = stats.pass_quotient([x * 1.3 for x in a], a)
    assert slower.ci.low > 1.2 and slower.verdict == stats.SLOWER
    with pytest.raises(ValueError):
        stats.pass_quotient([], a)
