/* Learnscape clientside: the step player, step navigation, the URL, keys.
 * Everything here runs in the browser so that playing, scrubbing and moving
 * between steps never waits for the server. */
(function () {
  "use strict";
  const ns = (window.dash_clientside = window.dash_clientside || {});
  const noUpdate = () => window.dash_clientside.no_update;

  function triggeredIds() {
    const ctx = window.dash_clientside.callback_context;
    return (ctx.triggered || [])
      .map((t) => t.prop_id || "")
      .filter((p) => p && p !== ".")
      .map((p) => {
        const id = p.slice(0, p.lastIndexOf("."));
        try { return JSON.parse(id); } catch (e) { return { type: id }; }
      });
  }

  function isPlainObject(x) {
    return x !== null && typeof x === "object" && !Array.isArray(x);
  }

  function merge(base, patch) {
    const out = Object.assign({}, base);
    Object.keys(patch).forEach((k) => {
      out[k] = isPlainObject(base[k]) && isPlainObject(patch[k]) ? merge(base[k], patch[k]) : patch[k];
    });
    return out;
  }

  function frameCount(payloads) {
    return Math.max(1, ...payloads.map((p) => (p && p.frames ? p.frames.length : 1)));
  }

  function applyFrame(payload, k) {
    const frames = payload.frames || [];
    const frame = frames[Math.min(k, frames.length - 1)] || {};
    const data = payload.figure.data.slice();
    const patches = frame.data || [];
    const traces = frame.traces || patches.map((_, j) => j);
    traces.forEach((ti, j) => { data[ti] = Object.assign({}, data[ti], patches[j]); });
    const layout = frame.layout ? merge(payload.figure.layout || {}, frame.layout) : payload.figure.layout;
    return { data: data, layout: presenting() ? exhibitLayout(layout || {}) : narrowLayout(layout || {}) };
  }

  /* On a phone a 3-D scene is narrow: its camera steps back (PHONE_ZOOM) so that the axis
   * titles, which stand beside the box, stay inside the figure. */
  const PHONE_ZOOM = 1.4;
  const phone = () => Boolean(window.matchMedia && window.matchMedia("(max-width: 600px)").matches);
  function narrowLayout(layout) {
    if (!phone()) return layout;
    const out = Object.assign({}, layout);
    Object.keys(layout).forEach((key) => {
      const eye = /^scene\d*$/.test(key) && layout[key] && layout[key].camera && layout[key].camera.eye;
      if (!eye) return;
      const far = { x: eye.x * PHONE_ZOOM, y: eye.y * PHONE_ZOOM, z: eye.z * PHONE_ZOOM };
      out[key] = Object.assign({}, layout[key], { camera: Object.assign({}, layout[key].camera, { eye: far }) });
    });
    return out;
  }

  const reducedMotion = () => Boolean(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  const presenting = () => document.body && document.body.classList.contains("presenting");

  /* Presenter mode is read from two or three metres away: ticks of at least
   * 18 px, titles of at least 28 px, legends and labels of at least 20 px. */
  const EXHIBIT = { tick: 18, axisTitle: 22, title: 28, text: 20 };
  function exhibitLayout(layout) {
    const font = (f, size) => Object.assign({}, f, { size: Math.max((f && f.size) || 0, size) });
    const out = Object.assign({}, layout, { font: font(layout.font, EXHIBIT.text) });
    const title = typeof layout.title === "string" ? { text: layout.title } : layout.title;
    if (title && title.text) {
      out.title = Object.assign({}, title, { font: font(title.font, EXHIBIT.title) });
      // room for the larger title above a legend that sits on top of the plot
      const margin = layout.margin || {};
      out.margin = Object.assign({}, margin, { t: Math.max(margin.t || 0, 80) + 24 });
    }
    out.legend = Object.assign({}, layout.legend, { font: font(layout.legend && layout.legend.font, EXHIBIT.text) });
    const scale = (axis) => {
      const t = typeof axis.title === "string" ? { text: axis.title } : axis.title;
      return Object.assign({}, axis, { tickfont: font(axis.tickfont, EXHIBIT.tick) },
        t ? { title: Object.assign({}, t, { font: font(t.font, EXHIBIT.axisTitle) }) } : {});
    };
    Object.keys(layout).forEach((key) => {
      if (/^[xy]axis\d*$/.test(key) && layout[key]) out[key] = scale(layout[key]);
      if (/^scene\d*$/.test(key) && layout[key]) {
        const scene = Object.assign({}, layout[key]);
        ["xaxis", "yaxis", "zaxis"].forEach((a) => { if (scene[a]) scene[a] = scale(scene[a]); });
        out[key] = scene;
      }
    });
    return out;
  }

  function setUrl(mutate) {
    const url = new URL(window.location.href);
    mutate(url.searchParams);
    const next = url.pathname + (url.searchParams.toString() ? "?" + url.searchParams.toString() : "") + url.hash;
    if (next !== window.location.pathname + window.location.search + window.location.hash) {
      window.history.replaceState(window.history.state, "", next);
    }
  }

  function urlValue(v) {
    if (Array.isArray(v)) return v.length ? "1" : "0";
    if (v === true) return "1";
    if (v === false) return "0";
    const text = String(v).trim();
    const number = Number(text);
    return text !== "" && Number.isFinite(number) ? String(number) : text;
  }

  /* Playback keeps its speed on a slow device by skipping frames, and never
   * queues frames faster than they are painted: a tick that comes while the
   * last frame is not on screen yet is dropped, so a click (Next, Pause) is
   * never stuck behind a backlog of frames. Per player: when the shown frame
   * was advanced (ms), and whether it is still being drawn. */
  const playback = {};
  const playerOf = () => (triggeredIds().find((id) => id.player) || {}).player || "";
  function playbackOf(player) { return (playback[player] = playback[player] || { at: 0, drawing: false }); }
  function drawn(player) {
    const state = playbackOf(player);
    state.drawing = true;
    // Two animation frames: the one that draws the figure, and the one after its paint.
    requestAnimationFrame(() => requestAnimationFrame(() => { state.drawing = false; }));
  }

  ns.learnscape = {
    /* The player's state machine: which frame, and whether it plays. */
    playerControl: function (play, step, reset, ticks, payloads, value, disabled, interval) {
      const last = frameCount(payloads) - 1;
      let v = Math.min(Number(value) || 0, last);
      let playing = !disabled;
      const types = triggeredIds().map((id) => id.type);
      const has = (t) => types.indexOf(t) >= 0;
      if (types.length === 0 || has("pl-frames")) {
        const payload = payloads.find((p) => p && p.frames) || {};
        const presenting = Boolean(window.learnscapePresenter && window.learnscapePresenter.active);
        v = payload.start === "last" && !presenting ? last : 0;
        playing = (Boolean(payload.autoplay) || presenting) && last > 0;
        if (playing && reducedMotion()) { playing = false; v = last; }   // the result, without the motion
      } else if (has("pl-play")) {
        if (playing) { playing = false; } else { if (v >= last) v = 0; playing = last > 0; }
      } else if (has("pl-step")) {
        playing = false; v = Math.min(v + 1, last);
      } else if (has("pl-reset")) {
        playing = false; v = 0;
      } else if (has("pl-interval")) {
        const state = playbackOf(playerOf());
        if (!playing || state.drawing) {
          return [noUpdate(), noUpdate(), noUpdate(), noUpdate(), noUpdate(), noUpdate(), noUpdate()];
        }
        const now = performance.now(), ms = Math.max(Number(interval) || 120, 1);
        v = v + Math.max(1, Math.floor((now - state.at) / ms));   // the frames due since the last one shown
        state.at = now;
        if (v >= last) { v = last; playing = false; }
      }
      if (playing && !has("pl-interval")) playbackOf(playerOf()).at = performance.now();
      const still = last <= 0;   // nothing to play on this step
      return [v, last, !playing, playing ? "❚❚ Pause" : "▶ Play", still, still, still];
    },

    /* Every figure of a player drawn at frame `value`, and its caption. */
    playerRender: function (value, payloads, meta) {
      const k = Math.max(0, Number(value) || 0);
      drawn(playerOf());
      const figures = payloads.map((p) => (p && p.figure ? applyFrame(p, k) : noUpdate()));
      const first = payloads.find((p) => p && p.frames);
      let label = "";
      if (first) {
        const n = first.frames.length;
        const i = Math.min(k, n - 1);
        label = (first.labels && first.labels[i]) || (n > 1 ? `${(meta && meta.label) || "step"} ${i} of ${n - 1}` : "");
      }
      return [figures, label];
    },

    /* Previous / next / a dot: the new step index. */
    stepNavigate: function (prev, next, dots, step, steps) {
      const ids = triggeredIds();
      if (!ids.length) return noUpdate();
      const id = ids[0];
      const last = (steps || []).length - 1;
      const current = Number(step) || 0;
      let target = current;
      if (id.type === "ls-prev") target = Math.max(current - 1, 0);
      else if (id.type === "ls-next") target = Math.min(current + 1, last);
      else if (id.type === "ls-dot") target = Math.min(Math.max(Number(id.index) || 0, 0), last);
      else return noUpdate();
      // Figures that play by themselves stop drawing the old step's frames (graph-layout.js).
      if (target !== current) document.dispatchEvent(new CustomEvent("learnscape:step-change"));
      return target;
    },

    /* Show the current step, and keep the address bar a link to this state. */
    stepShow: function (step, settingValues, steps, defaults) {
      const n = (steps || []).length;
      const s = Math.min(Math.max(Number(step) || 0, 0), Math.max(n - 1, 0));
      const ctx = window.dash_clientside.callback_context;
      const settingInputs = (ctx.inputs_list && ctx.inputs_list[1]) || [];
      setUrl((params) => {
        if (s > 0) params.set("step", String(s + 1)); else params.delete("step");
        settingInputs.forEach((input) => {
          const name = input.id.name;
          const value = input.value;
          const dflt = defaults ? defaults[name] : undefined;
          if (value === undefined || value === null || urlValue(value) === urlValue(dflt)) params.delete(name);
          else params.set(name, urlValue(value));
        });
      });
      document.dispatchEvent(new CustomEvent("learnscape:step", { detail: { step: s, steps: steps } }));
      return [
        Array.from({ length: n }, (_, i) => (i === s ? "ls-step is-current" : "ls-step")),
        Array.from({ length: n }, (_, i) => (i === s ? "ls-dot is-current" : i < s ? "ls-dot is-done" : "ls-dot")),
        `Step ${s + 1} of ${n}`,
        s === 0,
        s === n - 1,
      ];
    },
  };

  function lessonProgress(store) {
    const path = window.location.pathname;
    const lessons = (store && store.lessons) || {};
    return lessons[path] || { seen: [], tasks: [], step: 0 };
  }

  function union(a, b) {
    return Array.from(new Set([].concat(a || [], b || []))).sort((x, y) => x - y);
  }

  function lessonIndex() {
    const el = document.getElementById("site-lessons");
    try { return JSON.parse((el && el.getAttribute("data-lessons")) || "[]"); } catch (e) { return []; }
  }

  Object.assign(ns.learnscape, {
    /* Remember, in local storage, which steps and tasks of this lesson were done. */
    tourRecord: function (steps, achieved, store) {
      if (!steps || !steps.length || typeof steps[0] !== "number") return noUpdate();
      const path = window.location.pathname;
      const step = steps[0];
      const previous = lessonProgress(store);
      const record = {
        seen: union(previous.seen, [step]),
        tasks: union(previous.tasks, (achieved && achieved[0]) || []),
        step: step,
      };
      const lessons = Object.assign({}, (store && store.lessons) || {});
      lessons[path] = record;
      // Keys the tour does not own (e.g. the quiz's answers) stay as they are.
      return Object.assign({}, store, { lessons: lessons, last: { path: path, step: step } });
    },

    /* The home page: progress per lesson card, and where "resume" goes. */
    tourShow: function (store, ids) {
      const index = lessonIndex();
      const lessons = (store && store.lessons) || {};
      const badges = (ids || []).map((id) => {
        const record = lessons[id.path];
        if (!record) return "";
        const total = (index.find((l) => l.path === id.path) || {}).steps || 0;
        const tasks = (record.tasks || []).length;
        const seen = (record.seen || []).length;
        return (seen >= total && total ? "✓ all steps seen" : `${seen} of ${total} steps seen`) +
          (tasks ? ` · ${tasks} task${tasks > 1 ? "s" : ""} done ✓` : "");
      });
      const last = store && store.last;
      if (!last || !last.path) return [badges, "/", "home-resume is-hidden"];
      return [badges, `${last.path}?step=${(Number(last.step) || 0) + 1}`, "home-resume"];
    },

    /* Tick the "try it" boxes of tasks done now or on an earlier visit. */
    taskShow: function (achieved, store) {
      const ctx = window.dash_clientside.callback_context;
      // With a single (ALL) output, outputs_list is that output's list itself.
      const list = ctx.outputs_list || [];
      const outputs = Array.isArray(list[0]) ? list[0] : list;
      const done = union(achieved, lessonProgress(store).tasks);
      return outputs.map((o) => (done.indexOf(o.id.index) >= 0 ? "ls-task is-done" : "ls-task"));
    },

    lessonIndex: lessonIndex,
  });

  /* "Next lesson" on a lesson's last step. */
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest(".ls-next-lesson");
    if (!button) return;
    const lessons = lessonIndex();
    const i = lessons.findIndex((l) => l.path === window.location.pathname);
    const next = lessons[(i + 1) % Math.max(lessons.length, 1)];
    if (next) ns.learnscape.navigate(next.path + "?step=1");
  });

  /* Client-side navigation, as dcc.Link does it: no reload. */
  ns.learnscape.navigate = function (url) {
    window.history.pushState({}, "", url);
    window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
    window.scrollTo(0, 0);
  };

  /* Keys: never while the visitor types into a field or works a widget. */
  function typing(el) {
    if (!el) return false;
    const tag = (el.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable) return true;
    const role = el.getAttribute && el.getAttribute("role");
    if (role === "slider" || role === "combobox" || role === "listbox" || role === "option") return true;
    return Boolean(el.closest && el.closest(".dash-spreadsheet-container, .dash-dropdown"));
  }

  function click(selector, which) {
    const all = document.querySelectorAll(selector);
    const el = which === "last" ? all[all.length - 1] : all[0];
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  }

  const KEYS = {
    ArrowRight: [".ls-next"], ArrowDown: [".ls-next"], " ": [".ls-next"], PageDown: [".ls-next"],
    n: [".ls-next"], N: [".ls-next"],
    ArrowLeft: [".ls-prev"], ArrowUp: [".ls-prev"], PageUp: [".ls-prev"], p: [".ls-prev"], P: [".ls-prev"],
    Home: [".ls-dot", "first"], End: [".ls-dot", "last"],
  };
  ns.learnscape.isTyping = typing;

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (typing(event.target)) return;
    // Space and Enter on a button, link or summary press it; they do not move the lesson.
    if ((event.key === " " || event.key === "Enter") && event.target.closest &&
        event.target.closest("button, a, summary, [role=button]")) return;
    const action = KEYS[event.key];
    if (!action || !document.querySelector(".ls-lesson")) return;
    event.preventDefault();
    click(action[0], action[1]);
  });

  /* Formulas: narration writes each as a code span `\(tex\)` or `\[tex\]`
     (components/math_markup.py); typeset them with KaTeX as they appear. */
  const FORMULA = /^\\([([])([\s\S]*)\\([)\]])$/;
  function typeset(root) {
    if (!window.katex || !root.querySelectorAll) return;
    root.querySelectorAll(".ls-step code:not(.ls-math)").forEach((el) => {
      const m = FORMULA.exec(el.textContent.trim());
      if (!m || (m[1] === "(") !== (m[3] === ")")) return;
      el.classList.add("ls-math");
      const display = m[1] === "[";
      if (display) el.classList.add("ls-math-display");
      window.katex.render(m[2], el, { displayMode: display, throwOnError: false });
      // Chrome may break a line between a formula and the comma after it:
      // keep trailing punctuation inside the (unbreakable) formula element.
      const next = el.nextSibling;
      const punct = !display && next && next.nodeType === 3 && /^[.,;:!?)\]]+/.exec(next.data);
      if (punct) {
        next.data = next.data.slice(punct[0].length);
        el.appendChild(document.createTextNode(punct[0]));
      }
    });
  }
  let typesetPending = false;
  new MutationObserver(() => {
    if (typesetPending) return;
    typesetPending = true;
    requestAnimationFrame(() => { typesetPending = false; typeset(document.body); });
  }).observe(document.documentElement, { childList: true, subtree: true });
  typeset(document.body);   // the first server answer's narration (components/first_paint.py)

  /* A step that takes more than a second says what is being computed, with a bar
   * (background lessons show their own measured progress in the site's job bar). */
  const WORKING_AFTER_MS = 800;
  let busySince = null;
  function working() {
    let el = document.getElementById("ls-working");
    if (!el) {
      el = document.createElement("div");
      el.id = "ls-working";
      el.className = "site-job";
      el.setAttribute("role", "status");
      el.innerHTML = '<span class="ls-working-text"></span><progress max="1"></progress>';
      document.body.appendChild(el);
    }
    return el;
  }
  setInterval(() => {
    const lesson = document.querySelector(".ls-lesson");
    const busy = lesson && lesson.querySelector('[data-dash-is-loading="true"]') &&
      !document.querySelector(".site-job.is-running:not(#ls-working)");
    const now = Date.now();
    busySince = busy ? busySince || now : null;
    const show = busy && now - busySince > WORKING_AFTER_MS;
    const el = document.getElementById("ls-working") || (show ? working() : null);
    if (!el) return;
    if (show && !el.classList.contains("is-running")) {
      const title = (lesson.querySelector(".ls-step.is-current h2") || {}).textContent || "this step";
      el.querySelector(".ls-working-text").textContent = `Computing “${title.trim()}”…`;
    }
    el.classList.toggle("is-running", Boolean(show));
  }, 200);

  /* Phones: swipe the narration left for the next step, right for the previous one. */
  let touch = null;
  document.addEventListener("touchstart", (event) => {
    const t = event.touches[0];
    touch = event.touches.length === 1 && event.target.closest(".ls-narration") ? { x: t.clientX, y: t.clientY } : null;
  }, { passive: true });
  document.addEventListener("touchend", (event) => {
    if (!touch) return;
    const t = event.changedTouches[0];
    const dx = t.clientX - touch.x, dy = t.clientY - touch.y;
    touch = null;
    if (Math.abs(dx) < 60 || Math.abs(dy) > 0.6 * Math.abs(dx)) return;
    const button = document.querySelector(dx < 0 ? ".ls-lesson .ls-next" : ".ls-lesson .ls-prev");
    if (button && !button.disabled) button.click();
  }, { passive: true });

  document.addEventListener("click", (event) => {
    const link = event.target.closest(".site-menu-link");
    if (link) link.closest("details").open = false;   // the menu closes on the way to a lesson
    if (event.target.closest(".ls-to-figure")) {
      const stage = document.querySelector(".ls-stage");
      if (stage) stage.scrollIntoView({ behavior: reducedMotion() ? "auto" : "smooth", block: "start" });
    }
  });
  ns.learnscape.typeset = typeset;
})();
