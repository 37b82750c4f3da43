"""The capacity model's arithmetic (benchmarks/capacity_model.py) on fixed costs: loads grow
with the monitors, each part's limit shows up where its load passes the target, and the
table in docs/capacity.md is the model's output for the costs written beside it."""

import json
import re
from pathlib import Path

import pytest

from benchmarks import capacity_model

ROOT = Path(__file__).resolve().parent.parent

COSTS = {"worker_cpu_ms_per_check": 0.25, "scheduler_cpu_ms_per_check": 0.02, "redis_cpu_ms_per_check": 0.01,
         "ingest_rows_per_s": 100_000, "evaluator_rules_per_s": 25_000, "aggregate_s_per_million_rows": 6.0,
         "api_cpu_ms_per_request": 0.25, "bytes_per_row": 110.0, "worker_rss_mb": 80, "api_rss_mb": 110,
         "scheduler_rss_mb": 90, "scheduler_mb_per_1k_monitors": 0.5, "aggregator_rss_mb": 90,
         "evaluator_rss_mb": 90, "notifier_rss_mb": 100, "redis_base_mb": 2, "redis_kb_per_job": 2.0,
         "batch_size": 200}


def test_the_arithmetic_of_one_row():
    row = capacity_model.size(COSTS, 100_000)
    assert row["checks_per_s"] == round(100_000 * 5 / 60)  # every monitor from every region
    parts = row["cores_by_part"]
    assert parts["worker"] == pytest.approx(8333.3 * 0.25 / 1000, abs=0.01)
    assert parts["evaluator"] == pytest.approx(500_000 / 25_000 / 60, abs=0.01)
    assert parts["aggregator"] == pytest.approx(8333.3 * 3600 / 1e6 * 6.0 / 3600, abs=0.01)
    # 2.08 worker cores / 5 regions / 0.7 a process -> 1, raised to the 2 kept for availability
    assert row["processes"]["worker"] == 10
    assert row["disk_gb_per_day"] == pytest.approx(8333.3 * 86400 * 110 / 1e9, abs=0.1)


@pytest.mark.parametrize("monitors, bottleneck, reached", [
    (10_000, "evaluator", False),
    (100_000, "evaluator", False),
    (1_000_000, "evaluator", True),
    (10_000_000, "evaluator", True),
])
def test_the_nearest_limit_at_each_size(monitors, bottleneck, reached):
    row = capacity_model.size(COSTS, monitors)
    assert (row["bottleneck"], row["bottleneck_reached"]) == (bottleneck, reached)
    assert (row["remedy"] == capacity_model.REMEDIES[bottleneck]) is reached


def test_a_cheaper_evaluator_moves_the_limit_to_the_next_part():
    row = capacity_model.size({**COSTS, "evaluator_rules_per_s": 10**9}, 10_000_000)
    assert row["bottleneck"] == "scheduler" and row["bottleneck_reached"]


def test_everything_grows_with_the_monitors():
    rows = capacity_model.table(COSTS)
    for small, big in zip(rows, rows[1:], strict=False):
        for key in ("checks_per_s", "cores", "memory_gb", "redis_mb", "disk_gb_per_day"):
            assert big[key] > small[key], key
        assert big["processes"]["worker"] >= small["processes"]["worker"]


def test_docs_table_is_the_model_output_for_the_costs_beside_it():
    doc = (ROOT / "docs" / "capacity.md").read_text()
    costs = json.loads(re.search(r"```json\n(.*?)\n```", doc, re.S).group(1))
    assert capacity_model.markdown(capacity_model.table(costs)) in doc
