"""What a Python one-liner (``python -c CODE``) may do, found by parsing it.

Python is parsed with ``ast`` (standard library, no code runs): calls are resolved through
imports and aliases (``from os import system as s``, ``__import__('os').system``) and
sorted into running commands, running code, deleting, writing, reading, the environment
and the network. A one-liner is *read-only* only when everything it imports and calls is
on an allow-list (``json``, ``sys``, ``re``, ``collections``... and ``open`` for reading
a literal path inside the workspace) and it touches no dunder attribute.

Other languages are not parsed: see ``other_code``.
"""

from __future__ import annotations

import ast
import re

from taskcraft.policy.code_facts import CodeFacts
from taskcraft.policy.shell_words import is_secret_variable


def _words(text: str) -> list[str]:
    return text.split()


_SAFE_MODULES = frozenset(
    _words(
        """json sys math cmath statistics re collections itertools functools operator string
        textwrap datetime time calendar decimal fractions random csv heapq bisect pprint
        unicodedata hashlib base64 binascii zlib html difflib enum dataclasses typing copy
        struct array ipaddress shlex fnmatch glob uuid numbers locale platform colorsys
        secrets urllib.parse os.path posixpath"""
    )
)
_OS_READ = frozenset(
    _words(
        """path getcwd listdir scandir walk stat lstat sep linesep curdir pardir name getpid
        getppid cpu_count getlogin uname get_terminal_size fspath fsdecode fsencode strerror
        devnull extsep altsep pathsep"""
    )
)
_POWERFUL_MODULES = frozenset(
    {"os", "subprocess", "shutil", "builtins", "sys", "importlib", "pty", "socket"}
)
# Paths as text only: no file is touched through them.
_PURE_PATHS = frozenset({"PurePath", "PurePosixPath", "PureWindowsPath"})
_SAFE_BUILTINS = frozenset(
    _words(
        """print len sum min max sorted reversed enumerate zip map filter range list dict set
        tuple frozenset str int float bool bytes bytearray abs round divmod pow any all
        isinstance issubclass hasattr repr format chr ord hex oct bin hash id iter next
        slice ascii callable complex memoryview object type input exit quit open"""
    )
)
_MUTATING_METHODS = frozenset(
    _words(
        """write write_text write_bytes writelines unlink rmdir mkdir makedirs rename touch
        chmod chown lchmod symlink_to hardlink_to link_to rmtree truncate system popen spawn
        kill send sendall sendto connect bind listen urlopen retrbinary storbinary"""
    )
)
_SHELL_CALLS = frozenset(
    {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
     "commands.getoutput", "platform.popen", "asyncio.create_subprocess_shell"}
)  # fmt: skip
_ARGV_CALLS = re.compile(
    r"(subprocess\.(run|call|check_call|check_output|Popen)|os\.(exec|spawn|posix_spawn)\w*"
    r"|pty\.spawn|asyncio\.create_subprocess_exec)$"
)
_CODE_CALLS = frozenset(
    {"exec", "eval", "compile", "execfile", "__import__", "runpy.run_path", "runpy.run_module",
     "importlib.import_module", "marshal.loads", "pickle.loads", "cPickle.loads", "dill.loads",
     "code.interact", "types.FunctionType"}
)  # fmt: skip
_DECODERS = re.compile(
    r"(b64decode|b32decode|b16decode|a85decode|b85decode|decodebytes|decodestring|"
    r"unhexlify|a2b_\w+|fromhex|decompress|codecs\.decode|\.decode|\.translate|chr|"
    r"rot13|unquote|loads)$"
)
_TREE_DELETERS = re.compile(r"(\.|^)rmtree$")
_DELETERS = re.compile(r"(os\.(remove|unlink|rmdir|removedirs)|\.unlink|\.rmdir)$")
_WRITERS = re.compile(
    r"(shutil\.(copy\w*|move)|os\.(rename|renames|replace|chmod|chown|symlink|link|truncate|"
    r"mkdir|makedirs|mkfifo|mknod|utime)|\.(write_text|write_bytes|mkdir|touch|chmod|"
    r"symlink_to|hardlink_to))$"
)
_READERS = re.compile(
    r"(os\.(listdir|scandir|walk|stat|lstat)|glob\.i?glob|\.read_text|\.read_bytes)$"
)
_NETWORK = re.compile(
    r"^(socket|ssl|urllib|urllib2|urllib\.request|http\.client|httplib|requests|httpx|aiohttp|"
    r"ftplib|smtplib|telnetlib|paramiko|pycurl|xmlrpc|websocket|asyncio\.open_connection)\b"
)
_LISTENERS = re.compile(
    r"^(http\.server|SimpleHTTPServer|socketserver|BaseHTTPServer|smtpd|pyftpdlib)\b|\.(listen|serve_forever)$"
)
_SHELL_ESCAPES = re.compile(r"(os\.dup2|pty\.spawn|os\.system|subprocess\.\w+|os\.exec\w*)$")


def python_facts(code: str, depth: int = 0) -> CodeFacts:
    facts = CodeFacts()
    try:
        tree = ast.parse(code, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        facts.unparsed = f"not valid Python ({type(error).__name__})"
        facts.not_read_only = facts.unparsed
        return facts
    _PythonWalker(facts, depth).walk(tree)
    _conclude(facts)
    return facts


def _conclude(facts: CodeFacts) -> None:
    if facts.network and (facts.reads or facts.secret_variables or facts.commands):
        facts.sends_out = facts.sends_out or "reads files or secrets and opens a network connection"
    if facts.network and (facts.argv_commands or facts.dynamic_command):
        facts.reverse_shell = (
            facts.reverse_shell or "connects out and runs commands (a remote shell)"
        )


class _PythonWalker:
    def __init__(self, facts: CodeFacts, depth: int) -> None:
        self.facts = facts
        self.depth = depth
        self.aliases: dict[str, str] = {}
        self.decoded_names: set[str] = set()
        self.loops = 0

    def walk(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                self._import(node)
        self._visit(tree)

    def _visit(self, node: ast.AST) -> None:
        loop = isinstance(node, ast.While | ast.For | ast.AsyncFor)
        self.loops += loop
        if isinstance(node, ast.Assign) and self._decodes(node.value):
            self.decoded_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        if isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            self._not_read_only(f"touches {node.attr}")
        elif isinstance(node, ast.Name) and node.id.startswith("__") and node.id != "__name__":
            self._not_read_only(f"touches {node.id}")
        elif isinstance(node, ast.Attribute) and self._name(node) in ("os.environ", "os.environb"):
            self._not_read_only("reads the environment")
        if isinstance(node, ast.Subscript) and self._name(node.value) in (
            "os.environ",
            "os.environb",
        ):
            self._environment(_string(node.slice))
        for child in ast.iter_child_nodes(node):
            self._visit(child)
        self.loops -= loop

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
                self._module(alias.name)
            return
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                self._not_read_only(f"imports everything from {module}")
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
            allowed = (
                module in _SAFE_MODULES
                or (module == "os" and alias.name in _OS_READ)
                or (module == "pathlib" and alias.name in _PURE_PATHS)
            )
            if not allowed:
                self._not_read_only(f"imports {module}.{alias.name}")
            self._module(f"{module}.{alias.name}")

    def _module(self, name: str) -> None:
        if _NETWORK.match(name):
            self.facts.network = True
        if _LISTENERS.search(name):
            self.facts.listens = f"{name} serves files or services to the network"
        top = name.split(".")[0]
        pure = name.startswith("pathlib.") and name.split(".")[1] in _PURE_PATHS
        if (
            name not in _SAFE_MODULES
            and top not in _SAFE_MODULES
            and top not in ("os", "pathlib")
            and not pure
        ):
            self._not_read_only(f"imports {name}")

    def _call(self, node: ast.Call) -> None:
        name = self._name(node.func)
        first = node.args[0] if node.args else None
        literal = _string(first)
        if _DELETERS.search(name) or _WRITERS.search(name):  # Path('/x').write_text(...)
            literal = self._receiver_literal(node) or literal
        if name in _SHELL_CALLS or (_ARGV_CALLS.search(name) and _shell_true(node)):
            self._command(literal, node)
        elif _ARGV_CALLS.search(name):
            argv = _string_list(first)
            if argv is not None:
                self.facts.argv_commands.append(tuple(argv))
            elif literal is not None:
                self.facts.argv_commands.append(tuple(literal.split()))
            else:
                self._command(None, node)
        elif name in _CODE_CALLS or (
            name.endswith((".loads", "marshal.load")) and "pickle" in name
        ):
            self._code(name, literal, node)
        elif _TREE_DELETERS.search(name):
            self.facts.deletes_tree = f"{name}() deletes whole trees"
        elif _DELETERS.search(name):
            self.facts.deletes.append(literal if literal is not None else "$dynamic")
        elif _WRITERS.search(name):
            self.facts.writes.append(literal if literal is not None else "$dynamic")
        elif name == "open" or name.endswith(("io.open", "codecs.open")):
            self._open(node, literal)
        elif _READERS.search(name):
            self.facts.reads.append(literal if literal is not None else ".")
        elif name in ("os.getenv", "os.environ.get", "os.environ.__getitem__"):
            self._environment(literal)
        elif name == "getattr" and first is not None and self._name(first) in _POWERFUL_MODULES:
            if len(node.args) > 1 and _string(node.args[1]) is None:  # getattr(os, "sys" + "tem")
                self.facts.hidden_code = (
                    "reaches a function of a powerful module by a computed name"
                )
        elif name in ("os.fork", "os.forkpty") and self.loops:
            self.facts.fork_loop = True
        elif name in ("os.kill", "os.killpg") and _number(first) in (-1, 1):
            self.facts.kills_all = True
        if _SHELL_ESCAPES.search(name) and self.facts.network:
            self.facts.reverse_shell = f"connects out and hands the connection to {name}"
        if _LISTENERS.search(name):
            self.facts.listens = f"{name}() accepts connections from the network"
        self._allowed(name, node)

    def _command(self, literal: str | None, node: ast.Call) -> None:
        if literal is not None:
            self.facts.commands.append(literal)
        elif any(self._decodes(arg) for arg in node.args):
            self.facts.hidden_code = "runs a command it decoded at run time"
        else:
            self.facts.dynamic_command = True

    def _code(self, name: str, literal: str | None, node: ast.Call) -> None:
        if literal is not None and name in ("exec", "eval", "compile") and self.depth < 3:
            inner = python_facts(literal, self.depth + 1)
            for key, value in vars(inner).items():
                if isinstance(value, list):
                    getattr(self.facts, key).extend(value)
                elif value and key != "not_read_only":
                    setattr(self.facts, key, value)
            self._not_read_only(f"{name}() runs code")
            return
        if any(self._decodes(arg) or _reads_input(arg) for arg in node.args):
            self.facts.hidden_code = f"{name}() runs code decoded or read at run time"
        else:
            self.facts.dynamic_command = True
        self._not_read_only(f"{name}() runs code")

    def _open(self, node: ast.Call, literal: str | None) -> None:
        mode = _string(node.args[1]) if len(node.args) > 1 else None
        for keyword in node.keywords:
            if keyword.arg == "mode":
                mode = _string(keyword.value)
        explicit_mode = len(node.args) > 1 or any(k.arg == "mode" for k in node.keywords)
        if explicit_mode and (mode is None or any(c in mode for c in "wax+")):
            self.facts.writes.append(literal if literal is not None else "$dynamic")
        else:
            self.facts.reads.append(literal if literal is not None else "$dynamic")

    def _environment(self, key: str | None) -> None:
        if key is None:
            self._not_read_only("reads the environment")
        elif is_secret_variable(key):
            self.facts.secret_variables.append(key)

    def _allowed(self, name: str, node: ast.Call) -> None:
        head, _, attr = name.rpartition(".")
        if name in ("sys.stdout.write", "sys.stderr.write"):
            return
        if name in ("open",) or name in _SAFE_BUILTINS:
            return
        if head == "os" and attr in _OS_READ:
            return
        if name in {f"pathlib.{pure}" for pure in _PURE_PATHS}:
            return
        if (
            head.split(".")[0] in _SAFE_MODULES
            or head in _SAFE_MODULES
            or head.startswith("os.path")
        ):
            return
        if head.startswith("?") and attr not in _MUTATING_METHODS:
            return
        self._not_read_only(f"calls {name}()")

    def _receiver_literal(self, node: ast.Call) -> str | None:
        """The literal path of ``Path("/x")`` in ``Path("/x").write_text(...)``."""
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if isinstance(receiver, ast.Call) and self._name(receiver.func).endswith("Path"):
            return _string(receiver.args[0]) if receiver.args else None
        return None

    def _not_read_only(self, why: str) -> None:
        self.facts.not_read_only = self.facts.not_read_only or why

    def _name(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            return f"{self._name(node.value)}.{node.attr}"
        if isinstance(node, ast.Call) and self._name(node.func) in (
            "__import__",
            "importlib.import_module",
        ):
            module = _string(node.args[0]) if node.args else None
            return module or "?"
        if isinstance(node, ast.Subscript) and self._name(node.value) in ("os.environ",):
            return "os.environ.__getitem__"
        return "?"

    def _decodes(self, node: ast.AST) -> bool:
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and _DECODERS.search(self._name(inner.func)):
                return True
            if isinstance(inner, ast.Name) and inner.id in self.decoded_names:
                return True
            if isinstance(inner, ast.Subscript) and isinstance(inner.slice, ast.Slice):
                step = inner.slice.step
                if isinstance(step, ast.UnaryOp) or _number(step) == -1:
                    return True  # text[::-1]
        return False


def _reads_input(node: ast.AST) -> bool:
    text = ast.unparse(node)
    return any(
        word in text for word in ("stdin", "input(", "urlopen", "recv", "requests.", ".read()")
    )


def _shell_true(node: ast.Call) -> bool:
    return any(
        k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value
        for k in node.keywords
    )


def _string(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        value = node.value
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))
    return None


def _string_list(node: ast.AST | None) -> list[str] | None:
    if isinstance(node, ast.List | ast.Tuple):
        items = [_string(element) for element in node.elts]
        if all(item is not None for item in items):
            return [item for item in items if item is not None]
    return None


def _number(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _number(node.operand)
        return None if inner is None else -inner
    return None
