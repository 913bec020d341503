/* Live status of background work: every [data-progress-url] element polls its small JSON
   endpoint and shows the job's state, its progress bar and its message without a reload.
   When the job ends, the element named by data-refresh (a CSS selector) is fetched again from
   this page's own URL and swapped in, so that the results appear in place. */
(function () {
  "use strict";
  var INTERVAL = 1500;

  function setText(box, field, text) {
    box.querySelectorAll('[data-field="' + field + '"]').forEach(function (el) {
      el.textContent = text === null || text === undefined ? "" : String(text);
    });
  }

  function number(n) {
    return typeof n === "number" ? n.toLocaleString("id-ID") : "";
  }

  function refresh(selector) {
    if (!selector || !window.DOMParser) { return; }
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll(selector).forEach(function (old) {
          var twin = old.id ? fresh.getElementById(old.id) : fresh.querySelector(selector);
          if (twin) { old.replaceWith(document.importNode(twin, true)); }
        });
      });
  }

  function show(box, data) {
    box.setAttribute("data-state", data.state);
    ["state_label", "status_label", "message"].forEach(function (field) {
      if (data[field] !== undefined) { setText(box, field, data[field]); }
    });
    if (data.code) {  /* a SIAK status: its words shown, its code as the tooltip */
      box.querySelectorAll('[data-field="status_label"]').forEach(function (el) {
        el.setAttribute("title", "SIAK: " + data.code);
      });
    }
    setText(box, "count", data.total ? number(data.done) + " / " + number(data.total) : "");
    var bar = box.querySelector("progress");
    if (bar) {
      if (data.percent === null || data.percent === undefined) { bar.removeAttribute("value"); }
      else { bar.value = data.percent; }
      bar.hidden = data.finished;
    }
    var result = box.querySelector('[data-field="result"]');
    if (result) {
      var link = result.querySelector("a");
      if (link && data.result_url) { link.href = data.result_url; }
      result.hidden = !(data.finished && data.result_url);
    }
  }

  function poll(box) {
    var url = box.getAttribute("data-progress-url");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(function () { poll(box); }, INTERVAL * 4); return; }
        show(box, data);
        if (data.finished) { refresh(box.getAttribute("data-refresh")); return; }
        window.setTimeout(function () { poll(box); }, INTERVAL);
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, INTERVAL * 4); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.fetch) { return; }
    document.querySelectorAll("[data-progress-url]").forEach(function (box) {
      if (box.getAttribute("data-state") !== "done" && box.getAttribute("data-state") !== "failed") { poll(box); }
    });
  });
})();
