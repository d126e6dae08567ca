// triage report: search and filter every message of the case, offline. The index is script
// files written beside the pages (search/index.js, search/part-NNNN.js): the page loads them one
// after the other and searches each part as it arrives, so the first results show before the
// whole index is read. Evidence text is only ever written into the page as text (textContent,
// text nodes), never as markup.
(function () {
  "use strict";
  var form = document.getElementById("search");
  if (!form) { return; }
  var root = form.getAttribute("data-root") || "";
  var statusLine = document.getElementById("search-status");
  var list = document.getElementById("results");
  var more = document.getElementById("more");
  var SHOW = 200;
  var meta = null;
  var parts = [];          // loaded parts, by number (1-based)
  var loaded = 0;
  var query = null;        // the running search

  window.TriageSearch = {
    // search.html names index.js and the first part after this file (all deferred, so they
    // load together and run in order); the other parts are then asked for all at once, read
    // side by side and run in order (async = false), each searched as it arrives.
    meta: function (m) {
      meta = m;
      setup();
      for (var n = 2; n <= meta.parts; n++) { loadPart(n); }
    },
    part: function (n, data) {
      // Times are deltas from the previous dated message of the part.
      var t = data.t, at = null;
      for (var i = 0; i < t.length; i++) {
        if (t[i] === null) { continue; }
        at = at === null ? t[i] : at + t[i];
        t[i] = at;
      }
      data.lower = new Array(data.b.length);
      parts[n] = data;
      loaded = n;
      if (query) { run(); }
    }
  };

  function loadPart(n) {
    var s = document.createElement("script");
    s.async = false;
    s.src = root + "search/part-" + ("000" + n).slice(-4) + ".js";
    document.head.appendChild(s);
  }

  function option(select, value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    select.appendChild(o);
  }

  function setup() {
    var contact = form.elements.contact, platform = form.elements.platform;
    var duty = form.elements.duty;
    meta.contacts.forEach(function (name, i) { option(contact, String(i), name); });
    option(contact, "-1", "not a case contact");
    meta.platforms.forEach(function (p, i) { option(platform, String(i), p); });
    if (meta.statuses.length) {
      option(duty, "outside", "outside rostered duty");
      meta.statuses.forEach(function (s, i) { option(duty, String(i), s.replace(/_/g, " ")); });
    }
    option(duty, "none", "no duty status");
    readHash();
    form.addEventListener("input", function () { writeHash(); start(); });
    form.addEventListener("submit", function (e) { e.preventDefault(); writeHash(); start(); });
    more.addEventListener("click", function () { query.limit += SHOW; render(); });
    start();
  }

  // The search is kept in the address (#q=...&contact=0), so a search can be bookmarked and a
  // page can link to one.
  var FIELDS = ["q", "party", "contact", "platform", "duty", "from", "to", "direction"];
  var CHECKS = ["deleted", "recovered", "night"];
  function readHash() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    FIELDS.forEach(function (f) { if (params.has(f)) { form.elements[f].value = params.get(f); } });
    CHECKS.forEach(function (f) { form.elements[f].checked = params.get(f) === "1"; });
  }
  function writeHash() {
    var params = new URLSearchParams();
    FIELDS.forEach(function (f) { if (form.elements[f].value) { params.set(f, form.elements[f].value); } });
    CHECKS.forEach(function (f) { if (form.elements[f].checked) { params.set(f, "1"); } });
    history.replaceState(null, "", "#" + params.toString());
  }

  // Local time in the case timezone from the offsets the report wrote (never the machine's).
  function offsetAt(second) {
    var o = meta.offsets, low = 0, high = o.length - 1;
    while (low < high) {
      var mid = (low + high + 1) >> 1;
      if (o[mid][0] <= second) { low = mid; } else { high = mid - 1; }
    }
    return o[low] || [0, 0, "UTC"];
  }
  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function localText(second) {
    if (second === null) { return "no time recorded"; }
    var o = offsetAt(second), d = new Date((second + o[1] * 60) * 1000);
    return DAYS[d.getUTCDay()] + " " + two(d.getUTCDate()) + " " + MONTHS[d.getUTCMonth()] + " " +
      d.getUTCFullYear() + " " + two(d.getUTCHours()) + ":" + two(d.getUTCMinutes()) + " " + o[2];
  }
  // A local date (YYYY-MM-DD) at 00:00 in the case timezone, as a UTC second.
  function localMidnight(text) {
    var p = text.split("-");
    var wall = Date.UTC(+p[0], +p[1] - 1, +p[2]) / 1000;
    var guess = wall - offsetAt(wall)[1] * 60;
    return wall - offsetAt(guess)[1] * 60;
  }

  function start() {
    var e = form.elements;
    var words = e.q.value.toLowerCase().split(/\s+/).filter(Boolean);
    // Dates as YYYY-MM-DD (a plain text field: the browser's date picker draws its icon from a
    // data: address, and the report makes no request of any kind); anything else is ignored.
    var day = /^\d{4}-\d{2}-\d{2}$/;
    var from = day.test(e.from.value) ? localMidnight(e.from.value) : null;
    var to = day.test(e.to.value) ? localMidnight(e.to.value) + 86400 : null;
    var duty = e.duty.value, outside = null;
    if (duty === "outside") {
      outside = {};
      meta.outside.forEach(function (s) { outside[meta.statuses.indexOf(s)] = true; });
    }
    var f = meta.flags, need = 0;
    if (e.deleted.checked) { need |= f.deleted; }
    if (e.recovered.checked) { need |= f.recovered; }
    if (e.night.checked) { need |= f.night; }
    var party = e.party.value.toLowerCase();
    var parties = null;
    if (party) {
      parties = {};
      meta.parties.forEach(function (p, i) { if (p.toLowerCase().indexOf(party) >= 0) { parties[i] = true; } });
    }
    query = {
      words: words, from: from, to: to, need: need, parties: parties,
      contact: e.contact.value === "" ? null : +e.contact.value,
      platform: e.platform.value === "" ? null : +e.platform.value,
      duty: duty, outside: outside,
      direction: e.direction.value === "" ? 0 : (e.direction.value === "outgoing" ? f.outgoing : f.incoming),
      part: 1, row: 0, found: [], count: 0, limit: SHOW, shown: 0
    };
    list.textContent = "";
    run();
  }

  function matches(q, d, i) {
    if (q.need && (d.f[i] & q.need) !== q.need) { return false; }
    if (q.direction && !(d.f[i] & q.direction)) { return false; }
    if (q.contact !== null && d.c[i] !== q.contact) { return false; }
    if (q.platform !== null && d.p[i] !== q.platform) { return false; }
    if (q.duty) {
      var s = d.s[i];
      if (q.duty === "none") { if (s !== -1) { return false; } }
      else if (q.outside) { if (!q.outside[s]) { return false; } }
      else if (s !== +q.duty) { return false; }
    }
    if (q.from !== null || q.to !== null) {
      var t = d.t[i];
      if (t === null || (q.from !== null && t < q.from) || (q.to !== null && t >= q.to)) { return false; }
    }
    if (q.parties && !q.parties[d.w[i]]) { return false; }
    if (q.words.length) {
      var text = d.lower[i];
      if (text === undefined) { text = d.lower[i] = d.b[i].toLowerCase(); }
      for (var w = 0; w < q.words.length; w++) {
        if (text.indexOf(q.words[w]) < 0) { return false; }
      }
    }
    return true;
  }

  // Search the loaded parts in slices, yielding to the page between them so typing stays
  // responsive; results are rendered as soon as the first are found.
  function run() {
    var q = query;
    if (q.timer) { return; }
    q.timer = setTimeout(function step() {
      q.timer = null;
      if (q !== query) { return; }
      var budget = performance.now() + 30;
      while (q.part <= loaded && performance.now() < budget) {
        var d = parts[q.part], n = d.i.length;
        var end = Math.min(n, q.row + 5000);
        for (var i = q.row; i < end; i++) {
          if (matches(q, d, i)) {
            q.count++;
            q.found.push([q.part, i]);
          }
        }
        q.row = end;
        if (end === n) { q.part++; q.row = 0; }
        if (!q.shown && q.found.length) { break; }  // show the first results at once
      }
      render();
      if (q.part <= loaded) { q.timer = setTimeout(step, 0); }
    }, 0);
  }

  function render() {
    var q = query;
    for (; q.shown < Math.min(q.found.length, q.limit); q.shown++) {
      list.appendChild(result(q, parts[q.found[q.shown][0]], q.found[q.shown][1]));
      if (!window.triageFirstResult) {
        // Milliseconds from the start of navigation, for bench/bench_report.py.
        window.triageFirstResult = performance.now();
        document.documentElement.setAttribute("data-first-result-ms", String(Math.round(window.triageFirstResult)));
      }
    }
    var done = q.part > meta.parts;
    var n = q.count.toLocaleString("en-GB");
    statusLine.textContent = (done ? n + (q.count === 1 ? " message" : " messages") + " found"
      : n + " found so far, searching (" + Math.round(100 * (q.part - 1) / meta.parts) + " % of " +
        meta.total.toLocaleString("en-GB") + " messages)") +
      (q.shown < q.count ? "; the first " + q.shown.toLocaleString("en-GB") + " shown." : ".");
    more.hidden = !(q.shown < q.count && q.shown < q.found.length);
    if (done && !q.done) {
      q.done = true;
      document.documentElement.setAttribute("data-search-done-ms", String(Math.round(performance.now())));
      document.documentElement.setAttribute("data-search-done", String(q.count));
    }
  }

  function marked(element, text, words) {
    if (!words.length) { element.textContent = text; return; }
    var lower = text.toLowerCase(), at = 0;
    while (at < text.length) {
      var next = -1, size = 0;
      words.forEach(function (w) {
        var k = lower.indexOf(w, at);
        if (k >= 0 && (next < 0 || k < next)) { next = k; size = w.length; }
      });
      if (next < 0) { break; }
      element.appendChild(document.createTextNode(text.slice(at, next)));
      var m = document.createElement("mark");
      m.textContent = text.slice(next, next + size);
      element.appendChild(m);
      at = next + size;
    }
    element.appendChild(document.createTextNode(text.slice(at)));
  }

  function badge(li, text, kind) {
    var b = document.createElement("span");
    b.className = "badge " + (kind || "");
    b.textContent = text;
    li.appendChild(b);
  }

  function result(q, d, i) {
    var li = document.createElement("li");
    var id = d.i[i], conversation = meta.conversations[d.k[i]];
    li.setAttribute("data-message", String(id));
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = "No. " + id + " · " + localText(d.t[i]);
    li.appendChild(when);
    var link = document.createElement("a");
    link.href = root + "conversations/" + conversation[0] + (d.g[i] > 1 ? "-p" + d.g[i] : "") + ".html#m" + id;
    link.textContent = meta.parties[d.w[i]];
    li.appendChild(link);
    var where = document.createElement("span");
    where.className = "muted small";
    where.textContent = " · " + meta.platforms[d.p[i]] + " · " + conversation[1];
    li.appendChild(where);
    if (d.c[i] >= 0) { badge(li, meta.contacts[d.c[i]]); }
    if (d.s[i] >= 0) { var s = meta.statuses[d.s[i]]; badge(li, s.replace(/_/g, " "), s); }
    var f = meta.flags;
    if (d.f[i] & f.night) { badge(li, "night", "night"); }
    if (d.f[i] & f.deleted) { badge(li, "deleted/unsent", "flag"); }
    if (d.f[i] & f.recovered) { badge(li, "recovered", "flag"); }
    var text = document.createElement("span");
    text.className = "text";
    marked(text, d.b[i] || "(no text)", q.words);
    li.appendChild(text);
    return li;
  }

})();
