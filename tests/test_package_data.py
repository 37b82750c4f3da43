"""An installed Vigil finds its SQL without the source tree: the wheel carries every migration,
functions file and named query, and migrate and the named queries read them from where the
wheel put them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DISCOVER = """
import json, sql, vigil.migrate as m, vigil.queries as q
print(json.dumps({"modules": [sql.__file__, m.__file__, q.__file__],
                  "migrations": [n for n, _ in m.migration_files()],
                  "functions": [str(p) for p in m.function_files()],
                  "query": q.sql("own_monitor_ids")}))
"""


def test_the_wheel_carries_the_sql_and_vigil_reads_it_from_the_installed_copy(tmp_path: Path):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", ".data", "build", "*.egg-info", "__pycache__", ".*_cache", "tests"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(wheels), str(src)], check=True, cwd=tmp_path, capture_output=True)
    wheel = next(wheels.glob("vigil-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    sql_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "sql").rglob("*.sql")}
    assert {"sql/schema.sql", "sql/functions/windows.sql", "sql/queries/stats.sql"} <= sql_files
    assert sql_files <= names, f"missing from the wheel: {sorted(sql_files - names)}"
    assert "sql/__init__.py" in names

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    out = subprocess.run([sys.executable, "-c", DISCOVER], cwd=tmp_path, check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(site)})
    found = json.loads(out.stdout)
    assert all(path.startswith(str(site)) for path in found["modules"] + found["functions"]), found
    assert found["migrations"] == sorted(p.stem for p in (ROOT / "sql").glob("[0-9][0-9][0-9][0-9]_*.sql"))
    assert {Path(p).name for p in found["functions"]} == {p.name for p in (ROOT / "sql" / "functions").glob("*.sql")}
    assert "FROM monitors" in found["query"]

