"""The image cannot be built here (no Docker engine); check that it carries every package
and the SQL the services read at run time."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_image_copies_every_package_and_the_sql_and_runs_them_from_the_source_tree():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile, flags=re.M))
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in include}
    assert packages <= copied, f"Dockerfile does not copy {packages - copied}"
    assert "sql" in copied
    assert re.search(r"^ENV PYTHONPATH=/app$", dockerfile, flags=re.M)
