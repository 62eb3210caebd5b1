// Keeps the saga list and a saga's page live by polling their JSON twins.
"use strict";

(function () {
  var PERIOD_MS = 2000;

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function badge(text, prefix) {
    var span = document.createElement("span");
    span.className = "badge " + prefix + text;
    span.textContent = text;
    return span;
  }

  function getJSON(url, done) {
    var xhr = new XMLHttpRequest();
    xhr.open("GET", url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      if (xhr.status === 200) done(JSON.parse(xhr.responseText));
      else if (xhr.status === 401) window.location.reload();
    };
    xhr.send();
  }

  function renderList(table, data) {
    var body = table.tBodies[0];
    var rows = document.createDocumentFragment();
    data.items.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.dataset.id = r.id;
      var link = document.createElement("a");
      link.href = r.url;
      link.textContent = r.id;
      var first = cell("");
      first.appendChild(link);
      var status = cell("");
      status.appendChild(badge(r.status, "status-"));
      [first, status, cell(r.reason), cell(String(r.quantity)), cell(r.amount),
       cell(r.event_id.slice(0, 8), "mono"), cell(r.created_at), cell(r.updated_at)]
        .forEach(function (td) { tr.appendChild(td); });
      rows.appendChild(tr);
    });
    if (!data.items.length) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      var td = cell("no saga matches");
      td.colSpan = 8;
      empty.appendChild(td);
      rows.appendChild(empty);
    }
    body.replaceChildren(rows);
    Object.keys(data.counts).forEach(function (status) {
      var n = document.querySelector('.count[data-status="' + status + '"] .n');
      if (n) n.textContent = data.counts[status];
    });
    Object.keys(data.dead_letters).forEach(function (queue) {
      var depth = document.querySelector('tr[data-queue="' + queue + '"] .depth');
      if (depth) depth.textContent = data.dead_letters[queue];
    });
  }

  function renderSaga(data) {
    var status = document.getElementById("saga-status");
    status.textContent = data.status;
    status.className = "badge status-" + data.status;
    document.getElementById("saga-reason").textContent = data.reason;
    document.getElementById("saga-error").textContent = data.error;
    var body = document.getElementById("steps").tBodies[0];
    var rows = document.createDocumentFragment();
    data.steps.forEach(function (st) {
      var tr = document.createElement("tr");
      var state = cell("");
      state.appendChild(badge(st.status, "step-"));
      [cell(st.name), state, cell(st.started_at), cell(st.finished_at),
       cell(String(st.attempts)), cell(st.error || "")]
        .forEach(function (td) { tr.appendChild(td); });
      rows.appendChild(tr);
    });
    if (data.steps.length) body.replaceChildren(rows);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("sagas");
    if (list) {
      var url = list.dataset.source + window.location.search;
      setInterval(function () { getJSON(url, function (d) { renderList(list, d); }); }, PERIOD_MS);
    }
    var saga = document.getElementById("saga");
    if (saga) {
      setInterval(function () { getJSON(saga.dataset.source, renderSaga); }, PERIOD_MS);
    }
    var compensate = document.getElementById("compensate");
    if (compensate) {
      compensate.form.addEventListener("submit", function (e) {
        if (!window.confirm("Cancel this purchase: refund and release its seats?")) e.preventDefault();
      });
    }
  });
})();
