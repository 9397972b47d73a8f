// Printed pages: the "Print" button (kept out of the markup: the pages carry no inline handlers).
(function () {
  "use strict";
  for (const button of document.querySelectorAll("[data-print-page]")) {
    button.addEventListener("click", () => window.print());
  }
})();
