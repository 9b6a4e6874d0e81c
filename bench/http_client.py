"""A small keep-alive HTTP/1.1 client for the load benchmark.

Fifty simulated visitors share the two cores with the server they measure;
http.client spends about 150 µs of CPU per request (mostly parsing headers
with the email package), this client about 30 µs, so the load generator
takes less of the CPU the server needs. It speaks only what the site
answers: a status line, headers, then a body of Content-Length bytes,
chunks, or up to the end of the connection.
"""

from __future__ import annotations

import socket


class Closed(ConnectionError):
    """The server closed the connection before answering."""


class Connection:
    """One keep-alive connection to host:port, reopened when the server closes it."""

    def __init__(self, host: str, port: int, timeout: float):
        self.address, self.timeout = (host, port), timeout
        self.sock = self.reader = None
        self.host_header = f"{host}:{port}".encode()

    def open(self) -> None:
        self.sock = socket.create_connection(self.address, timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")

    def close(self) -> None:
        if self.sock is not None:
            self.reader.close()
            self.sock.close()
        self.sock = self.reader = None

    def request(self, method: str, path: str, body: bytes = b"", headers: bytes = b"") -> tuple[int, dict, bytes]:
        """(status, {lower-case header name: value}, body). `headers` are
        ready-made "Name: value\\r\\n" lines. A reused connection that the server
        had closed is reopened once, as browsers do."""
        reused = self.sock is not None
        try:
            return self._exchange(method, path, body, headers)
        except (Closed, BrokenPipeError, ConnectionResetError):
            self.close()
            if not reused:
                raise
        return self._exchange(method, path, body, headers)

    def _exchange(self, method, path, body, headers):
        if self.sock is None:
            self.open()
        self.sock.sendall(b"%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %d\r\n\r\n%s" % (
            method.encode(), path.encode(), self.host_header, headers, len(body), body))
        status_line = self.reader.readline()
        if not status_line:
            raise Closed("no answer")
        status = int(status_line.split(None, 2)[1])
        fields = {}
        while True:
            line = self.reader.readline()
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise Closed("headers cut short")
            name, _, value = line.partition(b":")
            fields[name.strip().lower().decode()] = value.strip().decode()
        if status in (204, 304) or 100 <= status < 200 or method == "HEAD":
            data = b""
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            data = self._chunks()
        elif "content-length" in fields:
            data = self.reader.read(int(fields["content-length"]))
        else:                          # the body ends when the server closes
            data = self.reader.read()
            fields["connection"] = "close"
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, fields, data

    def _chunks(self) -> bytes:
        parts = []
        while True:
            size = int(self.reader.readline().split(b";")[0], 16)
            if size == 0:
                while self.reader.readline() not in (b"\r\n", b"\n", b""):
                    pass               # trailers
                return b"".join(parts)
            parts.append(self.reader.read(size))
            self.reader.readline()
