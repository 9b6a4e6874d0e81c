"""Lesson narration as data: a Markdown file next to the page, split into steps.

Format of `pages/<lesson>.md`::

    ## Meet the data
    figure: data
    duration: 14
    task: Add a fifth song that Ben likes.

    Ben likes two of these four songs. Each song has three features ...

Each step starts with a level-2 heading (its title). The `key: value` lines
directly under the heading, up to the first blank line, are the step's
attributes; the rest, up to the next `## `, is its Markdown narration
(formulas between `$...$` or `$$...$$`). Known attributes:

- `figure`: the name of the figure state the page shows for this step,
- `duration`: the least seconds the step stays up in presenter mode (default
  12); it stays longer when its caption needs it (`Step.presenter_seconds`),
- `task`: a "try it" task shown under the narration,
- `question` / `answer`: a predict-then-reveal question and its answer,
- `play`: "yes" to start the step player when the step opens.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from components.spoken_math import spoken

DEFAULT_DURATION_S = 12.0
#: Exhibit pacing: captions are read at this many words a minute, and then the
#: figure gets its own time (longer when the step plays a run).
READING_WPM = 160
FIGURE_S, PLAYING_FIGURE_S = 4.0, 8.0
_FORMULA = re.compile(r"\$\$(.+?)\$\$|\$([^$]+?)\$", re.DOTALL)
_ATTRIBUTE = re.compile(r"^([a-z_]+):\s*(.*)$")
_KNOWN = {"figure", "duration", "task", "question", "answer", "play"}


@dataclass(frozen=True)
class Step:
    """One narrated step of a lesson."""

    title: str
    body: str
    figure: str = ""
    duration: float = DEFAULT_DURATION_S
    task: str = ""
    question: str = ""
    answer: str = ""
    play: bool = False
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def words(self) -> int:
        """Words a visitor reads in the caption: title, text, and formulas as they are said."""
        text = _FORMULA.sub(lambda m: " " + spoken((m.group(1) or m.group(2) or "").strip()) + " ", self.body)
        return len(re.findall(r"[\w'’.-]+", self.title + " " + re.sub(r"[*_`#>|]", " ", text)))

    @property
    def presenter_seconds(self) -> float:
        """How long presenter mode shows the step: its caption read at READING_WPM words a
        minute plus the figure's own time, and never less than `duration`."""
        figure = PLAYING_FIGURE_S if self.play else FIGURE_S
        return round(max(self.duration, self.words * 60 / READING_WPM + figure), 1)


def parse_steps(text: str) -> list[Step]:
    """Split narration Markdown into steps. Raises ValueError on a bad file."""
    steps: list[Step] = []
    chunks = re.split(r"^## +", text, flags=re.MULTILINE)
    for chunk in chunks[1:]:
        lines = chunk.rstrip().splitlines()
        title = lines[0].strip()
        attributes: dict[str, str] = {}
        body_start = 1
        for i, line in enumerate(lines[1:], start=1):
            match = _ATTRIBUTE.match(line.strip())
            if not line.strip() or not match:
                body_start = i
                break
            attributes[match.group(1)] = match.group(2).strip()
        else:
            body_start = len(lines)
        steps.append(_make_step(title, "\n".join(lines[body_start:]).strip(), attributes))
    if not steps:
        raise ValueError("narration has no steps: each step starts with '## Title'")
    return steps


def _make_step(title: str, body: str, attributes: dict[str, str]) -> Step:
    try:
        duration = float(attributes.get("duration", DEFAULT_DURATION_S))
    except ValueError as error:
        raise ValueError(f"step {title!r}: duration must be a number of seconds") from error
    if not 1 <= duration <= 600:
        raise ValueError(f"step {title!r}: duration must be between 1 and 600 s")
    return Step(
        title=title,
        body=body,
        figure=attributes.get("figure", ""),
        duration=duration,
        task=attributes.get("task", ""),
        question=attributes.get("question", ""),
        answer=attributes.get("answer", ""),
        play=attributes.get("play", "").lower() in {"yes", "true", "1"},
        extra={k: v for k, v in attributes.items() if k not in _KNOWN},
    )


@lru_cache(maxsize=None)
def load_steps(path: str | Path) -> tuple[Step, ...]:
    """Steps of the narration file at `path` (read once per process)."""
    return tuple(parse_steps(Path(path).read_text(encoding="utf-8")))
