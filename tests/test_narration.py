from pathlib import Path

import pytest

from components.narration import parse_steps

PAGES = Path(__file__).resolve().parents[1] / "pages"


def test_steps_with_attributes_and_body():
    steps = parse_steps("intro\n## First\nfigure: a\nduration: 5\nplay: yes\n\nHello $x$.\n\n## Second\nBody two\n")
    assert [s.title for s in steps] == ["First", "Second"]
    assert steps[0].figure == "a" and steps[0].duration == 5 and steps[0].play
    assert steps[0].body == "Hello $x$."
    assert steps[1].body == "Body two" and steps[1].figure == ""


def test_a_body_line_that_looks_like_an_attribute_after_a_blank_line_stays_body():
    steps = parse_steps("## T\nfigure: f\n\nnote: this is prose\n")
    assert steps[0].body == "note: this is prose"


@pytest.mark.parametrize("text, message", [
    ("no steps here", "no steps"),
    ("## T\nduration: soon\n\nx", "duration"),
    ("## T\nduration: 0\n\nx", "between 1 and 600"),
])
def test_bad_narration_is_rejected(text, message):
    with pytest.raises(ValueError, match=message):
        parse_steps(text)


@pytest.mark.parametrize("path", sorted(p for p in PAGES.glob("*.md") if not p.name.endswith(".quiz.md")), ids=lambda p: p.name)
def test_every_lesson_narration_parses_and_ends_in_free_play(path):
    steps = parse_steps(path.read_text(encoding="utf-8"))
    assert len(steps) >= 3
    assert all(s.title and s.body for s in steps)
    assert steps[-1].figure == "free", "a lesson's last step is free play"


def step_of_words(words: int, attributes: str = "") -> object:
    """A step titled "T" whose caption has `words` words in all (the title counts)."""
    return parse_steps("## T\nfigure: a\n" + attributes + "\n" + " ".join(["word"] * (words - 1)))[0]


@pytest.mark.parametrize("words, attributes, seconds", [
    (4, "", 12.0),                     # short: the least time, 12 s
    (320, "", 124.0),                  # 320 words at 160 a minute (120 s), then the figure's 4 s
    (320, "play: yes\n", 128.0),       # a step that plays its run gives the figure 8 s
    (320, "duration: 200\n", 200.0),   # never less than the step's own duration
])
def test_presenter_pacing_reads_the_caption_at_160_words_a_minute_then_gives_the_figure_its_time(
        words, attributes, seconds):
    step = step_of_words(words, attributes)
    assert step.words == words
    assert step.presenter_seconds == seconds
