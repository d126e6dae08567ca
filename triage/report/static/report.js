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
    // The link to the picture file exists only while the reader has chosen to look: an
    // intimate picture never opens unblurred in one click from a blurred page.
    var links = figure.querySelectorAll("a.open-file");
    for (var i = 0; i < links.length; i++) {
      if (hidden) { links[i].removeAttribute("href"); } else { links[i].setAttribute("href", links[i].getAttribute("data-file")); }
      links[i].hidden = hidden;
    }
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
  // Groups page: show one member's messages. The control stays hidden without script, so every
  // member's section is listed; values are compared, never written into the page as markup.
  function filterMembers(select) {
    var group = select.getAttribute("data-group");
    var wanted = select.value;
    var sections = document.querySelectorAll("section.member-rows");
    for (var i = 0; i < sections.length; i++) {
      var s = sections[i];
      if (s.getAttribute("data-group") !== group) { continue; }
      s.hidden = wanted !== "" && s.getAttribute("data-member") !== wanted;
    }
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("select.member-filter")) { filterMembers(target); }
  });
  var filters = document.querySelectorAll("p.member-filter");
  for (var j = 0; j < filters.length; j++) { filters[j].hidden = false; }
  document.documentElement.classList.add("js");
})();
