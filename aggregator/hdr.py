"""Export a vigil_hist in HdrHistogram's standard (compressed, base64) encoding, so clients
can decode and merge windows with any HdrHistogram library."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hdrh.histogram import HdrHistogram

from aggregator import histogram

HIGHEST_US = 3_600_000_000  # an hour, far above any check timeout
SIGNIFICANT_FIGURES = 3     # HdrHistogram's own error (0.1 %) stays below the layout's


def to_hdr(hist: np.ndarray | Sequence[int]) -> HdrHistogram:
    h = HdrHistogram(1, HIGHEST_US, SIGNIFICANT_FIGURES)
    idx, cnt = histogram.unpack(hist)
    for i, c in zip(idx.tolist(), cnt.tolist(), strict=True):
        h.record_value(max(1, round(float(histogram.VALUES[i]))), c)
    return h


def encode_hdr(hist: np.ndarray | Sequence[int]) -> str:
    """Base64 HdrHistogram encoding of the histogram (values in microseconds)."""
    return to_hdr(hist).encode().decode("ascii")
