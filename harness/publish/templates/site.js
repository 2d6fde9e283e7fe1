// Filters recount the heatmap from the embedded case rows; a click lists a cell's cases.
// All data is third-party text: it only ever goes into the page through textContent.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("matrix-data").textContent);
  const byId = (id) => document.getElementById(id);
  const filters = { model: byId("f-model"), explainer: byId("f-explainer"), device: byId("f-device") };
  const panel = byId("details");
  // Fields shown in the table or in the named rows below it; any other field is listed generically.
  const SHOWN = new Set(["cell", "torch", "row", "shap", "python", "cell_status", "model", "explainer", "device", "outcome",
    "signature", "error_type", "error_message", "error_frame", "error_package", "reason", "crash", "warnings",
    "additivity_metric", "additivity_error", "additivity_tolerance", "additivity_criterion", "call_cold_s",
    "call_warm_median_s", "resolved_torch", "resolved_shap", "resolved_numpy", "resolved_python",
    "reproducer_command", "reproducer", "date", "host", "cpu_model", "gpu", "harness_commit", "kind"]);
  let selected = null;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  // A table cell with its column's name, which the phone layout shows beside the value.
  function td(label, text, cls) {
    const node = el("td", text, cls);
    node.dataset.label = label;
    return node;
  }
  const present = (v) => v !== undefined && v !== null && v !== "";
  const seconds = (v) => (typeof v === "number" ? v.toPrecision(3) + " s" : "–");
  const unique = (cases, key) => [...new Set(cases.map((c) => c[key]).filter(present))].join(", ");

  function matches(c) {
    return (!filters.model.value || c.model === filters.model.value) &&
      (!filters.explainer.value || c.explainer === filters.explainer.value);
  }

  // [kind, symbol, words] as page.py's KINDS; each case carries its kind (page.kind_of).
  const KINDS = data.kinds;

  // One chip per kind present: symbol and count, the words for screen readers and the tooltip.
  function chips(cases) {
    const counts = {};
    cases.forEach((c) => { counts[c.kind] = (counts[c.kind] || 0) + 1; });
    return KINDS.filter(([k]) => counts[k]).map(([k, symbol, words]) => {
      const chip = el("span", symbol + counts[k], "k k-" + k);
      chip.title = counts[k] + " " + words;
      chip.append(el("span", " " + words, "vh"));
      return chip;
    });
  }

  // A heatmap cell's verdict under the filters, as page.py computed it (records.outcomes.verdict); the tooltip's tally.
  function summarize(key, cases) {
    const [cls, label, sub] = (data.verdicts[key] || {})[filters.model.value + "|" + filters.explainer.value] ||
      ["empty", "–", ""];
    const tally = {};
    cases.forEach((c) => { tally[c.outcome] = (tally[c.outcome] || 0) + 1; });
    const counts = Object.entries(tally).sort((a, b) => b[1] - a[1]).map(([o, n]) => n + " " + o).join(", ");
    return { cls, label, sub, counts };
  }

  // The filtered cases of every heatmap cell, by the cell's data-key (device|torch|shap).
  let byKey = {};
  const casesOf = (button) => byKey[button.dataset.key] || [];

  function refresh() {
    byKey = {};
    data.cases.filter(matches).forEach((c) => {
      const key = c.device + "|" + (c.row || c.torch) + "|" + c.shap;  // a supplied environment has a row of its own
      (byKey[key] = byKey[key] || []).push(c);
    });
    document.querySelectorAll("button.cell").forEach((button) => {
      const s = summarize(button.dataset.key, casesOf(button));
      const d = button.dataset;
      button.className = "cell c-" + s.cls;
      d.outcomeClass = s.cls;
      button.title = "torch " + d.torch + " × shap " + d.shap + " on " + d.device + ": " + (s.counts || "no cases");
      button.querySelector(".n").textContent = s.label;
      button.querySelector(".sub").textContent = s.sub;
      const ran = ["pass", "partial", "fail"].includes(s.cls);
      button.querySelector(".kinds").replaceChildren(...(ran ? chips(casesOf(button)) : []));
    });
    document.querySelectorAll("#devices-table tbody tr").forEach((tr) => { tr.hidden = !matches(tr.dataset); });
    document.querySelectorAll(".grid-block").forEach((block) => {
      block.hidden = Boolean(filters.device.value) && block.dataset.device !== filters.device.value;
    });
    const active = Object.entries(filters).filter(([, s]) => s.value).map(([k, s]) => k + " " + s.value);
    byId("filter-note").textContent = active.length ? "Showing only " + active.join(", ") + "." : "";
    if (selected && selected.closest(".grid-block").hidden) close();
    else if (selected) show(selected);
  }

  function addRow(dl, label, value, pre) {
    if (!present(value)) return;
    dl.append(el("dt", label));
    const dd = el("dd");
    if (value instanceof Node) dd.append(value);
    else dd.append(pre ? el("pre", value) : el("span", value));
    dl.append(dd);
  }

  function reproducerLink(path) {
    // A path relative to results/; anything that looks like a URL or an absolute path is shown as text only.
    if (/^[a-z][a-z0-9+.-]*:|^[\\/]/i.test(path) || path.split(/[\\/]/).includes("..")) return el("code", path);
    const a = el("a", path);
    a.href = data.resultsHref + "/" + path.split("/").map(encodeURIComponent).join("/");
    return a;
  }

  // Long signatures are clamped to three lines; the full error is in the case's fields row.
  function signature(text) {
    const cell = td("signature", null, "sig");
    if (present(text)) {
      cell.append(el("div", text, "clamp"));
      cell.title = text;
    }
    return cell;
  }

  const when = (stamp) => String(stamp).replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)[\d:.]*(\+00:00|Z)$/, "$1 $2 UTC");

  function moreRow(c) {
    const dl = el("dl");
    addRow(dl, "error", [c.error_type, c.error_message].filter(present).join(": "), true);
    addRow(dl, "raised in", [c.error_frame, c.error_package && "(" + c.error_package + ")"].filter(present).join(" "));
    addRow(dl, "reason", c.reason, true);
    addRow(dl, "crash", c.crash);
    addRow(dl, "warnings", c.warnings, true);
    addRow(dl, "additivity", [c.additivity_metric, c.additivity_criterion].filter(present).join(": "));
    addRow(dl, "resolved", ["torch", "shap", "numpy", "python"]
      .filter((k) => present(c["resolved_" + k])).map((k) => k + " " + c["resolved_" + k]).join(", "));
    addRow(dl, "reproduce", c.reproducer_command, true);
    if (present(c.reproducer)) addRow(dl, "reproducer", reproducerLink(String(c.reproducer)));
    Object.keys(c).filter((k) => !SHOWN.has(k) && present(c[k])).sort().forEach((k) => {
      addRow(dl, k, typeof c[k] === "object" ? JSON.stringify(c[k]) : c[k], typeof c[k] === "object");
    });
    const tr = el("tr", null, "more");
    const td = el("td");
    td.colSpan = 9;
    td.append(dl);
    tr.append(td);
    tr.hidden = true;
    return tr;
  }

  function show(button) {
    const d = button.dataset;
    const cases = casesOf(button);
    if (selected) selected.setAttribute("aria-pressed", "false");
    selected = button;
    button.setAttribute("aria-pressed", "true");
    byId("details-title").textContent = "torch " + d.torch + " × shap " + d.shap + " on " + d.device +
      " (" + cases.length + " case" + (cases.length === 1 ? "" : "s") + ")";
    const meta = [["Python", unique(cases, "resolved_python") || unique(cases, "python")],
      ["resolved torch", unique(cases, "resolved_torch")], ["shap", unique(cases, "resolved_shap")],
      ["numpy", unique(cases, "resolved_numpy")], ["host", unique(cases, "host")], ["GPU", unique(cases, "gpu")],
      ["run", [...new Set(cases.map((c) => c.date).filter(present).map(when))].join(", ")],
      ["harness", unique(cases, "harness_commit")]];
    byId("details-meta").textContent = meta.filter(([, v]) => v).map(([k, v]) => k + " " + v).join(" · ");
    const body = panel.querySelector("tbody");
    body.replaceChildren();
    cases.forEach((c) => {
      const tr = el("tr");
      const more = moreRow(c);
      const toggle = el("button", "+", "toggle");
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", "false");
      toggle.setAttribute("aria-label", "All fields of this case");
      toggle.addEventListener("click", () => {
        more.hidden = !more.hidden;
        toggle.textContent = more.hidden ? "+" : "−";
        toggle.setAttribute("aria-expanded", String(!more.hidden));
      });
      const first = td("all fields");
      first.append(toggle);
      const outcome = td("outcome");
      const [kind, symbol, words] = KINDS.find(([k]) => k === c.kind);
      const badge = el("span", symbol + " " + c.outcome, "badge o-" + c.outcome.replace("/", "") + " b-" + kind);
      badge.title = words;
      outcome.append(badge);
      const additivity = typeof c.additivity_error === "number"
        ? c.additivity_error.toExponential(2) + " / " + (typeof c.additivity_tolerance === "number"
          ? c.additivity_tolerance.toExponential(2) : "–") : "–";
      tr.append(first, td("model", c.model), td("explainer", c.explainer), td("device", c.device), outcome,
        signature(c.signature), td("warm median", seconds(c.call_warm_median_s), "num"),
        td("cold call", seconds(c.call_cold_s), "num"), td("additivity", additivity, "num"));
      body.append(tr, more);
    });
    if (!cases.length) {
      const tr = el("tr");
      const td = el("td", "No cases match the filters.", "muted");
      td.colSpan = 9;
      tr.append(td);
      body.append(tr);
    }
    panel.hidden = false;
  }

  function close() {
    if (selected) selected.setAttribute("aria-pressed", "false");
    selected = null;
    panel.hidden = true;
  }

  document.querySelectorAll("button.cell").forEach((button) => {
    button.addEventListener("click", () => {
      if (button.dataset.outcomeClass === "empty") return;
      show(button);
      panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
    });
  });
  Object.values(filters).forEach((select) => select.addEventListener("change", refresh));
  byId("details-close").addEventListener("click", close);
  refresh();
})();
