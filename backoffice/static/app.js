// tillstream back office: the only script, served by the back office itself. Pages work
// without it; it shows the print button of printable pages.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
