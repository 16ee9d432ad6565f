/* Bring a page's answer into view (every page, from base.html).
 *
 * A form that comes back with errors, or a page whose answer is drawn below the form (a
 * claim's estimate), would otherwise open at its top: on a phone the answer is screens away and
 * the page looks as if nothing happened. The element marked `data-focus-on-load` (the errors'
 * summary, an estimate), else the first field in error, is scrolled into view and focused, so
 * a screen reader reads it too. Without JavaScript the summary is still at the top of the form.
 */
(function () {
  "use strict";

  function target() {
    return (
      document.querySelector("[data-focus-on-load]") ||
      document.querySelector("main .is-invalid, main .invalid-feedback")
    );
  }

  document.addEventListener("DOMContentLoaded", function () {
    var element = target();
    if (!element) {
      return;
    }
    var closed = element.closest("details:not([open])");
    if (closed) {
      closed.open = true;
    }
    if (!element.hasAttribute("tabindex") && !element.matches("input, select, textarea")) {
      element.setAttribute("tabindex", "-1");
    }
    // At once: Bootstrap makes scrolling smooth, which would glide down a long page.
    element.scrollIntoView({ block: "start", behavior: "instant" });
    element.focus({ preventScroll: true });
  });
})();
