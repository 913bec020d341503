// The queue ticket: print with one click, optionally print each new ticket on its own,
// on an 80 mm or 58 mm receipt roll. Both choices are remembered in this browser.
(function () {
  "use strict";
  var AUTO = "ektp.ticket.autoPrint";
  var PAPER = "ektp.ticket.paper";
  function stored(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function store(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: not kept */ }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("print-ticket");
    var auto = document.getElementById("auto-print");
    var paper = document.getElementById("paper-width");
    var narrow = document.getElementById("paper-58");
    if (!button) { return; }
    function applyPaper() { narrow.media = paper.value === "58" ? "all" : "not all"; }
    paper.value = stored(PAPER) === "58" ? "58" : "80";
    applyPaper();
    paper.addEventListener("change", function () { store(PAPER, paper.value); applyPaper(); });
    auto.checked = stored(AUTO) === "1";
    auto.addEventListener("change", function () { store(AUTO, auto.checked ? "1" : "0"); });
    button.addEventListener("click", function () { window.print(); });
    if (auto.checked) { window.setTimeout(function () { window.print(); }, 300); }
  });
})();
