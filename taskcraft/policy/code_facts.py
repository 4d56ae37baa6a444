"""What a piece of interpreter code may do, as the shell analysis needs to know it.

Filled by ``python_code`` (a real parse) and ``other_code`` (a scan for danger), and by
``shell_code`` for awk and sed programs.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CodeFacts:
    commands: list[str] = field(default_factory=list)  # shell command lines it runs
    argv_commands: list[tuple[str, ...]] = field(default_factory=list)
    dynamic_command: bool = False  # runs a command built at run time
    hidden_code: str | None = None  # runs decoded or piped-in code
    deletes_tree: str | None = None
    deletes: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    secret_variables: list[str] = field(default_factory=list)
    network: bool = False
    reverse_shell: str | None = None
    sends_out: str | None = None
    listens: str | None = None
    fork_loop: bool = False
    kills_all: bool = False
    not_read_only: str | None = None  # why it is not on the read-only allow-list
    unparsed: str | None = None
