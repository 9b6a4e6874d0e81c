"""A visitor's own 2-D points: read from a CSV file, checked against the
lesson's limits, and packed into a short text that a link can carry.

Points are rows (x, y, label): coordinates within ±COORD_MAX, kept to
DECIMALS decimals; labels are the classes 0 to CLASSES_MAX - 1 (the lesson's
"class 0" to "class 4"). Everything here is pure: text or bytes in, arrays or
text out, and every refusal is a ValueError whose message a visitor can act
on (for a file: the line and what is wrong on it). A file is taken whole or
not at all.

The packed form is "P" followed by unpadded base64url of, per point, x and y
as big-endian int16 thousandths, then the labels, two to a byte (high nibble
first). 4.5 bytes, 6 characters a point: about 250 points fit in a link of
2,000 characters beside the lesson's other settings. The browser's point
editor (app/assets/point-editor.js) writes the same form.
"""

from __future__ import annotations

import base64
import binascii
import csv
import math
import re
from typing import NamedTuple

import numpy as np

from app.ml.decision_runs import POINTS_MAX, POINTS_MIN

#: Limits, the same for a file, a link and the editor.
ROWS_MAX = POINTS_MAX                 # points in all
CLASSES_MIN, CLASSES_MAX = 2, 5       # distinct labels a network can be trained on; labels 0..4
COORD_MAX = 10.0                      # |x| and |y| at most this
DECIMALS = 3                          # coordinates are kept to thousandths
FILE_BYTES_MAX = 200_000              # a CSV of 2,000 long lines is about 100 kB
#: A link longer than this leaves the points out (the editor says so beside its control).
LINK_MAX = 2000
#: The packed form's first character (a later format can take another).
PREFIX = "P"
_SCALE = 10 ** DECIMALS


def packed_length(n: int) -> int:
    """Characters of the packed form of n points (0 for none)."""
    if n == 0:
        return 0
    return len(PREFIX) + math.ceil(_bytes_for(n) * 4 / 3)


def _bytes_for(n: int) -> int:
    return 4 * n + (n + 1) // 2


#: The longest packed text, and a pattern every packed text matches (the schema's check).
CODE_MAX = packed_length(ROWS_MAX)
PATTERN = rf"({PREFIX}[A-Za-z0-9_-]{{1,{CODE_MAX - 1}}})?"


class Points(NamedTuple):
    """X (n, 2) float coordinates, rounded to DECIMALS; y (n,) int labels 0..CLASSES_MAX-1."""

    X: np.ndarray
    y: np.ndarray

    @property
    def classes(self) -> int:
        """Distinct labels among the points."""
        return len(np.unique(self.y))


def empty() -> Points:
    return Points(np.zeros((0, 2)), np.zeros(0, dtype=int))


# -- checking ---------------------------------------------------------------------------------


def check(X, y) -> Points:
    """The points (X (n, 2), y (n,)) rounded, if within every limit but the trainable ones
    (see shortfall); ValueError naming the first point out of limits otherwise."""
    X = np.asarray(X, dtype=float).reshape(-1, 2) if np.size(X) else np.zeros((0, 2))
    y = np.asarray(y).reshape(-1)
    if len(X) != len(y):
        raise ValueError(f"{len(X)} points but {len(y)} labels")
    if len(X) > ROWS_MAX:
        raise ValueError(f"{len(X):,} points; at most {ROWS_MAX:,}")
    for i, ((a, b), label) in enumerate(zip(X, y)):
        where = f"point {i + 1}"
        _coordinate(a, "x", where)
        _coordinate(b, "y", where)
        _label(label, where)
    return Points(np.round(X, DECIMALS) + 0.0, y.astype(int))


def shortfall(points: Points) -> str:
    """What the points lack before a network can learn from them ("" when nothing)."""
    n = len(points.y)
    if n < POINTS_MIN:
        return f"{n} point{'s' * (n != 1)} so far; a network needs at least {POINTS_MIN}"
    if points.classes < CLASSES_MIN:
        return f"all {n} points are of class {int(points.y[0])}; a network needs at least {CLASSES_MIN} classes"
    return ""


def _coordinate(value: float, name: str, where: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} is {value}; coordinates must be finite numbers")
    if abs(value) > COORD_MAX:
        raise ValueError(f"{where}: {name} = {value:g} is outside −{COORD_MAX:g} to {COORD_MAX:g}")
    return value


def _label(value, where: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number == int(number)):
        raise ValueError(f"{where}: the label “{str(value)[:20]}” is not a class; "
                         f"use a whole number from 0 to {CLASSES_MAX - 1}")
    if not 0 <= number < CLASSES_MAX:
        raise ValueError(f"{where}: the label {int(number)} is not a class; at most {CLASSES_MAX} classes, "
                         f"labelled 0 to {CLASSES_MAX - 1}")
    return int(number)


# -- a CSV file -------------------------------------------------------------------------------


def parse_csv(data: bytes | str) -> Points:
    """The points of a CSV file of x, y, label lines (a header line optional).

    Accepts a UTF-8 byte-order mark, Windows or old Mac line ends, commas,
    semicolons or tabs between fields, blank lines and lines starting with "#".
    The points must be trainable (see shortfall). ValueError naming the line
    and what is wrong on it, or the file's size, otherwise.
    """
    if isinstance(data, bytes):
        if len(data) > FILE_BYTES_MAX:
            raise ValueError(f"the file has {len(data):,} bytes; at most {FILE_BYTES_MAX:,}")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[:error.start].count(b"\n") + 1
            raise ValueError(f"line {line}: not text (the file must be UTF-8 or plain ASCII)") from None
    else:
        text = data.removeprefix("\ufeff")
        if len(text.encode("utf-8", "replace")) > FILE_BYTES_MAX:
            raise ValueError(f"the file is over {FILE_BYTES_MAX:,} bytes")
    xs, ys, labels = [], [], []
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    delimiter = _delimiter(lines[0][1]) if lines else ","
    for k, (number, line) in enumerate(lines):
        fields = _fields(line, delimiter)
        if k == 0 and _is_header(fields):
            continue
        where = f"line {number}"
        if len(fields) != 3:
            raise ValueError(f"{where}: {len(fields)} field{'s' * (len(fields) != 1)}; "
                             "each line needs 3: x, y, label")
        if len(xs) == ROWS_MAX:
            raise ValueError(f"{where}: more than {ROWS_MAX:,} points; at most {ROWS_MAX:,}")
        xs.append(_coordinate(_number(fields[0], "x", where), "x", where))
        ys.append(_coordinate(_number(fields[1], "y", where), "y", where))
        labels.append(_label(fields[2], where))
    if not xs:
        raise ValueError("the file has no points: each line needs x, y, label")
    points = check(np.c_[xs, ys], labels)
    if missing := shortfall(points):
        raise ValueError(f"the file has {missing}")
    return points


def _delimiter(line: str) -> str:
    for candidate in (",", ";", "\t"):
        if candidate in line:
            return candidate
    return ","


def _fields(line: str, delimiter: str) -> list[str]:
    fields = [f.strip() for f in next(csv.reader([line], delimiter=delimiter))]
    while len(fields) > 3 and fields[-1] == "":   # a trailing delimiter
        fields.pop()
    return fields


def _is_header(fields: list[str]) -> bool:
    """A first line whose x and y are both not numbers names the columns."""
    return len(fields) >= 2 and not any(_is_number(f) for f in fields[:2])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number(text: str, name: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{where}: {name} is “{text[:20]}”, not a number") from None


# -- the packed form --------------------------------------------------------------------------


def encode(points: Points) -> str:
    """The packed form of `points` ("" for none); see the module's docstring."""
    X, y = check(points.X, points.y)
    if len(y) == 0:
        return ""
    xy = np.round(X * _SCALE).astype(">i2").tobytes()
    nibbles = np.append(y, 0) if len(y) % 2 else y
    labels = (nibbles[0::2] << 4 | nibbles[1::2]).astype(np.uint8).tobytes()
    return PREFIX + base64.urlsafe_b64encode(xy + labels).decode("ascii").rstrip("=")


def decode(code: str) -> Points:
    """The points of a packed text ("" or None: none); ValueError saying how it is damaged."""
    if not code:
        return empty()
    if not isinstance(code, str) or not re.fullmatch(PATTERN, code):
        raise ValueError(f"the points are not in the packed form (“{str(code)[:12]}…”); "
                         f"at most {ROWS_MAX:,} points")
    body = code[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("the packed points are cut short or damaged") from None
    n = 2 * len(raw) // 9
    if _bytes_for(n) != len(raw) or n == 0:
        raise ValueError("the packed points are cut short or damaged")
    xy = np.frombuffer(raw[:4 * n], dtype=">i2").reshape(n, 2).astype(float) / _SCALE
    packed = np.frombuffer(raw[4 * n:], dtype=np.uint8).astype(int)
    y = np.column_stack([packed >> 4, packed & 15]).reshape(-1)[:n]
    return check(xy, y)


def checked_code(code: str) -> str:
    """`code` if it is a packed text of points within every limit (for a settings schema);
    ValueError saying what is wrong otherwise."""
    decode(code)
    return code
