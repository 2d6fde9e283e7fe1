// Paste your error: the same extract / score rules as harness/publish/lookup.py, on the problems embedded by page.py.
// Both are tested on tests/fixtures/lookup/examples.json. Every text goes in through textContent.
"use strict";
(function () {
  const SIMILAR = 0.6, MIN_PART = 20, SHOWN = 5;
  const RANK = { exact: 0, part: 1, similar: 2 };
  const HEAD = /^Traceback \(most recent call last\):?$/;
  const CHAIN = /^(During handling of the above exception|The above exception was the direct cause)/;
  const FRAME = /^File "[^"]*", line \d+/;
  const PYTEST = /^E(\s+|$)/;
  const MARKS = /^[\^~\s]+$/;
  const WHERE = /^\S+\.py:\d+: [A-Za-z_][\w.]*$/;
  const TYPED = /^(?:(?:fail|crash|mismatch|import-error|install-error|error):\s*)?(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception|Warning|Exit|Interrupt))\s*:\s*([\s\S]*)$/;

  // harness/analysis/signatures.py normalize(message, limit=None)
  function normalize(text) {
    return String(text || "").replace(/0x[0-9a-fA-F]+/g, "<addr>").replace(/(?:\/[\w.\-+]+){2,}/g, "<path>")
      .replace(/(?<![A-Za-z_])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g, "N").replace(/\s+/g, " ").trim();
  }

  function extract(text) {
    const blocks = [];
    let block = [], inFrames = false;
    String(text || "").split(/\r\n|\r|\n/).forEach((raw) => {
      const line = raw.replace(/\s+$/, "").replace(PYTEST, "");
      const stripped = line.trim();
      if (!stripped || MARKS.test(stripped) || WHERE.test(stripped)) return;
      if (HEAD.test(stripped) || CHAIN.test(stripped)) {
        blocks.push(block);
        block = [];
        inFrames = HEAD.test(stripped);
        return;
      }
      if (FRAME.test(stripped)) { inFrames = true; return; }
      if (inFrames && /^\s/.test(line)) return;
      inFrames = false;
      block.push(stripped);
    });
    blocks.push(block);
    const found = [];
    blocks.filter((b) => b.length).forEach((lines) => {
      const typed = lines.map((l, i) => (TYPED.test(l) ? i : -1)).filter((i) => i >= 0);
      const joined = (typed.length ? lines.slice(typed[typed.length - 1]) : lines).join(" ");
      const m = TYPED.exec(joined);
      const message = normalize(m ? m[2] : joined);
      if (message) found.push({ type: m ? m[1] : null, message });
    });
    return found;
  }

  const compact = (s) => s.replace(/\s+/g, "").toLowerCase();
  const words = (s) => new Set(s.toLowerCase().match(/[a-z_][a-z0-9_]+/g) || []);

  function score(pasted, problem) {
    const sameType = !pasted.type || !problem.type || pasted.type.toLowerCase() === problem.type.toLowerCase();
    let best = null;
    for (const text of problem.texts) {
      const p = compact(pasted.message), t = compact(text);
      if (sameType && p === t) return ["exact", 1];
      if (sameType && ((p.length >= MIN_PART && t.includes(p)) || (t.length >= MIN_PART && p.includes(t)))) {
        best = ["part", 1];
        continue;
      }
      const a = words((pasted.type || "") + " " + pasted.message), b = words((problem.type || "") + " " + text);
      const common = [...a].filter((w) => b.has(w)).length;
      const dice = a.size && b.size ? (2 * common) / (a.size + b.size) : 0;
      if (dice >= SIMILAR && (!best || (best[0] === "similar" && dice > best[1]))) best = ["similar", Math.round(dice * 100) / 100];
    }
    return best;
  }

  function match(text, problems) {
    const pasted = extract(text);
    if (!pasted.length) return null;
    const found = [];
    problems.forEach((problem) => {
      const scored = pasted.map((p) => score(p, problem)).filter(Boolean);
      if (!scored.length) return;
      scored.sort((x, y) => RANK[x[0]] - RANK[y[0]] || y[1] - x[1]);
      found.push(Object.assign({}, problem, { match: scored[0][0], score: scored[0][1] }));
    });
    return found.sort((x, y) => RANK[x.match] - RANK[y.match] || y.score - x.score || y.n_cases - x.n_cases);
  }
  window.harnessLookup = { extract, match, normalize };

  const node = document.getElementById("matrix-data");
  const form = document.getElementById("lookup-form");
  if (!node || !form) return;
  const data = JSON.parse(node.textContent);
  const lookup = data.lookup || { problems: [], coverage: {} };
  const input = document.getElementById("lookup-text");
  const out = document.getElementById("lookup-result");

  function el(tag, text, cls) {
    const n = document.createElement(tag);
    if (text !== undefined && text !== null) n.textContent = String(text);
    if (cls) n.className = cls;
    return n;
  }
  const some = (items, n) => (items && items.length ? items.slice(0, n).join(", ") +
    (items.length > n ? " and " + (items.length - n) + " more" : "") : "none");
  function row(dl, label, value) {
    if (value === undefined || value === null || value === "") return;
    dl.append(el("dt", label));
    const dd = el("dd");
    dd.append(value instanceof Node ? value : el("span", value));
    dl.append(dd);
  }
  function list(items) {  // plain text items (third-party text never becomes markup)
    const ul = el("ul", null, "plain");
    items.forEach((t) => ul.append(el("li", String(t).replace(/`/g, ""))));
    return ul;
  }
  function range(axis, r) {
    if (!r || !r.first_bad) return null;
    const span = r.first_bad === r.last_bad ? r.first_bad : r.first_bad + " – " + r.last_bad;
    const parts = [axis + " " + span];
    if (r.last_good) parts.push("last good " + r.last_good);
    if (r.first_good) parts.push("gone from " + r.first_good);
    return parts.join("; ");
  }

  function hit(f) {
    const box = el("article", null, "lookup-hit");
    box.dataset.signature = f.signature;
    box.append(el("h3", f.id + " · " + f.signature));
    const dl = el("dl");
    row(dl, "match", f.match === "similar" ? "similar message (word overlap " + f.score.toFixed(2) + ")"
      : f.match === "exact" ? "same message" : "part of the message");
    row(dl, "where", f.n_cases + " cases; models " + some(f.models, 8) + "; explainers " + f.explainers.join(", ") +
      "; devices " + f.devices.join(", "));
    row(dl, "ranges", ["torch", "shap"].map((a) => range(a, (f.ranges || {})[a])).filter(Boolean).join(" · "));
    row(dl, "versions", f.summary);
    row(dl, "appears in", "torch/shap " + some(f.cells, 12));
    row(dl, "all the same cases pass in", f.pass_cells.length ? "torch/shap " + some(f.pass_cells, 12) : "none");
    (f.instead || []).filter((g) => !g.all_pass).forEach((g) => {
      row(dl, "instead in", "torch/shap " + some(g.cells, 6) + ": " +
        g.outcomes.map((o) => o.label + ": " + some(o.models, 4)).join("; "));
    });
    const works = f.remedies || [];
    row(dl, "works instead", works.length ? list(works) : "nothing tested works");
    if ((f.not_remedies || []).length) row(dl, "does NOT work", list(f.not_remedies));
    if (f.reproducer_command) row(dl, "reproduce", el("pre", f.reproducer_command));
    box.append(dl);
    return box;
  }

  function notObserved() {
    const c = lookup.coverage || {};
    const p = el("p", "not observed in these results: " + c.cases + " cases that ran (" + c.models + " models) in " +
      c.cells + " cells, torch " + (c.torch || []).join(", ") + " × shap " + (c.shap || []).join(", ") +
      ", Python " + (c.python || []).join(", ") + ".", "lookup-none");
    (c.grids || []).forEach((g) => { p.append(document.createElement("br"), el("span", g)); });
    return p;
  }

  function run() {
    const found = match(input.value, lookup.problems || []);
    out.replaceChildren();
    if (found === null) return;
    if (!found.length) { out.append(notObserved()); return; }
    out.append(el("p", found.length + " matching problem" + (found.length === 1 ? "" : "s") + ":", "muted"));
    found.slice(0, SHOWN).forEach((f) => out.append(hit(f)));
    if (found.length > SHOWN) out.append(el("p", "… and " + (found.length - SHOWN) + " weaker matches", "muted"));
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  input.addEventListener("input", run);
})();
