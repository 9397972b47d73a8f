// Every element with data-deadline (ISO 8601) counts down to it, once a second. The words come
// from the page (data-left / data-passed on <body>), so they are translated with the rest.
(function () {
  "use strict";
  var body = document.body;
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.deadline) - now) / 1000);
      if (isNaN(left)) { return; }
      if (left <= 0) {
        el.textContent = body.dataset.passed || "0:00";
        el.classList.add("overdue");
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      var text = (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
      el.textContent = (body.dataset.left || "%s").replace("%s", text);
      el.classList.toggle("soon", left < 600);
    });
  }
  tick();
  setInterval(tick, 1000);
})();
