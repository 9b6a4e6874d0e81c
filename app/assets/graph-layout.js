/* The graph-layout lesson: draw a scene's frame in the browser.
 *
 * A scene (built by components/graph_layout_figures.py) holds a base figure
 * with, per panel, a links trace, a circles trace and (on top) an optional
 * arrows trace, and the circle positions of every frame. Here the links are
 * rebuilt from the edge list, the circles are sized from the current axis
 * scale (so they stay circles of the true radius at any zoom, pan or resize),
 * and the metrics table of the frame is written. While a frame is still being
 * drawn, newer frames are skipped and the latest one is drawn after it, so a
 * big scene plays as fast as the machine can draw, never faster. */
(function () {
  "use strict";
  const ns = (window.dash_clientside = window.dash_clientside || {});
  const noUpdate = () => window.dash_clientside.no_update;

  /* Big scenes use WebGL traces; a browser without WebGL (or where Plotly cannot
   * start it) gets the same traces as SVG: slower, but the same picture. */
  let webgl = null;
  function hasWebGL() {
    if (webgl === null) {
      try {
        const canvas = document.createElement("canvas");
        webgl = Boolean(window.WebGLRenderingContext &&
          (canvas.getContext("webgl") || canvas.getContext("experimental-webgl")));
      } catch (e) { webgl = false; }
    }
    return webgl;
  }

  function asSvg(data) {
    return data.map((trace) => (trace.type === "scattergl" ? Object.assign({}, trace, { type: "scatter" }) : trace));
  }

  function graphDiv() {
    return document.querySelector(".gl-layout-graph .js-plotly-plot");
  }

  /* Pixels per data unit along panel `axis` ("x", "x2", ...) as drawn now, or null. */
  function pxPerUnit(gd, axis) {
    const full = gd && gd._fullLayout;
    const ax = full && full["xaxis" + axis.slice(1)];
    if (!ax || !ax._length || !ax.range) return null;
    const span = Math.abs(Number(ax.range[1]) - Number(ax.range[0]));
    return span > 0 ? ax._length / span : null;
  }

  function circleSize(gd, scene, panel, fallback) {
    const scale = pxPerUnit(gd, panel.axis);
    return scale ? Math.max(1, 2 * scene.radius * scale) : fallback;
  }

  /* Keep circles to scale after a zoom, pan or resize (no loop: only when the size is off). */
  function watch(gd) {
    if (!gd || gd._glWatched || !gd.on) return;
    gd._glWatched = true;
    const resize = () => {
      const scene = gd._glScene;
      if (!scene || !gd.data) return;
      const sizes = [], traces = [];
      scene.panels.forEach((panel) => {
        const trace = gd.data[panel.circles];
        if (!trace || !trace.marker) return;
        const size = circleSize(gd, scene, panel, trace.marker.size);
        if (Math.abs(size - trace.marker.size) > 0.25) { sizes.push(size); traces.push(panel.circles); }
      });
      if (traces.length) window.Plotly.restyle(gd, { "marker.size": sizes }, traces);
    };
    gd.on("plotly_relayout", resize);
    gd.on("plotly_afterplot", () => {
      if (webgl !== false && gd.querySelector(".no-webgl")) {   // Plotly could not start WebGL here
        webgl = false;
        window.Plotly.react(gd, asSvg(gd.data), gd.layout);
        return;
      }
      resize();
      drawn(gd);
    });
  }

  /* A panel's coordinates per frame, from the server's whole quanta (components/
   * graph_layout_figures.quantize): frame 0 as whole steps, each later frame as its change;
   * frame k = quantum * (q0 + ... + qk). Decoded once per panel, on its first drawing. */
  const decoded = new WeakMap();
  function frames(changes, quantum) {
    const out = [];
    let sum = null;
    changes.forEach((row) => {
      sum = sum === null ? row.slice() : sum.map((v, i) => v + row[i]);
      out.push(sum.map((v) => v * quantum));
    });
    return out;
  }
  function coords(scene, panel) {
    let out = decoded.get(panel);
    if (!out) {
      out = { x: frames(panel.x, scene.quantum), y: frames(panel.y, scene.quantum) };
      decoded.set(panel, out);
    }
    return out;
  }

  function lines(edges, X, Y) {
    const m = edges.length / 2;
    const x = new Array(3 * m), y = new Array(3 * m);
    for (let e = 0; e < m; e++) {
      const i = edges[2 * e], j = edges[2 * e + 1];
      x[3 * e] = X[i]; x[3 * e + 1] = X[j]; x[3 * e + 2] = null;
      y[3 * e] = Y[i]; y[3 * e + 1] = Y[j]; y[3 * e + 2] = null;
    }
    return { x: x, y: y };
  }

  function arrows(X, Y, DX, DY) {
    const n = X.length;
    const x = new Array(3 * n), y = new Array(3 * n), size = new Array(3 * n);
    for (let i = 0; i < n; i++) {
      x[3 * i] = X[i]; x[3 * i + 1] = X[i] + DX[i]; x[3 * i + 2] = null;
      y[3 * i] = Y[i]; y[3 * i + 1] = Y[i] + DY[i]; y[3 * i + 2] = null;
      // An arrowhead only where the arrow is long enough to show one.
      const long = Math.hypot(DX[i], DY[i]) > 0.15;
      size[3 * i] = 0; size[3 * i + 1] = long ? 11 : 0; size[3 * i + 2] = 0;
    }
    return { x: x, y: y, size: size };
  }

  function fmtEnergy(e) {
    if (e === null || e === undefined || !Number.isFinite(e)) return "–";
    if (e === 0) return "0";
    if (Math.abs(e) >= 1e5 || Math.abs(e) < 1e-3) return e.toExponential(1).replace("e+", "e").replace("e-", "e−");
    return Number(e.toPrecision(3)).toLocaleString("en-US");
  }

  /* The metrics table at frame k, as the cells of its fixed rows: class of each row,
   * swatch style, note class, then name, note, E, overlaps, link length, crossings.
   * Overlaps, length and crossings are those of the last measured frame at or before k. */
  function metricCells(scene, k, rows) {
    const out = [[], [], [], [], [], [], [], [], []];
    for (let r = 0; r < rows; r++) {
      const panel = scene.panels[r];
      if (!panel) {
        ["ls-hidden", {}, "gl-measured", "", "", "", "", "", ""].forEach((v, i) => out[i].push(v));
        continue;
      }
      const m = panel.metrics;
      let j = 0;
      for (let i = 0; i < m.frames.length; i++) if (m.frames[i] <= k) j = i;
      const notes = [];
      if (panel.status[k]) notes.push(panel.status[k]);
      if (m.steps[j] !== scene.steps[k]) notes.push(`overlaps, length, crossings: step ${m.steps[j]}`);
      const ratio = m.edge_ratio[j];
      [
        "", { background: panel.color }, panel.status[k] ? "gl-measured gl-status" : "gl-measured",
        panel.name, notes.join(" · "), fmtEnergy(panel.energy[k]), m.overlaps[j].toLocaleString("en-US"),
        ratio === null ? "–" : ratio >= 1000 ? ratio.toExponential(1).replace("e+", "e") : ratio.toFixed(3),
        (m.exact[j] ? "" : "≈ ") + m.crossings[j].toLocaleString("en-US"),
      ].forEach((v, i) => out[i].push(v));
    }
    return out;
  }

  /* The figure of frame k of a scene: links rebuilt from the edge list, circles to scale. */
  function frameFigure(scene, k, gd) {
    const data = scene.figure.data.slice();
    scene.panels.forEach((panel) => {
      const c = coords(scene, panel);
      const X = c.x[Math.min(k, c.x.length - 1)];
      const Y = c.y[Math.min(k, c.y.length - 1)];
      data[panel.edges] = Object.assign({}, data[panel.edges], lines(scene.edges, X, Y));
      const base = data[panel.circles];
      data[panel.circles] = Object.assign({}, base, {
        x: X, y: Y, marker: Object.assign({}, base.marker, { size: circleSize(gd, scene, panel, base.marker.size) }),
      });
      if (panel.arrows !== undefined && panel.ax) {
        const a = arrows(X, Y, panel.ax[Math.min(k, panel.ax.length - 1)], panel.ay[Math.min(k, panel.ay.length - 1)]);
        const trace = data[panel.arrows];
        data[panel.arrows] = Object.assign({}, trace, {
          x: a.x, y: a.y, marker: Object.assign({}, trace.marker, { size: a.size }),
        });
      }
    });
    return { data: scene.webgl && !hasWebGL() ? asSvg(data) : data, layout: scene.figure.layout };
  }

  /* Mark the graph as drawing until Plotly has drawn (or 2 s, should no drawing follow). */
  function busy(gd) {
    gd._glBusy = true;
    gd._glSince = performance.now();
    clearTimeout(gd._glBusyTimer);
    gd._glBusyTimer = setTimeout(() => { gd._glBusy = false; }, 2000);
  }

  /* After a drawing: a breath for the page as long as the drawing took (so a slow drawing
   * takes at most half of the page's time), then the frame asked for meanwhile, if any. */
  function drawn(gd) {
    if (!gd._glBusy) return;
    clearTimeout(gd._glBusyTimer);
    const took = performance.now() - (gd._glSince || performance.now());
    clearTimeout(gd._glBreathTimer);   // one breath per drawing (a restyle draws again)
    gd._glBreathTimer = setTimeout(() => {
      gd._glBusy = false;
      const scene = gd._glScene;
      if (scene && gd._glWanted !== undefined && gd._glWanted !== gd._glShown) {
        const k = gd._glWanted;
        gd._glShown = k;
        busy(gd);
        const figure = frameFigure(scene, k, gd);
        window.Plotly.react(gd, figure.data, figure.layout);
      }
    }, Math.max(30, Math.min(took, 2000)));
  }

  ns.graph_layout = {
    /* The figure of frame `value` of `scene`, and its metrics table rows. */
    render: function (value, scene) {
      const ctx = window.dash_clientside.callback_context;
      const rows = ((ctx.outputs_list || [])[1] || []).length;
      if (!scene || !scene.figure || !scene.panels) return Array(10).fill(noUpdate());
      const last = Math.max(0, (scene.frames || 1) - 1);
      const k = Math.min(Math.max(Number(value) || 0, 0), last);
      const gd = graphDiv();
      const cells = metricCells(scene, k, rows);
      if (gd && gd._glScene === scene && gd._glBusy && k !== last) {
        // Still drawing the last frame (a big scene without WebGL is slow): skip this one; the
        // figure catches up with the wanted frame when the drawing ends, so playing never
        // swamps the page.
        gd._glWanted = k;
        return [noUpdate()].concat(cells);
      }
      if (gd) {
        gd._glScene = scene;
        gd._glShown = gd._glWanted = k;
        busy(gd);
        watch(gd);
      }
      return [frameFigure(scene, k, gd)].concat(cells);
    },

    /* Run: ask the server for the playground's run. New graph: the next seed, then run. */
    request: function (runClicks, newClicks, seed) {
      const ctx = window.dash_clientside.callback_context;
      const fired = ((ctx.triggered || [])[0] || {}).prop_id || "";
      let next = noUpdate();
      if (fired.indexOf("new-graph") >= 0) {
        const s = parseInt(String(seed), 10);
        next = String(Number.isFinite(s) && s >= 0 && s < 1000000 ? s + 1 : 1);
      }
      return [next, Date.now()];
    },

    /* The Run button glows when the settings differ from those of the run shown. */
    stale: function (ran) {
      const values = Array.prototype.slice.call(arguments, 1);
      if (!Array.isArray(ran)) return "gl-run";
      const same = values.every((v, i) => String(v === null || v === undefined ? "" : v).trim() ===
        String(ran[i] === null || ran[i] === undefined ? "" : ran[i]).trim());
      return same ? "gl-run" : "gl-run is-stale";
    },
  };
})();
