// triage report: labels for tables on narrow screens, and the message a link arrived at.
// A file beside the pages (the Content-Security-Policy forbids inline script); it reads the
// page and sets attributes only, never markup.
(function () {
  "use strict";
  // Each cell gets its column's header text as data-label, shown before it when a table is
  // laid out one block per row on a phone.
  var tables = document.querySelectorAll("table");
  for (var t = 0; t < tables.length; t++) {
    var heads = tables[t].querySelectorAll("thead th");
    if (!heads.length) { continue; }
    var labels = [];
    for (var h = 0; h < heads.length; h++) {
      var span = heads[h].colSpan || 1;
      for (var s = 0; s < span; s++) { labels.push(heads[h].textContent.trim()); }
    }
    var rows = tables[t].querySelectorAll("tbody tr");
    for (var r = 0; r < rows.length; r++) {
      var column = 0;
      var cells = rows[r].children;
      for (var c = 0; c < cells.length; c++) {
        var label = labels[column];
        if (label && !cells[c].hasAttribute("data-label") && (cells[c].colSpan || 1) === 1) {
          cells[c].setAttribute("data-label", label);
        }
        column += cells[c].colSpan || 1;
      }
    }
  }
  // The message a link points at (#m123) is marked and brought into view, also when the
  // browser restores a scroll position.
  function arrive() {
    var old = document.querySelectorAll("li.arrived");
    for (var i = 0; i < old.length; i++) { old[i].classList.remove("arrived"); }
    var id = window.location.hash.slice(1);
    if (!/^[mc]\d+$/.test(id)) { return; }
    var target = document.getElementById(id);
    if (!target) { return; }
    target.classList.add("arrived");
    target.scrollIntoView({ block: "center" });
  }
  window.addEventListener("hashchange", arrive);
  arrive();
  // Printing: every provenance block open, so the record under each message is on paper.
  var opened = [];
  window.addEventListener("beforeprint", function () {
    var closed = document.querySelectorAll("details.prov:not([open])");
    for (var i = 0; i < closed.length; i++) { closed[i].open = true; opened.push(closed[i]); }
  });
  window.addEventListener("afterprint", function () {
    while (opened.length) { opened.pop().open = false; }
  });
})();
