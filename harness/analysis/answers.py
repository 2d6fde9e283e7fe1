"""Answer cards: one answer per question a user arrives with, in English and Simplified Chinese.

A user comes with "I got this error", "I have this kind of model" or "I have these
versions".  ``build()`` answers all three from one matrix.json document, as plain JSON
data whose every user-visible text is {"en": ..., "zh": ...}, so that the web page,
COMPATIBILITY.md and the terminal lookup say the same sentences (the contract with the
page is in the module's tests and docs/answers.md).

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

from harness.analysis import known_problems
from harness.analysis.catalogue import AXES, CASE
from harness.plan.suite import MODELS_DIR, discover
from harness.records.outcomes import EXPLAINERS, PASS, RAN

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
        "name": {"en": "RNN read through its output, or a GRU", "zh": "通过输出序列读取的 RNN，或 GRU"},
        "who": {"en": "an LSTM read through its output sequence, or a GRU",
                "zh": "通过输出序列读取的 LSTM，或 GRU"},
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
        "who": {"en": "a model with in-place operations (ReLU(inplace=True), out += x as in ResNet)",
                "zh": "含原地操作（ReLU(inplace=True)、像 ResNet 那样的 out += x）的模型"},
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
            "zh": "自注意力（nn.MultiheadAttention）、Transformer 编码层、LayerNorm + GELU 块，或 softmax 注意力池化。"},
        "example": "transformer_encoder_layer"},
    "activations": {
        "name": {"en": "Other activations (F.relu, SELU, ELU, ...)", "zh": "其他激活函数（F.relu、SELU、ELU 等）"},
        "who": {"en": "a model with activations other than nn.ReLU modules (F.relu, SELU, ELU, LeakyReLU, Softplus)",
                "zh": "使用 nn.ReLU 模块以外激活函数（F.relu、SELU、ELU、LeakyReLU、Softplus）的模型"},
        "description": {
            "en": "Activations called as functions (F.relu, torch.sigmoid), or activation modules other than ReLU: "
                  "SELU, ELU, LeakyReLU, Softplus.",
            "zh": "以函数形式调用的激活（F.relu、torch.sigmoid），或 ReLU 以外的激活模块：SELU、ELU、LeakyReLU、Softplus。"},
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
        return "、".join(items[:-1]) + " 和 " + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]


def joined(texts: list[dict]) -> dict:
    return {lang: join([t[lang] for t in texts], lang) for lang in LANGS}


def sees(signature: str) -> dict:
    """What a user of shap_values() sees, in both languages (known_problems.sees in English)."""
    kind = signature.split(":", 1)[0]
    if signature.startswith("mismatch: shap's own additivity check fired"):
        return both("shap's own additivity check raises", "shap 自带的可加性检查报错")
    if kind == "mismatch":
        return both("gives silently wrong numbers (the attributions do not add up)",
                    "静默地给出错误的数值（归因值加起来不等于模型输出）")
    if kind == "fail":
        error = signature.split(":")[1].strip()
        return both(f"raises {error}", f"抛出 {error}")
    if kind == "crash":
        return both("crashes the process", "进程崩溃")
    if kind == "timeout":
        return both("hangs (timeout)", "卡住（超时）")
    return both(kind, kind)


def cases_text(passed: int, total: int) -> dict:
    return both(f"passed in {passed} of {total} cases", f"{total} 个用例中通过 {passed} 个")


def span(versions: list[str]) -> str:
    return versions[0] if len(versions) == 1 else f"{versions[0]} – {versions[-1]}"


# ---------------------------------------------------------------------------------------------------- models

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
    """Model name -> {"family", "description", "reports"} for the reference models and any other name seen."""
    files = discover(models_dir)
    info = {}
    for name in sorted(set(names) | set(files)):
        constants = model_constants(files[name]) if name in files else {}
        family = constants.get("FAMILY")
        info[name] = {"family": family if family in FAMILIES else OTHER,
                      "description": constants.get("DESCRIPTION") or name,
                      "doc": constants.get("doc", ""),
                      "reports": re.findall(r"https://github\.com/[\w./-]+/(?:issues|pull)/\d+", constants.get("doc", ""))}
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
        boundary = b.get("boundary") or {}
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


def range_text(entry: dict, bisections: list[dict]) -> tuple[dict, dict]:
    """(short, full): "torch 1.8.0 – 1.13.0 with shap >= 0.43.0", and the same with bisected and tested detail."""
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
            tested = span([r["oldest_tested"], r["newest_tested"]])
            en, zh = f"every tested {axis} ({tested})", f"所有测试过的 {axis}（{tested}）"
        parts["en"].append(en)
        parts["zh"].append(zh)
    short = {"en": " with ".join(parts["en"]), "zh": " 搭配 ".join(parts["zh"])}
    seen = "; ".join(f"{axis} {span([entry['ranges'][axis]['first_bad'], entry['ranges'][axis]['last_bad']])}"
                     if entry["ranges"][axis]["first_bad"] != entry["ranges"][axis]["last_bad"]
                     else f"{axis} {entry['ranges'][axis]['first_bad']}" for axis in AXES)
    full = {"en": f"{short['en']} (seen in the grid: {seen}" + (f"; boundaries found by bisection: {', '.join(notes)}"
                                                                 if notes else "") + ")",
            "zh": f"{short['zh']}（在测试矩阵中出现于：{seen}" + (f"；二分查找确定的边界：{', '.join(notes)}"
                                                         if notes else "") + "）"}
    return short, full


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
    label = both(f"{verb[0]} {axis} to {version}" + (f" (tested: {span(item['versions'])})"
                                                      if len(item["versions"]) > 1 else ""),
                 f"把 {axis} {verb[1]} {version}" + (f"（测试过：{span(item['versions'])}）"
                                                     if len(item["versions"]) > 1 else ""))
    return label, f"pip install '{axis}=={version}'"


def _release_count(frame: pd.DataFrame, hits: pd.DataFrame, models: list[str], item: dict) -> tuple[int, int]:
    """The very cases a release verdict is about, at its releases: how many pass, of how many ran."""
    other = "shap" if item["axis"] == "torch" else "torch"
    keys = {(tuple(r[CASE]), r[other]) for _, r in hits[hits["model"].isin(models)].iterrows()}
    rows = frame[frame[item["axis"]].isin(item["versions"]) & frame["outcome"].isin(RAN)]
    rows = rows[[(tuple(r[CASE]), r[other]) in keys for _, r in rows.iterrows()]]
    return int((rows["outcome"] == PASS).sum()), len(rows)


def _who(families: list[str]) -> dict:
    """The kinds of model as a phrase; many kinds are counted, the first three named."""
    phrases = [FAMILIES[f]["who"] for f in families]
    if len(phrases) <= 3:
        return joined(phrases)
    first = joined(phrases[:3])
    return both(f"{len(phrases)} kinds of model, among them {first['en']}",
                f"{len(phrases)} 类模型，包括{first['zh']}")


def problem_card(entry: dict, known: dict, frame: pd.DataFrame, info: dict, matrix: dict,
                 ids: dict, bisections: list[dict]) -> dict:
    """One known problem as an answer card (see the contract in docs/answers.md)."""
    signature = entry["signature"]
    hits = frame[frame["signature"] == signature]
    counts = hits["explainer"].value_counts()
    explainer = counts.index[0]
    explainers = [e for e in EXPLAINERS if e in counts.index]
    fam_cases = hits.groupby(hits["model"].map(lambda m: info[m]["family"])).size()
    families = sorted(_families_of(hits["model"], info), key=lambda f: -fam_cases.get(f, 0))
    short, full = range_text(entry, bisections)
    fixes, not_fixes = [], []
    # code changes, verified on the very cases: counts over the whole problem, failures said per kind of model
    for item in known["code"]:
        if item["passed"] == 0:
            continue
        label, code = FIX_CODE.get(item["remedy"], (both(item["title"], item["title"]), ""))
        name = EXPLAINER_NAMES["gradient"] if item["remedy"] == "gradient_explainer" else label["en"]
        verified = cases_text(item["passed"], item["tried"])
        fixes.append({"label": label, "code": code, "install": None, "remedy": item["remedy"],
                      "verified": both(f"{name}: {verified['en']}", f"{name}：{verified['zh']}"),
                      "families": _families_of(item["passes"] and [m.split(" (")[0] for m in item["passes"]], info),
                      "complete": item["works"] == "yes"})
    for item in known["code"]:
        label = FIX_CODE.get(item["remedy"], (both(item["title"], item["title"]), ""))[0]
        for turn in item["instead"]:
            fams = _families_of([m.split(" (")[0] for m in turn["models"]], info)
            where = f" ({turn['where']})" if turn["where"] else ""
            it = sees(turn["label"])
            not_fixes.append(both(
                f"{label['en']} does not help {_who(fams)['en']}{where}: it {it['en']} ({turn['id'] or turn['label']}).",
                f"{label['zh']}对{_who(fams)['zh']}无效{where}：它{it['zh']}（{turn['id'] or turn['label']}）。"))
    # releases: judged per kind of model, so "upgrade torch" is a fix for one kind and not for another
    releases: dict[tuple, dict] = {}
    for family in families:
        models = sorted({m for m in hits["model"] if info[m]["family"] == family})
        sub = frame[frame["model"].isin(models)]
        for item in known_problems.remedies(sub, signature, ids):
            key = (item["axis"], item["direction"], tuple(item["versions"]))
            if item["works"] != "no":
                passing = [m.split(" (")[0] for m in item["passes"]]
                fix = releases.setdefault(key, {"item": item, "families": [], "models": []})
                fix["families"].append(family)
                fix["models"] += passing
            for turn in item["instead"]:
                fams = _families_of([m.split(" (")[0] for m in turn["models"]], info)
                label = _release_label(item)[0]
                it = sees(turn["label"])
                not_fixes.append(both(
                    f"{label['en']} does not help {_who(fams)['en']}: it {it['en']} ({turn['id'] or turn['label']}).",
                    f"{label['zh']}对{_who(fams)['zh']}无效：它{it['zh']}（{turn['id'] or turn['label']}）。"))
    for fix in releases.values():
        item = fix["item"]
        label, install = _release_label(item)
        passed, total = _release_count(frame, hits, fix["models"], item)
        who = _who(fix["families"])
        verified = cases_text(passed, total)
        fixes.append({"label": both(f"{label['en']} (for {who['en']})", f"{label['zh']}（适用于{who['zh']}）"),
                      "code": None, "install": install, "remedy": f"{item['axis']}-{item['direction']}",
                      "verified": both(f"{item['axis']} {span(item['versions'])}: {verified['en']}",
                                       f"{item['axis']} {span(item['versions'])}：{verified['zh']}"),
                      "families": fix["families"], "complete": set(fix["families"]) == set(families)})
    if signature.startswith("mismatch"):
        not_fixes.append(NO_CHECK_ADDITIVITY)
    fixes.sort(key=lambda f: (not f["complete"], f["install"] is not None))
    it = sees(signature)
    message = signature.split(": ", 2)[-1] if signature.startswith("fail:") else None
    names = joined([both(EXPLAINER_NAMES[e], EXPLAINER_NAMES[e]) for e in explainers])
    quoted = f" (\"{_cut(message, 70)}\")" if message else ""
    zh_quoted = f"（“{_cut(message, 70)}”）" if message else ""
    who = _who(families)
    first = both(f"{names['en']} {it['en']}{quoted} for {who['en']} with {short['en']}.",
                 f"在 {short['zh']} 下，{who['zh']}使用 {names['zh']} 时{it['zh']}{zh_quoted}。")
    todo = _todo(fixes, families)
    typed = re.match(r"^fail: (\w+): (.*)$", signature, re.S)
    return {
        "id": entry["id"], "explainer": explainer, "explainers": explainers, "outcome": signature.split(":")[0],
        "loud": not signature.startswith("mismatch: attributions do not add up"),
        "signature": {"type": typed.group(1) if typed else None,
                      "message": (entry.get("example") or typed.group(2)) if typed else signature,
                      "text": signature},
        "title": both(f"{entry['id']}: {names['en']} {it['en']}", f"{entry['id']}：{names['zh']} {it['zh']}"),
        "sentence": both(f"{first['en']} {todo['en']}", f"{first['zh']}{todo['zh']}"),
        "families": families, "range": full, "fixes": fixes, "not_fixes": not_fixes,
        "models": [{"name": m, "family": info[m]["family"], "description": both(info[m]["description"],
                                                                                info[m]["description"])}
                   for m in sorted(set(hits["model"]))],
        "reproducer": reproducer(hits, families, info, matrix, explainer),
        "reports": reports(entry, hits, info),
        "cases": int(len(hits)), "cells": len(entry["cells"]),
    }


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + " ..."


def _todo(fixes: list[dict], families: list[str]) -> dict:
    """The sentence's "what to do": the verified fix that covers every kind hit, else per kind, else none."""
    complete = [f for f in fixes if f["complete"] and set(f["families"]) >= set(families)]
    if complete:
        best = complete[0]
        return both(f"What to do: {best['label']['en'][0].lower()}{best['label']['en'][1:]} "
                    f"({best['verified']['en']}).",
                    f"怎么办：{best['label']['zh']}（{best['verified']['zh']}）。")
    if fixes:
        best = fixes[0]
        return both(f"What to do: {best['label']['en'][0].lower()}{best['label']['en'][1:]} "
                    f"({best['verified']['en']}); see below what it does not cover.",
                    f"怎么办：{best['label']['zh']}（{best['verified']['zh']}）；它不能覆盖的情况见下文。")
    return both("No change tested here fixes it.", "本结果中测试过的改动都不能解决它。")


def reproducer(hits: pd.DataFrame, families: list[str], info: dict, matrix: dict, explainer: str) -> dict | None:
    """The shipped reproducer of the card's first kind of model: its example model if hit, in its newest cell."""
    rows = hits[hits["reproducer"].notna() & (hits["explainer"] == explainer)] if "reproducer" in hits else hits[:0]
    if rows.empty:
        return None
    wanted = [FAMILIES[f]["example"] for f in families] + [m for f in families for m in sorted(set(rows["model"]))
                                                         if info[m]["family"] == f]
    model = next(m for m in wanted if m in set(rows["model"]))
    row = rows[rows["model"] == model].iloc[-1]
    entry = (matrix.get("reproducers") or {}).get(row["reproducer"]) or {}
    pinned = [r for r in matrix["cases"] if r["cell"] == entry.get("pinned")]
    cell = pinned[0] if pinned else row
    return {"model": model, "explainer": row["explainer"], "device": row["device"], "torch": cell["torch"],
            "shap": cell["shap"], "path": row["reproducer"], "command": entry.get("command"),
            "description": both(info[model]["description"], info[model]["description"])}


def reports(entry: dict, hits: pd.DataFrame, info: dict) -> list[str]:
    """Public reports cited by the docstrings of the models this problem hits; those quoting the error first."""
    message = entry["signature"].split(": ", 2)[-1]
    needle = "additivity" if entry["signature"].startswith("mismatch") else message[:30].lower()
    models = sorted(set(hits["model"]))
    quoting = [m for m in models if needle in info[m]["doc"].lower()]
    urls = [u for m in (quoting or models) for u in info[m]["reports"]]
    return list(dict.fromkeys(urls))[:8]


# ---------------------------------------------------------------------------------------------------- families

def _tested(frame: pd.DataFrame) -> dict[str, list[str]]:
    ran = frame[frame["outcome"].isin(RAN)]
    return {t: _order(g["shap"]) for t, g in ran.groupby("torch")}


def verdict_of(passed: int, total: int) -> str:
    return "untested" if not total else "works" if passed == total else "fails" if not passed else "partial"


def family_explainer(frame: pd.DataFrame, models: list[str], explainer: str, ids: dict, tested: dict) -> dict:
    """One kind of model under one explainer: counts, verdict, the tested releases where all of it passes."""
    rows = frame[frame["model"].isin(models) & (frame["explainer"] == explainer) & frame["outcome"].isin(RAN)]
    passed, total = int((rows["outcome"] == PASS).sum()), len(rows)
    found = [ids[s] for s in sorted(set(rows["signature"].dropna()), key=lambda s: int(ids[s][1:]))]
    result = {"verdict": verdict_of(passed, total), "pass": passed, "total": total, "problems": found}
    if not total:
        return dict(result, text=both("Not tested.", "未测试。"))
    good = {c for c, g in rows.groupby(["torch", "shap"]) if (g["outcome"] == PASS).all()}
    everywhere = {c for c, _ in rows.groupby(["torch", "shap"])}
    count = cases_text(passed, total)
    if good == everywhere:
        return dict(result, text=both(f"Works everywhere tested ({count['en']}).",
                                      f"所有测试过的版本都可用（{count['zh']}）。"))
    parts = []
    for sid in found:
        signature = next(s for s, i in ids.items() if i == sid)
        cells = {c for c, _ in rows[rows["signature"] == signature].groupby(["torch", "shap"])}
        it = sees(signature)
        where = cells_text(cells, tested)
        parts.append(both(f"{sid} ({it['en']}) with {where['en']}", f"{sid}（{it['zh']}）：{where['zh']}"))
    fails = {"en": "; ".join(p["en"] for p in parts), "zh": "；".join(p["zh"] for p in parts)}
    if good:
        works = cells_text(good, tested)
        return dict(result, text=both(f"Works with {works['en']} ({count['en']}). Elsewhere: {fails['en']}.",
                                      f"可用于 {works['zh']}（{count['zh']}）。其他版本：{fails['zh']}。"))
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
                    "models": [{"name": m, "description": both(info[m]["description"], info[m]["description"])}
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
        found = [ids[s] for s in sorted(set(ran["signature"].dropna()), key=lambda s: int(ids[s][1:]))]
        python = first.get("python") or ""
        numpy = first.get("resolved_numpy") or ""
        pair = f"torch {first['torch']} with shap {first['shap']}"
        zh_pair = f"torch {first['torch']} 搭配 shap {first['shap']}"
        if ran.empty:
            reason = next((r for r in rows.get("reason", pd.Series(dtype=object)).dropna()), "")
            sentence = both(f"{pair}: not tested ({first['outcome']}{': ' + reason if reason else ''}).",
                            f"{zh_pair}：未测试（{first['outcome']}{'：' + reason if reason else ''}）。")
        else:
            env = ", ".join(x for x in (f"Python {python}" if python else "", f"numpy {numpy}" if numpy else "") if x)
            zh_env = "，".join(x for x in (f"Python {python}" if python else "", f"numpy {numpy}" if numpy else "") if x)
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
    rank = {"works": 3, "partial": 2, "fails": 1, "untested": 0}
    better = [f for f in families if rank[f["explainers"]["gradient"]["verdict"]] > rank[f["explainers"]["deep"]["verdict"]]
              and f["explainers"]["gradient"]["verdict"] == "works"]
    if better:
        names = joined([f["name"] for f in better])
        lines.append(both(f"Use GradientExplainer for these kinds of model: it passed every tested case, "
                          f"DeepExplainer did not: {names['en']}.",
                          f"以下几类模型请使用 GradientExplainer：它通过了所有测试用例，而 DeepExplainer 没有："
                          f"{names['zh']}。"))
    both_fine = [f for f in families if all(f["explainers"][e]["verdict"] == "works" for e in EXPLAINERS)]
    if both_fine:
        names = joined([f["name"] for f in both_fine])
        lines.append(both(f"Both explainers passed every tested case for: {names['en']}.",
                          f"两个解释器都通过了所有测试用例的模型类型：{names['zh']}。"))
    for f in families:
        if all(f["explainers"][e]["verdict"] in ("partial", "fails") for e in EXPLAINERS):
            best = max(EXPLAINERS, key=lambda e: f["explainers"][e]["pass"] / max(f["explainers"][e]["total"], 1))
            b = f["explainers"][best]
            lines.append(both(f"{f['name']['en']}: neither explainer passes everywhere; {EXPLAINER_NAMES[best]} "
                              f"does best ({b['pass']} of {b['total']} cases).",
                              f"{f['name']['zh']}：两个解释器都不能处处通过；{EXPLAINER_NAMES[best]} 表现最好"
                              f"（{b['total']} 个用例中通过 {b['pass']} 个）。"))
    for explainer in EXPLAINERS:
        sub = ran[ran["explainer"] == explainer]
        for axis in AXES:
            shares = {v: (int((g["outcome"] == PASS).sum()), len(g)) for v, g in sub.groupby(axis)}
            top = max(p / t for p, t in shares.values())
            for version, (p, t) in sorted(shares.items(), key=lambda kv: Version(kv[0])):
                if p / t < 0.6 * top:
                    lines.append(both(f"{EXPLAINER_NAMES[explainer]}: avoid {axis} {version} (passed {p} of {t} "
                                      f"cases there).",
                                      f"{EXPLAINER_NAMES[explainer]}：避免使用 {axis} {version}（那里 {t} 个用例中"
                                      f"只通过 {p} 个）。"))
    return lines


# ---------------------------------------------------------------------------------------------------- build

def build(matrix: dict, results: Path | None = None) -> dict:
    """The answers to the three questions, from one matrix.json document (``results``: where it was read from)."""
    frame = _frame(matrix)
    info = models_info(frame["model"])
    catalogue = matrix.get("catalogue") or {"signatures": [], "bisections": []}
    ids = {e["signature"]: e["id"] for e in catalogue["signatures"]}
    known = {p["signature"]: p for p in matrix.get("known_problems") or []}
    bisections = catalogue.get("bisections") or []
    families = family_rows(frame, info, ids)
    problems = [problem_card(entry, known[entry["signature"]], frame, info, matrix, ids, bisections)
                for entry in catalogue["signatures"] if entry["signature"] in known]
    return {
        "summary": summary(frame, families),
        "explainers": {e: both(n, n) for e, n in EXPLAINER_NAMES.items()},
        "families": families,
        "problems": problems,
        "cells": cell_rows(frame, ids),
    }


def card_lines(card: dict, lang: str = "en") -> list[str]:
    """A problem card as plain text lines: the terminal lookup and COMPATIBILITY.md say these sentences."""
    words = {"en": ("Range", "Fix", "verified", "Does not work", "Reproduce", "Reports", "Kinds of model"),
             "zh": ("版本范围", "解决办法", "已验证", "无效的做法", "复现", "公开报告", "模型类型")}[lang]
    lines = [card["title"][lang], card["sentence"][lang], f"{words[0]}: {card['range'][lang]}",
             f"{words[6]}: " + join([FAMILIES[f]["name"][lang] for f in card["families"]], lang)]
    for fix in card["fixes"]:
        lines.append(f"{words[1]}: {fix['label'][lang]} ({words[2]}: {fix['verified'][lang]})")
        if fix["code"]:
            lines += ["    " + line for line in fix["code"].splitlines()]
        if fix["install"]:
            lines.append(f"    {fix['install']}")
    lines += [f"{words[3]}: {text[lang]}" for text in card["not_fixes"]]
    if card["reproducer"]:
        r = card["reproducer"]
        lines.append(f"{words[4]} ({r['model']}, torch {r['torch']}, shap {r['shap']}): {r['command'] or r['path']}")
    if card["reports"]:
        lines.append(f"{words[5]}: {', '.join(card['reports'])}")
    return lines
