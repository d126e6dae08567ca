// triage report: click-to-reveal for blurred evidence pictures. Written beside the pages so the
// Content-Security-Policy can allow script only from 'self' and forbid inline script.
(function () {
  "use strict";
  function toggle(button) {
    var figure = document.getElementById(button.getAttribute("aria-controls"));
    if (!figure) { return; }
    var hidden = figure.classList.toggle("blurred");
    button.setAttribute("aria-pressed", hidden ? "false" : "true");
    button.textContent = hidden ? "Show picture" : "Blur again";
  }
  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target && target.closest ? target.closest("button.reveal") : null;
    if (button) { toggle(button); return; }
    var shown = target && target.closest ? target.closest("figure.blurred") : null;
    if (shown) {
      var control = document.querySelector('button.reveal[aria-controls="' + shown.id + '"]');
      if (control) { toggle(control); }
    }
  });
  document.documentElement.classList.add("js");
})();
