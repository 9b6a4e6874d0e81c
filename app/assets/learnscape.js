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
    return { data: data, layout: layout };
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

  ns.learnscape = {
    /* The player's state machine: which frame, and whether it plays. */
    playerControl: function (play, step, reset, ticks, payloads, value, disabled) {
      const last = frameCount(payloads) - 1;
      let v = Math.min(Number(value) || 0, last);
      let playing = !disabled;
      const types = triggeredIds().map((id) => id.type);
      const has = (t) => types.indexOf(t) >= 0;
      if (types.length === 0 || has("pl-frames")) {
        const payload = payloads.find((p) => p && p.frames) || {};
        v = payload.start === "last" ? last : 0;
        playing = Boolean(payload.autoplay) && last > 0;
      } else if (has("pl-play")) {
        if (playing) { playing = false; } else { if (v >= last) v = 0; playing = last > 0; }
      } else if (has("pl-step")) {
        playing = false; v = Math.min(v + 1, last);
      } else if (has("pl-reset")) {
        playing = false; v = 0;
      } else if (has("pl-interval")) {
        if (!playing) return [noUpdate(), noUpdate(), noUpdate(), noUpdate()];
        v = v + 1;
        if (v >= last) { v = last; playing = false; }
      }
      return [v, last, !playing, playing ? "❚❚ Pause" : "▶ Play"];
    },

    /* Every figure of a player drawn at frame `value`, and its caption. */
    playerRender: function (value, payloads, meta) {
      const k = Math.max(0, Number(value) || 0);
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
      if (id.type === "ls-prev") return Math.max(current - 1, 0);
      if (id.type === "ls-next") return Math.min(current + 1, last);
      if (id.type === "ls-dot") return Math.min(Math.max(Number(id.index) || 0, 0), last);
      return noUpdate();
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

  /* Keys: never while the visitor types into a field or works a widget. */
  function typing(el) {
    if (!el) return false;
    const tag = (el.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable) return true;
    const role = el.getAttribute && el.getAttribute("role");
    return role === "slider" || role === "combobox" || role === "listbox" || role === "option";
  }

  function click(selector, which) {
    const all = document.querySelectorAll(selector);
    const el = which === "last" ? all[all.length - 1] : all[0];
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  }

  const KEYS = {
    ArrowRight: [".ls-next"], ArrowDown: [".ls-next"], " ": [".ls-next"], PageDown: [".ls-next"],
    ArrowLeft: [".ls-prev"], ArrowUp: [".ls-prev"], PageUp: [".ls-prev"],
    Home: [".ls-dot", "first"], End: [".ls-dot", "last"],
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (typing(event.target)) return;
    const action = KEYS[event.key];
    if (!action || !document.querySelector(".ls-lesson")) return;
    event.preventDefault();
    click(action[0], action[1]);
  });
})();
