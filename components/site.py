"""The frame around every page: header with the lesson navigation, footer.

Navigation is built from `dash.page_registry`, so a page registered in
`app.main.PAGE_MODULES` appears in it without a hand-kept list.
"""

from __future__ import annotations

import dash
from dash import dcc, html


def lessons() -> list[dict]:
    """Registered lesson pages, in their order."""
    pages = [p for p in dash.page_registry.values() if p.get("lesson")]
    return sorted(pages, key=lambda p: p.get("order", 0))


def site_layout() -> html.Div:
    nav_links = [
        dcc.Link(p["name"], href=p["relative_path"], className="site-nav-link")
        for p in lessons()
    ]
    return html.Div(
        [
            html.Header(
                [
                    dcc.Link([html.Span("◆", className="site-logo-mark"), "Learnscape"], href="/",
                             className="site-logo"),
                    html.Nav(nav_links, className="site-nav"),
                ],
                className="site-header",
            ),
            html.Main(dash.page_container, className="site-main"),
            html.Footer(
                "Learnscape — every figure here is computed by a small numpy model, live.",
                className="site-footer",
            ),
        ],
        className="site",
    )
