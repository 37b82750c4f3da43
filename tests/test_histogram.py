import numpy as np
import psycopg
import pytest
from hdrh.histogram import HdrHistogram

from aggregator import histogram
from aggregator.hdr import encode_hdr
from aggregator.history import latencies

QS = [0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0]


def _data(kind: str, n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind in ("lognormal", "bimodal", "pareto"):
        return latencies(rng, kind, 80_000, n)
    if kind == "tiny":  # exact integer buckets below ~100 µs
        return rng.integers(1, 120, n)
    if kind == "constant":
        return np.full(n, 1234, dtype=np.int64)
    if kind == "timeouts":  # a cluster at a 60 s timeout beside fast answers
        return np.where(rng.random(n) < 0.05, 60_000_000, rng.integers(900, 5_000, n))
    if kind == "uniform_wide":  # 1 µs .. 60 s
        return np.exp(rng.uniform(0, np.log(60e6), n)).astype(np.int64)
    raise AssertionError(kind)


KINDS = ["lognormal", "bimodal", "pareto", "tiny", "constant", "timeouts", "uniform_wide"]


def _sql_hist(db: psycopg.Connection, values: np.ndarray) -> list[int]:
    return db.execute("SELECT vigil_hist_compact(array_agg(vigil_hist_index(v) + 2048)) "
                      "FROM unnest(%s::integer[]) AS v", (values.tolist(),)).fetchone()[0]


def test_sql_layout_has_the_same_bounds_as_python(db):
    bounds = db.execute("SELECT vigil_hist_bounds(), vigil_hist_alpha()").fetchone()
    assert bounds[0] == histogram.BOUNDS.tolist()
    assert bounds[1] == histogram.ALPHA


def test_bucket_values_are_within_alpha_of_every_value_in_the_bucket():
    lo, hi = histogram.BOUNDS[:-1], histogram.BOUNDS[1:] - 1
    mid = histogram.VALUES[1:-1]
    assert histogram.MAX_RELATIVE_ERROR < 0.0051
    assert np.all(np.abs(mid - lo) / lo <= histogram.MAX_RELATIVE_ERROR * 1.000001)
    assert np.all(np.abs(hi - mid) / hi <= histogram.MAX_RELATIVE_ERROR * 1.000001)


@pytest.mark.parametrize("value", [0, 1, 2, 99, 100, 101, 1_000, 59_999_999, 60_000_000, 2**31 - 1])
def test_python_and_sql_put_a_value_in_the_same_bucket(db, value):
    edge = [int(b) for b in histogram.BOUNDS[(histogram.BOUNDS > value - 3) & (histogram.BOUNDS < value + 3)]]
    for v in {value, *edge, *(b - 1 for b in edge)}:
        if 0 <= v <= 2**31 - 1:
            assert db.execute("SELECT vigil_hist_index(%s)", (v,)).fetchone()[0] == int(histogram.bucket_index([v])[0])


@pytest.mark.parametrize("kind", KINDS)
def test_every_quantile_is_within_one_percent_of_percentile_cont(kind):
    values = _data(kind, 20_000)
    h = histogram.record(values)
    exact = np.percentile(values, [q * 100 for q in QS])
    for q, got, want in zip(QS, histogram.quantiles(h, QS), exact, strict=True):
        assert abs(got - want) <= 0.01 * want, (kind, q, got, want)


@pytest.mark.parametrize("kind", KINDS)
def test_python_and_sql_build_merge_and_read_histograms_identically(db, kind):
    parts = [_data(kind, n, seed) for seed, n in enumerate([60, 1, 500, 3_000])]
    py = [histogram.record(p) for p in parts]
    sql = [_sql_hist(db, p) for p in parts]
    assert [h.tolist() for h in py] == sql
    merged_sql = db.execute("SELECT vigil_hist_merge(h::vigil_hist) FROM unnest(%s::text[]) AS t(h_text), "
                            "LATERAL (SELECT h_text::integer[] AS h) x",
                            (["{" + ",".join(map(str, h)) + "}" for h in sql],)).fetchone()[0]
    merged_py = histogram.merge(py)
    assert merged_py.tolist() == merged_sql
    assert merged_py.tolist() == histogram.record(np.concatenate(parts)).tolist()
    sql_q = db.execute("SELECT vigil_hist_quantiles(%s::integer[], %s)", (merged_sql, QS)).fetchone()[0]
    assert sql_q == histogram.quantiles(merged_py, QS)
    assert db.execute("SELECT vigil_hist_count(%s::integer[])", (merged_sql,)).fetchone()[0] == \
        histogram.count(merged_py) == sum(len(p) for p in parts)


def test_counts_beyond_one_entry_are_split_identically_in_python_and_sql(db):
    big = histogram.MAX_COUNT * 2 + 17
    h = histogram.pack(np.array([5, 900]), np.array([big, 3]))
    assert histogram.count(h) == big + 3
    assert len(h) == 4  # two full entries and a remainder for bucket 5, one for bucket 900
    double = db.execute("SELECT vigil_hist_merge(x) FROM (VALUES (%s::vigil_hist), (%s::vigil_hist)) v(x)",
                        (h.tolist(), h.tolist())).fetchone()[0]
    assert double == histogram.merge([h, h]).tolist()
    assert histogram.count(double) == 2 * (big + 3)


def test_empty_histograms_merge_to_empty_and_have_no_quantiles(db):
    assert histogram.merge([histogram.EMPTY]).tolist() == []
    assert histogram.quantiles(histogram.EMPTY, [0.5]) == [None]
    assert db.execute("SELECT vigil_hist_quantile('{}', 0.5), vigil_hist_count('{}')").fetchone() == (None, 0)


def test_an_hour_of_one_minute_checks_fits_in_300_bytes(db):
    h = histogram.record(_data("lognormal", 60))
    size = db.execute("SELECT pg_column_size(%s::integer[]::vigil_hist)", (h.tolist(),)).fetchone()[0]
    assert size <= 300


def test_quantile_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="outside"):
        histogram.quantiles(histogram.record([1, 2, 3]), [1.5])


@pytest.mark.parametrize("kind", ["lognormal", "bimodal", "pareto"])
def test_hdr_export_decodes_to_the_same_quantiles_within_one_percent(kind):
    values = _data(kind, 10_000)
    h = histogram.record(values)
    decoded = HdrHistogram.decode(encode_hdr(h))
    assert decoded.get_total_count() == len(values)
    for q in (0.5, 0.9, 0.99, 0.999):
        ours = histogram.quantile(h, q)
        theirs = decoded.get_value_at_percentile(q * 100)
        assert abs(theirs - ours) <= 0.01 * ours, (q, ours, theirs)
