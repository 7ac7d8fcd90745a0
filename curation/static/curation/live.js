/* Live status without reload (served locally, no framework).

   List and change pages of workflow models carry <script id="live-status" type="application/json">
   {"url": ".../live-status/", "workflows": [...], "id": "<pk on change pages>"}. While any row on the page
   is Queued or Processing, the script asks the JSON endpoint for those rows every few seconds and swaps
   their workflow cells in; it stops as soon as nothing is in flight.
   The operator page carries <script id="operator-live"> {"url": ...} and refreshes its counts the same way.
   Also: the filter panel of change lists folds away (remembered in localStorage). */
(function () {
  "use strict";
  var PERIOD_MS = 3000;
  var BUSY = ["Queued", "Processing"];

  function readConfig(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function isBusy(cell) {  // the processing badge is a <b class="s-<status>">
    return !!cell.querySelector(BUSY.map(function (s) { return "b.s-" + s; }).join(","));
  }

  // --- rows of a change list, or the one object of a change page ---------------------------
  function cellsOf(cfg) {
    // [{id, wf, cell}] for every workflow cell on the page
    var out = [];
    if (cfg.id) {
      cfg.workflows.forEach(function (wf) {
        var cell = document.querySelector('.wf-strip [data-wf="' + wf + '"] .cell');
        if (cell) out.push({id: cfg.id, wf: wf, cell: cell});
      });
      return out;
    }
    // Cells carry no per-column class (compact lists): a workflow's column is found by its header.
    var headers = Array.prototype.slice.call(document.querySelectorAll("#result_list thead th"));
    var columns = {};
    cfg.workflows.forEach(function (wf) {
      var index = headers.findIndex(function (th) { return th.classList.contains("column-" + wf); });
      if (index >= 0) columns[wf] = index;
    });
    document.querySelectorAll("#result_list tbody tr").forEach(function (tr) {
      var box = tr.querySelector("input.action-select");
      if (!box) return;
      Object.keys(columns).forEach(function (wf) {
        var cell = tr.children[columns[wf]];
        if (cell) out.push({id: box.value, wf: wf, cell: cell});
      });
    });
    return out;
  }

  function setReadonly(field, text) {
    var el = document.querySelector(".field-" + field + " div.readonly");
    if (el) el.textContent = text || "-";
  }

  function startRows(cfg) {
    var note = document.getElementById("live-note");
    function tick() {
      var busy = {};
      cellsOf(cfg).forEach(function (c) { if (isBusy(c.cell)) busy[c.id] = true; });
      var ids = Object.keys(busy);
      document.body.setAttribute("data-live", ids.length ? "polling" : "idle");
      if (note) note.textContent = ids.length ? "updating live…" : "";
      if (!ids.length) return;  // nothing in flight: stop asking
      var query = ids.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
      fetch(cfg.url + "?" + query, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (data) {
          cellsOf(cfg).forEach(function (c) {
            var row = data.rows[c.id];
            if (!row || !row[c.wf]) return;
            if (c.cell.innerHTML !== row[c.wf].html) c.cell.innerHTML = row[c.wf].html;
            if (cfg.id) {
              setReadonly(c.wf + "_processing_status", row[c.wf].status);
              setReadonly(c.wf + "_processing_error", row[c.wf].error);
            }
          });
          setTimeout(tick, PERIOD_MS);
        })
        .catch(function () { setTimeout(tick, PERIOD_MS * 3); });  // a hiccup: try again, more slowly
    }
    tick();
  }

  // --- the operator page ----------------------------------------------------------------------
  function startOperator(cfg) {
    function tick() {
      fetch(cfg.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
        .then(function (data) {
          var busy = 0;
          data.workflows.forEach(function (wf) {
            var tr = document.querySelector('#workflow-table tr[data-workflow="' + wf.name + '"]');
            if (!tr) return;
            busy += wf.in_flight;
            Object.keys(wf.processing_counts).forEach(function (key) {
              var a = tr.querySelector('a[data-key="' + key + '"]');
              if (!a) return;
              var n = wf.processing_counts[key];
              a.textContent = n;
              a.className = "b count " + (n && key !== "none" ? "s-" + key : "zero");
            });
            var done = tr.querySelector(".done-last-hour");
            if (done) done.textContent = wf.completed_last_hour + " ok / " + wf.errored_last_hour + " failed";
          });
          document.body.setAttribute("data-live", busy ? "polling" : "idle");
          if (busy) setTimeout(tick, PERIOD_MS);
        })
        .catch(function () { setTimeout(tick, PERIOD_MS * 3); });
    }
    var first = readConfig("operator-live");
    if (first && first.in_flight) setTimeout(tick, PERIOD_MS);
    else document.body.setAttribute("data-live", "idle");
  }

  // --- the folding filter panel ------------------------------------------------------------
  function setupFilterToggle() {
    var panel = document.getElementById("changelist-filter");
    if (!panel) return;
    var key = "scrapersky.filters-folded";
    var button = document.createElement("button");
    button.type = "button";
    button.id = "filter-toggle";
    button.className = "button";
    function show(folded) {
      document.body.classList.toggle("filters-folded", folded);
      button.textContent = folded ? "Show filters" : "Hide filters";
      button.setAttribute("aria-expanded", folded ? "false" : "true");
    }
    button.addEventListener("click", function () {
      var folded = !document.body.classList.contains("filters-folded");
      try { localStorage.setItem(key, folded ? "1" : ""); } catch (e) { /* private mode: not remembered */ }
      show(folded);
    });
    var toolbar = document.getElementById("toolbar") || document.querySelector("#changelist .actions");
    (toolbar || panel.parentNode).insertBefore(button, (toolbar || panel.parentNode).firstChild);
    var stored = null;
    try { stored = localStorage.getItem(key); } catch (e) { stored = null; }
    show(stored === "1");
  }

  // Names cut by the stylesheet (admin.css) show their whole text on hover.
  function titleCutNames() {
    document.querySelectorAll("#result_list tbody th a").forEach(function (a) {
      if (a.scrollWidth > a.clientWidth && !a.title) a.title = a.textContent;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupFilterToggle();
    titleCutNames();
    var rows = readConfig("live-status");
    if (rows) startRows(rows);
    var operator = readConfig("operator-live");
    if (operator) startOperator(operator);
  });
})();
