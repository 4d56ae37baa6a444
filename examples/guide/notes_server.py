"""The guide's MCP server: the team's notes, in a JSON-lines file (``NOTES_FILE``).

Written with the official MCP SDK's server API; any MCP server works the same way.
Run over stdio (``python notes_server.py``) or streamable HTTP (``--http --port 8765``;
with ``NOTES_TOKEN`` set, requests must carry ``Authorization: Bearer <token>``).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
from pathlib import Path
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from starlette.types import ASGIApp, Receive, Scope, Send


def _notes_file() -> Path:
    return Path(os.environ.get("NOTES_FILE") or "notes.jsonl")


def _notes() -> list[dict[str, Any]]:
    path = _notes_file()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def build_server() -> MCPServer:
    server = MCPServer("team-notes", log_level="WARNING")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    def search(query: str) -> list[dict[str, Any]]:
        """Notes whose title or text mentions the query (case-insensitive)."""
        words = query.lower().split()
        return [
            note
            for note in _notes()
            if any(word in (note["title"] + " " + note["text"]).lower() for word in words)
        ]

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=False))
    def add(title: str, text: str) -> str:
        """File a new note. Not idempotent: calling it twice files two notes."""
        path = _notes_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as notes:
            notes.write(json.dumps({"title": title, "text": text}) + "\n")
        return f"filed note {title!r}"

    if os.environ.get("NOTES_ADMIN_TOOLS") == "1":

        @server.tool()
        def delete_all() -> str:
            """Delete every note (only offered when NOTES_ADMIN_TOOLS=1)."""
            _notes_file().unlink(missing_ok=True)
            return "deleted"

    return server


def _require_token(app: ASGIApp, token: str) -> ASGIApp:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        if scope["type"] == "http" and headers.get(b"authorization") != f"Bearer {token}".encode():
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await app(scope, receive, send)

    return guarded


def main() -> None:
    parser = argparse.ArgumentParser(description="The guide's notes MCP server.")
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = build_server()
    if not args.http:
        server.run("stdio")
        return
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(128)
    print(f"MCP_URL=http://127.0.0.1:{sock.getsockname()[1]}/mcp", flush=True)
    token = os.environ.get("NOTES_TOKEN")
    app: ASGIApp = server.streamable_http_app()
    if token:
        app = _require_token(app, token)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main()
