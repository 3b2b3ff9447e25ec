"""A minimal HTTP/1.1 client on asyncio streams, with keep-alive: the slice bench's load generator.

The generator shares the two cores with what it measures. httpx cost ~3 ms of CPU per command
there (bench/README.md), as much as a service's share; this client writes one request and reads
one response per call on a pooled connection (status line, headers, a Content-Length or chunked
body) and nothing else: no redirects, cookies, proxies, compression or TLS. Only for bench/.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from urllib.parse import urlsplit


class HttpError(Exception):
    """The server answered with something that is not HTTP/1.1 as this client reads it."""


class Response:
    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes):
        self.status_code, self.headers, self.content = status_code, headers, content

    def json(self):
        return json.loads(self.content)


class _Connection:
    __slots__ = ("reader", "writer", "used")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer, self.used = reader, writer, False

    def close(self) -> None:
        self.writer.close()


class Client:
    """`await client.post(path, json=...)` / `await client.get(path)` against one origin."""

    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None, timeout: float = 30.0,
                 max_idle: int = 200):
        parts = urlsplit(base_url)
        if parts.scheme != "http":
            raise ValueError("http:// only")
        self._host, self._port = parts.hostname, parts.port or 80
        fixed = {"Host": f"{self._host}:{self._port}", "Connection": "keep-alive", **(headers or {})}
        self._fixed = "".join(f"{k}: {v}\r\n" for k, v in fixed.items())
        self._timeout = timeout
        self._idle: deque[_Connection] = deque()
        self._max_idle = max_idle

    async def get(self, path: str) -> Response:
        return await self.request("GET", path)

    async def post(self, path: str, *, json: object = None) -> Response:
        return await self.request("POST", path, b"" if json is None else _dumps(json), "application/json")

    async def request(self, method: str, path: str, body: bytes = b"", content_type: str | None = None) -> Response:
        head = f"{method} {path} HTTP/1.1\r\n{self._fixed}Content-Length: {len(body)}\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        message = (head + "\r\n").encode("latin-1") + body
        async with asyncio.timeout(self._timeout):
            while True:
                conn = self._idle.pop() if self._idle else await self._open()
                reused = conn.used
                try:
                    conn.writer.write(message)
                    response, keep = await self._read(conn.reader)
                except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
                    conn.close()
                    # A pooled connection the server closed while idle: nothing was answered, send again.
                    if reused and (not isinstance(exc, asyncio.IncompleteReadError) or not exc.partial):
                        continue
                    raise
                except BaseException:
                    conn.close()
                    raise
                conn.used = True
                if keep and len(self._idle) < self._max_idle:
                    self._idle.append(conn)
                else:
                    conn.close()
                return response

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self._host, self._port)
        return _Connection(reader, writer)

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[Response, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        if not version.startswith("HTTP/1."):
            raise HttpError(f"not an HTTP/1.x status line: {lines[0]!r}")
        status = int(rest[:3])
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            content = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            content = await _read_chunked(reader)
        elif status in (204, 304) or 100 <= status < 200:
            content = b""
        else:  # delimited by the end of the connection
            return Response(status, headers, await reader.read()), False
        keep = headers.get("connection", "").lower() != "close" and version == "HTTP/1.1"
        return Response(status, headers, content), keep

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
