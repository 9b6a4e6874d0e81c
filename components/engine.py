"""The lesson engine: one step controller for every lesson.

A lesson declares its id, its settings schema, its narrated steps and one view
per figure name the narration uses; the engine builds the one step callback
and applies the same rules everywhere:

- a missing, out-of-range or garbage step shows step 1, with a notice;
- bad settings are replaced by their defaults: the message stands beside the
  field (and in the notices), and the field shows the value actually used;
- a view that fails (`ValueError`: a model's limit, a busy server) is shown
  again with the default settings, with the words "Cannot compute this step";
  if that fails too, every figure shows the message; an unexpected error is
  logged and told the same way, never a 500;
- a step marked `play: yes` starts its player; a view's `achieved` ticks the
  step's "try it" task.

Views are plain functions `view(ctx: StepContext) -> View`; `Lesson.outputs`
runs one step with no Dash and no request, so every rule is testable directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import dash
from dash import Input, Output, State, html

from app import prefetch
from app.cache import NotCached, cached_only
from app.compute_slots import mark_transient
from app.pure_callbacks import pure_callback
from components.figure_text import describe
from components.controls import field_note_id, setting_controls, widget_value
from components.ids import lesson_id, player_id, setting_id
from components.lesson import lesson_shell
from components.narration import Step
from components.player import animated_graph, placeholder, step_player
from components.settings_schema import Schema, parse_step

log = logging.getLogger(__name__)

HIDDEN = " ls-hidden"


@dataclass(frozen=True)
class View:
    """What one step shows.

    figures: animated-graph name -> payload (`components.player.animation`);
        a declared graph not named here is hidden.
    heights: graph name -> height in px, where it differs from the declared one.
    panels: names of the declared panels shown on this step (the rest are hidden).
    outputs: declared extra output name -> value (the rest get their defaults).
    notices: messages for the visitor.
    achieved: the step's "try it" task is done.
    alts: graph name -> its text alternative, where the one built from its data
        (`components.figure_text.describe`) would not say enough.
    """

    figures: Mapping[str, dict] = field(default_factory=dict)
    heights: Mapping[str, int] = field(default_factory=dict)
    panels: Sequence[str] = ()
    outputs: Mapping[str, object] = field(default_factory=dict)
    notices: Sequence[str] = ()
    achieved: bool = False
    alts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StepContext:
    """What a view is given: the step, the cleaned settings and the extra inputs.

    extra: the lesson's extra inputs by name (raw browser values);
    triggered: the name of the input that changed ("step", "settings", an
        extra input's name, or None when called directly);
    report(text, fraction): progress of a long computation (0..1), shown on
        the page for background lessons, ignored otherwise;
    fallback: True when this is the retry with default settings after an error;
    raw: the settings as the browser sent them, before cleaning (to say more
        about a refused value than the schema can).
    """

    index: int
    step: Step
    values: dict
    extra: Mapping[str, object] = field(default_factory=dict)
    triggered: str | None = None
    report: Callable[[str, float], None] = lambda text, fraction: None
    fallback: bool = False
    raw: Mapping[str, object] = field(default_factory=dict)

    @property
    def figure(self) -> str:
        return self.step.figure


ViewFn = Callable[[StepContext], View]


def step_index(raw, n_steps: int) -> tuple[int, list[str]]:
    """The 0-based step to show for the step store's value, and a notice if it is not a step."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < n_steps:
        return raw, []
    shown = raw + 1 if isinstance(raw, int) and not isinstance(raw, bool) else str(raw)[:20]
    return 0, [f"Step “{shown}” does not exist (1 to {n_steps}); showing step 1."]


class Lesson:
    """One lesson's step controller.

    graphs: animated-graph name -> default height (px), or (height, extra class);
        all on one step player (`player`, the lesson's id by default). Build them
        in the layout with `graph(name)` and `step_player()`.
    panels: panel name -> its class when shown (the id is `panel_id(name)`).
    outputs: extra output name -> (Output, default value).
    inputs: extra input name -> Input or State passed to views as `ctx.extra`.
    live_settings: settings are Inputs (every change recomputes); False makes them
        States, read when the step or an extra input changes.
    background: run the step callback as a Dash background callback, with progress.
    ahead: figure name -> work its step needs beyond its answer (runs that other callbacks of
        the page read), done when the step is computed ahead of the visitor (app.prefetch)
        and by the warm-up (`work_ahead`).
    """

    def __init__(self, lesson: str, schema: Schema, steps: Sequence[Step], views: Mapping[str, ViewFn], *,
                 graphs: Mapping[str, int] = (), panels: Mapping[str, str] = (),
                 outputs: Mapping[str, tuple[Output, object]] = (), inputs: Mapping[str, Input | State] = (),
                 live_settings: bool = True, background: bool = False, player: str | None = None,
                 ahead: Mapping[str, Callable[[], object]] = ()):
        self.id, self.schema, self.steps, self.views = lesson, schema, tuple(steps), dict(views)
        self.ahead = dict(ahead)
        self.player = player or lesson
        self.graphs = {name: spec if isinstance(spec, tuple) else (spec, "") for name, spec in dict(graphs).items()}
        self.panels = dict(panels)
        self.extra_outputs, self.extra_inputs = dict(outputs), dict(inputs)
        self.live_settings, self.background = live_settings, background
        named = {s.figure for s in self.steps}
        if missing := sorted(named - set(self.views)):
            raise ValueError(f"lesson {lesson}: the narration names figures with no view: {missing}")
        if unused := sorted(set(self.views) - named):
            raise ValueError(f"lesson {lesson}: views no step uses: {unused}")

    # -- ids ------------------------------------------------------------------------------

    def panel_id(self, name: str) -> dict:
        return lesson_id("panel", self.id, name=name)

    def panel_class(self, name: str, shown: bool) -> str:
        return self.panels[name] + ("" if shown else HIDDEN)

    def graph(self, name: str) -> html.Div:
        """The declared animated graph `name`, for the layout."""
        height, extra_class = self.graphs[name]
        return animated_graph(self.player, name, height=height, className=extra_class)

    def step_player(self, label: str = "step") -> html.Div:
        return step_player(self.player, label=label)

    def _box_class(self, name: str, shown: bool) -> str:
        return f"ls-figure {self.graphs[name][1]}".strip() + ("" if shown else HIDDEN)

    # -- the page -------------------------------------------------------------------------

    def page(self, query: dict, stage: Callable[[dict, set], object]) -> html.Div:
        """The lesson's page for a link's query: `stage(values, hidden)` builds its figures
        and controls from the cleaned settings and the names of hidden settings."""
        values, notes = self.schema.check(query)
        step, step_notices = parse_step(query.get("step"), len(self.steps))
        page = lesson_shell(self.id, self.steps, stage(values, self.schema.hidden(query)), step=step,
                            notices=step_notices + list(notes.values()), defaults=self.schema.defaults())
        _fill_field_notes(page, self.id, notes)
        return page

    def controls(self, values: dict, hidden: set, names: Sequence[str] | None = None) -> list:
        """Labelled controls for `names` (every setting by default), built from the schema."""
        return setting_controls(self.id, self.schema, values, hidden, names)

    # -- one step, without Dash -----------------------------------------------------------

    def work_ahead(self, index: int) -> None:
        """Do the work step `index` (0-based) needs beyond its answer (`ahead`), if any."""
        work = self.ahead.get(self.steps[index].figure)
        if work is not None:
            work()

    def outputs(self, step, raw: Mapping, extra: Mapping | None = None, *, triggered: str | None = None,
                report: Callable[[str, float], None] | None = None) -> dict:
        """Every output of a step by name, from the step store's value and the raw settings."""
        index, notices = step_index(step, len(self.steps))
        values, field_notes = self.schema.check(dict(raw))
        notices += list(field_notes.values())
        ctx = StepContext(index, self.steps[index], values, dict(extra or {}), triggered,
                          report or (lambda text, fraction: None), raw=dict(raw))
        view = self._view_or_fallback(ctx, notices)
        notices += list(view.notices)
        return self._named(ctx, view, notices, field_notes, raw)

    def _view_or_fallback(self, ctx: StepContext, notices: list[str]) -> View:
        for attempt in (ctx, _with_defaults(ctx, self.schema)):
            try:
                return self.views[ctx.figure](attempt)
            except NotCached:   # not an error: the step is computed elsewhere (see answer_from_cache)
                raise
            except ValueError as error:
                message = f"Cannot compute this step: {error}."
            except Exception:  # a bug: logged for us, told plainly to the visitor
                log.exception("lesson %s, step %d (%s)", self.id, ctx.index + 1, ctx.figure)
                message = "Cannot compute this step: an unexpected error (logged for the site's maintainers)."
            retry = not attempt.fallback and attempt.values != self.schema.defaults()
            if not any(n.startswith(message) for n in notices):
                notices.append(message + (" Showing the default settings." if retry else ""))
            if not retry:
                break
        return View(figures={name: placeholder(message) for name in self.graphs})

    def _named(self, ctx: StepContext, view: View, notices: list[str], field_notes: Mapping[str, str],
               raw: Mapping) -> dict:
        out: dict = {}
        for name, (height, _) in self.graphs.items():
            payload = view.figures.get(name)
            if payload is not None and ctx.step.play:
                payload = {**payload, "autoplay": True}
            out[f"figure:{name}"] = payload
            out[f"box:{name}"] = self._box_class(name, payload is not None)
            out[f"height:{name}"] = {"height": f"{view.heights.get(name, height)}px"}
            out[f"alt:{name}"] = view.alts.get(name) or describe(payload)
        for name in self.panels:
            out[f"panel:{name}"] = self.panel_class(name, name in view.panels)
        for name, (_, default) in self.extra_outputs.items():
            out[name] = view.outputs.get(name, default)
        for setting in self.schema.settings:
            out[f"note:{setting.name}"] = field_notes.get(setting.name, "")
            replaced = setting.name in field_notes
            out[f"value:{setting.name}"] = (widget_value(setting, ctx.values[setting.name]) if replaced
                                            else dash.no_update)
        out["notices"] = [html.P(n) for n in notices]
        out["notices-class"] = "ls-notices" if notices else "ls-notices is-empty"
        out["achieved"] = [ctx.index] if view.achieved else []
        return out

    # -- the Dash callback ----------------------------------------------------------------

    def output_map(self) -> dict[str, Output]:
        """Every output of the step callback by name (the positions are the engine's alone)."""
        outs: dict[str, Output] = {}
        for name in self.graphs:
            outs[f"figure:{name}"] = Output(player_id("frames", self.player, name=name), "data")
            outs[f"box:{name}"] = Output(player_id("box", self.player, name=name), "className")
            outs[f"height:{name}"] = Output(player_id("graph", self.player, name=name), "style")
            outs[f"alt:{name}"] = Output(player_id("alt", self.player, name=name), "children")
        for name in self.panels:
            outs[f"panel:{name}"] = Output(self.panel_id(name), "className")
        for name, (output, _) in self.extra_outputs.items():
            outs[name] = output
        for name in self.schema.names:
            outs[f"note:{name}"] = Output(field_note_id(self.id, name), "children")
            outs[f"value:{name}"] = Output(setting_id(self.id, name), "value", allow_duplicate=True)
        outs["notices"] = Output(lesson_id("notices", self.id), "children")
        outs["notices-class"] = Output(lesson_id("notices", self.id), "className")
        outs["achieved"] = Output(lesson_id("achieved", self.id), "data")
        return outs

    def register(self) -> Callable:
        """Register the step callback; returns it (for tests that call it like Dash).

        A background lesson gets two: a plain callback that answers at once from
        what the cache holds (`answer_from_cache`), and, only when something must
        be computed, the background callback it hands the step to, which reports
        progress (`answer`)."""
        setting_kind = Input if self.live_settings else State
        inputs = [Input(lesson_id("step", self.id), "data"),
                  *[setting_kind(setting_id(self.id, n), "value") for n in self.schema.names],
                  *self.extra_inputs.values()]
        self._register_code_download(setting_kind)
        if not self.background:
            def show_step(step, *rest):
                answer = self.answer(None, self.request(step, rest))
                prefetch.ahead(self, step_index(step, len(self.steps))[0])
                return answer
            show_step.__name__ = f"show_step_{self.id.replace('-', '_')}"
            return pure_callback(*self.output_map().values(), *inputs,
                                 prevent_initial_call="initial_duplicate")(show_step)

        from components.site import job_status_outputs
        duplicates = [_duplicate(o) for o in self.output_map().values()]
        handed = lesson_id("compute", self.id)

        def show_step_from_cache(step, *rest):
            answer = self.answer_from_cache(self.request(step, rest))
            prefetch.ahead(self, step_index(step, len(self.steps))[0])
            return answer

        def show_step(set_progress, request):
            return self.answer(lambda text, fraction: set_progress([text, f"{fraction:.3f}"]), request)

        show_step_from_cache.__name__ = f"show_step_from_cache_{self.id.replace('-', '_')}"
        show_step.__name__ = f"show_step_{self.id.replace('-', '_')}"
        # Pure: a whole answer is kept compressed (app.responses); a hand-over is not.
        pure_callback(*duplicates, Output(handed, "data"), *inputs,
                      prevent_initial_call="initial_duplicate")(show_step_from_cache)
        return pure_callback(*duplicates, Input(handed, "data"), background=True, prevent_initial_call=True,
                             cancel=[Input("_pages_location", "pathname")], interval=250,
                             **job_status_outputs())(show_step)

    def request(self, step, rest: Sequence) -> dict:
        """A step request as the browser sent it: the step store's value, the raw
        settings and extra inputs by name, and which input changed."""
        n = len(self.schema.names)
        return {"step": step, "raw": dict(zip(self.schema.names, rest[:n])),
                "extra": dict(zip(self.extra_inputs, rest[n:])), "triggered": self._triggered(list(self.extra_inputs))}

    def answer(self, report, request) -> list:
        """The step callback's outputs, in `output_map` order, for a `request` (any garbage in
        it is cleaned like the browser's values)."""
        request = request if isinstance(request, dict) else {}
        triggered = request.get("triggered") if isinstance(request.get("triggered"), str) else None
        raw, extra = request.get("raw"), request.get("extra")
        out = self.outputs(request.get("step"), raw if isinstance(raw, dict) else {},
                           extra if isinstance(extra, dict) else {}, triggered=triggered, report=report)
        if triggered is None:   # the page's first run: keep the notes the link left beside its fields
            out.update({f"note:{n}": dash.no_update for n in self.schema.names if not out[f"note:{n}"]})
        return [out[name] for name in self.output_map()]

    def answer_from_cache(self, request: dict) -> list:
        """`answer` plus no hand-over when everything the step needs is cached;
        otherwise no update at all and the request handed to the background callback
        (an answer that depends on what the cache holds now: never kept by the response cache)."""
        try:
            with cached_only():
                return [*self.answer(None, request), dash.no_update]
        except NotCached:
            mark_transient()
            return [*(dash.no_update for _ in self.output_map()), request]

    def code(self, step, raw: Mapping) -> str:
        """The run on screen as a self-contained Python script (`app.lessons.run_scripts`)."""
        from app.lessons.run_scripts import script_for
        index, _ = step_index(step, len(self.steps))
        values, _ = self.schema.check(dict(raw))
        return script_for(self.id, values, self.steps[index].figure)

    def _register_code_download(self, setting_kind) -> None:
        @dash.callback(Output(lesson_id("code-download", self.id), "data"),
                       Input(lesson_id("save-code", self.id), "n_clicks"),
                       State(lesson_id("step", self.id), "data"),
                       *[State(setting_id(self.id, n), "value") for n in self.schema.names],
                       prevent_initial_call=True)
        def download_code(_clicks, step, *raw):
            try:
                text = self.code(step, dict(zip(self.schema.names, raw)))
            except (KeyError, ValueError):   # no script for this step, or settings it cannot take
                return dash.no_update
            return {"content": text, "filename": f"learnscape-{self.id}.py", "type": "text/x-python"}

    def _triggered(self, extra_names: list[str]) -> str | None:
        try:
            trigger = dash.ctx.triggered_id
        except Exception:  # called outside a request (tests)
            return None
        if not isinstance(trigger, dict):
            return None
        if trigger.get("type") == "ls-step":
            return "step"
        if trigger.get("type") == "ls-setting":
            return "settings"
        for name, dependency in self.extra_inputs.items():
            if dependency.component_id == trigger:
                return name
        return None


def _duplicate(output: Output) -> Output:
    """The same output, allowed in more than one callback."""
    return Output(output.component_id, output.component_property, allow_duplicate=True)


def _fill_field_notes(component, lesson: str, notes: Mapping[str, str]) -> None:
    """Write each of a link's notes beside its field in a built layout."""
    if not notes:
        return
    stack = [component]
    while stack:
        node = stack.pop()
        node_id = getattr(node, "id", None)
        if isinstance(node_id, dict) and node_id.get("type") == "ls-field-note" and node_id.get("lesson") == lesson:
            node.children = notes.get(node_id.get("name"), "")
        children = getattr(node, "children", None)
        stack.extend(children if isinstance(children, (list, tuple)) else [children] if children is not None else [])


def _with_defaults(ctx: StepContext, schema: Schema) -> StepContext:
    return StepContext(ctx.index, ctx.step, schema.defaults(), ctx.extra, ctx.triggered, ctx.report, True,
                       ctx.raw)
