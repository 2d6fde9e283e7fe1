// Paste your error: the same reading and matching rules as harness/publish/lookup.py (extract / read / score /
// answer), on the problems embedded by page.py. Both run the shared set in tests/fixtures/lookup/ (pastes.json:
// real pastes with their sources; examples.json). Every text goes in through textContent.
"use strict";
(function () {
  const SIMILAR = 0.6, COVERED = 0.8, MIN_WORDS = 4, MIN_PART = 20, GENERIC = 8, SHOWN = 5;
  const RANK = { exact: 0, part: 1, similar: 2, symptom: 3 };
  const FULL_WIDTH = { "\uff1a": ": ", "\uff08": "(", "\uff09": ")", "\uff0c": ", ", "\u3002": ". ", "\uff01": "! ",
    "\uff1f": "? ", "\uff1b": "; ", "\u201c": '"', "\u201d": '"', "\u300c": '"', "\u300d": '"', "\u300e": '"',
    "\u300f": '"', "\u2018": "'", "\u2019": "'", "\u3000": " ", "\u00a0": " " };
  const WIDE = new RegExp("[" + Object.keys(FULL_WIDTH).join("") + "]", "g");
  const LINK = /\[([^\]\n]*)\]\((?:https?:\/\/|#)[^)\s]*\)/g;
  const ITALIC = /(^|[^A-Za-z0-9_])_([^_\s][^_\n]*?[^_\s])_(?![A-Za-z0-9_])/gm;
  const QUOTE_MARK = /^\s*(?:>\s?)+/;
  const FENCE = /^\s*(?:```|~~~)/;
  const HEAD = /^Traceback \(most recent call last\):?$/;
  const IPY_HEAD = /^(?:[A-Za-z_][A-Za-z0-9_]*\.)*([A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Warning|Exit|Interrupt))\s+Traceback \(most recent call last\)/;
  const CHAIN = /^(During handling of the above exception|The above exception was the direct cause)/;
  const RULE = /^-{5,}$/;
  const FRAMES = [/^File "([^"]*)", line \d+(?:, in (\S+))?/, /^File (\S+?):\d+(?:, in ([^\s(]+))?/,
    /^(\S+\.py|<ipython-input-[^>]*>) in ([^\s(]+)/, /^((?:Cell|Input) In ?\[[^\]]*\]|\S+\.ipynb Cell \d+)/];
  const FOLDED = /^\d+ frames?$/;
  const SOURCE = /^(?:-*>\s*)?\d+(?:\s|$)|^-+>|^\(\.\.\.\)$/;
  const PYTEST = /^E(\s+|$)/;
  const MARKS = /^[\^~\s]+$/;
  const WHERE = /^\S+\.py:\d+: [A-Za-z_][A-Za-z0-9_.]*$/;
  const TYPED = /(?<![A-Za-z0-9_.])(?:[A-Za-z_][A-Za-z0-9_]*\.)*([A-Za-z_][A-Za-z0-9_]*(?:Error|Exception|Warning|Exit|Interrupt))\s*:\s*/;
  const PREFIX = /^(?:bug|error|issue|problem|question|fail|crash|\u62a5\u9519|\u95ee\u9898|\u95ee\u9898\u63cf\u8ff0|\u9519\u8bef|\u9519\u8bef\u4fe1\u606f)\s*:\s*/i;
  const QUOTED = [/"([^"\n]{20,}?)"/g, /`([^`\n]{20,}?)`/g, /(?<![A-Za-z0-9])'([^'\n]{20,}?)'(?![A-Za-z0-9])/g];
  const ELIDED = /\(\.\.\.\)|\[\.\.\.\]|\.{3,}|\u2026/;
  const NODE = /Output N of ([A-Za-z_][A-Za-z0-9_]*) is a view/g;
  const SHAP_PATH = /[/\\]shap[/\\]/;
  const SHAP_CALL = /\bshap_values\(|\bshap\.|(?:Deep|Gradient)Explainer\(/;
  const SHAP_WORD = /(?<![a-z])(?:shap|deep ?explainer|gradient ?explainer)(?![a-z])/;
  const COMMON = new Set(["the", "of", "is", "to", "in", "and", "or", "not", "be", "for", "on", "at", "by", "this",
    "that", "with", "your", "it", "as", "an", "if", "was", "are", "from", "you", "can", "has", "have", "its"]);
  const SYMPTOMS = {
    "attributions do not add up to the output": /(?:do(?:es)?n'?t|do(?:es)? not|not|never)\s+(?:sum|add)(?:\s+up)?|not equal to (?:the )?(?:predicted|prediction|model'?s?|output)|(?:sum|total) of (?:the )?(?:shap|attribution)[a-z ]{0,20}(?:is|are) not|(?<![a-z_])additivity/,
    "NaN attributions": /(?<![a-z])nans?(?![a-z])|not a number|non-finite/,
    "all-zero attributions": /all (?:the )?(?:zeros?|0s?)(?![a-z0-9])|(?:are|is|were|all) zeros?(?![a-z])|\u5168(?:\u4e3a|\u662f)?(?:0|\u96f6)/,
  };
  const SHOWS = {
    "attributions do not add up to the output": ["mismatch: shap's own additivity check", "mismatch: attributions do not add up"],
    "NaN attributions": ["non-finite"],
    "all-zero attributions": ["mismatch: shap's own additivity check", "mismatch: attributions do not add up",
      "mismatch: attributions add up but differ"],
  };

  // harness/analysis/signatures.py normalize(message, limit=None)
  function normalize(text) {
    return String(text || "").replace(/0x[0-9a-fA-F]+/g, "<addr>").replace(/(?:\/[\w.\-+]+){2,}/g, "<path>")
      .replace(/(?<![A-Za-z_])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g, "N").replace(/\s+/g, " ").trim();
  }

  function clean(text) {
    return String(text || "").replace(WIDE, (c) => FULL_WIDTH[c]).replace(LINK, "$1").replace(ITALIC, "$1$2");
  }

  function frameOf(line) {
    for (const pattern of FRAMES) {
      const m = pattern.exec(line);
      if (m) return [m[1], m[2] === undefined ? null : m[2]];
    }
    return null;
  }

  function walk(text) {
    const blocks = [], frames = [], sources = [];
    let block = [], inFrames = false, header = null;
    const close = () => { blocks.push({ lines: block, header }); block = []; header = null; };
    clean(text).split(/\r\n|\r|\n/).forEach((raw) => {
      const line = raw.replace(/\s+$/, "").replace(QUOTE_MARK, "").split("**").join("").replace(PYTEST, "");
      const stripped = line.trim();
      const ipython = IPY_HEAD.exec(stripped);
      if (HEAD.test(stripped) || CHAIN.test(stripped) || ipython) {
        close();
        inFrames = !CHAIN.test(stripped);
        header = ipython ? ipython[1] : null;
        return;
      }
      if (FENCE.test(stripped)) { close(); inFrames = false; return; }
      if (!stripped) { if (block.some((b) => TYPED.test(b))) close(); return; }
      if (MARKS.test(stripped) || WHERE.test(stripped) || RULE.test(stripped)) return;
      const frame = frameOf(stripped);
      if (frame || FOLDED.test(stripped)) { if (frame) frames.push(frame); inFrames = true; return; }
      if (inFrames && (/^\s/.test(line) || SOURCE.test(stripped))) { sources.push(stripped); return; }
      inFrames = false;
      block.push(stripped);
    });
    close();
    return [blocks, frames, sources];
  }

  function message(kind, text) {
    const m = normalize(kind ? text : text.trim().replace(PREFIX, ""));
    return m ? { type: kind, message: m } : null;
  }
  function afterLabel(entry) {
    if (!entry || entry.type || !entry.message.includes(": ")) return null;
    const tail = entry.message.slice(entry.message.indexOf(": ") + 2);
    return tail.length >= MIN_PART ? { type: null, message: tail } : null;
  }
  function quoted(span) {
    const hit = TYPED.exec(span);
    return hit ? message(hit[1], span.slice(hit.index + hit[0].length)) : message(null, span);
  }

  function extract(text) {
    const found = [];
    walk(text)[0].forEach(({ lines, header }) => {
      const typed = lines.map((l, i) => [i, TYPED.exec(l)]).filter(([, m]) => m);
      let entry = null;
      if (typed.length) {
        const [i, hit] = typed[typed.length - 1];
        entry = message(hit[1], [lines[i].slice(hit.index + hit[0].length)].concat(lines.slice(i + 1)).join(" "));
      } else if (lines.length) {
        entry = message(header, lines.join(" "));
      }
      const spans = [];
      lines.forEach((line) => QUOTED.forEach((pattern) => { for (const q of line.matchAll(pattern)) spans.push(q[1]); }));
      [entry, afterLabel(entry)].concat(spans.map(quoted)).forEach((item) => {
        if (item && !found.some((f) => f.type === item.type && f.message === item.message)) found.push(item);
      });
    });
    return found;
  }

  const nodesOf = (texts) => texts.flatMap((t) => [...t.matchAll(NODE)].map((m) => m[1]));
  const nodeOf = (texts) => nodesOf(texts)[0] || null;

  function read(text) {
    const [, frames, sources] = walk(text);
    const paths = frames.map((f) => f[0]);
    const through = paths.some((p) => SHAP_PATH.test(p)) || sources.some((s) => SHAP_CALL.test(s));
    const where = paths.concat(sources).join(" ").toLowerCase();
    const explainer = /_deep|deep_pytorch|[/\\]deep[/\\]|deepexplainer/.test(where) ? "deep"
      : /_gradient|[/\\]gradient\.py|gradientexplainer/.test(where) ? "gradient" : null;
    const lower = clean(text).toLowerCase();
    return { frames: frames.length, through_shap: frames.length ? through : null, explainer,
      node: nodeOf(extract(text).map((e) => e.message)), mentions_shap: SHAP_WORD.test(lower),
      symptoms: Object.keys(SYMPTOMS).filter((name) => SYMPTOMS[name].test(lower)) };
  }

  const compact = (s) => s.replace(/\s+/g, "").toLowerCase();
  const words = (s) => new Set(s.toLowerCase().match(/[a-z_][a-z0-9_]+/g) || []);
  const common = (a, b) => [...a].filter((w) => b.has(w)).length;

  function score(pasted, problem) {
    const sameType = !pasted.type || !problem.type || pasted.type.toLowerCase() === problem.type.toLowerCase();
    const mine = nodeOf([pasted.message]), theirs = nodeOf(problem.texts);
    if (mine && theirs && mine !== theirs) return null;
    const pieces = pasted.message.split(ELIDED).map(compact).filter((p) => p.length >= MIN_PART);
    let best = null;
    for (const text of problem.texts) {
      const p = compact(pasted.message), t = compact(text);
      if (sameType && p === t) return ["exact", 1];
      if (sameType && ((p.length >= MIN_PART && t.includes(p)) || (t.length >= MIN_PART && p.includes(t)) ||
          (pieces.length && pieces.every((piece) => t.includes(piece))))) {
        best = ["part", 1];
        continue;
      }
      const a = words((pasted.type || "") + " " + pasted.message), b = words((problem.type || "") + " " + text);
      const dice = a.size && b.size ? (2 * common(a, b)) / (a.size + b.size) : 0;
      const content = new Set([...words(pasted.message)].filter((w) => !COMMON.has(w)));
      const covered = sameType && content.size >= MIN_WORDS ? common(content, b) / content.size : 0;
      const value = Math.max(dice >= SIMILAR ? dice : 0, covered >= COVERED ? covered : 0);
      if (value && (!best || (best[0] === "similar" && value > best[1]))) best = ["similar", Math.round(value * 100) / 100];
    }
    return best;
  }

  function versionSort(a, b) {
    const x = a.split(".").map(Number), y = b.split(".").map(Number);
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
    return 0;
  }
  const torchOf = (problem) => [...new Set(problem.cells.map((c) => c.split("/")[0]))].sort(versionSort).join(", ");

  function closeTo(problem, problems) {
    const node = nodeOf(problem.texts);
    const out = [];
    problems.forEach((other) => {
      const theirs = nodeOf(other.texts);
      if (other === problem || !node || !theirs || theirs === node) return;
      const same = other.texts.map((t) => compact(t.split(theirs).join(node)));
      if (problem.texts.some((t) => same.includes(compact(t)))) {
        out.push({ id: other.id, signature: other.signature,
          differs: problem.id + " names " + node + " (torch " + torchOf(problem) + "); " + other.id + " names " +
            theirs + " (torch " + torchOf(other) + "): the node in your message tells which" });
      }
    });
    return out;
  }

  function aside(hit, reason) {
    const where = hit.explainers.join("/") + " explainer, torch " + torchOf(hit);
    const note = reason === "outside"
      ? "not observed in shap: this traceback never passes through shap. When shap raises the same message "
      : "a generic message: nothing in the paste says it came from shap. When shap raises it ";
    return { id: hit.id, signature: hit.signature, reason, note: note + "(" + where + ") it is " + hit.id + ": " + hit.signature };
  }

  function answer(text, problems) {
    const pasted = extract(text);
    if (!pasted.length) return null;
    const seen = read(text);
    const found = [], setAside = [];
    problems.forEach((problem) => {
      const scored = pasted.map((p) => score(p, problem)).filter(Boolean);
      if (!scored.length) return;
      scored.sort((x, y) => RANK[x[0]] - RANK[y[0]] || y[1] - x[1]);
      const [kind, value] = scored[0];
      const hit = Object.assign({}, problem, { match: kind, score: value, close: closeTo(problem, problems) });
      const generic = Math.min(...problem.texts.map((t) => words(t).size)) < GENERIC;
      if (generic && kind === "similar") return;
      if (seen.through_shap === false) setAside.push(aside(hit, "outside"));
      else if (generic && !seen.through_shap && !seen.mentions_shap) setAside.push(aside(hit, "generic"));
      else found.push(hit);
    });
    if (!found.length && !setAside.length && !pasted.some((p) => p.type)) {
      seen.symptoms.forEach((symptom) => problems.forEach((problem) => {
        if (SHOWS[symptom].some((s) => problem.signature.includes(s)) && !found.some((f) => f.id === problem.id)) {
          found.push(Object.assign({}, problem, { match: "symptom", score: 1, close: [], symptom }));
        }
      }));
    }
    found.sort((x, y) => RANK[x.match] - RANK[y.match] || y.score - x.score || y.n_cases - x.n_cases);
    return { found, set_aside: setAside, read: seen };
  }

  function match(text, problems) {
    const a = answer(text, problems);
    return a === null ? null : a.found;
  }
  window.harnessLookup = { extract, read, score, answer, match, normalize };

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
      : f.match === "exact" ? "same message" : f.match === "symptom" ? heard(f) : "part of the message");
    (f.close || []).forEach((c) => row(dl, "close to " + c.id, c.differs));
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

  function heard(f) {  // a symptom told in words: does shap itself report this problem?
    return f.symptom + ": " + (f.outcome === "mismatch" && !/shap's own/.test(f.signature)
      ? "silent (shap does not report it)" : "loud (shap reports it)");
  }

  function notObserved(setAside) {
    const c = lookup.coverage || {};
    const p = el("p", "not observed in these results: " + c.cases + " cases that ran (" + c.models + " models) in " +
      c.cells + " cells, torch " + (c.torch || []).join(", ") + " × shap " + (c.shap || []).join(", ") +
      ", Python " + (c.python || []).join(", ") + ".", "lookup-none");
    (c.grids || []).forEach((g) => { p.append(document.createElement("br"), el("span", g)); });
    (setAside || []).forEach((a) => { p.append(document.createElement("br"), el("span", a.note)); });
    return p;
  }

  function run() {
    const said = answer(input.value, lookup.problems || []);
    out.replaceChildren();
    if (said === null) return;
    const found = said.found;
    if (!found.length) { out.append(notObserved(said.set_aside)); return; }
    out.append(el("p", found.length + " matching problem" + (found.length === 1 ? "" : "s") + ":", "muted"));
    found.slice(0, SHOWN).forEach((f) => out.append(hit(f)));
    if (found.length > SHOWN) out.append(el("p", "… and " + (found.length - SHOWN) + " weaker matches", "muted"));
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  input.addEventListener("input", run);
})();
