/* The menu opens out on one row when all of it fits there; otherwise it stays folded behind
   its button, as on a phone. Which widths fit depends on the language and on who is signed in
   (an insured person's English menu needs about 1,300 pixels, a clerk's Chinese one 700), so
   it is measured, not set as a breakpoint. Loaded right after the menu, before the page is
   drawn; measured again when the window is resized and when the fonts have loaded. */
(function () {
  "use strict";
  var nav = document.querySelector("nav.portal-nav");
  if (!nav) {
    return;
  }
  var row = nav.querySelector(".container");
  var EXPAND = "navbar-expand-md";

  function fit() {
    nav.classList.add(EXPAND);
    if (row.scrollWidth > row.clientWidth + 1) {
      nav.classList.remove(EXPAND);
    }
  }

  fit();
  window.addEventListener("resize", fit);
  if (document.fonts && document.fonts.ready) {
    document.fonts.ready.then(fit);
  }
})();
