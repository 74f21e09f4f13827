"""Budget race (RELIABILITY §4, test plan 1): 8 spawned processes × 25 approvals of random
20,000–80,000 EUR against the 1.3 M EUR cap, on a dedicated database (SQLite file, or a
PostgreSQL schema when TEST_DATABASE_URL points to PostgreSQL).

The guarded ``commit_funds`` must hold the cap exactly; the naive read-sum-compare-insert
control in ``race_harness`` must overshoot it, which proves the test can see the bug.
Run with ``-s`` to see the figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.budget import race_harness as harness

pytestmark = pytest.mark.slow


@pytest.fixture
def race_db(tmp_path: Path) -> Iterator[harness.Database]:
    database = harness.create_database(tmp_path)
    try:
        yield database
    finally:
        harness.drop_database(database)


@pytest.mark.timeout(600)  # generous: a loaded shared machine, not a speed test
def test_R12_race_guarded_commit_never_exceeds_the_cap(race_db, record_property):
    application_ids, actor_id = harness.prepare(race_db, [2027])
    result = harness.race(race_db, "guarded", 2027, application_ids, actor_id)
    print("\n" + result.summary())  # noqa: T201 - figures for the lead (pytest -s)
    record_property("race_guarded", result.summary())

    assert result.errors == []
    assert result.attempts == harness.WORKERS * harness.CALLS
    assert result.committed_cents <= harness.CAP_CENTS
    assert result.committed_cents == result.ledger_cents == result.approved_cents
    assert result.ledger_rows == len(result.approved)
    assert result.mismatches == []
    # Every call with amount <= what was left succeeded, so the cap was really contested:
    assert harness.CAP_CENTS - result.committed_cents < harness.MAX_CENTS
    assert result.refused > 0


@pytest.mark.timeout(600)
def test_R12_race_control_naive_check_exceeds_the_cap(race_db, record_property):
    years = [2031, 2032, 2033]
    application_ids, actor_id = harness.prepare(race_db, years)
    results = []
    for year in years:  # a few runs; the first overshoot ends the experiment
        result = harness.race(race_db, "naive", year, application_ids, actor_id)
        print("\n" + result.summary())  # noqa: T201 - figures for the lead (pytest -s)
        record_property(f"race_naive_{year}", result.summary())
        results.append(result)
        assert result.errors == []
        if result.overshoot_cents:
            break
    assert any(r.ledger_cents > harness.CAP_CENTS for r in results), [r.summary() for r in results]
