/* The melody keyboard (components/melody_keyboard.py): each key appends its note,
 * at the length picked, to the note text; "Last note" removes the last one and
 * "Clear" empties it. Only the text changes here: the server checks it when the
 * visitor asks to train with it. */
(function () {
  "use strict";
  const ns = (window.dash_clientside = window.dash_clientside || {});
  const NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

  function noteName(pitch) { return NAMES[pitch % 12] + (Math.floor(pitch / 12) - 1); }

  /* The id (parsed) of the input that fired, or null. */
  function trigger() {
    const fired = (window.dash_clientside.callback_context.triggered || [])[0];
    if (!fired || !fired.value) return null;
    const id = fired.prop_id.slice(0, fired.prop_id.lastIndexOf("."));
    try { return JSON.parse(id); } catch (e) { return null; }
  }

  function words(text) { return String(text || "").trim().split(/[\s,;]+/).filter(Boolean); }

  ns.melody_keyboard = {
    edit: function (_keys, _undo, _clear, length, text) {
      const id = trigger();
      if (!id) return window.dash_clientside.no_update;
      const notes = words(text);
      if (id.type === "ls-melody-clear") return "";
      if (id.type === "ls-melody-undo") return notes.slice(0, -1).join(" ");
      const beats = Number(length);
      if (!Number.isInteger(id.pitch) || !Number.isFinite(beats)) return window.dash_clientside.no_update;
      return notes.concat([noteName(id.pitch) + ":" + beats]).join(" ");
    },
  };
})();
