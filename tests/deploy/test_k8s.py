"""deploy/k8s: schema-valid manifests (offline), lint-clean YAML, and the settings that matter.

Every manifest is validated with kubernetes-validate (the JSON schemas of each Kubernetes
release, shipped in the package) in strict mode, so an unknown or misspelt field fails. The base
and the PgBouncer overlay are rendered by ``kustomize build`` (or ``kubectl kustomize``) when
one is installed, and always by ``manifests.render``, which the binary's output must agree with.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .manifests import (
    BASE,
    DEPLOY,
    K8S,
    PGBOUNCER_OVERLAY,
    DuplicateKeyError,
    containers,
    find,
    kustomization,
    load_all,
    load_file,
    render,
)

kubernetes_validate = pytest.importorskip("kubernetes_validate")

VERSIONS = ("1.30.0", "1.33.0", kubernetes_validate.latest_version())
"""The oldest release still supported by most providers, a middle one, the newest shipped."""

YAMLLINT_CONFIG = """
extends: default
rules:
  line-length: {max: 100}
  document-start: disable
  comments: {min-spaces-from-content: 1}
"""

YAML_FILES = sorted(K8S.rglob("*.yaml"))
RENDERED = {"base": BASE, "pgbouncer": PGBOUNCER_OVERLAY}


def test_every_listed_resource_exists_and_every_file_is_listed() -> None:
    for directory in RENDERED.values():
        spec = kustomization(directory)
        listed = {*spec.get("resources", []), *(p["path"] for p in spec.get("patches", []))}
        for entry in listed:
            assert (directory / entry).exists(), f"{directory}: {entry} is missing"
        local = {p.name for p in directory.glob("*.yaml")} - {"kustomization.yaml"}
        assert local <= listed, f"{directory}: not listed: {sorted(local - listed)}"


def test_yaml_has_no_duplicate_keys() -> None:
    assert YAML_FILES
    for path in YAML_FILES:
        load_file(path)
    with pytest.raises(DuplicateKeyError):
        load_all("a: 1\nb: 2\na: 3\n")


def test_yamllint() -> None:
    config_module = pytest.importorskip("yamllint.config")
    linter = pytest.importorskip("yamllint.linter")
    config = config_module.YamlLintConfig(YAMLLINT_CONFIG)
    problems = [
        f"{path.relative_to(DEPLOY)}:{problem.line}: {problem.message}"
        for path in YAML_FILES
        for problem in linter.run(path.read_text(encoding="utf-8"), config, str(path))
    ]
    assert problems == []


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(RENDERED))
def test_rendered_manifests_validate_against_the_kubernetes_schemas(
    name: str, version: str
) -> None:
    documents = render(RENDERED[name])
    assert len(documents) >= 7
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_the_strict_validation_catches_a_misspelt_field() -> None:
    deployment = copy.deepcopy(find(render(BASE), "Deployment", "fraiseql"))
    containers(deployment)[0]["readinessProbes"] = containers(deployment)[0].pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)


def _kustomize() -> list[str] | None:
    if (binary := shutil.which("kustomize")) is not None:
        return [binary, "build"]
    if (kubectl := shutil.which("kubectl")) is not None:
        probe = subprocess.run(
            [kubectl, "kustomize", "--help"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return [kubectl, "kustomize"]
    return None


def _identity(document: dict[str, Any]) -> tuple[str, str]:
    return document["kind"], document["metadata"]["name"]


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_kustomize_build_agrees_with_the_render(name: str) -> None:
    command = _kustomize()
    if command is None:
        pytest.skip("neither `kustomize` nor `kubectl kustomize` is on this machine")
    result = subprocess.run(
        [*command, str(RENDERED[name])], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    built = load_all(result.stdout)
    ours = render(RENDERED[name])
    assert sorted(map(_identity, built)) == sorted(map(_identity, ours))
    for document in built:
        kubernetes_validate.validate(document, VERSIONS[-1], strict=True)
        assert document["metadata"]["labels"]["app.kubernetes.io/part-of"] == "fraiseql"
    for kind, resource in (("Secret", "fraiseql-database"), ("ConfigMap", "fraiseql-config")):
        key = "stringData" if kind == "Secret" else "data"
        assert find(built, kind, resource)[key] == find(ours, kind, resource)[key]
    assert [c["image"] for c in containers(find(built, "Deployment", "fraiseql"))] == [
        c["image"] for c in containers(find(ours, "Deployment", "fraiseql"))
    ]


def _api() -> dict[str, Any]:
    return find(render(BASE), "Deployment", "fraiseql")


def test_probes_point_at_the_health_endpoints() -> None:
    (container,) = containers(_api())
    port = container["ports"][0]
    assert port == {"name": "http", "containerPort": 8000, "protocol": "TCP"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    args = container["args"]
    assert args[args.index("--port") + 1] == "8000"
    assert args[args.index("--host") + 1] == "0.0.0.0"


def test_the_api_runs_non_root_on_a_read_only_root_fs_with_resources() -> None:
    deployment = _api()
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    (container,) = containers(deployment)
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    for bound in ("requests", "limits"):
        assert set(container["resources"][bound]) == {"cpu", "memory"}
    # A read-only root needs a writable /tmp (tempfile, uvicorn) from an emptyDir.
    (mount,) = container["volumeMounts"]
    (volume,) = pod["volumes"]
    assert mount == {"name": volume["name"], "mountPath": "/tmp"}
    assert "emptyDir" in volume
    assert {
        ref.get("configMapRef", ref.get("secretRef"))["name"] for ref in container["envFrom"]
    } == {
        "fraiseql-config",
        "fraiseql-database",
    }


def test_graceful_shutdown_fits_the_termination_grace_period() -> None:
    deployment = _api()
    pod = deployment["spec"]["template"]["spec"]
    (container,) = containers(deployment)
    args = container["args"]
    graceful = float(args[args.index("--graceful-timeout") + 1])
    pre_stop = float(container["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["terminationGracePeriodSeconds"] > graceful + pre_stop
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_service_pdb_and_hpa_select_the_deployment() -> None:
    documents = render(BASE)
    deployment = find(documents, "Deployment", "fraiseql")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = find(documents, "Service", "fraiseql")
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    pdb = find(documents, "PodDisruptionBudget", "fraiseql")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = find(documents, "HorizontalPodAutoscaler", "fraiseql")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "fraiseql",
    }
    # The budget leaves every replica count the HPA may choose able to lose a pod.
    assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert deployment["spec"]["replicas"] >= hpa["spec"]["minReplicas"]


PLACEHOLDER = "CHANGE_ME"


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_secrets_hold_placeholders_only(name: str) -> None:
    secrets = [doc for doc in render(RENDERED[name]) if doc["kind"] == "Secret"]
    assert secrets
    for secret in secrets:
        assert "data" not in secret  # base64 would hide what is committed
        for key, value in secret["stringData"].items():
            for password in re.findall(r"://[^:/@]+:([^@]*)@", value):
                assert password == PLACEHOLDER, f"{secret['metadata']['name']}.{key}"
            if key == "userlist.txt":
                for line in value.splitlines():
                    assert line.split()[1] == f'"{PLACEHOLDER}"'


def test_the_config_map_holds_only_settings_the_pool_reads() -> None:
    from fraiseql.db.pool import POOL_ENV

    config = find(render(BASE), "ConfigMap", "fraiseql-config")["data"]
    assert set(config) <= {*POOL_ENV, "FRAISEQL_IMPL"}
    assert all(isinstance(value, str) for value in config.values())


def test_the_migration_job_runs_migrate_up_once() -> None:
    job = find(render(BASE), "Job", "fraiseql-migrate")
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in {"Never", "OnFailure"}
    assert isinstance(job["spec"]["backoffLimit"], int) and 0 <= job["spec"]["backoffLimit"] <= 5
    assert job["spec"]["activeDeadlineSeconds"] > 0
    (container,) = containers(job)
    assert container["command"] == ["fraiseql", "migrate", "up"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert set(container["resources"]) == {"requests", "limits"}
    (variable,) = container["env"]
    assert variable["name"] == "FRAISEQL_DATABASE_URL"
    assert variable["valueFrom"]["secretKeyRef"]["key"] == "FRAISEQL_MIGRATE_DATABASE_URL"


def test_the_migrate_command_exists() -> None:
    from typer.main import get_command

    from fraiseql.cli.main import app

    group = get_command(app)
    migrate = group.commands.get("migrate")  # type: ignore[attr-defined]
    if migrate is None:
        pytest.skip("`fraiseql migrate` is not in this tree yet")
    assert "up" in migrate.commands


def _secret_urls(directory: Path) -> dict[str, str]:
    return find(render(directory), "Secret", "fraiseql-database")["stringData"]


def test_the_pgbouncer_overlay_moves_only_the_pool() -> None:
    base, overlay = _secret_urls(BASE), _secret_urls(PGBOUNCER_OVERLAY)
    assert "@postgres:5432/" in base["FRAISEQL_DATABASE_URL"]
    assert "@fraiseql-pgbouncer:6432/" in overlay["FRAISEQL_DATABASE_URL"]
    # LISTEN needs a session and migrations take session locks: both stay on PostgreSQL.
    for key in ("FRAISEQL_LISTEN_DATABASE_URL", "FRAISEQL_MIGRATE_DATABASE_URL"):
        assert overlay[key] == base[key]
        assert "@postgres:5432/" in overlay[key]
    documents = render(PGBOUNCER_OVERLAY)
    service = find(documents, "Service", "fraiseql-pgbouncer")
    assert service["spec"]["ports"][0]["port"] == 6432
    pooler = find(documents, "Deployment", "fraiseql-pgbouncer")
    labels = pooler["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (container,) = containers(pooler)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pooler["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert set(container["resources"]) == {"requests", "limits"}


def pgbouncer_ini() -> dict[str, str]:
    """The ``[pgbouncer]`` section of the overlay's pgbouncer.ini."""
    text = find(render(PGBOUNCER_OVERLAY), "ConfigMap", "fraiseql-pgbouncer")["data"]
    section: dict[str, str] = {}
    current = None
    for raw in text["pgbouncer.ini"].splitlines():
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
        elif current == "pgbouncer":
            key, _, value = line.partition("=")
            section[key.strip()] = value.strip()
    return section


def test_the_pgbouncer_config_is_transaction_mode_with_tracked_prepared_statements() -> None:
    ini = pgbouncer_ini()
    assert ini["pool_mode"] == "transaction"
    assert int(ini["max_prepared_statements"]) > 0
    assert ini["ignore_startup_parameters"] == "statement_timeout"
    assert ini["auth_type"] == "scram-sha-256"
