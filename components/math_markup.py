"""TeX formulas in narration Markdown, marked up for the browser's KaTeX.

`$x$` (inline) and `$$x$$` (display) become code spans holding `\\(x\\)` and
`\\[x\\]`: Markdown leaves a code span's text as it is (so `_` and `*` inside
a formula stay TeX), and `assets/learnscape.js` typesets each such code
element with KaTeX. KaTeX weighs about a quarter of MathJax over the wire
and typesets in milliseconds.
"""

from __future__ import annotations

import re

# a code span, a display formula, or an inline formula (no space just inside the dollars)
_TOKEN = re.compile(r"(`+)(?:.|\n)*?\1|\$\$((?:.|\n)+?)\$\$|\$(?!\s)((?:[^$\\\n]|\\.)+?)(?<!\s)\$")


def _code_span(tex: str, display: bool) -> str:
    text = ("\\[{}\\]" if display else "\\({}\\)").format(" ".join(tex.split()))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def mark_math(markdown: str) -> str:
    """`markdown` with every formula outside code spans turned into a formula code span."""
    def replace(match: re.Match) -> str:
        if match.group(1):
            return match.group(0)
        if match.group(2) is not None:
            return _code_span(match.group(2), display=True)
        return _code_span(match.group(3), display=False)

    return _TOKEN.sub(replace, markdown)


def formulas(markdown: str) -> list[tuple[str, bool]]:
    """Every (tex, display) pair `mark_math` would render, in order."""
    found = []
    for match in _TOKEN.finditer(markdown):
        if match.group(2) is not None:
            found.append((match.group(2).strip(), True))
        elif match.group(3) is not None:
            found.append((match.group(3).strip(), False))
    return found
