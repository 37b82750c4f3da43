"""Where Vigil keeps local state (the `vigil up` clusters, generated secrets)."""

from __future__ import annotations

import os
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """VIGIL_DATA_DIR; else .data/ of the source checkout the package runs from; else (an
    installed package, whose directory may not be writable) .data/ in the working directory."""
    if configured := os.environ.get("VIGIL_DATA_DIR"):
        return Path(configured)
    if (SOURCE_ROOT / "pyproject.toml").exists():
        return SOURCE_ROOT / ".data"
    return Path.cwd() / ".data"
