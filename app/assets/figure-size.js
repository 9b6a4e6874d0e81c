/* A figure on screen always has its box's size.
 *
 * A lesson's figures that a step does not show are hidden (display: none), and
 * dcc.Graph draws them all once when the page loads: a hidden figure has no size,
 * so plotly.js gives it its default, 700 × 450 px. plotly.js then keeps a figure's
 * first size through every later redraw (Plotly.react) until it is resized, and
 * dcc.Graph resizes a figure only a while (0.1 s or more) after its box changed.
 * So a figure that appeared on a later step was drawn 700 px wide, wider than a
 * phone, and the page scrolled sideways until the resize caught up.
 *
 * Here, for every autosized figure (dcc.Graph's responsive ones):
 * - a redraw while it is on screen at a size other than its box's sizes it to its
 *   box in the same redraw (plotly.js measures the box when it has not sized the
 *   figure yet; the flag below says it has);
 * - when it comes on screen with no redraw (its figure arrived while it was
 *   hidden), it is resized at once, before the page is painted;
 * - when its box changes size while on screen, it is resized unless a redraw
 *   comes within RESIZE_WAIT_MS (a step's new figure, drawn to the new box);
 * - dcc.Graph's own resize (Plotly.Plots.resize, 50 ms after its box changed)
 *   follows the same rules: it waits for the deferred resize above, and a figure
 *   already at its box's size is not redrawn (a 3-D figure's redraw takes
 *   0.1-0.5 s without a GPU, only to be replaced by the step's new figure).
 * Figures with a fixed width or height, and hidden figures, are left as they are.
 */
(function () {
  "use strict";
  /* How long a figure on screen whose box changed size waits for a redraw before it is resized. */
  const RESIZE_WAIT_MS = 150;

  function stale(gd) {
    const full = gd && gd._fullLayout;
    if (!full || !full.autosize || !gd.isConnected || gd.offsetParent === null) return false;
    const style = window.getComputedStyle(gd);
    const width = parseFloat(style.width), height = parseFloat(style.height);
    return (width > 0 && Math.abs(width - full.width) > 1) || (height > 0 && Math.abs(height - full.height) > 1);
  }

  function wrap() {
    const Plotly = window.Plotly;
    if (!Plotly || Plotly.react.fitsItsBox) return;
    const react = Plotly.react;
    const watched = new WeakSet();
    const shown = new WeakSet();     // boxes on screen at their last change
    const pending = new WeakMap();   // box -> timer of a deferred resize
    const resize = (target) => {
      pending.delete(target);
      if (stale(target)) Plotly.relayout(target, { autosize: true }).catch(() => {});
    };
    const boxes = new ResizeObserver((entries) => entries.forEach(({ target, contentRect }) => {
      const visible = contentRect.width > 0 && contentRect.height > 0;
      const wasShown = shown.has(target);
      if (visible) shown.add(target); else shown.delete(target);
      clearTimeout(pending.get(target));
      if (!wasShown) { resize(target); return; }
      // A box on screen that changed size (a step set its new height) mostly gets its new
      // figure a moment later, drawn to the box: redrawing the old one first would be wasted.
      pending.set(target, setTimeout(() => resize(target), RESIZE_WAIT_MS));
    }));
    const fitting = function (gd, ...rest) {
      const div = typeof gd === "string" ? document.getElementById(gd) : gd;
      if (div && pending.has(div)) { clearTimeout(pending.get(div)); pending.delete(div); }
      if (stale(div)) div._fullLayout._initialAutoSizeIsDone = false;
      if (div && !watched.has(div)) {
        watched.add(div);
        boxes.observe(div);
      }
      return react.call(this, gd, ...rest);
    };
    fitting.fitsItsBox = true;
    Plotly.react = fitting;
    const resizeNow = Plotly.Plots.resize;
    Plotly.Plots.resize = function (gd, ...rest) {
      const div = typeof gd === "string" ? document.getElementById(gd) : gd;
      if (div && watched.has(div) && (pending.has(div) || !stale(div))) return Promise.resolve(div);
      return resizeNow.call(this, gd, ...rest);
    };
  }

  wrap();   // plotly.js loads before the site's scripts; if not, before the page is drawn:
  document.addEventListener("DOMContentLoaded", wrap);
})();
