"""Answer cards: one answer per question a user arrives with, in English and Simplified Chinese.

A user comes with "I got this error", "I have this kind of model" or "I have these
versions".  ``build()`` answers all three from one matrix.json document, as plain JSON
data whose every user-visible text is {"en": ..., "zh": ...}, so that the web page,
COMPATIBILITY.md and the terminal lookup say the same sentences (the shape is in build()'s
docstring; how a reader reads a card: docs/results.md).

Every verdict and count is read from the recorded outcomes; the words come from the
templates below (written by hand in both languages, never translated at run time), and
the kinds of model from each reference model's ``FAMILY`` and ``DESCRIPTION``
(read from models/ without importing them).  Technical names, versions, code and error
messages stay as they are in both languages.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd
from packaging.version import Version

from . import known_problems
from .catalogue import AXES
from ..plan.suite import MODELS_DIR, discover
from ..records import store
from ..records.outcomes import EXPLAINERS, PASS, RAN

LANGS = ("en", "zh")
EXPLAINER_NAMES = {"deep": "DeepExplainer", "gradient": "GradientExplainer"}
OTHER = "other"  # the family of a model that declares none (a user's own models)

# Each kind of model: its name (a table row), "who" (a noun phrase for sentences), a description, and the
# reference model that stands for it (whose reproducer a card shows first).  Order: the order of the views.
FAMILIES = {
    "lstm_final_state": {
        "name": {"en": "LSTM read through h_n / c_n", "zh": "通过 h_n / c_n 读取的 LSTM"},
        "who": {"en": "an LSTM whose head reads h_n or c_n", "zh": "输出层读取 h_n 或 c_n 的 LSTM"},
        "description": {
            "en": "nn.LSTM returns (output, (h_n, c_n)); the model's head reads the final hidden or cell state "
                  "instead of the output sequence.",
            "zh": "nn.LSTM 返回 (output, (h_n, c_n))；模型的输出层读取最终的隐藏状态或细胞状态，而不是输出序列。"},
        "example": "lstm_hidden_state"},
    "rnn_output": {
        "name": {"en": "GRU / LSTM read through its output", "zh": "GRU / 通过输出序列读取的 LSTM"},
        "who": {"en": "a GRU or an LSTM read through its output sequence",
                "zh": "GRU 或通过输出序列读取的 LSTM"},
        "description": {
            "en": "An LSTM whose head reads the output sequence (out[:, -1], attention over out), or a GRU "
                  "(whose h_n is a plain tensor, not a nested tuple).",
            "zh": "LSTM 的输出层读取输出序列（out[:, -1]，或对 out 做注意力），或 GRU（它的 h_n 是普通张量，"
                  "不在嵌套的 tuple 里）。"},
        "example": "lstm_last_output"},
    "container_output": {
        "name": {"en": "Custom layer returning a dict / list / nested tuple",
                 "zh": "返回 dict / list / 嵌套 tuple 的自定义层"},
        "who": {"en": "a custom layer without sub-layers that returns a dict, a list or a nested tuple",
                "zh": "没有子层、返回 dict、list 或嵌套 tuple 的自定义层"},
        "description": {
            "en": "A leaf module (its own weights, no child modules) whose forward() returns a dict, a list or a "
                  "tuple inside a tuple; the parent reads one entry.",
            "zh": "一个叶子模块（有自己的权重、没有子模块），它的 forward() 返回 dict、list 或 tuple 中的 tuple，"
                  "父模块读取其中一项。"},
        "example": "hook_order_dict_output_leaf"},
    "inplace": {
        "name": {"en": "In-place operations (ReLU(inplace=True), out += x)",
                 "zh": "原地操作（ReLU(inplace=True)、out += x）"},
        "who": {"en": "a model with in-place operations (ReLU(inplace=True), out += x)",
                "zh": "含原地操作（ReLU(inplace=True)、out += x）的模型"},
        "description": {
            "en": "Activations created with inplace=True, or residual sums written out += x, as torchvision's "
                  "ResNet does.",
            "zh": "用 inplace=True 创建的激活函数，或写成 out += x 的残差相加（torchvision 的 ResNet 就是这样写的）。"},
        "example": "relu_inplace"},
    "reused_module": {
        "name": {"en": "One activation module called twice", "zh": "同一个激活模块被调用两次"},
        "who": {"en": "a model that calls one activation module twice in forward()",
                "zh": "在 forward() 中两次调用同一个激活模块的模型"},
        "description": {"en": "The same nn.ReLU (or other activation) object is used at two places in forward().",
                        "zh": "同一个 nn.ReLU（或其他激活）对象在 forward() 中的两个地方使用。"},
        "example": "reused_activation"},
    "torchscript": {
        "name": {"en": "TorchScript model", "zh": "TorchScript 模型"},
        "who": {"en": "a TorchScript model (torch.jit.script)", "zh": "TorchScript 模型（torch.jit.script）"},
        "description": {"en": "A model compiled with torch.jit.script or loaded with torch.jit.load.",
                        "zh": "用 torch.jit.script 编译、或用 torch.jit.load 加载的模型。"},
        "example": "torchscript_mlp"},
    "attention": {
        "name": {"en": "Attention / transformer", "zh": "注意力 / Transformer"},
        "who": {"en": "an attention or transformer model", "zh": "注意力或 Transformer 模型"},
        "description": {
            "en": "Self-attention (nn.MultiheadAttention), transformer encoder layers, LayerNorm + GELU blocks, or "
                  "softmax attention pooling.",
            "zh": "自注意力（nn.MultiheadAttention）、Transformer 编码层、LayerNorm + GELU 块，"
                  "或 softmax 注意力池化。"},
        "example": "transformer_encoder_layer"},
    "activations": {
        "name": {"en": "Other activations (F.relu, SELU, ELU, ...)", "zh": "其他激活函数（F.relu、SELU、ELU 等）"},
        "who": {"en": "a model with other activations (F.relu, SELU, ELU, ...)",
                "zh": "使用其他激活函数（F.relu、SELU、ELU 等）的模型"},
        "description": {
            "en": "Activations called as functions (F.relu, torch.sigmoid), or activation modules other than ReLU: "
                  "SELU, ELU, LeakyReLU, Softplus.",
            "zh": "以函数形式调用的激活（F.relu、torch.sigmoid），"
                  "或 ReLU 以外的激活模块：SELU、ELU、LeakyReLU、Softplus。"},
        "example": "functional_activations"},
    "custom_blocks": {
        "name": {"en": "Custom blocks and multi-head outputs", "zh": "自定义模块块与多头输出"},
        "who": {"en": "a model built from custom nn.Module blocks", "zh": "由自定义 nn.Module 块组成的模型"},
        "description": {
            "en": "Custom nn.Module blocks nested inside each other, a block with its own sub-layers that returns a "
                  "dict, or several heads concatenated into one output.",
            "zh": "相互嵌套的自定义 nn.Module 块、带子层并返回 dict 的块，或把多个输出头拼接成一个输出。"},
        "example": "nested_custom_blocks"},
    "cnn": {
        "name": {"en": "CNN", "zh": "卷积网络（CNN）"},
        "who": {"en": "a convolutional network (CNN)", "zh": "卷积网络（CNN）"},
        "description": {"en": "Convolutions with batch norm, max or adaptive pooling and upsampling, over images or "
                              "signals.",
                        "zh": "对图像或信号做卷积，带批归一化、最大池化或自适应池化、上采样。"},
        "example": "cnn2d"},
    "mlp": {
        "name": {"en": "MLP / linear model", "zh": "MLP / 线性模型"},
        "who": {"en": "a plain MLP or linear model", "zh": "普通 MLP 或线性模型"},
        "description": {"en": "Linear layers with nn.ReLU modules, a purely linear model, or an out-of-place "
                              "residual sum.",
                        "zh": "由线性层和 nn.ReLU 模块组成的网络、纯线性模型，或非原地的残差相加。"},
        "example": "mlp"},
    "one_d_output": {
        "name": {"en": "1-D output, shape (N,)", "zh": "一维输出，形状 (N,)"},
        "who": {"en": "a model whose output is 1-D, shape (N,)", "zh": "输出为一维、形状 (N,) 的模型"},
        "description": {"en": "The output is squeezed to shape (N,) (a regression head with .squeeze(-1)), "
                              "not (N, 1).",
                        "zh": "输出被压缩成形状 (N,)（回归头用了 .squeeze(-1)），而不是 (N, 1)。"},
        "example": "mlp_1d_output"},
    "two_inputs": {
        "name": {"en": "Two inputs", "zh": "两个输入"},
        "who": {"en": "a model with two inputs", "zh": "有两个输入的模型"},
        "description": {"en": "forward() takes two tensors (for example tabular features and a signal).",
                        "zh": "forward() 接受两个张量（例如表格特征和一段信号）。"},
        "example": "two_inputs"},
    OTHER: {
        "name": {"en": "Your own models", "zh": "你自己的模型"},
        "who": {"en": "a model of your own", "zh": "你自己的模型"},
        "description": {"en": "Models given with --models that declare no FAMILY.",
                        "zh": "用 --models 提供、没有声明 FAMILY 的模型。"},
        "example": None},
}

# A fix as a user would make it: (label, copyable code).  Code remedies come from harness/cell/remedies.py.
FIX_CODE = {
    "gradient_explainer": ({"en": "Use GradientExplainer instead", "zh": "改用 GradientExplainer"},
                           "explainer = shap.GradientExplainer(model, background)\n"
                           "shap_values = explainer.shap_values(x)"),
    "out_of_place": ({"en": "Make the activations out-of-place", "zh": "把激活改为非原地（inplace=False）"},
                     "for module in model.modules():\n"
                     "    if getattr(module, \"inplace\", False):\n"
                     "        module.inplace = False\n"
                     "# and in forward(): out = out + identity, not out += identity"),
    "module_per_call": ({"en": "Give each call its own activation module", "zh": "每次调用使用各自的激活模块"},
                        "# in __init__: one object per use\n"
                        "self.act1 = nn.ReLU()\n"
                        "self.act2 = nn.ReLU()\n"
                        "# in forward(): self.act1(...) and self.act2(...), never self.act twice"),
    "out_of_place_per_call": ({"en": "Out-of-place activations, each call its own module",
                               "zh": "激活改为非原地，并且每次调用使用各自的模块"},
                              "self.relu1 = nn.ReLU(inplace=False)\n"
                              "self.relu2 = nn.ReLU(inplace=False)\n"
                              "# in forward(): out = self.relu2(out + identity)"),
    "cudnn_off": ({"en": "Turn cuDNN off while explaining", "zh": "解释时关闭 cuDNN"},
                  "with torch.backends.cudnn.flags(enabled=False):\n"
                  "    shap_values = explainer.shap_values(x)"),
}

NO_CHECK_ADDITIVITY = {
    "en": "check_additivity=False is not a fix: it only silences shap's own check, the attributions stay wrong.",
    "zh": "check_additivity=False 不是解决办法：它只是关掉 shap 自带的检查，归因值仍然是错的。"}


# ---------------------------------------------------------------------------------------------------- words

def both(en: str, zh: str) -> dict:
    return {"en": en, "zh": zh}


def join(items: list[str], lang: str) -> str:
    """"a, b and c" / "a、b 和 c"."""
    if len(items) <= 1:
        return "".join(items)
    if lang == "zh":
        return "、".join(items[:-1]) + "和" + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def joined(texts: list[dict]) -> dict:
    return {lang: join([t[lang] for t in texts], lang) for lang in LANGS}


def sees(signature: str, plural: bool = False, brief: bool = False) -> dict:
    """What shap_values() does, as a verb phrase in both languages ("raises RuntimeError"; plural: "raise");
    ``brief`` leaves out why the numbers are wrong."""
    kind = signature.split(":", 1)[0]
    if signature.startswith("mismatch: shap's own additivity check fired"):
        en, zh = ("fails shap's own additivity check (the attributions do not add up)",
                  "通不过 shap 自带的可加性检查（归因值加起来不等于模型输出）")
    elif kind == "mismatch":
        en, zh = ("gives wrong numbers without any error (the attributions do not add up)",
                  "在不报错的情况下给出错误的数值（归因值加起来不等于模型输出）")
    elif kind == "fail":
        error = signature.split(":")[1].strip()
        en, zh = f"raises {error}", f"抛出 {error}"
    elif kind == "crash":
        en, zh = "crashes the process", "使进程崩溃"
    elif kind == "timeout":
        en, zh = "hangs (timeout)", "卡住（超时）"
    elif kind == "install-error":
        en, zh = "does not install", "无法安装"
    elif kind == "import-error":
        en, zh = "fails at import torch, shap", "在 import torch, shap 时失败"
    else:
        en, zh = f"ends in {kind}", f"结果为 {kind}"
    if brief:
        en, zh = en.split(" (", 1)[0], zh.split("（", 1)[0]
    if plural:
        verb, rest = en.split(" ", 1)
        en = f"{verb[:-2] if verb.endswith('shes') else verb[:-1]} {rest}"
    return both(en, zh)


def cases_text(passed: int, total: int) -> dict:
    return both(f"passed in {passed} of {total} cases", f"{total} 个用例中通过 {passed} 个")


def span(versions: list[str]) -> str:
    return versions[0] if len(versions) == 1 else f"{versions[0]} – {versions[-1]}"


# ---------------------------------------------------------------------------------------------------- models

REPORT = re.compile(r"https://github\.com/[\w./-]+/(?:issues|pull)/\d+")  # a public report a docstring cites


def model_constants(path: Path) -> dict:
    """A model module's string constants (FAMILY, DESCRIPTION) and docstring, read without importing it."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    found = {"doc": ast.get_docstring(tree) or ""}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def models_info(names, models_dir: Path = MODELS_DIR) -> dict:
    """Model name -> {"family", "description" (T), "doc", "reports"} for the reference models and any name seen."""
    files = discover(models_dir)
    info = {}
    for name in sorted(set(names) | set(files)):
        constants = model_constants(files[name]) if name in files else {}
        family = constants.get("FAMILY")
        english = constants.get("DESCRIPTION") or name
        info[name] = {"family": family if family in FAMILIES else OTHER,
                      "description": both(english, constants.get("DESCRIPTION_ZH") or english),
                      "doc": constants.get("doc", ""),
                      "reports": REPORT.findall(constants.get("doc", ""))}
    return info


# ---------------------------------------------------------------------------------------------------- ranges

def _order(values) -> list[str]:
    return sorted(set(values), key=Version)


def cells_text(cells: set[tuple[str, str]], tested: dict[str, list[str]]) -> dict:
    """Cells (torch, shap) as torch spans with shap spans: "torch 1.13.1 – 2.15.0 with shap >= 0.43.0".

    ``tested`` maps each torch to the shap releases that ran with it; a shap span that reaches the newest of them
    is written ">= first", so rows that differ only in what was tested merge."""
    rows = []
    torches = _order(tested)
    for torch in torches:
        shaps = tested[torch]
        runs, run = [], []
        for shap in shaps:
            if (torch, shap) in cells:
                run.append(shap)
            elif run:
                runs.append(run)
                run = []
        if run:
            runs.append(run)
        key = tuple((r[0], None if r[-1] == shaps[-1] and len(shaps) > 1 and r[0] != shaps[-1] else r[-1])
                    for r in runs)
        if rows and rows[-1][1] == key and rows[-1][0][-1] == torches[torches.index(torch) - 1]:
            rows[-1][0].append(torch)
        else:
            rows.append(([torch], key))
    parts = {lang: [] for lang in LANGS}
    for group, key in rows:
        if not key:
            continue
        shap = ", ".join(f">= {a}" if b is None else span([a, b] if a != b else [a]) for a, b in key)
        parts["en"].append(f"torch {span(group)} with shap {shap}")
        parts["zh"].append(f"torch {span(group)} 搭配 shap {shap}")
    return {"en": "; ".join(parts["en"]), "zh": "；".join(parts["zh"])}


def axis_bounds(entry: dict, bisections: list[dict], axis: str) -> tuple[str | None, str | None, list[str]]:
    """(lowest, highest, notes) of a signature on one axis: tested bad releases widened by bisected boundaries.

    None means unbounded that way in what was tested (already in the oldest, still in the newest); a bisected
    boundary counts only where it lies outside the tested bad span (one model's move into a signature that
    others already had is not where the signature starts)."""
    r = entry["ranges"][axis]
    low = r["first_bad"] if r["last_good"] else None
    high = r["last_bad"] if r["first_good"] else None
    notes = []
    for b in bisections:
        boundary = b.get("boundary")  # None: the bisection found no change
        if not boundary or b["axis"] != axis or b["case"] not in entry["cases"]:
            continue
        last, first = boundary["last"], boundary["first"]
        if first["label"] == entry["signature"] and Version(first["version"]) < Version(r["first_bad"]):
            low = first["version"]
            notes.append(f"{axis} {last['version']} → {first['version']}")
        elif last["label"] == entry["signature"] and Version(last["version"]) > Version(r["last_bad"]):
            high = last["version"]
            notes.append(f"{axis} {last['version']} → {first['version']}")
        elif first["label"] == entry["signature"] and first["version"] == r["first_bad"] and r["last_good"]:
            notes.append(f"{axis} {last['version']} → {first['version']}")
        elif last["label"] == entry["signature"] and last["version"] == r["last_bad"] and r["first_good"]:
            notes.append(f"{axis} {last['version']} → {first['version']}")
    return low, high, sorted(set(notes))


def range_text(entry: dict, bisections: list[dict]) -> tuple[dict, dict, dict]:
    """(short, full, evidence): "torch 1.8.0 – 1.13.0 with shap >= 0.43.0", the same followed by the evidence, and
    the evidence alone (the tested releases where it was seen, the boundaries bisection found)."""
    parts, notes = {lang: [] for lang in LANGS}, []
    for axis in AXES:
        r = entry["ranges"][axis]
        low, high, found = axis_bounds(entry, bisections, axis)
        notes += found
        if low and high:
            en = zh = f"{axis} {span([low, high] if low != high else [low])}"
        elif low:
            en = zh = f"{axis} >= {low}"
        elif high:
            en = zh = f"{axis} <= {high}"
        else:
            tested = span(list(dict.fromkeys([r["oldest_tested"], r["newest_tested"]])))
            en, zh = f"{axis} {tested} (all tested)", f"{axis} {tested}（所有测试过的版本）"
        parts["en"].append(en)
        parts["zh"].append(zh)
    short = {"en": " with ".join(parts["en"]), "zh": "搭配".join(parts["zh"])}  # spaced() sets the spaces
    seen = ", ".join(f"{axis} {span([entry['ranges'][axis]['first_bad'], entry['ranges'][axis]['last_bad']])}"
                     if entry["ranges"][axis]["first_bad"] != entry["ranges"][axis]["last_bad"]
                     else f"{axis} {entry['ranges'][axis]['first_bad']}" for axis in AXES)
    evidence = both(f"seen in the grid: {seen}" + (f"; boundaries found by bisection: {', '.join(notes)}"
                                                   if notes else ""),
                    f"在测试矩阵中出现于：{seen}" + (f"；二分查找确定的边界：{'，'.join(notes)}" if notes else ""))
    full = both(f"{short['en']} ({evidence['en']})", f"{short['zh']}（{evidence['zh']}）")
    return short, full, evidence


# ---------------------------------------------------------------------------------------------------- problems

def _frame(matrix: dict) -> pd.DataFrame:
    frame = pd.DataFrame(matrix["cases"])
    return frame.astype({c: object for c in frame.columns if c.startswith("remedy_") or c == "signature"})


def _families_of(models, info: dict) -> list[str]:
    """Family ids of models, in FAMILIES order."""
    present = {info[m]["family"] for m in models}
    return [f for f in FAMILIES if f in present]


def _release_label(item: dict) -> tuple[dict, str]:
    """("Upgrade torch to 1.13.1", the pinned install line) for one release verdict of known_problems.remedies."""
    axis, version = item["axis"], item["versions"][0] if item["direction"] != "downgrade" else item["versions"][-1]
    verb = {"upgrade": ("Upgrade", "升级到"), "downgrade": ("Downgrade", "降级到"),
            "in between": ("Switch", "换成")}[item["direction"]]
    tested = len(item["versions"]) > 1
    label = both(f"{verb[0]} {axis} to {version}" + (f" (tested: {span(item['versions'])})" if tested else ""),
                 f"把 {axis} {verb[1]} {version}" + (f"（测试过：{span(item['versions'])}）" if tested else ""))
    return label, f"pip install '{axis}=={version}'"


def _release_count(frame: pd.DataFrame, hits: pd.DataFrame, models: list[str], item: dict) -> tuple[int, int]:
    """The very cases a release verdict is about, at its releases: how many pass, of how many ran."""
    other = "shap" if item["axis"] == "torch" else "torch"
    sub = hits[hits["model"].isin(models)]
    keys = set(zip(sub["model"], sub["explainer"], sub["device"], sub[other]))
    rows = frame[frame[item["axis"]].isin(item["versions"]) & frame["outcome"].isin(RAN)]
    rows = rows[[k in keys for k in zip(rows["model"], rows["explainer"], rows["device"], rows[other])]]
    return int((rows["outcome"] == PASS).sum()), len(rows)


def _phrase(phrases: list[dict]) -> dict:
    """Kinds of model as one phrase; more than three are counted, the first three named."""
    if len(phrases) <= 3:
        return joined(phrases)
    first = joined(phrases[:3])
    return both(f"{len(phrases)} kinds of model, among them {first['en']}", f"{len(phrases)} 类模型，包括{first['zh']}")


def _who(families: list[str]) -> dict:
    return _phrase([FAMILIES[f]["who"] for f in families])


def _as_phrase(description: dict) -> dict:
    """A model's one-line description inside a sentence: "an MLP with ..." (no capital, no full stop)."""
    en = description["en"].rstrip(".")
    word = en.split(" ", 1)[0]
    return both(en if len(word) > 1 and word.isupper() else en[:1].lower() + en[1:], description["zh"].rstrip("。"))


def _who_models(models, universe, info: dict) -> dict:
    """The kinds of the given models; where only some models of a kind are meant, those models' descriptions."""
    models = {m.split(" (")[0] for m in models}
    phrases = []
    for family in _families_of(models, info):
        members = {m for m in universe if info[m]["family"] == family}
        if members <= models:
            phrases.append(FAMILIES[family]["who"])
        else:
            phrases += [_as_phrase(info[m]["description"]) for m in sorted(models & members)]
    return _phrase(phrases)


def _stripped(models: list[str]) -> list[str]:
    """Model names of known_problems' lists, without the "(deep)" it adds where several explainers are hit."""
    return sorted({m.split(" (")[0] for m in models})


def not_fixes(refused: dict, who_of) -> list[dict]:
    """"X or Y does not help Z: it then raises ... (S5)": one line per kind of model and what it gets instead.

    ``refused``: advice label (English) -> (label, [(models, what it does, problem id, where), ...]); advice that
    fails the same models in the same way is said once; ``who_of`` says which models in words."""
    lines: dict[tuple, list] = {}
    for label, turns in refused.values():
        by_outcome: dict[tuple, list] = {}
        for models, it, sid, where in turns:
            by_outcome.setdefault((it["en"], sid, where["en"]), [it, sid, where, []])[3] += models
        by_who: dict[str, list] = {}
        for it, sid, where, models in by_outcome.values():
            by_who.setdefault(" ".join(sorted(set(models))), [models, []])[1].append((it, sid, where))
        for key, (models, outcomes) in by_who.items():
            line = lines.setdefault((key, tuple((o[0]["en"], o[1], o[2]["en"]) for o in outcomes)),
                                    [models, outcomes, []])
            line[2].append(label)
    out = []
    for models, outcomes, labels in lines.values():
        who = who_of(models)
        does = {lang: (" or " if lang == "en" else "或").join(
            f"{it[lang]}{where[lang]} ({sid})" if lang == "en" else f"{it[lang]}{where[lang]}（{sid}）"
            for it, sid, where in outcomes) for lang in LANGS}
        english = [labels[0]["en"]] + [label["en"][:1].lower() + label["en"][1:] for label in labels[1:]]
        advice = both(", ".join(english[:-1]) + (" or " if len(labels) > 1 else "") + english[-1],
                      "、".join(label["zh"] for label in labels[:-1]) + ("或" if len(labels) > 1 else "")
                      + labels[-1]["zh"])
        out.append(both(f"{advice['en']} does not help {who['en']}: it then {does['en']}.",
                        f"{advice['zh']}：对{who['zh']}无效，改后{does['zh']}。"))
    return out


NOWHERE = both("", "")


def problem_card(entry: dict, known: dict, frame: pd.DataFrame, info: dict, matrix: dict,
                 ids: dict, bisections: list[dict]) -> dict:
    """One known problem as an answer card (its fields: build()'s docstring)."""
    signature = entry["signature"]
    hits = frame[frame["signature"] == signature]
    counts = hits["explainer"].value_counts()
    explainer = counts.index[0]
    explainers = [e for e in EXPLAINERS if e in counts.index]
    universe = sorted(set(hits["model"]))
    per_family = hits.groupby(hits["model"].map(lambda m: info[m]["family"])).size()
    families = sorted(_families_of(universe, info), key=lambda f: -per_family.get(f, 0))
    short, full, evidence = range_text(entry, bisections)
    fixes, refused = [], {}

    def refuse(label: dict, turn: dict, where: dict = NOWHERE):
        refused.setdefault(label["en"], (label, []))[1].append(
            (_stripped(turn["models"]), sees(turn["label"], brief=True), turn["id"] or turn["label"], where))

    # code changes, verified on the very cases in the same cells
    for item in known.get("code") or []:  # absent in a cut matrix.json: no code remedy recorded
        label, code = FIX_CODE.get(item["remedy"], (both(item["title"], item["title"]), ""))
        for turn in item["instead"]:
            refuse(label, turn, both(f" with {turn['where']}", f"（{turn['where']} 时）") if turn["where"] else NOWHERE)
        if not item["passed"]:
            continue
        passes = _stripped(item["passes"])
        always = sorted(set(passes) - {m for t in item["instead"] for m in _stripped(t["models"])})
        verified = cases_text(item["passed"], item["tried"])
        if item["remedy"] == "gradient_explainer":  # "GradientExplainer: passed in 24 of 24 cases"
            verified = {lang: f"{EXPLAINER_NAMES['gradient']}{': ' if lang == 'en' else '：'}{text}"
                        for lang, text in verified.items()}
        complete = item["works"] == "yes" and set(passes) >= set(universe)
        wheres = sorted({t["where"] for t in item["instead"] if t["where"]})
        fixes.append({"label": label, "for": None if complete or not always else _who_models(always, universe, info),
                      "except": both(f"not with {' or '.join(wheres)}", f"{' 或 '.join(wheres)} 时除外")
                      if wheres and not always else None,
                      "code": code, "install": None, "kind": item["remedy"],
                      "verified": verified, "passed": item["passed"], "complete": complete})
    # releases, judged per kind of model: "upgrade torch" is a fix for one kind and not for another
    releases: dict[tuple, dict] = {}
    for family in families:
        sub = frame[frame["model"].isin([m for m in universe if info[m]["family"] == family])
                    & frame["explainer"].isin(explainers)]
        for item in known_problems.remedies(sub, signature, ids):
            label = _release_label(dict(item, versions=item["versions"][:1] if item["direction"] != "downgrade"
                                        else item["versions"][-1:]))[0]
            for turn in item["instead"]:
                refuse(label, turn)
            if item["works"] != "no":
                key = (item["axis"], item["direction"], tuple(item["versions"]))
                releases.setdefault(key, {"item": item, "models": []})["models"] += _stripped(item["passes"])
    for fix in releases.values():
        item = fix["item"]
        label, install = _release_label(item)
        passed, total = _release_count(frame, hits, fix["models"], item)
        verified = cases_text(passed, total)
        complete = set(fix["models"]) >= set(universe)
        fixes.append({"label": label, "for": None if complete else _who_models(fix["models"], universe, info),
                      "except": None, "code": None, "install": install, "kind": f"{item['axis']} {item['direction']}",
                      "verified": both(f"{item['axis']} {span(item['versions'])}: {verified['en']}",
                                       f"{item['axis']} {span(item['versions'])}：{verified['zh']}"),
                      "passed": passed, "complete": complete})
    fixes.sort(key=lambda f: (not f["complete"], -f["passed"]))
    refusals = not_fixes(refused, lambda models: _who_models(models, universe, info))
    if signature.startswith("mismatch"):
        refusals.append(NO_CHECK_ADDITIVITY)
    typed = re.match(r"^fail: (\w+): (.*)$", signature, re.S)
    it = sees(signature, plural=len(explainers) > 1)
    quoted = both(f" (\"{_cut(typed.group(2), 70)}\")", f"（“{_cut(typed.group(2), 70)}”）") if typed else NOWHERE
    names = joined([both(EXPLAINER_NAMES[e], EXPLAINER_NAMES[e]) for e in explainers])
    who = _who(families)
    first = both(f"{names['en']} {it['en']}{quoted['en']} for {who['en']}, on {short['en']}.",
                 f"在 {short['zh']}时，对于{who['zh']}，{names['zh']} 会{it['zh']}{quoted['zh']}。")
    todo = _todo(fixes)
    return {
        "id": entry["id"], "explainer": explainer, "explainers": explainers, "outcome": signature.split(":")[0],
        "loud": not signature.startswith("mismatch: attributions do not add up"),
        "signature": {"type": typed.group(1) if typed else None,
                      "message": (entry.get("example") or typed.group(2)) if typed else signature,
                      "text": signature},
        "title": both(f"{entry['id']}: {names['en']} {it['en']}", f"{entry['id']}：{names['zh']} {it['zh']}"),
        "sentence": both(f"{first['en']} {todo['en']}", f"{first['zh']}{todo['zh']}"),
        "families": families, "range": full, "range_short": short, "range_evidence": evidence,
        "fixes": [{k: v for k, v in f.items() if k not in ("passed", "complete")} for f in fixes],
        "not_fixes": refusals,
        "models": [{"name": m, "family": info[m]["family"], "description": info[m]["description"]} for m in universe],
        "reproducer": reproducer(hits, families, info, matrix, explainer),
        "reports": reports(entry, hits, info),
        "cases": int(len(hits)), "cells": len(entry["cells"]),
    }


def _cut(text: str, n: int) -> str:
    """The message's first sentence when short, else its first ``n`` characters."""
    first = text.split(". ", 1)[0]
    if len(first) <= n + 30:
        return first + ("." if first != text and not first.endswith(".") else "")
    return text[:n].rsplit(" ", 1)[0] + " ..."


def fix_label(fix: dict, lang: str) -> str:
    """A fix's label with the kinds of model it is for, when not all: "Upgrade torch to 1.13.1 (for ...)"."""
    label = fix["label"][lang]
    if fix["for"]:
        label += f" (for {fix['for']['en']})" if lang == "en" else f"（适用于{fix['for']['zh']}）"
    if fix.get("except"):
        label += f" ({fix['except']['en']})" if lang == "en" else f"（{fix['except']['zh']}）"
    return label


def _todo(fixes: list[dict]) -> dict:
    """The sentence's "what to do": the best verified fix (the others follow in the card)."""
    if not fixes:
        return both("No change tested here fixes it.", "本结果中测试过的改动都不能解决它。")
    best = fixes[0]

    def lower(text: str) -> str:
        return text[:1].lower() + text[1:]
    en = f"What to do: {lower(fix_label(best, 'en'))} ({best['verified']['en']})."
    zh = f"建议：{fix_label(best, 'zh')}（{best['verified']['zh']}）。"
    if not best["complete"]:
        en += " It does not cover every case: see what does not work."
        zh += "它不能覆盖所有情况：见“无效的做法”。"
    return both(en, zh)


def reproducer(hits: pd.DataFrame, families: list[str], info: dict, matrix: dict, explainer: str) -> dict | None:
    """The shipped reproducer of the card's first kind of model (its example model when hit), newest cell."""
    rows = hits[hits["reproducer"].notna() & (hits["explainer"] == explainer)] if "reproducer" in hits else hits[:0]
    if rows.empty:
        return None
    present = set(rows["model"])
    wanted = [FAMILIES[f]["example"] for f in families] + [m for f in families for m in sorted(present)
                                                         if info[m]["family"] == f]
    model = next(m for m in wanted if m in present)
    row = rows[rows["model"] == model].iloc[-1]
    entry = matrix.get("reproducers", {}).get(row["reproducer"], {})
    pinned = next((r for r in matrix["cases"] if r["cell"] == entry.get("pinned")), None) or row
    return {"model": model, "explainer": row["explainer"], "device": row["device"], "torch": pinned["torch"],
            "shap": pinned["shap"], "path": row["reproducer"], "command": entry.get("command"),
            "description": info[model]["description"]}


def reports(entry: dict, hits: pd.DataFrame, info: dict) -> list[str]:
    """Public reports cited by the docstrings of the models this problem hits: those that quote the error, or
    all of them when it hits a few models only (a problem of many models is no one report's)."""
    message = entry["signature"].split(": ", 2)[-1]
    needle = "additivity" if entry["signature"].startswith("mismatch") else message[:30].lower()
    models = sorted(set(hits["model"]))
    quoting = [m for m in models if needle in info[m]["doc"].lower()]
    urls = [u for m in (quoting or (models if len(models) <= 3 else [])) for u in info[m]["reports"]]
    return list(dict.fromkeys(urls))[:8]


# ---------------------------------------------------------------------------------------------------- families

def _tested(frame: pd.DataFrame) -> dict[str, list[str]]:
    ran = frame[frame["outcome"].isin(RAN)]
    return {t: _order(g["shap"]) for t, g in ran.groupby("torch")}


def problem_ids(signatures: pd.Series, ids: dict) -> list[str]:
    """The catalogue ids (S1, S2, ...) of the signatures among ``signatures``, in catalogue order."""
    return sorted({ids[s] for s in signatures.dropna() if s in ids}, key=lambda i: int(i[1:]))


def verdict_of(passed: int, total: int) -> str:
    return "untested" if not total else "works" if passed == total else "fails" if not passed else "partial"


def family_explainer(frame: pd.DataFrame, models: list[str], explainer: str, ids: dict, tested: dict) -> dict:
    """One kind of model under one explainer: counts, verdict, the tested releases where all of it passes."""
    rows = frame[frame["model"].isin(models) & (frame["explainer"] == explainer) & frame["outcome"].isin(RAN)]
    passed, total = int((rows["outcome"] == PASS).sum()), len(rows)
    found = problem_ids(rows["signature"], ids)
    result = {"verdict": verdict_of(passed, total), "pass": passed, "total": total, "problems": found, "works": None}
    if not total:
        return dict(result, text=both("Not tested.", "未测试。"))
    passing = (rows["outcome"] == PASS).groupby([rows["torch"], rows["shap"]]).all()
    good, everywhere = set(passing[passing].index), set(passing.index)
    result["works"] = cells_text(good, tested) if good and good != everywhere else \
        both("every tested release", "所有测试过的版本") if good else None
    count = cases_text(passed, total)
    if good == everywhere:
        return dict(result, text=both(f"Works everywhere tested ({count['en']}).",
                                      f"所有测试过的版本都可用（{count['zh']}）。"))
    parts = []
    for sid in found:
        signature = next(s for s, i in ids.items() if i == sid)
        cells = {c for c, _ in rows[rows["signature"] == signature].groupby(["torch", "shap"])}
        it = sees(signature, brief=True)
        where = cells_text(cells, tested)
        parts.append(both(f"{sid} ({it['en']}) on {where['en']}", f"{sid}（{it['zh']}）：{where['zh']}"))
    fails = {"en": "; ".join(p["en"] for p in parts), "zh": "；".join(p["zh"] for p in parts)}
    if good:
        works = cells_text(good, tested)
        return dict(result, text=both(f"Works with {works['en']} ({count['en']}). Elsewhere: {fails['en']}.",
                                      f"可用于 {works['zh']}（{count['zh']}）。其他版本：{fails['zh']}。"))
    if not passed:
        return dict(result, text=both(f"Fails everywhere tested ({count['en']}): {fails['en']}.",
                                      f"所有测试过的版本都不可用（{count['zh']}）：{fails['zh']}。"))
    return dict(result, text=both(f"No tested release works for every model of this kind ({count['en']}): "
                                  f"{fails['en']}.",
                                  f"没有一个测试过的版本能让这类模型全部通过（{count['zh']}）：{fails['zh']}。"))


def family_rows(frame: pd.DataFrame, info: dict, ids: dict) -> list[dict]:
    tested = _tested(frame)
    present = set(frame["model"])
    out = []
    for family, words in FAMILIES.items():
        models = sorted(m for m in present if info[m]["family"] == family)
        if not models:
            continue
        out.append({"id": family, "name": words["name"], "description": words["description"],
                    "models": [{"name": m, "description": info[m]["description"]}
                               for m in models],
                    "explainers": {e: family_explainer(frame, models, e, ids, tested) for e in EXPLAINERS}})
    return out


# ---------------------------------------------------------------------------------------------------- cells

def cell_rows(frame: pd.DataFrame, ids: dict) -> list[dict]:
    out = []
    order = sorted(frame.groupby("cell"), key=lambda g: (Version(g[1]["torch"].iloc[0]), Version(g[1]["shap"].iloc[0])))
    for cell, rows in order:
        first = rows.iloc[0]
        ran = rows[rows["outcome"].isin(RAN)]
        counts = {e: {"pass": int((ran[ran["explainer"] == e]["outcome"] == PASS).sum()),
                      "total": int((ran["explainer"] == e).sum())} for e in EXPLAINERS}
        found = problem_ids(ran["signature"], ids)
        python = first.get("python") or ""
        numpy = first.get("resolved_numpy") or ""
        pair = f"torch {first['torch']} with shap {first['shap']}"
        zh_pair = f"torch {first['torch']} 搭配 shap {first['shap']}"
        if ran.empty:
            reason = next((r for r in rows.get("reason", pd.Series(dtype=object)).dropna()), "")
            sentence = both(f"{pair}: not tested ({first['outcome']}{': ' + reason if reason else ''}).",
                            f"{zh_pair}：未测试（{first['outcome']}{'：' + reason if reason else ''}）。")
        else:
            parts = [x for x in (f"Python {python}" if python else "", f"numpy {numpy}" if numpy else "") if x]
            env, zh_env = ", ".join(parts), "，".join(parts)
            g, d = counts["gradient"], counts["deep"]
            best = max(EXPLAINERS, key=lambda e: counts[e]["pass"] / max(counts[e]["total"], 1))
            en = (f"{pair} ({env}): GradientExplainer passed {g['pass']} of {g['total']} cases, DeepExplainer "
                  f"{d['pass']} of {d['total']}.")
            zh = (f"{zh_pair}（{zh_env}）：GradientExplainer 在 {g['total']} 个用例中通过 {g['pass']} 个，"
                  f"DeepExplainer 在 {d['total']} 个中通过 {d['pass']} 个。")
            if found:
                en += f" Problems here: {', '.join(found)}."
                zh += f"这里出现的问题：{'、'.join(found)}。"
            if counts["gradient"]["pass"] != counts["deep"]["pass"]:
                en += f" Prefer {EXPLAINER_NAMES[best]}."
                zh += f"建议使用 {EXPLAINER_NAMES[best]}。"
            sentence = both(en, zh)
        out.append({"id": cell, "torch": first["torch"], "shap": first["shap"], "python": python, "numpy": numpy,
                    "status": "ran" if not ran.empty else first["outcome"], "explainers": counts,
                    "problems": found, "sentence": sentence})
    return out


# ---------------------------------------------------------------------------------------------------- summary

def summary(frame: pd.DataFrame, families: list[dict]) -> list[dict]:
    """"What to do" lines, each computed from the results."""
    ran = frame[frame["outcome"].isin(RAN)]
    lines = []
    totals = {e: (int((ran[ran["explainer"] == e]["outcome"] == PASS).sum()), int((ran["explainer"] == e).sum()))
              for e in EXPLAINERS}
    cells = ran["cell"].nunique()
    g, d = totals["gradient"], totals["deep"]
    lines.append(both(f"Across {cells} tested version pairs, GradientExplainer passed {g[0]} of {g[1]} cases and "
                      f"DeepExplainer {d[0]} of {d[1]}.",
                      f"在 {cells} 个测试过的版本组合中，GradientExplainer 在 {g[1]} 个用例中通过 {g[0]} 个，"
                      f"DeepExplainer 在 {d[1]} 个中通过 {d[0]} 个。"))
    better = [f for f in families if f["explainers"]["gradient"]["verdict"] == "works"
              and f["explainers"]["deep"]["verdict"] in ("partial", "fails")]
    if better:
        names = joined([f["name"] for f in better])
        lines.append(both(f"For {names['en']}: use GradientExplainer; it passed every tested case, DeepExplainer "
                          "did not.",
                          f"对于{names['zh']}，请使用 GradientExplainer："
                          "它通过了所有测试用例，而 DeepExplainer 没有。"))
    both_fine = [f for f in families if all(f["explainers"][e]["verdict"] == "works" for e in EXPLAINERS)]
    if both_fine:
        names = joined([f["name"] for f in both_fine])
        lines.append(both(f"Both explainers passed every tested case for: {names['en']}.",
                          f"两个解释器都通过了所有测试用例的模型类型：{names['zh']}。"))
    neither, never = [], []
    for f in families:
        if all(f["explainers"][e]["verdict"] in ("partial", "fails") for e in EXPLAINERS):
            best = max(EXPLAINERS, key=lambda e: f["explainers"][e]["pass"] / max(f["explainers"][e]["total"], 1))
            b = f["explainers"][best]
            if not b["pass"]:
                never.append(f["name"])
                continue
            neither.append(both(f"{f['name']['en']} ({EXPLAINER_NAMES[best]}: {b['pass']} of {b['total']})",
                                f"{f['name']['zh']}（{EXPLAINER_NAMES[best]}：{b['total']} 个中通过 {b['pass']} 个）"))
    if neither:
        names = {"en": "; ".join(n["en"] for n in neither), "zh": "；".join(n["zh"] for n in neither)}
        lines.append(both(f"Neither explainer passes every tested case for these kinds (the better one in brackets): "
                          f"{names['en']}.",
                          f"对于以下几类模型，两个解释器都不能通过所有测试用例（括号里是表现更好的一个）：{names['zh']}。"))
    if never:
        names = joined(never)
        lines.append(both(f"No explainer passed any tested case for: {names['en']}.",
                          f"以下几类模型在任何测试用例中都没有通过：{names['zh']}。"))
    for explainer in EXPLAINERS:
        sub = ran[ran["explainer"] == explainer]
        for axis in AXES:
            shares = {v: (int((g["outcome"] == PASS).sum()), len(g)) for v, g in sub.groupby(axis)}
            if not shares:  # this explainer did not run here (a grid of one explainer, or --model)
                continue
            top = max(p / t for p, t in shares.values())
            for version, (p, t) in sorted(shares.items(), key=lambda kv: Version(kv[0])):
                if p / t < 0.6 * top:
                    lines.append(both(f"{EXPLAINER_NAMES[explainer]}: avoid {axis} {version} (passed {p} of {t} "
                                      f"cases there).",
                                      f"{EXPLAINER_NAMES[explainer]}：避免使用 {axis} {version}（那里 {t} 个用例中"
                                      f"只通过 {p} 个）。"))
    return lines


# ---------------------------------------------------------------------------------------------------- build

_CJK_LATIN = re.compile(r"(?<=[\u4e00-\u9fff])(?=[A-Za-z0-9_(])|(?<=[A-Za-z0-9_)])(?=[\u4e00-\u9fff])")


def spaced(data):
    """Every Chinese text with a space between Chinese and Latin words ("LSTM 无效"), as Chinese technical text
    is set; texts are joined from parts, so this is done once at the end."""
    if isinstance(data, dict):
        if set(data) == set(LANGS):
            return dict(data, zh=_CJK_LATIN.sub(" ", data["zh"]))
        return {k: spaced(v) for k, v in data.items()}
    if isinstance(data, list):
        return [spaced(v) for v in data]
    return data


def build(matrix: dict, results: Path | None = None) -> dict:
    """The answers to the three questions, from one matrix.json document.

    Plain JSON data; T is {"en": ..., "zh": ...}:
    - summary: [T] "what to do" lines; explainers: {"deep": T, "gradient": T};
    - families: [{id, name: T, description: T, models: [{name, description: T}],
      explainers: {deep|gradient: {verdict: works|partial|fails|untested, pass, total, problems: [S-id],
      works: T|None (the tested releases where every model of the kind passes), text: T}}}];
    - problems: [{id, explainer, explainers, outcome, loud, signature: {type, message, text}, title: T,
      sentence: T, families, range: T, range_short: T, range_evidence: T, fixes: [{label: T, for: T|None,
      except: T|None, code, install, kind, verified: T}], not_fixes: [T], models: [{name, family, description: T}],
      reproducer: {model, explainer, device, torch, shap, path, command, description: T}, reports: [url],
      cases, cells}];
    - cells: [{id, torch, shap, python, numpy, status, explainers: {deep|gradient: {pass, total}}, problems,
      sentence: T}].

    ``results``: the folder it was read from, whose bisect records widen the ranges when the document carries none
    (a matrix.json cut down for tests or older than the catalogue's bisections)."""
    frame = _frame(matrix)
    info = models_info(frame["model"])
    catalogue = matrix.get("catalogue") or {"signatures": [], "bisections": []}
    ids = {e["signature"]: e["id"] for e in catalogue["signatures"]}
    known = {p["signature"]: p for p in matrix.get("known_problems") or []}
    bisections = catalogue.get("bisections") or (store.bisect_records(results) if results else [])
    families = family_rows(frame, info, ids)
    problems = [problem_card(entry, known[entry["signature"]], frame, info, matrix, ids, bisections)
                for entry in catalogue["signatures"] if entry["signature"] in known]
    return spaced({
        "summary": summary(frame, families),
        "explainers": {e: both(n, n) for e, n in EXPLAINER_NAMES.items()},
        "families": families,
        "problems": problems,
        "cells": cell_rows(frame, ids),
    })


def card_lines(card: dict, lang: str = "en") -> list[str]:
    """A problem card as plain text lines: the terminal lookup and COMPATIBILITY.md say these sentences."""
    words = {"en": ("Range: ", "Fix: ", "verified: ", "Does not work: ", "Reproduce", "Reports: ", "Kinds of model: ",
                    ": ", "; ", "(", ")"),
             "zh": ("版本范围：", "解决办法：", "已验证：", "无效的做法：", "复现", "公开报告：", "模型类型：",
                    "：", "；", "（", "）")}[lang]
    colon, semi, left, right = words[7:]
    lines = [card["title"][lang], card["sentence"][lang], f"{words[0]}{card['range'][lang]}",
             words[6] + semi.join(FAMILIES[f]["name"][lang] for f in card["families"])]
    for fix in card["fixes"]:
        lines.append(f"{words[1]}{fix_label(fix, lang)}{' ' if lang == 'en' else ''}{left}{words[2]}"
                     f"{fix['verified'][lang]}{right}")
        if fix["code"]:
            lines += ["    " + line for line in fix["code"].splitlines()]
        if fix["install"]:
            lines.append(f"    {fix['install']}")
    lines += [f"{words[3]}{text[lang]}" for text in card["not_fixes"]]
    if card["reproducer"]:
        r = card["reproducer"]
        lines.append(f"{words[4]}{' ' if lang == 'en' else ''}{left}{r['description'][lang].rstrip('.。')}{semi}"
                     f"torch {r['torch']}, shap {r['shap']}{right}{colon}{r['command'] or r['path']}")
    if card["reports"]:
        lines.append(f"{words[5]}{' '.join(card['reports'])}")
    return lines
