/* Taking results home (components/run_files.py): figures as PNG, SVG and CSV,
 * runs as JSON, and a saved run opened again. Everything happens in the browser. */
(function () {
  "use strict";

  const FORMAT = "learnscape-run";
  const PRESENTER_KEYS = ["present", "auto", "pace", "idle", "countdown", "speech", "kiosk"];

  function save(name, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type: type }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  const slug = () => window.location.pathname.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "") || "learnscape";

  /* One row per point: trace, x, y, z (a grid's z gives one row per cell). */
  function figureCsv(data) {
    const cell = (v) => {
      if (v === null || v === undefined) return "";
      const text = String(v);
      return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    const rows = [["trace", "x", "y", "z"]];
    (data || []).forEach((t, i) => {
      const name = t.name || `${t.type || "trace"} ${i + 1}`;
      const z = t.z;
      if (Array.isArray(z) && Array.isArray(z[0])) {
        z.forEach((row, j) => row.forEach((v, k) => rows.push([name, t.x ? t.x[k] : k, t.y ? t.y[j] : j, v])));
        return;
      }
      const n = Math.max((t.x || []).length, (t.y || []).length, (z || []).length);
      for (let k = 0; k < n; k++) rows.push([name, t.x ? t.x[k] : k, t.y ? t.y[k] : "", z ? z[k] : ""]);
    });
    return rows.map((r) => r.map(cell).join(",")).join("\n") + "\n";
  }

  function downloadFigure(button) {
    const box = button.closest(".ls-figure, .ls-figure-box");
    const gd = box && box.querySelector(".js-plotly-plot");
    if (!gd || !gd.data) return;
    const name = `${slug()}-${button.getAttribute("data-name") || "figure"}`;
    const format = button.getAttribute("data-format");
    if (format === "csv") { save(`${name}.csv`, figureCsv(gd.data), "text/csv"); return; }
    const width = 1600, height = Math.round(1600 * (gd.clientHeight || 900) / (gd.clientWidth || 1600));
    window.Plotly.downloadImage(gd, { format: format, width: width, height: height,
                                      scale: format === "png" ? 1.5 : 1, filename: name });
  }

  function currentSettings() {
    const params = new URLSearchParams(window.location.search);
    PRESENTER_KEYS.forEach((k) => params.delete(k));
    const step = Number(params.get("step") || "1");
    params.delete("step");
    return { step: Number.isFinite(step) ? step : 1, settings: Object.fromEntries(params.entries()) };
  }

  function saveRun(button) {
    const { step, settings } = currentSettings();
    const figures = {};
    document.querySelectorAll(".ls-figure:not(.ls-hidden) .js-plotly-plot").forEach((gd, i) => {
      const box = gd.closest(".ls-figure");
      const id = box && box.id ? (JSON.parse(box.id).name || `figure-${i + 1}`) : `figure-${i + 1}`;
      figures[id] = (gd.data || []).map((t) => ({ name: t.name, type: t.type, x: t.x, y: t.y, z: t.z }));
    });
    const run = {
      format: FORMAT, version: 1, lesson: window.location.pathname, step: step, settings: settings,
      link: window.location.pathname + window.location.search, saved: new Date().toISOString(), figures: figures,
    };
    save(`${slug()}-run.json`, JSON.stringify(run), "application/json");
    message(`Saved: step ${step}, ${Object.keys(settings).length ? "your settings" : "the default settings"}.`);
  }

  function message(text) {
    const el = document.querySelector(".ls-run-message");
    if (el) el.textContent = text;
  }

  /* What a run file must hold; anything else is refused whole, with the reason. */
  function checkRun(run) {
    if (!run || typeof run !== "object" || run.format !== FORMAT) return "it is not a Learnscape run file";
    if (typeof run.lesson !== "string" || !/^\/[a-z0-9-]+$/.test(run.lesson)) return "its lesson is missing";
    const lessons = JSON.parse((document.getElementById("site-lessons") || {}).getAttribute
      ? document.getElementById("site-lessons").getAttribute("data-lessons") || "[]" : "[]");
    if (!lessons.some((l) => l.path === run.lesson)) return `there is no lesson “${run.lesson.slice(0, 40)}”`;
    if (!Number.isInteger(run.step) || run.step < 1) return "its step is not a whole number from 1";
    if (!run.settings || typeof run.settings !== "object" || Array.isArray(run.settings)) return "its settings are missing";
    const bad = Object.entries(run.settings).find(([k, v]) => !/^[a-z_]{1,40}$/.test(k) ||
      !["string", "number", "boolean"].includes(typeof v) || String(v).length > 4000);
    if (bad) return `its setting “${String(bad[0]).slice(0, 40)}” is not a setting value`;
    return "";
  }

  /* A file from the "Open a saved run" upload (a data URL): the message to show, and
   * on success the lesson opens at the run's step and settings. */
  function open(contents, filename) {
    if (!contents) return "";
    let run;
    try {
      const base64 = String(contents).split(",")[1] || "";
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      run = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      return `Not opened: “${String(filename || "the file").slice(0, 60)}” is not JSON.`;
    }
    const problem = checkRun(run);
    if (problem) return `Not opened: ${problem}.`;
    const params = new URLSearchParams(Object.entries(run.settings).map(([k, v]) => [k, String(v)]));
    if (run.step > 1) params.set("step", String(run.step));
    window.dash_clientside.learnscape.navigate(`${run.lesson}${params.toString() ? "?" + params.toString() : ""}`);
    return `Opened the run saved ${String(run.saved || "").slice(0, 10)}: step ${run.step}.`;
  }

  document.addEventListener("click", (event) => {
    const tool = event.target.closest(".ls-tool[data-format]");
    if (tool) downloadFigure(tool);
    const saveButton = event.target.closest(".ls-save-run");
    if (saveButton) saveRun(saveButton);
  });
  window.learnscapeRunFiles = { figureCsv: figureCsv, checkRun: checkRun, open: open };
})();
