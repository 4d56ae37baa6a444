"""Connection settings come from Temporal's envconfig: profile files and TEMPORAL_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.connection import connect_config
from taskcraft.errors import ConfigError

PROFILES = """
[profile.default]
address = "localhost:7233"
namespace = "default"

[profile.cloud]
address = "my-ns.acct.tmprl.cloud:7233"
namespace = "my-ns.acct"
api_key = "cloud-api-key"

[profile.mtls]
address = "temporal.internal:7233"
namespace = "prod"
[profile.mtls.tls]
client_cert_path = "{cert}"
client_key_path = "{key}"
"""


@pytest.fixture
def profiles(tmp_path: Path) -> Path:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    cert.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    path = tmp_path / "temporal.toml"
    path.write_text(PROFILES.format(cert=cert, key=key))
    return path


def test_defaults_point_at_the_local_dev_server() -> None:
    assert connect_config({}) == {"target_host": "localhost:7233", "namespace": "default"}


def test_environment_variables_override() -> None:
    config = connect_config({"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "agents"})
    assert (config["target_host"], config["namespace"]) == ("temporal:7233", "agents")


def test_cloud_profile_with_api_key_enables_tls(profiles: Path) -> None:
    config = connect_config({"TEMPORAL_CONFIG_FILE": str(profiles), "TEMPORAL_PROFILE": "cloud"})
    assert config["target_host"] == "my-ns.acct.tmprl.cloud:7233"
    assert config["namespace"] == "my-ns.acct"
    assert config["api_key"] == "cloud-api-key"
    assert config["tls"] is True


def test_mtls_profile_loads_the_client_certificate(profiles: Path) -> None:
    config = connect_config({"TEMPORAL_CONFIG_FILE": str(profiles), "TEMPORAL_PROFILE": "mtls"})
    assert config["target_host"] == "temporal.internal:7233"
    tls = config["tls"]
    assert tls.client_cert.startswith(b"-----BEGIN CERTIFICATE-----")
    assert tls.client_private_key.startswith(b"-----BEGIN PRIVATE KEY-----")


def test_environment_wins_over_the_profile(profiles: Path) -> None:
    config = connect_config(
        {
            "TEMPORAL_CONFIG_FILE": str(profiles),
            "TEMPORAL_PROFILE": "cloud",
            "TEMPORAL_NAMESPACE": "override",
        }
    )
    assert config["namespace"] == "override"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TEMPORAL_CONFIG_FILE": "/nonexistent/temporal.toml"}, "TEMPORAL_CONFIG_FILE points at"),
        (
            {"TEMPORAL_PROFILE": "missing", "TEMPORAL_CONFIG_FILE": "{profiles}"},
            "Profile 'missing' not found",
        ),
        (
            {
                "TEMPORAL_TLS_CLIENT_CERT_PATH": "/nope.pem",
                "TEMPORAL_TLS_CLIENT_KEY_PATH": "/nope.key",
            },
            "/nope.pem",
        ),
    ],
)
def test_bad_settings_are_one_clear_line(profiles: Path, env: dict[str, str], message: str) -> None:
    env = {k: v.format(profiles=profiles) for k, v in env.items()}
    with pytest.raises(ConfigError) as caught:
        connect_config(env)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_broken_toml_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[profile.default\naddress = 1\n")
    with pytest.raises(ConfigError) as caught:
        connect_config({"TEMPORAL_CONFIG_FILE": str(broken)})
    text = str(caught.value)
    assert "line 1" in text
    assert "\n" not in text
