"""The image cannot be built here (no Docker engine); check that it installs every package,
the SQL included, and runs the installed copies (tests/test_package_data.py builds the wheel
and finds the SQL in it)."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_image_installs_every_package_with_its_sql_and_runs_the_installed_copy():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile, flags=re.M))
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in include}
    assert packages <= copied, f"Dockerfile does not copy {packages - copied}"
    assert "sql" in packages
    assert re.search(r"^RUN pip install --no-cache-dir \.$", dockerfile, flags=re.M)
    assert "PYTHONPATH" not in dockerfile
