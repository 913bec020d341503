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

  var ZONE_NAMES = { hijau: "Hijau", kuning: "Kuning", merah: "Merah", tanpa_data: "Tanpa data" };

  function number(n) { return n === null || n === undefined ? "—" : n.toLocaleString("id-ID"); }
  function percent(n) {
    return n === null || n === undefined ? "—" : n.toLocaleString("id-ID", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " %";
  }

  // Dates on a date axis, labelled the Indonesian way ("7 Des") by the server: plotly's own
  // labels are English and, for a single day, read "23:59:59.9995".
  function dayAxis(points) {
    var seen = {}, vals = [], text = [];
    points.forEach(function (p) { if (!seen[p.day]) { seen[p.day] = 1; vals.push(p.day); text.push(p.label); } });
    var step = Math.max(1, Math.ceil(vals.length / 10));
    return { type: "date", tickmode: "array", fixedrange: true,
             tickvals: vals.filter(function (_v, i) { return i % step === 0; }),
             ticktext: text.filter(function (_v, i) { return i % step === 0; }),
             range: vals.length === 1 ? [shiftDay(vals[0], -1), shiftDay(vals[0], 1)] : undefined };
  }

  function shiftDay(iso, days) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  function trend(id, points) {
    var el = document.getElementById(id);
    if (!el || !points.length) { return; }
    Plotly.newPlot(el, [{ type: "scatter", mode: "lines+markers", x: points.map(function (p) { return p.day; }),
      y: points.map(function (p) { return p.rate; }), customdata: points.map(function (p) { return p.label; }),
      hovertemplate: "%{customdata}: %{y:.2f} %<extra></extra>" }],
    { margin: { t: 10 }, xaxis: dayAxis(points), yaxis: { title: "%" }, separators: ",." },
    { displaylogo: false, responsive: true });
  }

  function perDay(id, points) {
    var el = document.getElementById(id);
    if (!el || !points.length) { return; }
    var byRegion = {};
    points.forEach(function (p) {
      (byRegion[p.region] = byRegion[p.region] || { x: [], y: [], label: [] });
      byRegion[p.region].x.push(p.day); byRegion[p.region].y.push(p.n); byRegion[p.region].label.push(p.label);
    });
    var traces = Object.keys(byRegion).sort().map(function (region) {
      return { type: "bar", name: region, x: byRegion[region].x, y: byRegion[region].y, customdata: byRegion[region].label,
               hovertemplate: region + ", %{customdata}: %{y}<extra></extra>" };
    });
    Plotly.newPlot(el, traces, { barmode: "stack", margin: { t: 10 }, xaxis: dayAxis(points), separators: ",." },
      { displaylogo: false, responsive: true });
  }

  function hoverText(row) {
    return "<b>" + row.name + "</b><br>Cakupan " + percent(row.rate) + " · zona " + (ZONE_NAMES[row.zone] || row.zone) +
      "<br>" + number(row.recorded) + " dari " + number(row.wajib) + " wajib KTP sudah rekam";
  }

  // A base map only when the office configured a tile server (offices may be offline):
  // then MapLibre draws the zones over the tiles; otherwise the outlines on a blank plane.
  function tileStyle(url) {
    return { version: 8, sources: { base: { type: "raster", tiles: [url], tileSize: 256 } },
             layers: [{ id: "base", type: "raster", source: "base" }] };
  }

  // Too many villages to name each: name their kecamatan at the middle of its villages.
  function groupLabels(codes, cx, cy, parents, geo) {
    var groups = {};
    codes.forEach(function (code, i) {
      var key = code.split(".").slice(0, 3).join(".");
      var g = groups[key] = groups[key] || { x: 0, y: 0, n: 0 };
      g.x += cx[i]; g.y += cy[i]; g.n += 1;
    });
    var keys = Object.keys(groups);
    var trace = { type: geo ? "scattermap" : "scatter", mode: "text", hoverinfo: "skip", showlegend: false,
                  text: keys.map(function (k) { return parents[k] || k; }),
                  textfont: { size: 12, color: "#1d2430" } };
    var xs = keys.map(function (k) { return groups[k].x / groups[k].n; });
    var ys = keys.map(function (k) { return groups[k].y / groups[k].n; });
    if (geo) { trace.lon = xs; trace.lat = ys; } else { trace.x = xs; trace.y = ys; }
    return trace;
  }

  function map(id, rows, thresholds, parents) {
    var el = document.getElementById(id);
    if (!el || !rows.length || !window.fetch) { return; }
    var tiles = el.getAttribute("data-tiles");
    fetch(el.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { shapes: {} }; })
      .then(function (payload) {
        var shapes = payload.shapes || {};
        var byZone = {}, cx = [], cy = [], text = [], names = [], codes = [];
        rows.forEach(function (row) {
          var shape = shapes[row.code];
          if (!shape) { return; }
          var zone = byZone[row.zone] = byZone[row.zone] || { x: [], y: [] };
          shape.r.forEach(function (ring) {
            ring.forEach(function (p) { zone.x.push(p[0]); zone.y.push(p[1]); });
            zone.x.push(null); zone.y.push(null);
          });
          cx.push(shape.c[0]); cy.push(shape.c[1]); codes.push(row.code); names.push(row.name);
          text.push(hoverText(row));
        });
        if (!codes.length) { el.textContent = "Batas wilayah belum tersedia untuk wilayah ini."; return; }
        var legend = {
          hijau: "Hijau (≥ " + thresholds.green.toLocaleString("id-ID") + " %)",
          kuning: "Kuning (≥ " + thresholds.yellow.toLocaleString("id-ID") + " %)",
          merah: "Merah (< " + thresholds.yellow.toLocaleString("id-ID") + " %)",
          tanpa_data: "Tanpa data"
        };
        var geo = Boolean(tiles);
        var traces = ["hijau", "kuning", "merah", "tanpa_data"].filter(function (z) { return byZone[z]; }).map(function (zone) {
          var t = { type: geo ? "scattermap" : "scatter", mode: "lines", fill: "toself", name: legend[zone],
                    line: { color: "#ffffff", width: 0.6 }, fillcolor: ZONE_COLOURS[zone] || "#8a94a6",
                    opacity: geo ? 0.6 : 1, hoverinfo: "skip" };
          if (geo) { t.lon = byZone[zone].x; t.lat = byZone[zone].y; } else { t.x = byZone[zone].x; t.y = byZone[zone].y; }
          return t;
        });
        var labels = { type: geo ? "scattermap" : "scatter", mode: codes.length <= 60 ? "markers+text" : "markers",
                       text: names, hovertext: text, customdata: codes, textposition: "top center",
                       textfont: { size: 10, color: "#1d2430" }, marker: { size: 6, color: "#1d2430" },
                       hovertemplate: "%{hovertext}<extra></extra>", showlegend: false };
        if (geo) { labels.lon = cx; labels.lat = cy; } else { labels.x = cx; labels.y = cy; }
        traces.push(labels);
        if (codes.length > 60) { traces.push(groupLabels(codes, cx, cy, parents, geo)); }
        var layout = { margin: { t: 10, l: 10, r: 10, b: 10 }, legend: { orientation: "h" }, separators: ",." };
        if (geo) {
          var lon = cx.reduce(function (a, b) { return a + b; }, 0) / cx.length;
          var lat = cy.reduce(function (a, b) { return a + b; }, 0) / cy.length;
          layout.map = { style: tileStyle(tiles), center: { lon: lon, lat: lat }, zoom: codes.length > 30 ? 9 : 10 };
        } else {
          layout.xaxis = { visible: false };
          layout.yaxis = { visible: false, scaleanchor: "x" };
        }
        Plotly.newPlot(el, traces, layout, { displaylogo: false, responsive: true });
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
    var parents = {};
    data.children.forEach(function (row) { parents[row.code] = row.name; });
    map("chart-map", data.villages.length ? data.villages : data.children, data.thresholds, parents);
    trend("chart-trend", data.trend);
    perDay("chart-per-day", data.per_day);
  });
})();
