"""Narration Markdown as Dash html components, rendered on the server.

A `dcc.Markdown` draws nothing until its script arrives, seconds after the
page on a cold visit; html components draw with the page. Formulas stay code
spans (`components.math_markup`) that KaTeX, loaded with the page, typesets.
The same HTML text (`markdown_html`) is what the first server answer holds.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

import markdown as markdown_lib
from dash import dcc, html

from components.math_markup import mark_math
from components.spoken_math import spoken

_EXTENSIONS = ["tables", "sane_lists"]
_VOID = {"br", "hr", "img"}
_ATTRIBUTES = {"href": "href", "title": "title", "colspan": "colSpan", "rowspan": "rowSpan"}


@lru_cache(maxsize=1024)
def markdown_html(text: str) -> str:
    """Narration Markdown (formulas as `$..$`) as HTML text, formulas as code spans."""
    return markdown_lib.markdown(mark_math(text), extensions=_EXTENSIONS, output_format="html")


class _Builder(HTMLParser):
    """Builds a tree of Dash components from the HTML python-markdown writes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root: list = []
        self.stack: list[tuple[str, dict, list]] = []

    def handle_starttag(self, tag, attrs):
        props = {}
        for key, value in attrs:
            if key in _ATTRIBUTES:
                props[_ATTRIBUTES[key]] = value
            elif key == "style" and value and value.startswith("text-align:"):
                props["style"] = {"textAlign": value.split(":", 1)[1].strip().rstrip(";")}
        if tag in _VOID:
            self._append(_component(tag, props, []))
        else:
            self.stack.append((tag, props, []))

    def handle_endtag(self, tag):
        if tag in _VOID or not self.stack:
            return
        name, props, children = self.stack.pop()
        self._append(_component(name, props, children))

    def handle_data(self, data):
        if self.stack or data.strip():
            self._append(data)

    def _append(self, node):
        (self.stack[-1][2] if self.stack else self.root).append(node)


_FORMULA = re.compile(r"^\\[(\[](.*)\\[)\]]$", re.DOTALL)


def _component(tag: str, props: dict, children: list):
    if tag == "a" and props.get("href", "").startswith("/"):
        return dcc.Link(children, **props)
    if tag == "code" and len(children) == 1 and isinstance(children[0], str):
        formula = _FORMULA.match(children[0].strip())
        if formula:   # what speech and the presenter's notes say in its place
            props["data-spoken"] = spoken(formula.group(1))
            if children[0].strip().startswith("\\["):
                props["tabIndex"] = "0"   # a wide display formula scrolls, by keyboard too
    if tag == "table":
        props["tabIndex"] = "0"           # a wide table scrolls, by keyboard too
    cls = getattr(html, tag.capitalize(), None) or html.Span
    return cls(children, **props) if tag not in _VOID else cls(**props)


@lru_cache(maxsize=1024)
def _components_cached(text: str) -> tuple:
    builder = _Builder()
    builder.feed(markdown_html(text))
    builder.close()
    return tuple(builder.root)


def narration_div(text: str, class_name: str) -> html.Div:
    """A Div of the narration `text` as html components."""
    return html.Div(list(_components_cached(text)), className=class_name)


def inline_components(text: str) -> list:
    """One line of Markdown as inline components (its paragraph unwrapped)."""
    nodes = list(_components_cached(text))
    if len(nodes) == 1 and isinstance(nodes[0], html.P):
        return list(nodes[0].children)
    return nodes
