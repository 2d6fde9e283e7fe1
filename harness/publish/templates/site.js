// The page's state (search text, filters, selected cell, versions, language) lives in the URL's hash, so a view
// can be linked; opening the link restores it. Everything read from the URL or the data goes into the page through
// textContent (or by cloning the server-rendered, escaped cards), never as HTML.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("matrix-data").textContent);
  const byId = (id) => document.getElementById(id);
  const answers = data.answers;
  const LANGS = { en: "en", zh: "zh-Hans" };
  const KINDS = data.kinds;  // [kind, symbol, words] as page.py's KINDS
  const MARK_KIND = { p: "pass", w: "wrong", c: "check", r: "raised", x: "crash", t: "timeout", n: "notrun" };
  const state = { q: "", lang: "en", family: "", model: "", cell: "", v: "" };
  const filters = { family: byId("f-family"), model: byId("f-model") };
  const panel = byId("details");
  const loaded = {};  // cell id -> case rows, filled by cells/<cell>.js
  let selected = null;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  // A text object {"en", "zh"} as one span per language (the html element's lang shows one); a string as it is.
  function tr(value, tag) {
    const box = el(tag || "span");
    if (value && typeof value === "object") {
      Object.entries(LANGS).forEach(([code, lang]) => {
        const span = el("span", value[code] || value.en);
        span.lang = lang;
        box.append(span);
      });
    } else box.textContent = value === undefined || value === null ? "" : String(value);
    return box;
  }
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
  const td = (label, text, cls) => { const n = el("td", text, cls); n.dataset.label = label; return n; };
  const present = (v) => v !== undefined && v !== null && v !== "";
  const seconds = (v) => (typeof v === "number" ? v.toPrecision(3) + " s" : "–");
  const unique = (cases, key) => [...new Set(cases.map((c) => c[key]).filter(present))].join(", ");

  // --- the URL -----------------------------------------------------------------------------------------------
  function readHash() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    Object.keys(state).forEach((k) => { state[k] = params.get(k) || ""; });
    if (!LANGS[state.lang]) state.lang = "en";
  }
  function writeHash() {
    const params = new URLSearchParams();
    Object.entries(state).forEach(([k, v]) => { if (v && !(k === "lang" && v === "en")) params.set(k, v); });
    const hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  // --- language ----------------------------------------------------------------------------------------------
  function setLang(code) {
    state.lang = LANGS[code] ? code : "en";
    document.documentElement.lang = LANGS[state.lang];
    document.querySelectorAll("button.lang").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === state.lang)));
  }

  // --- I got this error ----------------------------------------------------------------------------------------
  const searchText = byId("lookup-text");
  const searchResult = byId("lookup-result");
  const MATCH_WORDS = { exact: "match_exact", part: "match_part", similar: "match_similar" };

  function notObserved() {
    const c = data.lookup.coverage || {};
    const span = (list) => (list && list.length ? (list.length > 1 ? list[0] + " – " + list[list.length - 1] : list[0]) : "–");
    const values = { cases: c.cases, cells: c.cells, models: c.models, torch: span(c.torch), shap: span(c.shap),
      python: (c.python || []).join(", ") };
    const t = data.strings.not_observed;
    const box = tr({ en: fill(t.en, values), zh: fill(t.zh, values) }, "p");
    box.className = "not-observed";
    box.id = "not-observed";
    return box;
  }

  // harnessLookup.answer (lookup.js) gives the matches and the problems it set aside (a traceback outside shap, a
  // generic message); an older lookup.js has match only.
  function ask(text) {
    const lookup = window.harnessLookup;
    if (lookup.answer) return lookup.answer(text, data.lookup.problems);
    const found = lookup.match(text, data.lookup.problems);
    return found === null ? null : { found, set_aside: [] };
  }

  function search() {
    state.q = searchText.value;
    searchResult.replaceChildren();
    const said = state.q.trim() ? ask(state.q) : null;
    if (said === null) return;
    if (!said.found.length) {
      searchResult.append(notObserved());
      (said.set_aside || []).forEach((a) => searchResult.append(el("p", a.note, "set-aside muted")));
      return;
    }
    said.found.slice(0, 5).forEach((f) => {
      const card = byId("problem-" + f.id);
      if (!card) return;
      const copy = card.cloneNode(true);  // the server-rendered card: escaped by Jinja2, both languages
      copy.id = "hit-" + f.id;
      copy.classList.add("hit");
      const note = tr(data.strings[MATCH_WORDS[f.match]] || f.match, "p");
      note.className = "match muted";
      if (f.symptom) {  // a symptom told in words: does shap itself report the problem it points to?
        note.append(" · " + f.symptom + ": " + (f.outcome === "mismatch" && !/shap's own/.test(f.signature)
          ? "silent (shap does not report it)" : "loud (shap reports it)"));
      }
      (f.close || []).forEach((c) => note.append(el("br"), el("span", c.differs)));
      copy.insertBefore(note, copy.children[1]);
      searchResult.append(copy);
    });
  }

  // --- I have these versions -----------------------------------------------------------------------------------
  const vTorch = byId("v-torch"), vShap = byId("v-shap"), vResult = byId("versions-result");
  function versions() {
    vResult.replaceChildren();
    if (!vTorch || !vTorch.value) return;
    const cells = (answers.cells || []).filter((c) => c.torch === vTorch.value && c.shap === vShap.value);
    if (!cells.length) { vResult.append(tr(data.strings.versions_none, "p")); return; }
    cells.forEach((c) => {
      const card = el("article", null, "card cell-card");
      card.append(el("h3", "torch " + c.torch + " × shap " + c.shap + (c.python ? " · Python " + c.python : "") +
        (c.numpy ? " · numpy " + c.numpy : "")));
      card.append(tr(c.sentence, "p"));
      const links = el("p");
      (c.problems || []).forEach((id) => {
        const a = el("a", id);
        a.href = "#problem-" + id;
        links.append(a, " ");
      });
      card.append(links);
      vResult.append(card);
    });
  }

  // --- the grids -----------------------------------------------------------------------------------------------
  function chosenModels() {
    if (filters.model.value) return new Set([filters.model.value]);
    if (filters.family.value) return new Set(data.families[filters.family.value] || []);
    return null;
  }
  function chips(kinds) {
    const counts = {};
    kinds.forEach((k) => { counts[k] = (counts[k] || 0) + 1; });
    return KINDS.filter(([k]) => counts[k]).map(([k, symbol, words]) => {
      const chip = el("span", symbol + counts[k], "k k-" + k);
      chip.title = counts[k] + " " + words;
      chip.append(el("span", " " + words, "vh"));
      return chip;
    });
  }
  const shareClass = (passed, ran) => (passed === ran ? "all" : passed === 0 ? "none" : 2 * passed >= ran ? "most" : "few");

  function refresh() {
    state.family = filters.family.value;
    state.model = filters.model.value;
    const keep = chosenModels();
    document.querySelectorAll("button.cell").forEach((button) => {
      const [base, label, sub] = button.dataset.base.split("|");
      let cls = base, text = label;
      const marks = data.marks[button.dataset.key] || "";
      const kinds = [...marks].map((m, i) => (m !== "." && (!keep || keep.has(data.models[i])) ? MARK_KIND[m] : null))
        .filter(Boolean);
      if (keep && ["all", "most", "few", "none"].includes(base)) {
        const ran = kinds.filter((k) => k !== "notrun").length;
        const passed = kinds.filter((k) => k === "pass").length;
        if (!kinds.length) { cls = "empty"; text = "–"; } else if (!ran) { cls = "notrun"; text = "not run"; } else {
          cls = shareClass(passed, ran);
          text = passed + "/" + ran;
        }
      }
      button.className = "cell c-" + cls;
      button.dataset.outcomeClass = cls;
      button.querySelector(".n").textContent = text;
      button.querySelector(".sub").textContent = cls === "empty" ? "" : sub;
      const ran = ["all", "most", "few", "none"].includes(cls);
      button.querySelector(".kinds").replaceChildren(...(ran ? chips(kinds) : []));
    });
    document.querySelectorAll("#devices-table tbody tr").forEach((row) => { row.hidden = Boolean(keep) && !keep.has(row.dataset.model); });
    const active = [["kind", filters.family.value], ["model", filters.model.value]].filter(([, v]) => v);
    byId("filter-note").textContent = active.length ? "Showing only " + active.map(([k, v]) => k + " " + v).join(", ") + "." : "";
    if (selected) show(selected);
    writeHash();
  }

  // --- a cell's cases, loaded when the cell is opened ------------------------------------------------------------
  const cellFile = (cell) => cell.replace(/[^A-Za-z0-9_.-]/g, "_") + ".js";  // page.py's cell_file
  window.harnessCell = (id, rows) => { loaded[cellFile(id)] = rows; };

  function load(button) {
    const file = button.dataset.file;
    return new Promise((resolve, reject) => {
      if (loaded[file]) { resolve(loaded[file]); return; }
      const script = document.createElement("script");
      script.src = data.cellsHref + "/" + encodeURIComponent(file);
      script.onload = () => (loaded[file] ? resolve(loaded[file]) : reject(new Error("no rows in " + file)));
      script.onerror = () => reject(new Error("could not load " + file));
      document.head.append(script);
    });
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
  function signature(text) {
    const cell = td("signature", null, "sig");
    if (present(text)) { cell.append(el("div", text, "clamp")); cell.title = text; }
    return cell;
  }
  const when = (stamp) => String(stamp).replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)[\d:.]*(\+00:00|Z)$/, "$1 $2 UTC");
  const SHOWN = new Set(["cell", "torch", "row", "shap", "python", "cell_status", "model", "explainer", "device", "outcome",
    "signature", "error_type", "error_message", "error_frame", "error_package", "reason", "crash", "warnings",
    "additivity_metric", "additivity_error", "additivity_tolerance", "additivity_criterion", "call_cold_s",
    "call_warm_median_s", "resolved_torch", "resolved_shap", "resolved_numpy", "resolved_python",
    "reproducer_command", "reproducer", "date", "host", "cpu_model", "gpu", "harness_commit", "kind"]);

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
    const cell = el("td");
    cell.colSpan = 9;
    cell.append(dl);
    tr.append(cell);
    tr.hidden = true;
    return tr;
  }

  function render(button, rows) {
    const d = button.dataset;
    const keep = chosenModels();
    const cases = rows.filter((c) => c.explainer === d.explainer && c.device === d.device && (c.row || c.torch) === d.torch &&
      c.shap === d.shap && (!keep || keep.has(c.model)));
    byId("details-title").textContent = d.explainer + ": torch " + d.torch + " × shap " + d.shap + " on " + d.device +
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
      const row = el("tr");
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
      row.append(first, td("model", c.model), td("explainer", c.explainer), td("device", c.device), outcome,
        signature(c.signature), td("warm median", seconds(c.call_warm_median_s), "num"),
        td("cold call", seconds(c.call_cold_s), "num"), td("additivity", additivity, "num"));
      body.append(row, more);
    });
    if (!cases.length) {
      const row = el("tr");
      const cell = el("td", "No cases match the filters.", "muted");
      cell.colSpan = 9;
      row.append(cell);
      body.append(row);
    }
  }

  function show(button) {
    if (selected && selected !== button) selected.setAttribute("aria-pressed", "false");
    selected = button;
    button.setAttribute("aria-pressed", "true");
    state.cell = button.dataset.key;
    writeHash();
    panel.hidden = false;
    const pending = button;
    const loadedRows = loaded[button.dataset.file];
    if (loadedRows) { render(button, loadedRows); return Promise.resolve(); }
    byId("details-meta").replaceChildren(tr(data.strings.details_loading));
    panel.querySelector("tbody").replaceChildren();
    return load(button).then((rows) => { if (selected === pending) render(pending, rows); })
      .catch(() => { byId("details-meta").replaceChildren(tr(data.strings.details_failed)); });
  }

  function close() {
    if (selected) selected.setAttribute("aria-pressed", "false");
    selected = null;
    state.cell = "";
    panel.hidden = true;
    writeHash();
  }

  // --- wiring ------------------------------------------------------------------------------------------------
  document.querySelectorAll("button.lang").forEach((b) => b.addEventListener("click", () => { setLang(b.dataset.lang); writeHash(); }));
  byId("search").addEventListener("submit", (event) => { event.preventDefault(); search(); writeHash(); });
  searchText.addEventListener("input", () => { search(); writeHash(); });
  [vTorch, vShap].forEach((s) => s && s.addEventListener("change", () => { state.v = vTorch.value + "/" + vShap.value; versions(); writeHash(); }));
  Object.values(filters).forEach((s) => s.addEventListener("change", refresh));
  document.querySelectorAll("button.cell").forEach((button) => {
    button.addEventListener("click", () => {
      if (button.dataset.outcomeClass === "empty") return;
      show(button);
      panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
    });
  });
  byId("details-close").addEventListener("click", close);

  // restore the view the URL describes (values that match nothing are ignored); again when a link changes the hash
  function restore() {
    readHash();
    setLang(state.lang);
    searchText.value = state.q;
    search();
    const option = (select, value) => [...select.options].some((o) => o.value === value);
    filters.family.value = option(filters.family, state.family) ? state.family : "";
    filters.model.value = option(filters.model, state.model) ? state.model : "";
    const [vt, vs] = state.v.split("/");
    if (vTorch && option(vTorch, vt) && option(vShap, vs)) { vTorch.value = vt; vShap.value = vs; }
    versions();  // the chosen pair, or the first one: the section is never empty
    const cell = state.cell && [...document.querySelectorAll("button.cell")].find((b) => b.dataset.key === state.cell);
    const wanted = state.cell;
    refresh();
    if (cell && cell.dataset.outcomeClass !== "empty") show(cell);
    else if (wanted) state.cell = "";
  }
  restore();
  window.addEventListener("hashchange", () => { if (!location.hash.startsWith("#problem-") && !document.getElementById(location.hash.slice(1))) restore(); });
  window.harnessPage = { state, show, search };
})();
