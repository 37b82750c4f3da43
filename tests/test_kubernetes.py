"""deploy/kubernetes rendered with kustomize (`kubectl kustomize`, offline) and every object
validated against the Kubernetes 1.32 schemas that kubernetes-validate ships, strictly
(unknown fields are errors); then what the schemas cannot say: the security context,
probes, disruption budgets, network policies, autoscalers and that compose's services all
have a Deployment."""

from __future__ import annotations

import copy
import ipaddress
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
KUBE = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.32.0"
BASE, OVERLAY = KUBE / "base", KUBE / "overlays" / "example"
# Components whose pods take no traffic but their own probes and Prometheus' scrapes.
VIGIL_COMPONENTS = {"api", "scheduler", "worker", "aggregator", "evaluator", "notifier"}


def kubectl() -> str:
    # setup.sh puts a recent kubectl in .venv/bin when the machine's is missing or too old.
    found = shutil.which("kubectl", path=str(ROOT / ".venv" / "bin")) or shutil.which("kubectl")
    assert found, "kubectl not found: scripts/setup.sh installs it"
    return found


def render(path: Path) -> list[dict]:
    out = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "deprecated" not in out.stderr.lower(), out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.fixture(scope="module", params=["base", "overlay"])
def objects(request) -> list[dict]:
    return render(BASE if request.param == "base" else OVERLAY)


@pytest.fixture(scope="module")
def overlay() -> list[dict]:
    return render(OVERLAY)


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def pod_specs(objects: list[dict]) -> list[tuple[str, dict, dict]]:
    """(name, pod template metadata, pod spec) of every Deployment and Job."""
    return [(o["metadata"]["name"], o["spec"]["template"]["metadata"], o["spec"]["template"]["spec"])
            for o in objects if o["kind"] in ("Deployment", "Job")]


def selects(selector: dict, labels: dict) -> bool:
    match = all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())
    for expr in selector.get("matchExpressions", []):
        assert expr["operator"] == "In", expr
        match = match and labels.get(expr["key"]) in expr["values"]
    return match


def test_every_object_is_valid_for_the_stated_kubernetes_version(objects):
    assert len(objects) > 10
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_what_a_cluster_would_refuse(overlay):
    deployment = copy.deepcopy(of_kind(overlay, "Deployment")[0])
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment = copy.deepcopy(of_kind(overlay, "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_every_pod_runs_restricted(objects):
    for name, meta, spec in pod_specs(objects):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), name
        for container in spec["containers"] + spec.get("initContainers", []):
            ctx = container["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["readOnlyRootFilesystem"] is True, name
            assert ctx["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in ctx["capabilities"], name
            assert not ctx.get("privileged"), name
            writable = {m["mountPath"] for m in container.get("volumeMounts", [])}
            assert writable == {"/tmp"}, name
        # The one sysctl: unprivileged ICMP sockets for the group the workers run as.
        sysctls = pod.get("sysctls", [])
        if meta["labels"].get("vigil.example/icmp") == "true":
            assert sysctls == [{"name": "net.ipv4.ping_group_range",
                                "value": f"{pod['runAsGroup']} {pod['runAsGroup']}"}], name
        else:
            assert sysctls == [], name


def test_every_service_has_probes_on_its_own_ports_and_sized_resources(objects):
    for name, _, spec in pod_specs(objects):
        for container in spec["containers"]:
            resources = container["resources"]
            assert resources["requests"]["cpu"] and resources["requests"]["memory"], name
            assert resources["limits"]["memory"], name
            if name == "vigil-migrate":
                continue
            ports = {p["name"] for p in container["ports"]}
            for probe in ("readinessProbe", "livenessProbe"):
                action = container[probe].get("httpGet") or container[probe].get("tcpSocket")
                assert action and action["port"] in ports, (name, probe)
            ready = container["readinessProbe"]["httpGet"]
            assert ready["path"] in ("/api/v1/health", "/health", "/metrics"), name


def test_every_deployment_has_a_disruption_budget_that_still_lets_a_node_drain(objects):
    pdbs = of_kind(objects, "PodDisruptionBudget")
    autoscalers = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(objects, "HorizontalPodAutoscaler")}
    for deployment in of_kind(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        assert len(covering) == 1, deployment["metadata"]["name"]
        name = deployment["metadata"]["name"]
        replicas = deployment["spec"].get("replicas") or autoscalers[name]["spec"]["minReplicas"]
        assert covering[0]["spec"]["minAvailable"] < replicas, name


def test_network_policies_deny_by_default_and_open_only_what_each_service_needs(objects):
    policies = of_kind(objects, "NetworkPolicy")
    pods = {o["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]:
            o["spec"]["template"]["metadata"]["labels"] for o in of_kind(objects, "Deployment")}
    assert VIGIL_COMPONENTS - {"worker"} <= set(pods)
    deny = [p for p in policies if not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert len(deny) == 1 and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}

    def allowed(component: str, direction: str) -> list[dict]:
        return [rule for p in policies if selects(p["spec"]["podSelector"], pods[component])
                for rule in p["spec"].get(direction, [])]

    for component, labels in pods.items():
        assert selects(deny[0]["spec"]["podSelector"], labels), component
        egress_ports = {port["port"] for rule in allowed(component, "egress") for port in rule.get("ports", [])}
        assert {53, 5432, 6379} <= egress_ports, component
        open_to_all = [r for r in allowed(component, "ingress") if "from" not in r]
        assert [p["port"] for r in open_to_all for p in r["ports"]] == ([8080] if component == "api" else [])
    # Only the services that reach monitored sites and receivers reach beyond the backends,
    # and never private ranges or cloud metadata.
    reach_out = {c for c in pods if any("to" in r for r in allowed(c, "egress"))}
    assert reach_out == {"api", "notifier"} | ({"worker"} if "worker" in pods else set())
    for rule in allowed("notifier", "egress"):
        for peer in rule.get("to", []):
            closed = [ipaddress.ip_network(c) for c in peer["ipBlock"].get("except", [])]
            for address in ("10.1.2.3", "192.168.0.1", "169.254.169.254", "fd00::1"):
                ip = ipaddress.ip_address(address)
                if ip.version == ipaddress.ip_network(peer["ipBlock"]["cidr"]).version:
                    assert any(ip in net for net in closed), address


def compose_services() -> dict[str, dict]:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    return {name: s for name, s in services.items() if str(s.get("image", "")).startswith("vigil:")}


def test_every_vigil_service_in_compose_runs_on_kubernetes(overlay):
    services = compose_services()
    assert set(services) >= VIGIL_COMPONENTS | {"migrate"}
    commands = {}
    for kind in ("Deployment", "Job"):
        for obj in of_kind(overlay, kind):
            container = obj["spec"]["template"]["spec"]["containers"][0]
            assert container["image"] == "ghcr.io/example/vigil:0.1.0"
            commands.setdefault(container["args"][0], []).append(kind)
    for name, service in services.items():
        expected = ["Job"] if service.get("restart") == "no" else ["Deployment"]
        assert set(commands.get(service["command"][0], [])) == set(expected), name


def test_each_region_has_its_workers_and_an_autoscaler_on_its_own_queue(overlay):
    regions = {c["metadata"]["name"]: c["data"]["VIGIL_REGION"] for c in of_kind(overlay, "ConfigMap")
               if "VIGIL_REGION" in c.get("data", {})}
    autoscalers = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(overlay, "HorizontalPodAutoscaler")}
    workers = [d for d in of_kind(overlay, "Deployment")
               if d["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"]
    seen = set()
    for worker in workers:
        name = worker["metadata"]["name"]
        env = {e["name"]: e for e in worker["spec"]["template"]["spec"]["containers"][0]["env"]}
        region = regions[env["VIGIL_REGION"]["valueFrom"]["configMapKeyRef"]["name"]]
        assert name == f"vigil-worker-{region}"
        assert worker["spec"]["selector"]["matchLabels"]["vigil.example/region"] == region
        assert "replicas" not in worker["spec"], "the autoscaler owns the replica count"
        metric = autoscalers[name]["spec"]["metrics"][0]["external"]["metric"]
        assert metric["name"] == "vigil_worker_queue_lag_seconds"
        assert metric["selector"]["matchLabels"] == {"region": region}
        seen.add(region)
    assert seen == {"eu-west", "us-east"}


def test_nothing_secret_is_rendered_and_every_secret_reference_is_documented(objects):
    assert not of_kind(objects, "Secret")
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for _, _, spec in pod_specs(objects):
        container = spec["containers"][0]
        refs = [(e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
        refs += [(s["secretRef"]["name"], None) for s in container["envFrom"] if "secretRef" in s]
        for secret, key in refs:
            command = re.search(rf"create secret generic {secret}\b[^`]*?(?=\n\n|```)", guide, re.S)
            assert command, f"docs/deploy.md does not create the Secret {secret}"
            assert key is None or f"--from-literal={key}=" in command.group(0), (secret, key)


def test_every_vigil_variable_the_manifests_set_is_a_setting(overlay):
    from vigil.settings import Settings

    known = {f"VIGIL_{name.upper()}" for name in Settings.model_fields}
    named = set(re.findall(r"\bVIGIL_[A-Z0-9_]+", yaml.safe_dump_all(overlay)))
    assert named and named <= known, sorted(named - known)
