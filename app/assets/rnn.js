/* The RNN lesson: play the melody on the piano roll with Web Audio, and move a
 * playhead along the roll while it sounds.
 *
 * Sound starts only from the visitor's click on "Play" (never by itself, also
 * not in presenter mode). Each note is one oscillator (a triangle wave, as
 * the server's WAV) with a short attack, a gentle decay and a release,
 * scheduled on the AudioContext's clock; the playhead is a line over the
 * roll's plot area, placed with requestAnimationFrame from the same clock. */
(function () {
  "use strict";
  const ns = (window.dash_clientside = window.dash_clientside || {});
  const LEVEL = 0.22;          // peak gain of one note
  const ATTACK_S = 0.01, RELEASE_S = 0.03, DECAY_S = 0.8, SUSTAIN = 0.35;
  const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];
  const state = { ctx: null, voices: [], raf: 0, timer: 0 };

  function triggered() {
    const ctx = window.dash_clientside.callback_context;
    return (ctx.triggered || []).map((t) => {
      const id = (t.prop_id || "").slice(0, (t.prop_id || "").lastIndexOf("."));
      try { return JSON.parse(id).type; } catch (e) { return id; }
    });
  }

  function hz(pitch) { return 440 * Math.pow(2, (pitch - 69) / 12); }

  /* Notes from the store, checked: [[pitch, beats], ...] with sane numbers only. */
  function cleanNotes(melody) {
    const notes = melody && Array.isArray(melody.notes) ? melody.notes : [];
    return notes.filter((n) => Array.isArray(n) && n.length === 2 &&
      Number.isFinite(n[0]) && n[0] >= 21 && n[0] <= 108 && Number.isFinite(n[1]) && n[1] > 0 && n[1] <= 16)
      .slice(0, 256);
  }

  function playhead() { return document.querySelector(".rnn-playhead"); }

  function stop() {
    cancelAnimationFrame(state.raf);
    clearTimeout(state.timer);
    state.raf = 0;
    const now = state.ctx ? state.ctx.currentTime : 0;
    state.voices.forEach((v) => {
      try {
        v.gain.gain.cancelScheduledValues(now);
        v.gain.gain.setValueAtTime(v.gain.gain.value, now);
        v.gain.gain.linearRampToValueAtTime(0, now + 0.02);
        v.osc.stop(now + 0.03);
      } catch (e) { /* already stopped */ }
    });
    state.voices = [];
    const line = playhead();
    if (line) line.classList.remove("is-playing");
  }

  function voice(ctx, out, pitch, t0, seconds) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "triangle";
    osc.frequency.setValueAtTime(hz(pitch), t0);
    const release = Math.min(RELEASE_S, seconds / 2);
    const attack = Math.min(ATTACK_S, seconds / 2);
    const t1 = t0 + attack, tRelease = t0 + seconds - release;
    const g = gain.gain;
    g.setValueAtTime(0, t0);
    g.linearRampToValueAtTime(LEVEL, t1);
    g.setTargetAtTime(LEVEL * SUSTAIN, t1, DECAY_S * (1 - SUSTAIN));
    const atRelease = LEVEL * (SUSTAIN + (1 - SUSTAIN) * Math.exp(-(tRelease - t1) / (DECAY_S * (1 - SUSTAIN))));
    g.setValueAtTime(Math.max(atRelease, 0), Math.max(tRelease, t1));
    g.linearRampToValueAtTime(0, t0 + seconds);
    osc.connect(gain).connect(out);
    osc.start(t0);
    osc.stop(t0 + seconds + 0.05);
    return { osc: osc, gain: gain };
  }

  /* Where beat `b` is on the roll, in pixels from the roll box's left edge. */
  function geometry(box) {
    const gd = box.querySelector(".js-plotly-plot");
    const full = gd && gd._fullLayout;
    if (!full || !full.xaxis || !full._size) return null;
    const boxRect = box.getBoundingClientRect();
    const gdRect = gd.getBoundingClientRect();
    const left = gdRect.left - boxRect.left + full._size.l;
    return {
      x: (b) => left + full.xaxis.l2p(b),
      top: gdRect.top - boxRect.top + full._size.t,
      height: full._size.h,
    };
  }

  function movePlayhead(starts, notes, spb, t0, end) {
    const line = playhead();
    const box = line && line.parentElement;
    if (!line || !box || !state.ctx) return;
    line.classList.add("is-playing");
    const label = line.querySelector(".rnn-playhead-label") || line.appendChild(document.createElement("span"));
    label.className = "rnn-playhead-label";
    const frame = () => {
      if (!document.body.contains(line)) { stop(); return; }
      const elapsed = state.ctx.currentTime - t0;
      if (elapsed >= end) { stop(); return; }
      const beat = Math.max(elapsed, 0) / spb;
      const geo = geometry(box);
      if (geo) {
        line.style.transform = `translateX(${geo.x(beat)}px)`;
        line.style.top = `${geo.top}px`;
        line.style.height = `${geo.height}px`;
      }
      let i = 0;
      while (i + 1 < starts.length && starts[i + 1] <= beat) i += 1;
      const [pitch, beats] = notes[i];
      label.textContent = `${i + 1}/${notes.length} ${NAMES[pitch % 12]}${Math.floor(pitch / 12) - 1}:${beats}`;
      state.raf = requestAnimationFrame(frame);
    };
    state.raf = requestAnimationFrame(frame);
  }

  function play(melody) {
    const notes = cleanNotes(melody);
    if (!notes.length) return "No melody on this step.";
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return "This browser cannot play sound (no Web Audio); use Download WAV.";
    stop();
    if (!state.ctx) state.ctx = new Context();
    const ctx = state.ctx;
    if (ctx.state === "suspended") ctx.resume();
    const bpm = Math.min(Math.max(Number(melody.bpm) || 120, 40), 240);
    const spb = 60 / bpm;
    const out = ctx.createGain();
    out.gain.value = 0.8;
    out.connect(ctx.destination);
    const t0 = ctx.currentTime + 0.08;
    const starts = [];
    let beat = 0;
    notes.forEach(([pitch, beats]) => {
      starts.push(beat);
      state.voices.push(voice(ctx, out, pitch, t0 + beat * spb, beats * spb));
      beat += beats;
    });
    const seconds = beat * spb;
    movePlayhead(starts, notes, spb, t0, seconds);
    state.timer = setTimeout(() => { state.voices = []; }, (seconds + 0.5) * 1000);
    return `Playing ${notes.length} notes at ${bpm} beats per minute (${seconds.toFixed(1)} s).`;
  }

  ns.rnn = {
    /* Play, Stop, or a new melody on the roll (which stops the old one). */
    audio: function (playClicks, stopClicks, melody) {
      const types = triggered();
      if (types.indexOf("ls-play") >= 0 && playClicks) return play(melody);
      stop();
      return types.indexOf("ls-stop") >= 0 ? "Stopped." : "";
    },
  };

  // Leaving the page (client-side navigation) silences the melody.
  window.addEventListener("popstate", stop);
  window.addEventListener("_dashprivate_pushstate", stop);
})();
