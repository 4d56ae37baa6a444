"""PolicyContext and the workspace root, private hosts, and the view an approver sees."""

from __future__ import annotations

import pydantic
import pytest

from taskcraft.policy import (
    CallView,
    Effect,
    PolicyContext,
    PolicyDecision,
    evaluate_tool_call,
    load_named_policy,
    load_policy_text,
    paths,
    render_call_view,
    secret_paths,
    urls,
)

ROOT = "/srv/ws"
CONTEXT = PolicyContext(workspace_root=ROOT)

# --- the workspace root ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/srv/ws", "/srv/ws/", "/srv/ws/a/b.txt", "/srv//ws/./a", "a/b"])
def test_paths_inside_a_known_root(path: str) -> None:
    assert not paths.is_outside_workspace(path, ROOT)


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/srv/ws2/x", "outside the workspace"),
        ("/srv", "outside the workspace"),
        ("/srv/ws/../x", "'..'"),
        ("$HOME/x", "expanded"),
        ("${WS}/x", "expanded"),
        ("`pwd`/x", "expanded"),
        ("~/x", "home"),
        ("%c0%ae%c0%ae/x", "percent-encoded"),
        ("a%2fb", "percent-encoded"),
        ("\uff0e\uff0e/x", "looks like a dot"),
        ("a\u2215b", "looks like a dot or a slash"),
        ("a\ufffdb", "invalid"),
        ("a\x00b", "control character"),
        ("a\u200bb", "invisible"),
    ],
)
def test_paths_outside_even_with_a_root(path: str, why: str) -> None:
    found = paths.why_outside(path, ROOT)
    assert found is not None
    assert why in found


def test_without_a_root_every_absolute_path_is_outside() -> None:
    assert paths.why_outside("/srv/ws/a") == "absolute, and no workspace root is known"


def test_relative_form_of_an_absolute_path_inside_the_root() -> None:
    assert paths.workspace_relative("/srv/ws/a/./b", ROOT) == "a/b"
    assert paths.workspace_relative("/srv/ws", ROOT) == "."


@pytest.mark.parametrize("root", ["relative/dir", "/srv/../etc", "/srv/\x00ws"])
def test_a_root_must_be_absolute_and_plain(root: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="workspace_root"):
        PolicyContext(workspace_root=root)


def test_the_default_policy_reads_absolute_paths_inside_the_root_only_with_a_context() -> None:
    """Callers that pass no context keep today's behaviour."""
    policy = load_named_policy("default")
    call = {"path": "/srv/ws/README.md"}
    assert evaluate_tool_call(policy, "read_file", call).effect is Effect.DENY
    assert evaluate_tool_call(policy, "read_file", call, CONTEXT).effect is Effect.ALLOW
    outside = {"path": "/srv/other/README.md"}
    assert evaluate_tool_call(policy, "read_file", outside, CONTEXT).effect is Effect.DENY


# --- secrets --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/etc/shadow", "password hashes"),
        ("~/.ssh/id_ed25519", "SSH keys"),
        ("$HOME/.aws/credentials", "AWS credentials"),
        ("/proc/1234/environ", "environment"),
        ("../../../etc/shadow", "password hashes"),
        ("/etc/sh*w", "password hashes"),
        ("/etc/\u0455hadow", "password hashes"),
        ("deploy/server.pem", "private key"),
        ("/dev/nvme0n1", "raw disk"),
    ],
)
def test_secret_locations(path: str, kind: str) -> None:
    found = secret_paths.secret_location(path)
    assert found is not None
    assert kind in found


@pytest.mark.parametrize(
    "path", ["data/*.json", "id_rsa.pub", ".*/x", "docs/etc/shadow.md", "/proc/cpuinfo"]
)
def test_not_secret_locations(path: str) -> None:
    assert secret_paths.secret_location(path) is None


# --- hosts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
    ],
)
def test_numeric_hosts_are_read_as_the_c_library_reads_them(host: str, address: str) -> None:
    assert str(urls.loose_ipv4(host)) == address


@pytest.mark.parametrize(
    "host",
    [
        "localhost", "127.0.0.1", "::1", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::",
        "169.254.169.254", "fd00:ec2::254", "10.1.2.3", "100.100.100.200", "0.0.0.0",
        "metadata.google.internal", "db", "127.0.0.1.nip.io", "10-0-0-1.sslip.io", "7f000001.nip.io",
        "app.localtest.me", "printer.local",
    ],
)  # fmt: skip
def test_private_hosts(host: str) -> None:
    assert urls.private_host(host) is not None


@pytest.mark.parametrize(
    "host", ["docs.python.org", "1.1.1.1", "2606:4700::1111", "nip.io.example.com"]
)
def test_public_hosts(host: str) -> None:
    assert urls.private_host(host) is None


def test_wildcards_never_match_private_hosts_but_exact_entries_do() -> None:
    assert not urls.host_matches("127.0.0.1.nip.io", ["*.nip.io"])
    assert urls.host_matches("127.0.0.1.nip.io", ["127.0.0.1.nip.io"])
    assert urls.host_matches("api.example.com", ["*.example.com"])


def test_an_explicit_rule_allows_a_loopback_host_and_says_so() -> None:
    policy = load_policy_text(
        'default_effect = "deny"\n'
        '[[rules]]\nid = "local"\ntool = "http_get"\neffect = "allow"\n'
        'when = [{ arg = "url", host_in = ["localhost", "*.example.com"] }]\n'
    )
    decision = evaluate_tool_call(policy, "http_get", {"url": "http://localhost:8080/x"})
    assert (decision.effect, decision.named_hosts) == (Effect.ALLOW, ["localhost"])
    public = evaluate_tool_call(policy, "http_get", {"url": "https://a.example.com/"})
    assert (public.effect, public.named_hosts) == (Effect.ALLOW, [])
    spelled = evaluate_tool_call(policy, "http_get", {"url": "http://127.1/"})
    assert spelled.effect is Effect.DENY


# --- the view -------------------------------------------------------------------------


def test_a_gated_shell_call_shows_what_the_policy_parsed() -> None:
    policy = load_named_policy("default")
    decision = evaluate_tool_call(
        policy, "run_shell", {"command": "mkdir -p out && cp /srv/ws/a.txt out/"}, CONTEXT
    )
    assert decision.effect is Effect.REQUIRE_APPROVAL
    lines = render_call_view(decision.view)
    assert lines[0].startswith("Rule: shell-other → require_approval: ")
    assert "Programs:" in lines
    assert "  mkdir -p out" in lines
    assert "  cp /srv/ws/a.txt out/" in lines
    assert "  /srv/ws/a.txt (inside)" in lines
    assert any(line.startswith("  not read-only: ") for line in lines)


def test_sql_and_hosts_appear_in_the_view() -> None:
    policy = load_named_policy("default")
    sql = evaluate_tool_call(policy, "sql_query", {"query": "UPDATE t SET a = 1 WHERE id = 2"})
    assert sql.view.statements == ["UPDATE (write): UPDATE t SET a = 1 WHERE id = 2"]
    http = evaluate_tool_call(policy, "http_get", {"url": "http://127.1:8080/"})
    assert http.view.hosts == [
        "127.1 (private: 127.0.0.1 is a loopback address; not a plain http(s) URL)"
    ]


def test_the_view_stays_small() -> None:
    policy = load_named_policy("default")
    command = "; ".join(f"touch file{n}.txt" for n in range(50))
    view = evaluate_tool_call(policy, "run_shell", {"command": command}).view
    assert len(view.programs) <= 12
    assert view.programs[-1].startswith("... and ")
    assert len(view.model_dump_json()) < 4000


def test_decisions_stored_before_the_view_existed_still_decode() -> None:
    old = '{"effect": "deny", "rule_id": "r", "reason": "no", "approvers": [], "detail": ""}'
    decision = PolicyDecision.model_validate_json(old)
    assert decision.view == CallView()
    assert render_call_view(decision.view) == []
