/* The point editor (components/point_editor.py): a visitor's own points on a
 * Plotly figure. Click to add a point of the chosen class, drag a point to move
 * it, right-click or press long (touch) to remove it. Every edit packs the
 * points (app/lessons/own_points.py: "P" + base64url of int16 thousandths and
 * 4-bit labels) into the lesson's hidden setting; the server checks them,
 * trains on them, and the address bar carries them while the link stays short
 * enough (else the note beside the editor says so and the link leaves them out).
 * Only an editor box with the class "is-on" edits its figure. */
(function () {
  "use strict";
  const SCALE = 1000;
  const PREFIX = "P";
  const HIT_PX = 10;          // a press this close to a point takes that point
  const MOVE_PX = 4;          // a press that moves less than this is a click
  const LONG_PRESS_MS = 550;  // a touch held this long removes the point under it
  const PREVIEW = "pe-preview";

  // -- the packed form ------------------------------------------------------------------

  function decode(code) {
    if (!code || code[0] !== PREFIX) return [];
    let bin;
    try {
      const body = code.slice(1).replace(/-/g, "+").replace(/_/g, "/");
      bin = atob(body + "===".slice((body.length + 3) % 4));
    } catch (e) { return []; }
    const n = Math.floor((2 * bin.length) / 9);
    if (4 * n + Math.ceil(n / 2) !== bin.length) return [];
    const int16 = (i) => { const v = (bin.charCodeAt(i) << 8) | bin.charCodeAt(i + 1); return v >= 32768 ? v - 65536 : v; };
    const points = [];
    for (let i = 0; i < n; i++) {
      const byte = bin.charCodeAt(4 * n + (i >> 1));
      points.push({ x: int16(4 * i) / SCALE, y: int16(4 * i + 2) / SCALE, c: i % 2 ? byte & 15 : byte >> 4 });
    }
    return points;
  }

  function encode(points, coordMax) {
    if (!points.length) return "";
    const n = points.length;
    const bytes = new Uint8Array(4 * n + Math.ceil(n / 2));
    const view = new DataView(bytes.buffer);
    const limit = Math.round(coordMax * SCALE);
    const clamp = (v) => Math.max(-limit, Math.min(limit, Math.round(v * SCALE)));
    points.forEach((p, i) => {
      view.setInt16(4 * i, clamp(p.x));
      view.setInt16(4 * i + 2, clamp(p.y));
      bytes[4 * n + (i >> 1)] |= i % 2 ? p.c & 15 : (p.c & 15) << 4;
    });
    let bin = "";
    bytes.forEach((b) => { bin += String.fromCharCode(b); });
    return PREFIX + btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // -- the page's parts -----------------------------------------------------------------

  const activeBox = () => document.querySelector(".pe-editor.is-on");

  function plotOf(box) {
    const el = document.getElementById(box.dataset.graph);
    if (!el) return null;
    return el.classList.contains("js-plotly-plot") ? el : el.querySelector(".js-plotly-plot");
  }

  function fieldOf(box) { return document.getElementById(box.dataset.setting); }

  function chosenClass(box) {
    const checked = box.querySelector(".pe-classes input:checked");
    return checked ? Number(checked.value) || 0 : 0;
  }

  function colors(box) {
    try { return JSON.parse(box.dataset.colors || "[]"); } catch (e) { return []; }
  }

  function readPoints(box) { const field = fieldOf(box); return decode(field ? field.value : ""); }

  function writePoints(box, points) {
    const code = encode(points, Number(box.dataset.coordMax) || 10);
    window.dash_clientside.set_props(JSON.parse(box.dataset.setting), { value: code });
    showPreview(box, points);
  }

  /* Where a page position falls on the figure's plane: {x, y, px, py, gd}, or null off the plot area. */
  function onPlane(box, clientX, clientY) {
    const gd = plotOf(box);
    const full = gd && gd._fullLayout;
    if (!full || !full.xaxis || !full.yaxis || typeof full.xaxis.p2l !== "function") return null;
    const rect = gd.getBoundingClientRect();
    const xa = full.xaxis, ya = full.yaxis;
    const px = clientX - rect.left - xa._offset;
    const py = clientY - rect.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
    return { x: xa.p2l(px), y: ya.p2l(py), px: px, py: py, gd: gd };
  }

  /* The index of the point within HIT_PX of a plane position, or -1. */
  function hit(points, at) {
    const xa = at.gd._fullLayout.xaxis, ya = at.gd._fullLayout.yaxis;
    let best = -1, bestDistance = HIT_PX;
    points.forEach((p, i) => {
      const d = Math.hypot(xa.l2p(p.x) - at.px, ya.l2p(p.y) - at.py);
      if (d <= bestDistance) { best = i; bestDistance = d; }
    });
    return best;
  }

  /* The edited points drawn over the figure at once, until the server's trained figure replaces it. */
  function showPreview(box, points) {
    const gd = plotOf(box);
    if (!gd || !window.Plotly || !gd.data) return;
    const palette = colors(box);
    const trace = {
      x: points.map((p) => p.x), y: points.map((p) => p.y), mode: "markers", name: PREVIEW,
      showlegend: false, hoverinfo: "skip",
      marker: { size: 10, color: points.map((p) => palette[p.c % palette.length] || "#444"),
                line: { width: 1.5, color: "#222" } },
    };
    const at = gd.data.findIndex((t) => t.name === PREVIEW);
    if (at >= 0) window.Plotly.deleteTraces(gd, at);
    window.Plotly.addTraces(gd, trace);
  }

  // -- the gestures ---------------------------------------------------------------------

  let press = null;   // {box, points, index, start: {x, y}, moved, timer}

  function begin(box, at, clientX, clientY, touch) {
    const points = readPoints(box);
    press = { box: box, points: points, index: hit(points, at), at: at, x: clientX, y: clientY, moved: false,
              timer: null };
    if (touch && press.index >= 0) {
      press.timer = window.setTimeout(() => {
        if (press && !press.moved) { remove(box, press.index); press = null; }
      }, LONG_PRESS_MS);
    }
  }

  function move(clientX, clientY) {
    if (!press) return;
    if (Math.hypot(clientX - press.x, clientY - press.y) >= MOVE_PX) press.moved = true;
    if (press.moved && press.index >= 0) {
      const at = onPlane(press.box, clientX, clientY);
      if (at) {
        press.points[press.index] = Object.assign({}, press.points[press.index], { x: at.x, y: at.y });
        showPreview(press.box, press.points);
      }
    }
  }

  function end() {
    if (!press) return;
    const p = press;
    press = null;
    if (p.timer) window.clearTimeout(p.timer);
    if (p.index >= 0 && p.moved) writePoints(p.box, p.points);
    else if (p.index < 0 && !p.moved) {
      p.points.push({ x: p.at.x, y: p.at.y, c: chosenClass(p.box) });
      writePoints(p.box, p.points);
    }
  }

  function remove(box, index) {
    const points = readPoints(box);
    if (index < 0 || index >= points.length) return;
    points.splice(index, 1);
    writePoints(box, points);
  }

  function claim(event) { event.preventDefault(); event.stopPropagation(); }

  document.addEventListener("mousedown", (event) => {
    const box = activeBox();
    const at = box && onPlane(box, event.clientX, event.clientY);
    if (!at) return;
    claim(event);   // the plane is the editor's now: no zoom box, no pan
    if (event.button === 0) begin(box, at, event.clientX, event.clientY, false);
  }, true);
  document.addEventListener("mousemove", (event) => { if (press) { claim(event); move(event.clientX, event.clientY); } }, true);
  document.addEventListener("mouseup", (event) => { if (press) { claim(event); end(); } }, true);
  document.addEventListener("contextmenu", (event) => {
    const box = activeBox();
    const at = box && onPlane(box, event.clientX, event.clientY);
    if (!at) return;
    claim(event);
    remove(box, hit(readPoints(box), at));
  }, true);

  document.addEventListener("touchstart", (event) => {
    const box = activeBox();
    const touch = event.touches[0];
    const at = box && event.touches.length === 1 && onPlane(box, touch.clientX, touch.clientY);
    if (!at) return;
    claim(event);
    begin(box, at, touch.clientX, touch.clientY, true);
  }, { capture: true, passive: false });
  document.addEventListener("touchmove", (event) => {
    if (!press) return;
    claim(event);
    move(event.touches[0].clientX, event.touches[0].clientY);
  }, { capture: true, passive: false });
  document.addEventListener("touchend", (event) => { if (press) { claim(event); end(); } }, { capture: true, passive: false });
  document.addEventListener("touchcancel", () => { if (press && press.timer) window.clearTimeout(press.timer); press = null; }, true);

  document.addEventListener("click", (event) => {
    const clear = event.target.closest && event.target.closest(".pe-editor [id*='pe-clear']");
    if (!clear) return;
    const box = clear.closest(".pe-editor");
    writePoints(box, []);
  });

  /* A file over the size limit never leaves the browser (the upload drops it): say so. */
  document.addEventListener("change", (event) => {
    const input = event.target;
    const box = input.closest && input.closest(".pe-editor");
    const file = box && input.type === "file" && input.files && input.files[0];
    const limit = box && Number(box.dataset.fileMax);
    if (!file || !(file.size > limit)) return;
    window.dash_clientside.set_props(JSON.parse(box.dataset.message), {
      children: `${file.name} was not loaded: the file has ${file.size.toLocaleString("en")} bytes; ` +
                `at most ${limit.toLocaleString("en")}.`,
    });
  }, true);

  // -- the link -------------------------------------------------------------------------

  /* After the lesson writes its state into the address bar: leave the points out of a link
   * that would be too long, and say beside the editor whether the link holds them. */
  document.addEventListener("learnscape:step", () => {
    const box = document.querySelector(".pe-editor");
    if (!box) return;
    const note = box.querySelector(".pe-link");
    const name = JSON.parse(box.dataset.setting).name;
    const url = new URL(window.location.href);
    const code = url.searchParams.get(name) || "";
    const n = decode(code).length;
    const limit = Number(box.dataset.linkMax) || 2000;
    let text = "";
    if (n && url.href.length > limit) {
      url.searchParams.delete(name);
      window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
      text = `The link cannot hold your ${n} points (it would be ${url.href.length + code.length + name.length + 2} ` +
             `characters; links stay under ${limit}), so it leaves them out. A link holds about 250 points.`;
    } else if (n) {
      text = `The link holds your ${n} point${n === 1 ? "" : "s"}.`;
    }
    if (note && note.textContent !== text) note.textContent = text;
    if (note) note.classList.toggle("is-warning", text !== "" && !url.searchParams.has(name));
  });

  window.learnscapePointEditor = { decode: decode, encode: encode };
})();
