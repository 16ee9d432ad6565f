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

/* A filing form lists hospitals of every place until the place is chosen (the page sent after
 * it lists only that place's): choosing the place shows only its hospitals here at once. Each
 * hospital choice carries its pooling region (filings.forms.HospitalCheckboxes, HospitalSelect).
 */
(function () {
  "use strict";

  function showPlace(form, region) {
    form.querySelectorAll("[data-region]").forEach(function (choice) {
      var hidden = Boolean(region) && choice.getAttribute("data-region") !== region;
      if (choice.tagName === "OPTION") {
        choice.hidden = hidden;
      } else {
        var row = choice.closest(".form-check") || choice;
        row.hidden = hidden;
      }
    });
  }

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[name=place_region]")) {
      return;
    }
    showPlace(select.form, select.value);
  });
})();


/* Switching the language reloads the page from the server: what was typed into a form of the
 * page and not sent is lost. Once something has been typed, the switch asks first (its
 * question is the switcher's `data-confirm-if-typed`, in the page's language).
 */
(function () {
  "use strict";

  var typed = false;
  function noteTyping(event) {
    if (event.target.closest && event.target.closest("main form")) {
      typed = true;
    }
  }
  document.addEventListener("input", noteTyping);
  document.addEventListener("change", noteTyping);
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "language-switcher") {
      typed = false; // the form is being sent: nothing typed is left behind
      return;
    }
    var question = form.getAttribute("data-confirm-if-typed");
    if (typed && question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
