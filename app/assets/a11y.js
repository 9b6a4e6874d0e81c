/* Accessibility mends for Dash's own components, applied as they appear.
 *
 * - Dropdowns: Dash makes an aria-hidden input the tab stop and takes the
 *   trigger button out of the tab order; the button becomes the tab stop (it
 *   opens with Enter, Space or ↓), and its label names it.
 * - Checklists and radio items: a listbox of options that each hold a native
 *   checkbox nests interactive controls; the native inputs say it all.
 * - Slider thumbs get the name of their control (e.g. the player's frame).
 * - An upload's file input is named by the upload's text.
 * Nothing here changes what Dash does with values or callbacks.
 */
(function () {
  "use strict";

  function mendDropdown(wrapper) {
    const button = wrapper.querySelector("button.dash-dropdown");
    const proxy = wrapper.querySelector(".dash-dropdown-focus-target");
    if (!button || button.dataset.a11y) return;
    button.dataset.a11y = "1";
    button.setAttribute("tabindex", "0");
    if (proxy) proxy.setAttribute("tabindex", "-1");
    const label = button.id && document.querySelector(`label[for="${CSS.escape(button.id)}"]`);
    if (label) {
      label.id = label.id || `${button.id}-label`;
      const by = button.getAttribute("aria-labelledby") || "";
      if (!by.includes(label.id)) button.setAttribute("aria-labelledby", `${label.id} ${by}`.trim());
    }
  }

  function mendOptions(list) {
    if (list.dataset.a11y) return;
    list.dataset.a11y = "1";
    list.removeAttribute("role");
    list.setAttribute("role", "group");
    list.querySelectorAll('[role="option"]').forEach((option) => {
      option.removeAttribute("role");
      option.removeAttribute("aria-selected");
    });
  }

  function mendSlider(thumb) {
    if (thumb.getAttribute("aria-label")) return;
    const player = thumb.closest(".pl-player");
    const control = thumb.closest(".ls-control");
    const label = control && control.querySelector(".ls-control-label");
    thumb.setAttribute("aria-label", player ? "Frame of the run" : label ? label.textContent : "Value");
  }

  /* An upload's hidden file input is named by the upload's own text. */
  function mendUpload(input) {
    if (input.getAttribute("aria-label")) return;
    const box = input.parentElement;
    input.setAttribute("aria-label", ((box && box.textContent) || "Choose a file").trim());
  }

  function mend(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll(".dash-dropdown-wrapper").forEach(mendDropdown);
    root.querySelectorAll('.dash-options-list[role="listbox"]').forEach(mendOptions);
    root.querySelectorAll('.dash-slider-thumb[role="slider"]').forEach(mendSlider);
    root.querySelectorAll('input[type="file"]').forEach(mendUpload);
  }

  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; mend(document.body); });
  }).observe(document.documentElement, { childList: true, subtree: true });
  document.documentElement.lang = document.documentElement.lang || "en";
})();
