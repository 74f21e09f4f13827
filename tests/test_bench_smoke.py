"""Keep ``bench/bench_disbursement.py`` from rotting: run it with tiny sizes on a temporary SQLite
file. Only that it completes and reports is checked; timings are neither measured nor asserted."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.slow
def test_disbursement_benchmark_runs_with_tiny_sizes(tmp_path: Path) -> None:
    from bench import bench_disbursement

    report = tmp_path / "performance.md"
    exit_code = bench_disbursement.main(
        [
            "--database-url",
            f"sqlite:///{tmp_path / 'bench.sqlite'}",
            "--out-dir",
            str(tmp_path),
            "--years",
            "1",
            "--orgs",
            "5",
            "--transfers",
            "10",
            "--entries",
            "20",
            "--batch",
            "7",
            "--report",
            str(report),
        ]
    )
    assert exit_code == 0
    text = report.read_text(encoding="utf-8")
    assert "Payment run, 10 transfers" in text
    assert "10 / " in text  # NbOfTxs parsed back from the pain.001 file
    assert "Posting: 20 x `post_entry`" in text
    assert "Rows after the build: " in text
    assert "application 5," in text
    assert "payout_order" in text
    assert (tmp_path / "bench-sqlite.log").stat().st_size > 0  # the services' JSON log lines


@pytest.mark.slow
def test_reconcile_export_benchmark_runs_with_tiny_sizes(tmp_path: Path) -> None:
    from bench import bench_reconcile_export

    report = tmp_path / "performance-rx.md"
    exit_code = bench_reconcile_export.main(
        [
            "--database-url",
            f"sqlite:///{tmp_path / 'bench.sqlite'}",
            "--out-dir",
            str(tmp_path),
            "--years",
            "1",
            "--orgs",
            "5",
            "--postings",
            "1000",
            "--transfers",
            "10",
            "--report",
            str(report),
        ]
    )
    assert exit_code == 0
    text = report.read_text(encoding="utf-8")
    assert "German CSV (`iter_ledger_csv`), 1,000 rows" in text
    assert "XLSX (`ledger_export('xlsx')`), 1,000 rows" in text
    assert "1 / 10 / 10 / 0 (10 orders reconciled)" in text  # statements/lines/matched/open
    assert (tmp_path / "ledger-sqlite.csv").stat().st_size > 0
    assert (tmp_path / "ledger-sqlite.xlsx").stat().st_size > 0
