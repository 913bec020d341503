/* Coverage dashboard: plotly charts from the JSON block and sortable tables. */
(function () {
  "use strict";
  var ZONE_COLOURS = { hijau: "#1f7a3a", kuning: "#d4a000", merah: "#b3261e", tanpa_data: "#8a94a6" };
  var ZONE_NAMES = { hijau: "Hijau", kuning: "Kuning", merah: "Merah", tanpa_data: "Tanpa data" };

  function sortTable(table, column, header) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var numeric = header.getAttribute("data-type") === "num";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = a.cells[column], y = b.cells[column];
      if (!x || !y) { return 0; }
      var vx = x.getAttribute("data-value") || x.textContent.trim();
      var vy = y.getAttribute("data-value") || y.textContent.trim();
      var cmp = numeric ? parseFloat(vx) - parseFloat(vy) : vx.localeCompare(vy, "id");
      return ascending ? cmp : -cmp;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function makeSortable() {
    document.querySelectorAll("table[data-sortable]").forEach(function (table) {
      if (!table.tHead) { return; }
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
        th.tabIndex = 0;
        th.addEventListener("click", function () { sortTable(table, i, th); });
        th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortTable(table, i, th); } });
      });
    });
  }

  function bars(id, rows, thresholds) {
    var el = document.getElementById(id);
    if (!el || !rows.length) { return; }
    var shapes = [thresholds.green, thresholds.yellow].map(function (y) {
      return { type: "line", xref: "paper", x0: 0, x1: 1, y0: y, y1: y, line: { dash: "dot", width: 1 } };
    });
    Plotly.newPlot(el, [{
      type: "bar",
      x: rows.map(function (r) { return r.name; }),
      y: rows.map(function (r) { return r.rate; }),
      customdata: rows.map(function (r) { return [r.recorded, r.wajib, r.code]; }),
      marker: { color: rows.map(function (r) { return ZONE_COLOURS[r.zone] || "#8a94a6"; }) },
      hovertemplate: "%{x}<br>%{y:.2f} % (%{customdata[0]} / %{customdata[1]})<extra>%{customdata[2]}</extra>"
    }], { margin: { t: 10, b: 120 }, yaxis: { title: "%", rangemode: "tozero" }, shapes: shapes },
    { displaylogo: false, responsive: true });
    el.on("plotly_click", function (ev) {
      var code = ev.points[0].customdata[2];
      if (code.split(".").length < 4) { window.location.search = "?wilayah=" + encodeURIComponent(code); }
    });
  }

  function trend(id, points) {
    var el = document.getElementById(id);
    if (!el || !points.length) { return; }
    Plotly.newPlot(el, [{ type: "scatter", mode: "lines+markers", x: points.map(function (p) { return p.day; }),
      y: points.map(function (p) { return p.rate; }) }],
    { margin: { t: 10 }, yaxis: { title: "%" } }, { displaylogo: false, responsive: true });
  }

  function perDay(id, points) {
    var el = document.getElementById(id);
    if (!el || !points.length) { return; }
    var byRegion = {};
    points.forEach(function (p) {
      (byRegion[p.region] = byRegion[p.region] || { x: [], y: [] });
      byRegion[p.region].x.push(p.day); byRegion[p.region].y.push(p.n);
    });
    var traces = Object.keys(byRegion).sort().map(function (region) {
      return { type: "bar", name: region, x: byRegion[region].x, y: byRegion[region].y };
    });
    Plotly.newPlot(el, traces, { barmode: "stack", margin: { t: 10 } }, { displaylogo: false, responsive: true });
  }

  function map(id, rows) {
    var el = document.getElementById(id);
    if (!el || !rows.length || !window.fetch) { return; }
    fetch(el.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { shapes: {} }; })
      .then(function (payload) {
        var shapes = payload.shapes || {};
        var byZone = {}, cx = [], cy = [], text = [], codes = [];
        rows.forEach(function (row) {
          var shape = shapes[row.code];
          if (!shape) { return; }
          var zone = byZone[row.zone] = byZone[row.zone] || { x: [], y: [] };
          shape.r.forEach(function (ring) {
            ring.forEach(function (p) { zone.x.push(p[0]); zone.y.push(p[1]); });
            zone.x.push(null); zone.y.push(null);
          });
          cx.push(shape.c[0]); cy.push(shape.c[1]); codes.push(row.code);
          text.push(row.name + ": " + (row.rate === null ? "—" : row.rate.toFixed(2) + " %") +
                    " (" + row.recorded + " / " + row.wajib + ")");
        });
        if (!codes.length) { el.textContent = "Batas wilayah belum tersedia untuk wilayah ini."; return; }
        var traces = Object.keys(byZone).map(function (zone) {
          return { type: "scatter", mode: "lines", fill: "toself", name: ZONE_NAMES[zone] || zone, x: byZone[zone].x, y: byZone[zone].y,
                   line: { color: "#ffffff", width: 0.5 }, fillcolor: ZONE_COLOURS[zone] || "#8a94a6", hoverinfo: "skip" };
        });
        traces.push({ type: "scatter", mode: "markers", x: cx, y: cy, text: text, customdata: codes,
                      marker: { size: 6, color: "#1d2430" }, hovertemplate: "%{text}<extra></extra>", showlegend: false });
        Plotly.newPlot(el, traces, { margin: { t: 10, l: 10, r: 10, b: 10 },
          xaxis: { visible: false }, yaxis: { visible: false, scaleanchor: "x" } },
          { displaylogo: false, responsive: true });
        el.on("plotly_click", function (ev) {
          var code = ev.points[0].customdata;
          if (code) { window.location.href = el.getAttribute("data-unrecorded") + "?wilayah=" + encodeURIComponent(code); }
        });
      });
  }

  /* Dates and numbers on the charts in the page's language: Indonesian unless English was chosen. */
  function speakIndonesian() {
    Plotly.register({ moduleType: "locale", name: "id", dictionary: {}, format: {
      days: ["Minggu", "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu"],
      shortDays: ["Min", "Sen", "Sel", "Rab", "Kam", "Jum", "Sab"],
      months: ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
               "Oktober", "November", "Desember"],
      shortMonths: ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"],
      date: "%d/%m/%Y", decimal: ",", thousands: "."
    } });
    var lang = (document.documentElement.lang || "id").split("-")[0];
    Plotly.setPlotConfig({ locale: lang === "en" ? "en" : "id" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    makeSortable();
    var block = document.getElementById("coverage-data");
    if (!block || typeof Plotly === "undefined") { return; }
    speakIndonesian();
    var data = JSON.parse(block.textContent);
    bars("chart-children", data.children, data.thresholds);
    bars("chart-villages", data.villages, data.thresholds);
    map("chart-map", data.villages.length ? data.villages : data.children);
    trend("chart-trend", data.trend);
    perDay("chart-per-day", data.per_day);
  });
})();
