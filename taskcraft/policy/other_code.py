"""What code in a language the policy does not parse (perl, ruby, node, php, lua...) may do.

A scan of its tokens for the capabilities that matter: running commands (string literals
handed to ``system``, backticks), running decoded code (``eval`` beside a decoder),
deleting trees, sockets beside a shell (a remote shell) or beside file and environment
reads (exfiltration), fork loops, signalling every process, listening. It can only ever
find danger, never vouch for code: such code is never read-only.
"""

from __future__ import annotations

import re

from taskcraft.policy.code_facts import CodeFacts
from taskcraft.policy.shell_words import is_secret_variable

_QUOTED = r"""(?P<q>['"`])(?P<body>(?:\\.|(?!(?P=q)).)*)(?P=q)"""
_RUNS = re.compile(
    r"(?<![\w])(system|exec|execSync|execFileSync|spawnSync|spawn|popen|shell_exec|passthru|"
    r"proc_open|pcntl_exec|os\.execute|io\.popen|IO\.popen|Open3\.\w+|do shell script|"
    r"Start-Process|Invoke-Expression|iex|qx)\s*[({]?\s*" + _QUOTED,
    re.DOTALL,
)
_RUNS_ANYTHING = re.compile(
    r"(?<![\w])(system|exec|execSync|spawn|popen|shell_exec|passthru|proc_open|pcntl_exec|"
    r"os\.execute|io\.popen|child_process|Invoke-Expression|iex|qx|%x)\b"
)
_BACKTICKS = re.compile(r"`([^`]*)`")
_EVAL = re.compile(
    r"(?<![\w.])(eval|Function|instance_eval|class_eval|module_eval|assert|create_function|"
    r"loadstring|load|Invoke-Expression|iex|runInNewContext|runInThisContext)\b"
)
_DECODE = re.compile(
    r"(base64|decode_base64|decode64|b64decode|unpack|pack\(|atob|Buffer\.from|fromCharCode|"
    r"gzinflate|gzuncompress|gzdecode|str_rot13|hex2bin|uudecode|FromBase64String|reverse|\bpack\b|"
    r"\bchr\s*\(|\\x[0-9a-f]{2}.*\\x[0-9a-f]{2})",
    re.IGNORECASE,
)
_TREE_DELETE = re.compile(
    r"(rmtree|remove_tree|rm_rf|rm_r\b|remove_dir|rimraf|Remove-Item[^;]*-Recurse|"
    r"(rmSync|rmdirSync|rm|rmdir)\s*\([^)]*recursive\s*:\s*true)",
    re.IGNORECASE,
)
_SOCKET = re.compile(
    r"(socket|IO::Socket|TCPSocket|UDPSocket|net\.connect|net\.Socket|createConnection|"
    r"fsockopen|stream_socket_client|Net::HTTP|LWP|HTTP::Tiny|https?\.request|fetch\s*\(|"
    r"open-uri|URI\.open|curl_exec|Invoke-WebRequest|Invoke-RestMethod|System\.Net)",
    re.IGNORECASE,
)
_SHELL_HANDOFF = re.compile(
    r"(/bin/(ba|z|k|da)?sh|cmd\.exe|dup2|STDIN|child_process|proc_open|pty|\bexec\b|spawn|popen|system|`)",
    re.IGNORECASE,
)
_FILE_READ = re.compile(
    r"(\bopen\b|readFile|File\.read|file_get_contents|IO\.read|Get-Content|slurp)"
)
_ENV = re.compile(
    r"(?:\$ENV\{\s*['\"]?|ENV\[\s*['\"]|process\.env\.|process\.env\[\s*['\"]|getenv\s*\(\s*['\"]|\$env:)"
    r"([A-Za-z_][A-Za-z0-9_]*)"
)
_FORK = re.compile(r"\bfork\b")
_LOOP = re.compile(r"\b(while|for|loop|until|forever)\b")
_KILL_ALL = re.compile(
    r"kill\s*\(?\s*(?:-?9|['\":]?KILL['\"]?|SIGKILL|['\"]SIGKILL['\"])?\s*,\s*-1\b"
)
_LISTEN = re.compile(r"(createServer|\.listen\s*\(|TCPServer|HTTPServer|WEBrick|-S\s+\S+:\d+)")
_FETCH = re.compile(
    r"(file_get_contents|urlopen|URI\.open|open-uri|Net::HTTP|LWP::Simple|\bget\s*\()"
)
# Calls that change a file, with the literal path they are given.
_CHANGES = re.compile(
    r"(?P<kind>writeFileSync|writeFile|appendFileSync|appendFile|unlinkSync|unlink|rmSync|"
    r"rmdirSync|rmdir|file_put_contents|File\.write|File\.delete|File\.unlink|IO\.write|"
    r"FileUtils\.\w+|os\.remove|os\.rename|chmod|chown|truncate)\s*\(?\s*(?P<q>['\"])(?P<path>[^'\"]*)(?P=q)"
)
_DELETING = frozenset(
    {
        "unlinksync",
        "unlink",
        "rmsync",
        "rmdirsync",
        "rmdir",
        "file.delete",
        "file.unlink",
        "os.remove",
    }
)
_INTERPOLATION = re.compile(r"(\$[{(A-Za-z_@]|#\{)")


def other_language_facts(code: str) -> CodeFacts:
    """Danger found in code of a language we do not parse; never read-only."""
    facts = CodeFacts(not_read_only="code in a language the policy does not parse")
    for match in _RUNS.finditer(code):
        body = match.group("body")
        if _INTERPOLATION.search(body) and match.group("q") != "'":
            facts.dynamic_command = True
        else:
            facts.commands.append(body)
    for match in _BACKTICKS.finditer(code):
        if _INTERPOLATION.search(match.group(1)):
            facts.dynamic_command = True
        else:
            facts.commands.append(match.group(1))
    if _RUNS_ANYTHING.search(code) and not facts.commands:
        facts.dynamic_command = True
    if (_EVAL.search(code) or _RUNS_ANYTHING.search(code)) and _DECODE.search(code):
        facts.hidden_code = "runs code or commands it decodes at run time"
    elif _EVAL.search(code) and (_SOCKET.search(code) or "://" in code or _FETCH.search(code)):
        facts.hidden_code = "runs code it downloads"
    for match in _CHANGES.finditer(code):
        (facts.deletes if match.group("kind").lower() in _DELETING else facts.writes).append(
            match.group("path")
        )
    tree = _TREE_DELETE.search(code)
    if tree:
        facts.deletes_tree = f"{tree.group(0).strip()} deletes whole trees"
    if _SOCKET.search(code):
        facts.network = True
        if _SHELL_HANDOFF.search(code):
            facts.reverse_shell = "connects out and hands the connection to a shell"
        elif _FILE_READ.search(code) or _ENV.search(code):
            facts.sends_out = "reads files or the environment and opens a network connection"
    facts.secret_variables = [
        m.group(1) for m in _ENV.finditer(code) if is_secret_variable(m.group(1))
    ]
    facts.fork_loop = bool(_FORK.search(code) and (_LOOP.search(code) or code.count("fork") > 1))
    facts.kills_all = bool(_KILL_ALL.search(code))
    if _LISTEN.search(code):
        facts.listens = "accepts connections from the network"
    facts.reads = [m.group("body") for m in re.finditer(_QUOTED, code, re.DOTALL)]
    return facts
