"""A visitor's own graph for the graph-layout lesson: an edge list read, checked and
encoded compactly for a link.

An edge list is text with one link per line, ``a b`` or ``a,b`` (tabs and
semicolons also separate), an optional header (``source,target``, ``from to``
...), blank lines and ``#`` comments. Node names are integers or short words;
circles are numbered in the order their names first appear. A file is taken
whole or refused whole, with the line and what is wrong named.

The code of a graph (`encode`) is URL-safe text: "g" and the base64 of varints
n, m, then each link (i < j, sorted) as the step from the previous i and the
gap to j. A tree of 40 circles takes about 110 characters.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import NamedTuple

import numpy as np

from app.lessons.graph_layout import MAX_CIRCLES
from app.ml import graph_layout as gl

FILE_BYTES_MAX = 1_000_000        # bytes of an uploaded or pasted edge list
NAME_MAX = 24                     # characters of a node name
LINK_CHARS = 2_000                # characters of a code a link may hold
HEADER_WORDS = {"source", "target", "from", "to", "src", "dst", "node1", "node2", "u", "v", "head", "tail",
                "start", "end"}
_NAME = re.compile(r"[\w.\-]+")
_FIELDS = re.compile(r"\s*[,;\t ]\s*")


class Graph(NamedTuple):
    """n circles, edges (m, 2) int64 with i < j, sorted, no duplicates; names (n,) as in the file."""

    n: int
    edges: np.ndarray
    names: tuple[str, ...]


class EdgeListError(ValueError):
    """An edge list refused, the line and the reason in words."""


def _text(data) -> str:
    """The text of an edge list given as str or bytes; EdgeListError for binary or oversized data."""
    size = len(data.encode() if isinstance(data, str) else data) if isinstance(data, (str, bytes)) else -1
    if size < 0:
        raise EdgeListError("an edge list is text, one link per line")
    if size > FILE_BYTES_MAX:
        raise EdgeListError(f"the file has {size:,} bytes; at most {FILE_BYTES_MAX:,}")
    if isinstance(data, bytes):
        if b"\x00" in data[:8192]:
            raise EdgeListError("this is a binary file, not a text edge list (one link per line, like a b)")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise EdgeListError(f"this is not text (no UTF-8 at byte {error.start:,}): a binary file? "
                                "An edge list has one link per line, like a b") from None
    return data


def _is_header(fields: list[str]) -> bool:
    return len(fields) == 2 and all(f.lower() in HEADER_WORDS for f in fields)


def parse_edge_list(data, max_nodes: int = MAX_CIRCLES) -> Graph:
    """The graph of an edge list (str or bytes); EdgeListError naming the line and what is wrong:
    binary or empty files, a line with one field or more than two, bad or long names, a link
    from a node to itself, more than `max_nodes` circles or gl.MAX_EDGES links."""
    index: dict[str, int] = {}
    links: set[tuple[int, int]] = set()
    seen_data = False
    for number, line in enumerate(_text(data).splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", "%")):
            continue
        fields = [f for f in _FIELDS.split(line) if f]
        if not seen_data and _is_header(fields):
            seen_data = True
            continue
        seen_data = True
        where = f"line {number}"
        if len(fields) == 1:
            raise EdgeListError(f"{where}, “{line[:30]}”, has one field; a link needs two names, like a b")
        if len(fields) > 2:
            raise EdgeListError(f"{where}, “{line[:30]}”, has {len(fields)} fields; a link is two names, like a b")
        for name in fields:
            if len(name) > NAME_MAX:
                raise EdgeListError(f"{where}: the name “{name[:NAME_MAX]}…” is longer than {NAME_MAX} characters")
            if not _NAME.fullmatch(name):
                raise EdgeListError(f"{where}: “{name[:NAME_MAX]}” is not a node name "
                                    "(integers or short words: letters, digits, _ . -)")
        a, b = fields
        if a == b:
            raise EdgeListError(f"{where}, “{line[:30]}”, links {a} to itself (a self-loop); "
                                "a circle cannot be linked to itself")
        for name in (a, b):
            if name not in index:
                if len(index) == max_nodes:
                    raise EdgeListError(f"{where}: “{name}” would be circle {max_nodes + 1:,}; "
                                        f"the lesson lays out at most {max_nodes:,}")
                index[name] = len(index)
        links.add((min(index[a], index[b]), max(index[a], index[b])))
        if len(links) > gl.MAX_EDGES:
            raise EdgeListError(f"{where}: more than {gl.MAX_EDGES:,} links")
    if not links:
        raise EdgeListError("the edge list is empty: write one link per line, like a b")
    edges = np.array(sorted(links), dtype=np.int64)
    return Graph(len(index), edges, tuple(index))


# -- the code of a graph, for links --------------------------------------------------------


def _varints(values) -> bytes:
    out = bytearray()
    for v in values:
        v = int(v)
        while True:
            low, v = v & 0x7F, v >> 7
            out.append(low | (0x80 if v else 0))
            if not v:
                break
    return bytes(out)


def _read_varints(data: bytes) -> list[int]:
    values, value, shift = [], 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if shift > 35:
            raise ValueError("a number in it is too large")
        if not byte & 0x80:
            values.append(value)
            value, shift = 0, 0
    if shift:
        raise ValueError("it ends in the middle of a number")
    return values


def encode(n: int, edges: np.ndarray) -> str:
    """The code of a graph: "g" + URL-safe base64 (no padding); edges (m, 2) with i < j."""
    edges = np.array(sorted({(min(a, b), max(a, b)) for a, b in np.asarray(edges, dtype=np.int64).tolist()}),
                     dtype=np.int64).reshape(-1, 2)
    numbers, prev_i, prev_j = [n, len(edges)], 0, 0
    for i, j in edges.tolist():
        numbers += [i - prev_i, j - (prev_j if i == prev_i and numbers[2:] else i) - 1]
        prev_i, prev_j = i, j
    return "g" + base64.urlsafe_b64encode(_varints(numbers)).decode().rstrip("=")


def decode(code: str, max_nodes: int = MAX_CIRCLES) -> tuple[int, np.ndarray]:
    """(n, edges (m, 2) int64) of a code; ValueError if it is damaged or over the limits."""
    if not isinstance(code, str) or not code.startswith("g") or not re.fullmatch(r"g[A-Za-z0-9_\-]+", code):
        raise ValueError("the graph's code is not one this site writes")
    try:
        numbers = _read_varints(base64.urlsafe_b64decode(code[1:] + "=" * (-len(code[1:]) % 4)))
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"the graph's code is damaged ({error})") from None
    if len(numbers) < 2 or len(numbers) != 2 + 2 * numbers[1]:
        raise ValueError("the graph's code is damaged (its counts do not match)")
    n, m = numbers[:2]
    if not 2 <= n <= max_nodes:
        raise ValueError(f"the graph has {n:,} circles; the lesson lays out 2 to {max_nodes:,}")
    if not 1 <= m <= gl.MAX_EDGES:
        raise ValueError(f"the graph has {m:,} links; 1 to {gl.MAX_EDGES:,}")
    edges, i, j = [], 0, 0
    for k in range(m):
        di, gap = numbers[2 + 2 * k], numbers[3 + 2 * k]
        i, j = i + di, (j if di == 0 and k else i + di) + gap + 1
        if j >= n:
            raise ValueError(f"the graph's code is damaged (a link to circle {j + 1:,} of {n:,})")
        edges.append((i, j))
    return n, np.array(edges, dtype=np.int64)


def check_code(code: str) -> str:
    """A code as a link keeps it ("" for none); ValueError saying why one is refused."""
    if not code:
        return ""
    n, edges = decode(code)
    return encode(n, edges)


def fits_link(code: str) -> bool:
    return len(code) <= LINK_CHARS


__all__ = ["Graph", "EdgeListError", "parse_edge_list", "encode", "decode", "check_code", "fits_link",
           "FILE_BYTES_MAX", "LINK_CHARS"]
