/* The graph-layout lesson: draw a scene's frame in the browser.
 *
 * A scene (built by components/graph_layout_figures.py) holds a base figure
 * with, per panel, a circles trace and (on top) an optional arrows trace, and
 * the circle positions of every frame. Here the links are drawn from the edge
 * list as a path under the circles, the circles are sized from the current axis
 * scale (so they stay circles of the true radius at any zoom, pan or resize),
 * and the metrics table of the frame is written. While a frame is still being
 * drawn, newer frames are skipped and the latest one is drawn after it, so a
 * big scene plays as fast as the machine can draw, never faster. */
(function () {
  "use strict";
  const ns = (window.dash_clientside = window.dash_clientside || {});
  const noUpdate = () => window.dash_clientside.no_update;

  /* Big scenes use WebGL traces where the browser draws WebGL on a graphics card; a
   * browser without WebGL, or drawing it in software (no GPU: SwiftShader, llvmpipe, where
   * 2,000 WebGL circles take twice as long as SVG), or where Plotly cannot start it, gets
   * the same traces as SVG: the same picture. */
  const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software|basic render/i;
  let webgl = null;
  function hasWebGL() {
    if (webgl === null) {
      try {
        const gl = window.WebGLRenderingContext &&
          document.createElement("canvas").getContext("webgl", { failIfMajorPerformanceCaveat: true });
        const info = gl && gl.getExtension("WEBGL_debug_renderer_info");
        const renderer = gl ? String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : "";
        webgl = Boolean(gl) && !SOFTWARE_GL.test(renderer);
        const lose = gl && gl.getExtension("WEBGL_lose_context");
        if (lose) lose.loseContext();   // a browser allows only a few contexts at once
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

  /* Pixels per data unit of panel `axis` once `scene` is drawn in `gd`'s box, from the
   * scene's layout: the circles of a new scene get their size in its first drawing (a
   * restyle after it would draw every circle again). With x and y at one scale, plotly.js
   * widens the range of the axis with room to spare, so the scale is the smaller one. */
  function layoutPxPerUnit(gd, scene, axis) {
    const layout = scene.figure.layout, full = gd && gd._fullLayout;
    const xa = layout["xaxis" + axis.slice(1)], ya = layout["yaxis" + axis.slice(1)];
    const width = (gd && gd.clientWidth) || (full && full.width);
    if (!xa || !ya || !xa.range || !ya.range || !width || !layout.height) return null;
    const margin = Object.assign({ l: 80, r: 80, t: 100, b: 80 }, layout.margin);
    const xLength = (width - margin.l - margin.r) * (xa.domain[1] - xa.domain[0]);
    const yLength = (layout.height - margin.t - margin.b) * (ya.domain[1] - ya.domain[0]);
    const scale = Math.min(xLength / Math.abs(xa.range[1] - xa.range[0]), yLength / Math.abs(ya.range[1] - ya.range[0]));
    return scale > 0 && Number.isFinite(scale) ? scale : null;
  }

  function circleSize(gd, scene, panel, fallback, fresh) {
    const scale = fresh ? layoutPxPerUnit(gd, scene, panel.axis) : pxPerUnit(gd, panel.axis);
    return scale ? Math.max(1, 2 * scene.radius * scale) : fallback;
  }

  /* Circles to the scale drawn now (no loop: a restyle only when a size is off). */
  function resize(gd) {
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
  }

  /* Keep circles to scale after a zoom, pan or resize. */
  function watch(gd) {
    if (!gd || gd._glWatched || !gd.on) return;
    gd._glWatched = true;
    gd.on("plotly_relayout", () => resize(gd));
    gd.on("plotly_afterplot", () => {
      if (webgl !== false && gd.querySelector(".no-webgl")) {   // Plotly could not start WebGL here
        webgl = false;
        window.Plotly.react(gd, asSvg(gd.data), gd.layout);
        return;
      }
      resize(gd);
      drawn(gd);
    });
  }

  /* A scene whose figure went out before its graph was on the page (the first one, as the
   * page loads): once the graph has drawn it, watch it and bring its circles to scale. */
  function adopt(scene, k, tries) {
    const gd = graphDiv();
    if (gd && gd._fullLayout && gd.data && gd.data.length && gd.on) {
      if (gd._glScene) return;
      gd._glScene = scene;
      gd._glShown = gd._glWanted = k;
      watch(gd);
      resize(gd);
    } else if (tries > 0) {
      setTimeout(() => adopt(scene, k, tries - 1), 50);
    }
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

  /* The links of a panel as one SVG path in data units, "M x1,y1L x2,y2" per link, to
   * `digits` decimals. One path shape draws 5,821 links several times faster than a
   * scatter trace of lines, whose every point plotly.js processes on its own. */
  function linkPath(edges, X, Y, digits) {
    const parts = new Array(edges.length / 2);
    for (let e = 0; e < parts.length; e++) {
      const i = edges[2 * e], j = edges[2 * e + 1];
      parts[e] = `M${X[i].toFixed(digits)},${Y[i].toFixed(digits)}L${X[j].toFixed(digits)},${Y[j].toFixed(digits)}`;
    }
    return parts.join("");
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

  /* The figure of frame k of a scene: links rebuilt from the edge list (a path shape under
   * each panel's circles), circles to scale (`fresh`: the scene is not drawn yet, its scale
   * comes from its layout). */
  function frameFigure(scene, k, gd, fresh) {
    const data = scene.figure.data.slice();
    const digits = Math.max(0, Math.min(6, Math.ceil(-Math.log10(scene.quantum))));
    const shapes = [];
    scene.panels.forEach((panel) => {
      const c = coords(scene, panel);
      const X = c.x[Math.min(k, c.x.length - 1)];
      const Y = c.y[Math.min(k, c.y.length - 1)];
      if (scene.edges.length) {
        shapes.push({
          type: "path", layer: "below", xref: panel.axis, yref: "y" + panel.axis.slice(1),
          path: linkPath(scene.edges, X, Y, digits), line: panel.links,
        });
      }
      const base = data[panel.circles];
      data[panel.circles] = Object.assign({}, base, {
        x: X, y: Y, marker: Object.assign({}, base.marker, { size: circleSize(gd, scene, panel, base.marker.size, fresh) }),
      });
      if (panel.arrows !== undefined && panel.ax) {
        const a = arrows(X, Y, panel.ax[Math.min(k, panel.ax.length - 1)], panel.ay[Math.min(k, panel.ay.length - 1)]);
        const trace = data[panel.arrows];
        data[panel.arrows] = Object.assign({}, trace, {
          x: a.x, y: a.y, marker: Object.assign({}, trace.marker, { size: a.size }),
        });
      }
    });
    return {
      data: scene.webgl && !hasWebGL() ? asSvg(data) : data,
      layout: Object.assign({}, scene.figure.layout, { shapes: shapes }),
    };
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
      if (scene && scene !== gd._glHeld && gd._glWanted !== undefined && gd._glWanted !== gd._glShown) {
        const k = gd._glWanted;
        gd._glShown = k;
        busy(gd);
        const figure = frameFigure(scene, k, gd);
        window.Plotly.react(gd, figure.data, figure.layout);
      }
    }, Math.max(30, Math.min(took, 2000)));
  }

  /* Another step asked for: the scene on screen draws no more frames (they would only hold
   * back the drawing of the next step, a big scene's frame taking 0.2-0.5 s without a GPU);
   * the next scene plays. */
  document.addEventListener("learnscape:step-change", () => {
    const gd = graphDiv();
    if (gd) { gd._glHeld = gd._glScene; gd._glWanted = gd._glShown; }
  });

  ns.graph_layout = {
    /* The figure of frame `value` of `scene`, and its metrics table rows. */
    render: function (value, scene) {
      const ctx = window.dash_clientside.callback_context;
      const rows = ((ctx.outputs_list || [])[1] || []).length;
      if (!scene || !scene.figure || !scene.panels) return Array(10).fill(noUpdate());
      const last = Math.max(0, (scene.frames || 1) - 1);
      const k = Math.min(Math.max(Number(value) || 0, 0), last);
      const gd = graphDiv();
      if (gd && gd._glHeld === scene) return Array(10).fill(noUpdate());   // its step is left
      const cells = metricCells(scene, k, rows);
      if (gd && gd._glScene === scene && gd._glBusy && k !== last) {
        // Still drawing the last frame (a big scene without WebGL is slow): skip this one; the
        // figure catches up with the wanted frame when the drawing ends, so playing never
        // swamps the page.
        gd._glWanted = k;
        return [noUpdate()].concat(cells);
      }
      const fresh = !gd || gd._glScene !== scene;
      if (gd) {
        gd._glScene = scene;
        gd._glShown = gd._glWanted = k;
        busy(gd);
        watch(gd);
      } else {
        adopt(scene, k, 200);
      }
      return [frameFigure(scene, k, gd, fresh)].concat(cells);
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
