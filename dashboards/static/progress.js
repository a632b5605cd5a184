// Progress for forms whose answer can take a while, such as a report over
// a long period: a form with data-progress shows that text, with the
// seconds spent, in its status line once the answer has taken more than a
// second, and its button is disabled so that it is not sent twice.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var text = form.getAttribute && form.getAttribute("data-progress");
    if (!text || event.defaultPrevented) {
      return;
    }
    var status = form.querySelector("[data-progress-status]");
    var button = form.querySelector("button[type=submit]");
    var started = Date.now();
    if (button) {
      // Disabled after the browser took the form's values: the post goes.
      setTimeout(function () { button.disabled = true; }, 0);
    }
    if (!status) {
      return;
    }
    function tick() {
      var seconds = Math.round((Date.now() - started) / 1000);
      status.textContent = text + " " + seconds + " s so far; the page changes when it is ready.";
      setTimeout(tick, 1000);
    }
    setTimeout(tick, 1000);
  });
})();
