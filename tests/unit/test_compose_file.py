"""Structural checks of docker-compose.yml, the Dockerfile and .dockerignore.

Docker does not run on the build machines, so these are what stands between a typo and a
broken deployment: they parse the files and check the properties the deployment relies on.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from workflows.search_attributes import ALL_KEYS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SEARCH_ATTRIBUTE_JOB = "temporal-search-attributes"
SECRET_NAME = re.compile(r"PASSWORD|PWD|TOKEN|SECRET|API_KEY|_KEYS$")


def environment(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def host_port(mapping: str) -> str:
    """'127.0.0.1:8080:8080' -> '127.0.0.1:8080'; '8080:8080' -> '0.0.0.0:8080'."""
    parts = str(mapping).split(":")
    if len(parts) == 3:
        return f"{parts[0]}:{parts[1]}"
    if len(parts) == 2:
        return f"0.0.0.0:{parts[0]}"
    pytest.fail(f"port {mapping!r} publishes a random host port; give one explicitly")


def compose_default(value: str) -> str:
    """'${VAR:-fallback}' -> 'fallback'; a plain value is returned as it is."""
    match = re.fullmatch(r"\$\{\w+:-([^}]*)\}", value)
    return match.group(1) if match else value


def search_attribute_script() -> str:
    """The job's shell script as the container runs it (Compose turns $$ into $)."""
    return str(SERVICES[SEARCH_ATTRIBUTE_JOB]["command"][0]).replace("$$", "$")


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_pinned_image_or_a_build(name: str) -> None:
    service = SERVICES[name]
    if "build" in service:
        return
    image = service["image"]
    repository, _, tag = image.rpartition(":")
    assert repository, f"{name}: image {image!r} has no tag"
    assert "/" not in tag, f"{name}: image {image!r} has no tag"
    assert tag not in {"latest", "stable", "main"}, f"{name}: image {image!r} is not pinned"
    assert re.search(r"\d", tag), f"{name}: tag {tag!r} names no version"


def test_worker_can_be_scaled() -> None:
    """No fixed container name and no host port, so `--scale worker=3` works."""
    worker = SERVICES["worker"]

    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["command"] == ["python", "worker.py"]


def test_published_host_ports_are_unique_and_loopback_only() -> None:
    published = [host_port(p) for service in SERVICES.values() for p in service.get("ports", [])]

    assert len(published) == len(set(published)), published
    assert all(p.startswith("127.0.0.1:") for p in published), published


def test_every_depends_on_target_exists() -> None:
    for name, service in SERVICES.items():
        for target in service.get("depends_on", []):
            assert target in SERVICES, f"{name} depends on unknown service {target!r}"


def test_every_named_volume_is_declared() -> None:
    declared = set(COMPOSE.get("volumes") or {})
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} mounts undeclared volume {source!r}"


def test_ui_talks_to_the_temporal_service_and_the_codec_server() -> None:
    ui = environment("temporal-ui")
    host, _, port = ui["TEMPORAL_ADDRESS"].partition(":")

    assert host in SERVICES
    assert SERVICES[host]["image"].startswith("temporalio/auto-setup:")
    assert port == "7233"
    codec_port = SERVICES["codec-server"]["command"][-1]
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith(f":{codec_port}}}")
    assert any(p.endswith(f":{codec_port}") for p in SERVICES["codec-server"]["ports"])


def test_temporal_uses_postgres12_and_waits_for_a_healthy_database() -> None:
    env = environment("temporal")

    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] in SERVICES
    assert SERVICES["temporal"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    assert "healthcheck" in SERVICES["postgresql"]
    assert "healthcheck" in SERVICES["temporal"]


def test_search_attribute_job_registers_taskcraft_attributes_as_keywords() -> None:
    script = search_attribute_script()

    for name in (key.name for key in ALL_KEYS):  # every attribute the code keeps
        assert re.search(
            rf"temporal operator search-attribute create .*--name {name} --type Keyword", script
        ), name
    assert SERVICES[SEARCH_ATTRIBUTE_JOB]["image"].startswith("temporalio/admin-tools:")


def test_search_attribute_script_leaves_nothing_for_compose_to_interpolate() -> None:
    """A lone $ would be replaced by Compose (usually with nothing) before the shell runs."""
    raw = str(SERVICES[SEARCH_ATTRIBUTE_JOB]["command"][0])

    assert "$" not in raw.replace("$$", "")


@pytest.mark.parametrize("service", ["worker", "inbox"])
def test_taskcraft_services_start_after_the_search_attributes_exist(service: str) -> None:
    condition = SERVICES[service]["depends_on"][SEARCH_ATTRIBUTE_JOB]["condition"]

    assert condition == "service_completed_successfully"


@pytest.mark.parametrize("service", ["worker", "inbox"])
def test_data_dir_is_the_shared_volume(service: str) -> None:
    env = environment(service)

    assert env["TASKCRAFT_DATA_DIR"] == "/data"
    assert "taskcraft-data:/data" in SERVICES[service]["volumes"]


@pytest.mark.parametrize("service", ["worker", "inbox"])
def test_taskcraft_services_default_to_the_compose_temporal(service: str) -> None:
    """The default is the temporal service; .env can point them at Temporal Cloud."""
    env = environment(service)

    assert compose_default(env["TEMPORAL_ADDRESS"]) == "temporal:7233"
    assert compose_default(env["TEMPORAL_NAMESPACE"]) == "default"


def test_codec_server_and_inbox_commands_and_healthchecks() -> None:
    assert SERVICES["codec-server"]["command"] == [
        "taskcraft", "codec-server", "--host", "0.0.0.0", "--port", "8081",
    ]  # fmt: skip
    assert SERVICES["inbox"]["command"] == [
        "taskcraft", "inbox", "--host", "0.0.0.0", "--port", "8088",
    ]  # fmt: skip
    assert "/health" in " ".join(SERVICES["codec-server"]["healthcheck"]["test"])
    assert "8088" in " ".join(SERVICES["inbox"]["healthcheck"]["test"])


def test_no_secret_is_written_into_the_compose_file() -> None:
    """Secret-looking variables are ${...} substitutions, filled from .env at run time."""
    for name in SERVICES:
        for key, value in environment(name).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[^}]+\}", value), f"{name}: {key} = {value!r}"
    for name in ("worker", "codec-server", "inbox"):
        assert {"path": ".env", "required": False} in SERVICES[name]["env_file"]


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, flags=re.MULTILINE)

    assert users, "no USER directive"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_installs_the_hash_locked_dependencies_then_the_project() -> None:
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, flags=re.MULTILINE)
    assert "COPY requirements.lock" in DOCKERFILE
    locked = DOCKERFILE.index("pip install --no-deps --require-hashes -r requirements.lock")
    project = DOCKERFILE.index("pip install --no-deps .")
    assert locked < project


def test_dockerfile_health_check_polls_the_metrics_port() -> None:
    healthcheck = re.search(r"^HEALTHCHECK .*?CMD (.+)$", DOCKERFILE, re.MULTILINE | re.DOTALL)

    assert healthcheck is not None
    assert "TASKCRAFT_METRICS_PORT" in healthcheck.group(1)
    assert "9464" in healthcheck.group(1)


def test_dockerignore_keeps_secrets_and_the_virtualenv_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())

    assert {".env", ".venv", ".git"} <= ignored
    assert "requirements.lock" not in ignored
    assert "README.md" not in ignored


@pytest.fixture
def fake_temporal(tmp_path: Path) -> Path:
    """A `temporal` stub whose answer to `search-attribute create` is chosen per test."""
    stub = tmp_path / "temporal"
    stub.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        '  *"search-attribute create"*) echo "$*" >> "$CALLS"; cat "$ANSWER"; exit "$(cat "$CODE")";;\n'
        "esac\n"
        "exit 0\n"
    )
    stub.chmod(0o755)
    return tmp_path


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
@pytest.mark.parametrize(
    ("answer", "code", "succeeds"),
    [
        ("Search attributes have been added", 0, True),
        ("Error: Search attribute TaskcraftStatus already exists.", 1, True),
        (
            "Error: search attribute TaskcraftStatus already exists and has different type Text",
            1,
            False,
        ),
        ("Error: connection refused", 1, False),
    ],
    ids=["added", "already-exists", "type-conflict", "server-error"],
)
def test_search_attribute_script_is_idempotent_but_not_blind(
    fake_temporal: Path, answer: str, code: int, succeeds: bool
) -> None:
    """Re-running is fine; a type conflict or a server error fails the job."""
    (fake_temporal / "answer").write_text(answer + "\n")
    (fake_temporal / "code").write_text(str(code))
    env = {
        "PATH": f"{fake_temporal}:/usr/bin:/bin",
        "ANSWER": str(fake_temporal / "answer"),
        "CODE": str(fake_temporal / "code"),
        "CALLS": str(fake_temporal / "calls"),
    }

    result = subprocess.run(
        ["sh", "-c", search_attribute_script()], env=env, capture_output=True, timeout=30
    )

    assert (result.returncode == 0) is succeeds, result.stderr
    calls = (fake_temporal / "calls").read_text().splitlines()
    assert "--namespace default --name TaskcraftStatus --type Keyword" in calls[0]
    if succeeds:
        assert "--name TaskcraftAgent --type Keyword" in calls[1]
