import pytest

from curation.backoff import backoff_delay


@pytest.mark.parametrize("attempt,expected", [(1, 30), (2, 60), (3, 120), (4, 240), (10, 3600), (60, 3600)])
def test_backoff_grows_exponentially_and_is_capped(attempt, expected):
    assert backoff_delay(attempt, base=30, cap=3600, rng=lambda: 0.0) == expected
    assert backoff_delay(attempt, base=30, cap=3600, rng=lambda: 0.999999) == pytest.approx(expected * 1.1, rel=1e-5)


def test_jitter_stays_within_ten_percent():
    delays = [backoff_delay(3, base=10, cap=1000) for _ in range(500)]
    assert all(40 <= d < 44 for d in delays)
    assert len(set(delays)) > 400, "jitter spreads retries apart"
