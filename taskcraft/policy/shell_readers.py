"""Programs that only read and print, with what would make them write or run something.

Matched by exact name: ``./ls`` or ``/tmp/cat`` are not these programs. Each entry's
``ArgSpec`` says which words are paths (checked: inside the workspace, no secrets) and
which are text (a pattern, a format, awk's or jq's program). Programs with more to say
(git subcommands, awk and sed programs, find's actions, what xargs runs, Python
one-liners, timeout-style wrappers) are judged in ``shell_read_only``.
"""

from __future__ import annotations

from taskcraft.policy.shell_args import ArgSpec


def _words(text: str) -> list[str]:
    return text.split()  # a call, so the linter keeps word lists as readable strings


_TEXT = ArgSpec(all_text=True)
_GREP = ArgSpec(
    values="mABCdDe",
    long_values=(
        "--regexp", "--max-count", "--after-context", "--before-context", "--context",
        "--directories", "--devices", "--include", "--exclude", "--exclude-dir", "--label",
        "--binary-files", "--color", "--colour", "--group-separator",
    ),
    path_options="f",
    long_path_options=("--file", "--exclude-from"),
    text_operands=1,
    no_text_operand_with="ef",
    long_no_text_operand_with=("--regexp", "--file"),
)  # fmt: skip
_RG = ArgSpec(
    values="egtTmABCjMrE",
    long_values=(
        "--regexp", "--glob", "--iglob", "--type", "--type-not", "--max-count", "--context",
        "--after-context", "--before-context", "--threads", "--max-columns", "--replace",
        "--encoding", "--type-add", "--sort", "--sortr", "--max-depth", "--color",
        "--colors", "--path-separator", "--max-filesize", "--field-match-separator",
    ),
    path_options="f",
    long_path_options=("--file", "--ignore-file"),
    text_operands=1,
    no_text_operand_with="ef",
    long_no_text_operand_with=("--regexp", "--file", "--files", "--type-list"),
    forbidden=("--pre", "--pre-glob", "--search-zip", "-z"),
)  # fmt: skip

READ_ONLY: dict[str, ArgSpec] = {
    **dict.fromkeys(
        _words(
            """cat tac rev nl fold expand unexpand fmt pr tsort md5sum sha1sum sha224sum
            sha256sum sha384sum sha512sum b2sum cksum sum strings hexdump od wc comm paste
            column realpath readlink zcat bzcat xzcat lzcat zstdcat file stat du df tree ls
            diff cmp join look bc"""
        ),
        ArgSpec(),
    ),
    **dict.fromkeys(
        _words(
            """echo printf true false : test [ seq expr basename dirname sleep whoami id groups
            uname arch nproc uptime free date cal locale tty who w users hostid getconf lscpu
            lsblk which type ps pgrep pidof numfmt factor tr yes pwd"""
        ),
        _TEXT,
    ),
    "head": ArgSpec(values="nc", long_values=("--lines", "--bytes")),
    "tail": ArgSpec(values="ncs", long_values=("--lines", "--bytes", "--pid", "--sleep-interval")),
    "cut": ArgSpec(values="bcdf", long_values=("--bytes", "--characters", "--delimiter", "--fields", "--output-delimiter")),
    "sort": ArgSpec(
        values="ktSTy",
        long_values=("--key", "--field-separator", "--buffer-size", "--temporary-directory", "--parallel"),
        long_path_options=("--files0-from",),
        forbidden=("-o", "--output", "--compress-program"),
    ),
    "uniq": ArgSpec(values="fsw", long_values=("--skip-fields", "--skip-chars", "--check-chars"), max_operands=1),
    "shuf": ArgSpec(values="ni", long_values=("--head-count", "--input-range", "--random-source"), forbidden=("-o", "--output", "-e", "--echo")),
    "base64": ArgSpec(values="w", long_values=("--wrap",), max_operands=1),
    "base32": ArgSpec(values="w", long_values=("--wrap",), max_operands=1),
    "xxd": ArgSpec(values="clsgoC", long_values=(), max_operands=1),
    "ls": ArgSpec(values="IwT", long_values=("--hide", "--ignore", "--width", "--tabsize", "--format", "--sort", "--time", "--time-style", "--color", "--block-size", "--indicator-style", "--quoting-style")),
    "du": ArgSpec(values="dBt", long_values=("--max-depth", "--block-size", "--threshold", "--exclude", "--time-style"), path_options="X", long_path_options=("--exclude-from", "--files0-from")),
    "df": ArgSpec(values="Btx", long_values=("--block-size", "--type", "--exclude-type", "--output")),
    "stat": ArgSpec(values="c", long_values=("--format", "--printf")),
    "diff": ArgSpec(values="CUIFLxSW", long_values=("--context", "--unified", "--ignore-matching-lines", "--show-function-line", "--label", "--exclude", "--starting-file", "--width", "--line-format", "--color", "--palette"), path_options="X", long_path_options=("--exclude-from", "--from-file", "--to-file")),
    "cmp": ArgSpec(values="in", long_values=("--ignore-initial", "--bytes")),
    "join": ArgSpec(values="t12jaoev", long_values=()),
    "tree": ArgSpec(values="LPIH", long_values=("--filelimit", "--timefmt", "--charset", "--sort"), forbidden=("-o",)),
    "file": ArgSpec(values="eFP", long_values=("--exclude", "--separator", "--parameter"), path_options="mf", long_path_options=("--magic-file", "--files-from"), forbidden=("-C", "--compile")),
    "strings": ArgSpec(values="ntesT", long_values=("--bytes", "--radix", "--encoding", "--target", "--output-separator")),
    "hexdump": ArgSpec(values="nse", path_options="f"),
    "od": ArgSpec(values="AjNtSw", long_values=("--address-radix", "--skip-bytes", "--read-bytes", "--format", "--strings", "--width")),
    "column": ArgSpec(values="scoRNWEdHlLt", long_values=("--separator", "--output-separator", "--table-columns", "--table-name")),
    "paste": ArgSpec(values="d", long_values=("--delimiters",)),
    "fold": ArgSpec(values="w", long_values=("--width",)),
    "expand": ArgSpec(values="t", long_values=("--tabs",)),
    "unexpand": ArgSpec(values="t", long_values=("--tabs",)),
    "nl": ArgSpec(values="bdfhilnpsvw"),
    "tac": ArgSpec(values="s", long_values=("--separator",)),
    "fmt": ArgSpec(values="wpg", long_values=("--width", "--prefix", "--goal")),
    "pr": ArgSpec(values="hlwoNsSe", long_values=("--header", "--length", "--width")),
    "date": ArgSpec(all_text=True, values="dI", long_values=("--date", "--iso-8601", "--rfc-3339"), path_options="fr", long_path_options=("--file", "--reference"), forbidden=("-s", "--set")),
    "ps": ArgSpec(all_text=True, values="opuUgGCtqk", long_values=("--format", "--pid", "--user", "--sort", "--cols")),
    "grep": _GREP,
    "egrep": _GREP,
    "fgrep": _GREP,
    "zgrep": _GREP,
    "rg": _RG,
    "jq": ArgSpec(
        values="L",
        long_values=("--indent", "--arg", "--argjson", "--slurpfile", "--rawfile", "--seq"),
        path_options="f",
        long_path_options=("--from-file",),
        text_operands=1,
        no_text_operand_with="f",
        long_no_text_operand_with=("--from-file",),
    ),
}  # fmt: skip

# Programs whose version or help is safe to print (``python3 --version``).
VERSION_FLAGS = frozenset({"--version", "-V", "-version", "--help", "-h", "version"})
VERSIONED = frozenset(
    _words(
        """python python3 node npm npx pip pip3 go cargo rustc java javac gcc g++ cc clang make
        cmake git docker kubectl terraform ruby perl php bash sh zsh deno bun yarn pnpm psql
        mysql sqlite3 curl wget jq awk gawk sed tar gzip ssh helm aws gcloud az uv poetry
        ruff mypy pytest"""
    )
)
# System files that describe the machine and hold nothing secret: readable from anywhere.
SYSTEM_INFO = frozenset(
    _words(
        """/etc/os-release /usr/lib/os-release /etc/lsb-release /etc/issue /etc/hostname
        /etc/timezone /etc/debian_version /etc/redhat-release /etc/alpine-release
        /proc/cpuinfo /proc/meminfo /proc/loadavg /proc/uptime /proc/version /dev/urandom
        /dev/random /dev/zero /dev/null"""
    )
)

# Options of awk and sed, for the special judges.
AWK = ArgSpec(
    values="Fve",
    long_values=("--field-separator", "--assign", "--source"),
    path_options="f",
    long_path_options=("--file",),
    text_operands=1,
    no_text_operand_with="fe",
    long_no_text_operand_with=("--file", "--source"),
    forbidden=(
        "-i", "--include", "-l", "--load", "-o", "--pretty-print", "-p", "--profile", "-d",
        "--dump-variables", "-D", "--debug", "-E", "--exec",
    ),
)  # fmt: skip
SED = ArgSpec(
    values="el",
    long_values=("--expression", "--line-length"),
    path_options="f",
    long_path_options=("--file",),
    text_operands=1,
    no_text_operand_with="ef",
    long_no_text_operand_with=("--expression", "--file"),
    forbidden=("-i", "--in-place", "-f", "--file"),
)
AWK_NAMES = frozenset({"awk", "gawk", "mawk", "nawk"})
SED_NAMES = frozenset({"sed", "gsed"})
PYTHON_NAMES = frozenset(
    {"python", "python3", "python3.10", "python3.11", "python3.12", "python3.13"}
)
# git subcommands that only read, with the options that would write or run something.
GIT_READ = frozenset(
    _words(
        """status log diff show blame annotate rev-parse ls-files ls-tree cat-file describe
        shortlog grep rev-list name-rev merge-base count-objects diff-tree diff-index diff-
        files show-ref for-each-ref whatchanged check-ignore check-attr var version cherry
        show-branch range-diff"""
    )
)
GIT_FORBIDDEN = (
    "--output", "--ext-diff", "--open-files-in-pager", "-O", "--exec", "--upload-pack",
    "--receiver-pack", "--textconv", "--filters",
)  # fmt: skip
GIT_GLOBAL_VALUES = frozenset({"-C", "--git-dir", "--work-tree", "--namespace", "--super-prefix"})
GIT_GLOBAL_FORBIDDEN = ("-c", "--config-env", "--exec-path=", "--config")
# Branch, tag, remote, stash, config, reflog: read-only in some forms only.
GIT_LISTING = {
    "branch": (
        ("--list", "-l", "-a", "--all", "-r", "--remotes", "-v", "-vv", "--verbose", "--show-current",
         "--contains", "--no-contains", "--merged", "--no-merged", "--points-at", "--sort", "--format",
         "--column", "--no-column", "--color", "--no-color", "-i", "--ignore-case", "--abbrev", "--omit-empty"),
        ("--list", "-l"),
    ),
    "tag": (
        ("--list", "-l", "-n", "--contains", "--no-contains", "--merged", "--no-merged",
         "--points-at", "--sort", "--format", "--column", "--no-column", "-i", "--ignore-case", "--color"),
        ("--list", "-l"),
    ),
    "remote": (("-v", "--verbose", "get-url", "--all", "--push"), ("get-url",)),
    "stash": (("list", "show", "-p", "--stat", "--name-only"), ("list", "show")),
    "reflog": (("show", "-n", "--date", "--format", "--oneline", "--all"), ("show",)),
    "config": (
        ("--get", "--get-all", "--get-regexp", "--get-urlmatch", "--list", "-l", "--show-origin",
         "--show-scope", "--name-only", "--null", "-z", "--type", "--global", "--local", "--system",
         "--includes", "--no-includes", "--default"),
        ("--get", "--get-all", "--get-regexp", "--list", "-l", "--get-urlmatch"),
    ),
    "worktree": (("list", "--porcelain", "-v"), ("list",)),
    "submodule": (("status", "summary", "--cached", "--recursive"), ("status", "summary")),
}  # fmt: skip
# Wrappers that run one command with fixed options: (short options taking a value, long ones).
PLAIN_WRAPPERS: dict[str, tuple[str, tuple[str, ...], int]] = {
    # name: (short options with a value, long options with a value, leading operands)
    "timeout": ("ks", ("--kill-after", "--signal"), 1),
    "nice": ("n", ("--adjustment",), 0),
    "time": ("f", ("--format",), 0),
    "stdbuf": ("ioe", ("--input", "--output", "--error"), 0),
    "command": ("", (), 0),
}
# Substitutions whose output is file names inside the workspace, or harmless text.
NAME_PRODUCERS = frozenset({"ls", "find", "fd", "pwd", "realpath"})
TEXT_PRODUCERS = frozenset(
    _words(
        """date whoami id uname nproc wc seq expr hostname uptime du df stat md5sum sha1sum
        sha256sum sha512sum cksum b2sum"""
    )
)
NAME_FILTERS = frozenset({"head", "tail", "sort", "uniq", "grep", "egrep", "fgrep", "tac", "shuf"})
# Environment variables a command line may set without changing what programs run.
SAFE_VARIABLES = frozenset(
    _words(
        """LC_ALL LC_CTYPE LC_COLLATE LC_MESSAGES LC_NUMERIC LC_TIME LANG LANGUAGE TZ COLUMNS
        LINES NO_COLOR CLICOLOR TERM GREP_COLOR GREP_COLORS POSIXLY_CORRECT"""
    )
)
# Variables that change which code runs or where: setting one is never read-only.
DANGEROUS_VARIABLES = frozenset(
    _words(
        """PATH LD_PRELOAD LD_LIBRARY_PATH LD_AUDIT BASH_ENV ENV IFS PS4 PROMPT_COMMAND
        SHELLOPTS BASHOPTS CDPATH GLOBIGNORE HISTFILE PYTHONPATH PYTHONSTARTUP PYTHONHOME
        PERL5OPT PERL5LIB PERLLIB NODE_OPTIONS NODE_PATH RUBYOPT RUBYLIB PAGER EDITOR VISUAL
        LESSOPEN LESSCLOSE MANPAGER GIT_DIR GIT_WORK_TREE GIT_EXTERNAL_DIFF GIT_PAGER
        GIT_SSH GIT_SSH_COMMAND GIT_CONFIG GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM GIT_EXEC_PATH
        GIT_ASKPASS SSH_ASKPASS HOME TMPDIR JAVA_TOOL_OPTIONS _JAVA_OPTIONS"""
    )
)
