"""The systemd units docs/deploy.md gives for a single-machine install, checked by
systemd-analyze verify as systemd would load them (in a private root with the machine's own
system units and a stand-in for the vigil command)."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_UNITS = Path("/lib/systemd/system")


def units() -> dict[str, str]:
    doc = (ROOT / "docs" / "deploy.md").read_text()
    return dict(re.findall(r"`(/etc/systemd/system/[^`]+)`[^`]*?```ini\n(.*?)```", doc, re.S))


@pytest.fixture
def system_root(tmp_path) -> Path:
    assert shutil.which("systemd-analyze"), "systemd-analyze not found: scripts/setup.sh installs systemd"
    shutil.copytree(SYSTEM_UNITS, tmp_path / "usr/lib/systemd/system", symlinks=True)
    vigil = tmp_path / "opt/vigil/venv/bin/vigil"
    vigil.parent.mkdir(parents=True)
    vigil.write_text("#!/bin/sh\n")
    vigil.chmod(0o755)
    return tmp_path


def install(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def verify(root: Path, unit: str) -> str:
    out = subprocess.run(["systemd-analyze", "verify", f"--root={root}", unit],
                         capture_output=True, text=True, check=False, cwd=root)
    return (out.stdout + out.stderr).strip() + ("" if out.returncode == 0 else f" (exit {out.returncode})")


def test_the_documented_units_load_without_a_warning(system_root):
    files = units()
    assert {"/etc/systemd/system/vigil@.service", "/etc/systemd/system/vigil-migrate.service",
            "/etc/systemd/system/vigil@aggregator.service.d/owner.conf"} <= set(files)
    install(system_root, files)
    for unit in ("vigil@api.service", "vigil@worker.service", "vigil@aggregator.service", "vigil-migrate.service"):
        assert verify(system_root, unit) == "", unit


def test_services_restart_and_a_crash_loop_stops_them():
    template = units()["/etc/systemd/system/vigil@.service"]
    unit, service = template.split("[Service]")[0], template.split("[Service]")[1].split("[Install]")[0]
    assert "Restart=always" in service and "RestartSec=" in service
    assert "StartLimitBurst=" in unit and "StartLimitIntervalSec=" in unit
    assert "User=vigil" in service and "NoNewPrivileges=yes" in service


def test_verify_reports_a_misplaced_setting(system_root):
    files = units()
    template = files["/etc/systemd/system/vigil@.service"]
    files["/etc/systemd/system/vigil@.service"] = template.replace("RestartSec=5", "RestartSec=5\nStartLimitIntervalSec=300")
    install(system_root, files)
    assert "Unknown key 'StartLimitIntervalSec'" in verify(system_root, "vigil@api.service")
