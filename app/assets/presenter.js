/* Presenter mode (?present=1) for exhibits, and keys that work everywhere.
 *
 * Presenter mode: large type, captions, controls hidden, auto-advance by each
 * step's duration, on to the next lesson and round again (the attract loop),
 * an idle countdown back to the start, optional speech, an offline badge, and
 * a notes window kept in step over a BroadcastChannel.
 *
 * URL parameters: present=1, auto=0 (start paused), pace=<0.01..10> (scales
 * every step's duration), idle=<10..3600> seconds before the countdown,
 * countdown=<3..120> seconds, speech=1, kiosk=1 (speech without a gesture).
 * Keys: . or b blackout, f fullscreen, a auto-advance, s speech, ? help,
 * Esc closes overlays; in presenter mode F5 restarts the lesson and Shift+F5
 * plays on from the current step (what presentation clickers send).
 */
(function () {
  "use strict";

  const params = new URLSearchParams(window.location.search);
  const clamp = (x, lo, hi, dflt) => {
    if (x === null || String(x).trim() === "") return dflt;
    const v = Number(x);
    return Number.isFinite(v) ? Math.min(Math.max(v, lo), hi) : dflt;
  };
  const PRESENTER_KEYS = ["present", "auto", "pace", "idle", "countdown", "speech", "kiosk"];

  const state = {
    active: params.get("present") === "1",
    auto: params.get("auto") !== "0",
    pace: clamp(params.get("pace"), 0.01, 10, 1),
    idleS: clamp(params.get("idle"), 10, 3600, 120),
    countdownS: clamp(params.get("countdown"), 3, 120, 15),
    speech: params.get("speech") === "1",
    gestured: params.get("kiosk") === "1",
    online: true,
    step: 0,
    steps: [],
    timer: null,
    lastInput: Date.now(),
    countdownLeft: null,
  };
  window.learnscapePresenter = state;
  state.narrationText = () => narrationText();
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("learnscape-presenter") : null;
  const isNotesWindow = () => window.location.pathname === "/presenter-notes";
  const NOTES_KEY = "learnscape-presenter-notes";

  /* ---------- overlays, made once, outside React's tree ---------- */
  function overlay(id, html) {
    let el = document.getElementById(id);
    if (!el) {
      el = document.createElement("div");
      el.id = id;
      el.className = "pr-overlay";
      el.hidden = true;
      el.innerHTML = html;
      document.body.appendChild(el);
    }
    return el;
  }
  const blackout = () => overlay("pr-blackout", "");
  const help = () => overlay("pr-help", `
    <div class="pr-card"><h2>Keys</h2><table>
    <tr><td>→ ↓ Space PageDown N</td><td>next step</td></tr>
    <tr><td>← ↑ PageUp P</td><td>previous step</td></tr>
    <tr><td>Home / End</td><td>first / last step</td></tr>
    <tr><td>. or B</td><td>blackout</td></tr><tr><td>F</td><td>full screen</td></tr>
    <tr><td>A</td><td>auto-advance on / off</td></tr><tr><td>S</td><td>spoken narration on / off</td></tr>
    <tr><td>?</td><td>this help</td></tr><tr><td>Esc</td><td>close</td></tr>
    </table><p>Presenter mode: add <code>?present=1</code> to any lesson's address.
    <button type="button" class="pr-notes-open">Open presenter notes</button></p></div>`);
  const idle = () => overlay("pr-idle", `<div class="pr-card"><h2>Still there?</h2>
    <p>Going back to the start in <strong class="pr-idle-seconds"></strong> s.</p>
    <button type="button" class="pr-stay">I'm still here</button></div>`);
  const badge = () => overlay("pr-badge", "");

  function showBadge() {
    const el = badge();
    const parts = [];
    if (!state.online) parts.push('<span class="pr-offline">offline — showing what is loaded</span>');
    if (state.active) parts.push(`<span>${state.auto ? "▶ auto" : "❚❚ paused — press A"}</span>`);
    el.innerHTML = parts.join(" ");
    el.hidden = parts.length === 0;
  }

  /* ---------- stepping ---------- */
  function click(selector, which) {
    const all = document.querySelectorAll(selector);
    const el = which === "last" ? all[all.length - 1] : all[0];
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  }

  function lessons() {
    return window.dash_clientside && window.dash_clientside.learnscape
      ? window.dash_clientside.learnscape.lessonIndex() : [];
  }

  function presenterQuery(step) {
    const q = new URLSearchParams();
    PRESENTER_KEYS.forEach((k) => { if (params.has(k)) q.set(k, params.get(k)); });
    if (state.active) q.set("present", "1");
    q.set("auto", state.auto ? "1" : "0");
    q.set("step", String(step));
    return q.toString();
  }

  function goToLesson(offset) {
    const all = lessons();
    if (!all.length) return;
    const i = all.findIndex((l) => l.path === window.location.pathname);
    // Without the server the next lesson cannot load: loop this one instead.
    if (!state.online) { click(".ls-dot", "first"); return; }
    const next = all[((i < 0 ? -1 : i) + offset + all.length) % all.length];
    window.dash_clientside.learnscape.navigate(`${next.path}?${presenterQuery(1)}`);
  }

  function advance() {
    if (!click(".ls-next")) goToLesson(+1);
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = null;
    if (!state.active || !state.auto || !state.steps.length) return;
    const step = state.steps[state.step] || {};
    const seconds = (Number(step.duration) || 12) * state.pace;
    state.timer = setTimeout(advance, Math.max(seconds * 1000, 50));
  }

  /* Captions longer than their box scroll through it during the step, like a
   * teleprompter: a pause on the first lines, then steadily to the last ones. */
  function scrollCaptions() {
    cancelAnimationFrame(state.captionFrame);
    const box = document.querySelector(".ls-steps");
    if (!box) return;
    box.scrollTop = 0;
    if (!state.active || !state.auto) return;
    const seconds = ((state.steps[state.step] || {}).duration || 12) * state.pace;
    const hold = 0.15 * seconds * 1000, travel = 0.7 * seconds * 1000, begin = performance.now();
    const tick = (now) => {
      // The text may still be arriving (Markdown and formulas render late): measure every frame.
      const extra = box.scrollHeight - box.clientHeight;
      if (extra > 0) box.scrollTop = extra * Math.min(1, Math.max(0, (now - begin - hold) / travel));
      if (now - begin < hold + travel) state.captionFrame = requestAnimationFrame(tick);
    };
    state.captionFrame = requestAnimationFrame(tick);
  }

  function setAuto(on) {
    state.auto = on;
    schedule();
    scrollCaptions();
    showBadge();
    broadcast();
  }

  /* ---------- speech: one sentence per utterance, captions stay ---------- */
  function narrationText() {
    const current = document.querySelector(".ls-step.is-current");
    if (!current) return { title: "", text: "" };
    const clone = current.cloneNode(true);
    clone.querySelectorAll("details, .ls-task, h2").forEach((n) => n.remove());
    // Formulas are said in words (components/spoken_math.py), never dropped.
    clone.querySelectorAll("code[data-spoken]").forEach((n) => { n.textContent = ` ${n.getAttribute("data-spoken")} `; });
    return {
      title: (current.querySelector("h2") || {}).textContent || "",
      text: clone.textContent.replace(/\s+/g, " ").trim(),
    };
  }

  function speak() {
    if (!state.speech || !state.gestured || !("speechSynthesis" in window)) return;
    const synth = window.speechSynthesis;
    synth.cancel();
    const voices = synth.getVoices() || [];
    if (!voices.length) return;
    const lang = (document.documentElement.lang || "en").slice(0, 2);
    const voice = voices.find((v) => v.localService && v.lang.startsWith(lang)) ||
      voices.find((v) => v.localService) || voices[0];
    const { title, text } = narrationText();
    const sentences = (title + ". " + text).match(/[^.!?]+[.!?]*/g) || [];
    sentences.map((s) => s.trim()).filter(Boolean).forEach((sentence) => {
      const u = new SpeechSynthesisUtterance(sentence);
      u.voice = voice;
      u.rate = 1;
      synth.speak(u);
    });
  }

  /* ---------- the notes window ---------- */
  function broadcast() {
    if (!channel || isNotesWindow() || !state.steps.length) return;
    const n = state.steps.length;
    const next = state.steps[state.step + 1];
    const lesson = lessons().find((l) => l.path === window.location.pathname) || {};
    const message = {
      type: "state", lesson: lesson.name || "", step: state.step, steps: n,
      title: (state.steps[state.step] || {}).title || "",
      next: next ? next.title : "(next lesson)",
      narration: narrationText().text, auto: state.auto,
      duration: ((state.steps[state.step] || {}).duration || 12) * state.pace,
    };
    channel.postMessage(message);
    // A notes window opened later shows this at once, before the next change of step.
    try { localStorage.setItem(NOTES_KEY, JSON.stringify(message)); } catch (e) { /* storage off */ }
  }

  if (channel) {
    channel.onmessage = (event) => {
      const m = event.data || {};
      if (isNotesWindow() && m.type === "state") renderNotes(m);
      if (!isNotesWindow() && m.type === "command") {
        if (m.action === "next") advance();
        if (m.action === "prev") click(".ls-prev");
        if (m.action === "auto") setAuto(!state.auto);
        if (m.action === "hello") broadcast();
      }
    };
  }

  /* The notes root is drawn by Dash after this script runs: wait for it. */
  function showStoredNotes(tries = 50) {
    let stored = null;
    try { stored = JSON.parse(localStorage.getItem(NOTES_KEY) || "null"); } catch (e) { stored = null; }
    if (!stored) return;
    if (document.getElementById("notes-root")) renderNotes(stored);
    else if (tries > 0) setTimeout(() => showStoredNotes(tries - 1), 100);
  }

  function renderNotes(m) {
    const root = document.getElementById("notes-root");
    if (!root) return;
    const esc = (t) => String(t).replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" }[c]));
    root.innerHTML = `<p class="notes-where">${esc(m.lesson)} — step ${m.step + 1} of ${m.steps}
      · ${m.auto ? "auto-advance on" : "paused"} · ${Math.round(m.duration)} s</p>
      <h1>${esc(m.title)}</h1><p class="notes-text">${esc(m.narration)}</p>
      <p class="notes-next">Next: ${esc(m.next)}</p>`;
  }

  /* ---------- idle reset (presenter mode) ---------- */
  function input() {
    state.lastInput = Date.now();
    document.body.classList.remove("cursor-idle");
    if (state.countdownLeft !== null) { state.countdownLeft = null; idle().hidden = true; }
  }

  function tick() {
    const quiet = (Date.now() - state.lastInput) / 1000;
    if (quiet > 3) document.body.classList.add("cursor-idle");
    if (!state.active || state.auto) return;
    if (state.countdownLeft === null && quiet > state.idleS) state.countdownLeft = state.countdownS;
    if (state.countdownLeft === null) return;
    const el = idle();
    el.hidden = false;
    el.querySelector(".pr-idle-seconds").textContent = String(state.countdownLeft);
    state.countdownLeft -= 1;
    if (state.countdownLeft < 0) {
      state.countdownLeft = null;
      el.hidden = true;
      state.auto = true;
      const first = lessons()[0];
      if (first && first.path !== window.location.pathname && state.online) {
        window.dash_clientside.learnscape.navigate(`${first.path}?${presenterQuery(1)}`);
      } else {
        click(".ls-dot", "first");
        schedule();
      }
      showBadge();
    }
  }

  /* ---------- health: an offline badge that clears itself ---------- */
  async function checkHealth() {
    let ok = false;
    try {
      const controller = new AbortController();
      const timeout = setTimeout(() => controller.abort(), 4000);
      const r = await fetch("/healthz", { cache: "no-store", signal: controller.signal });
      clearTimeout(timeout);
      ok = r.ok;
    } catch (e) { ok = false; }
    if (ok !== state.online) { state.online = ok; document.body.classList.toggle("is-offline", !ok); showBadge(); }
  }

  /* ---------- keys ---------- */
  const NEXT_KEYS = ["ArrowRight", "ArrowDown", " ", "PageDown", "n", "N"];
  const NAV_KEYS = NEXT_KEYS.concat(["ArrowLeft", "ArrowUp", "PageUp", "p", "P", "Home", "End"]);

  function toggle(el, on) { el.hidden = on === undefined ? !el.hidden : !on; }

  document.addEventListener("keydown", (event) => {
    input();
    const L = window.dash_clientside && window.dash_clientside.learnscape;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (L && L.isTyping && L.isTyping(event.target)) return;
    const key = event.key;
    if (key === "." || key === "b" || key === "B") { toggle(blackout()); event.preventDefault(); return; }
    if (key === "?") { toggle(help()); event.preventDefault(); return; }
    if (key === "Escape") { blackout().hidden = true; help().hidden = true; return; }
    if (key === "f" || key === "F") {
      if (document.fullscreenElement) document.exitFullscreen(); else document.documentElement.requestFullscreen().catch(() => {});
      event.preventDefault();
      return;
    }
    if (key === "a" || key === "A") { setAuto(!state.auto); event.preventDefault(); return; }
    if (key === "s" || key === "S") {
      state.speech = !state.speech;
      state.gestured = true;
      if (state.speech) speak(); else if ("speechSynthesis" in window) window.speechSynthesis.cancel();
      return;
    }
    if (!state.active) return;
    if (key === "F5") {
      event.preventDefault();
      if (event.shiftKey) setAuto(true); else { click(".ls-dot", "first"); setAuto(true); }
      return;
    }
    if (NAV_KEYS.indexOf(key) >= 0) {
      // A person with a clicker is driving: stop auto-advance until idle.
      state.gestured = true;
      if (state.auto) setAuto(false);
      const last = document.querySelector(".ls-next");
      if (NEXT_KEYS.indexOf(key) >= 0 && last && last.disabled) goToLesson(+1);
    }
  }, true);

  ["pointerdown", "pointermove", "touchstart", "wheel"].forEach((type) =>
    document.addEventListener(type, () => {
      input();
      if (type !== "pointermove") state.gestured = true;
    }, { passive: true }));

  document.addEventListener("click", (event) => {
    const t = event.target;
    if (t.closest(".pr-stay")) input();
    if (t.closest(".pr-notes-open")) window.open("/presenter-notes", "learnscape-notes", "width=900,height=700");
    if (t.closest(".site-help-button")) toggle(help());
    if (t.closest("#pr-blackout")) blackout().hidden = true;
    const command = t.closest(".notes-command");
    if (command && channel) channel.postMessage({ type: "command", action: command.getAttribute("data-action") });
  });

  document.addEventListener("learnscape:step", (event) => {
    state.step = event.detail.step;
    state.steps = event.detail.steps || [];
    schedule();
    showBadge();
    scrollCaptions();
    setTimeout(() => { broadcast(); speak(); }, 300);
  });

  function start() {
    if (isNotesWindow()) {
      document.body.classList.add("notes-window");
      showStoredNotes();
      if (channel) channel.postMessage({ type: "command", action: "hello" });
      return;
    }
    if (state.active) document.body.classList.add("presenting");
    showBadge();
    setInterval(tick, 1000);
    setInterval(checkHealth, 10000);
    window.addEventListener("offline", checkHealth);
    window.addEventListener("online", checkHealth);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
