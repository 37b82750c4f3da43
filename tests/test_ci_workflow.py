"""The GitHub workflow, checked offline against the workflow schema check-jsonschema ships,
and held to what the README promises: lint, the README's test command, the image pushed only
for version tags."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yaml"


def check_schema(path: Path) -> subprocess.CompletedProcess:
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    return subprocess.run([tool, "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, check=False)


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_workflow_matches_the_github_workflow_schema():
    out = check_schema(WORKFLOW)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_schema_check_refuses_a_broken_workflow(tmp_path):
    broken = workflow()
    broken["jobs"]["test"]["steps"][1]["runs"] = broken["jobs"]["test"]["steps"][1].pop("run")
    (tmp_path / "ci.yaml").write_text(yaml.safe_dump(broken))
    assert check_schema(tmp_path / "ci.yaml").returncode != 0


def test_workflow_lints_runs_the_readme_test_command_and_pushes_only_tags():
    jobs = workflow()["jobs"]
    readme = (ROOT / "README.md").read_text()
    assert "scripts/test.sh" in readme and "ruff check ." in readme
    assert any(step.get("run") == "ruff check ." for step in jobs["lint"]["steps"])
    assert any(step.get("run", "").startswith("bash scripts/test.sh") for step in jobs["test"]["steps"])
    assert jobs["test"]["container"].startswith("debian:")
    assert set(jobs["image"]["needs"]) == {"lint", "test"}
    build = next(s for s in jobs["image"]["steps"] if s.get("uses", "").startswith("docker/build-push-action"))
    assert build["with"]["push"] == "${{ startsWith(github.ref, 'refs/tags/v') }}"
    login = next(s for s in jobs["image"]["steps"] if s.get("uses", "").startswith("docker/login-action"))
    assert login["if"] == "startsWith(github.ref, 'refs/tags/v')"
    # Only the image job may write packages; everything else reads.
    assert workflow()["permissions"] == {"contents": "read"}
    assert jobs["image"]["permissions"]["packages"] == "write"
