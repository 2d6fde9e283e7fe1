"""Worker process: imports torch and shap once, then runs cases sent to it.

Protocol: one JSON case per line on stdin, one JSON result per line on a
private duplicate of stdout.  File descriptor 1 itself is pointed at stderr
before anything else is imported, so that prints from models, shap or torch
can never corrupt the protocol.  The supervisor restarts a worker that dies
or hangs, so a crash costs one case, and an import is paid once per worker,
not once per case.

Standard library, numpy, torch and shap only; Python 3.8+.
"""
from __future__ import annotations

import contextlib
import faulthandler
import importlib.util
import io
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol as wire  # noqa: E402  (beside this script; standard library only)

N_BACKGROUND = 20
N_EXPLAINED = 5
LIBRARIES = ("shap", "torch", "numpy", "numba", "scipy", "sklearn", "pandas")


def package_of(filename):
    """The top-level package a source file belongs to (or the file's name)."""
    parts = filename.replace("\\", "/").split("/")
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            rest = parts[parts.index(marker) + 1:]
            return rest[0] if len(rest) > 1 else rest[0].split(".")[0]
    return os.path.basename(filename)


def short_path(filename):
    parts = filename.replace("\\", "/").split("/")
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return "/".join(parts[parts.index(marker) + 1:])
    return "/".join(parts[-2:])


def describe_exception(exc):
    """Type, first line of the message and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    message = str(exc).strip().splitlines()
    evidence = {
        "type": type(exc).__name__,
        "message": message[0][:500] if message else "",
        "frame": None,
        "shap_frame": None,
        "frame_package": None,
        "traceback_tail": [
            "%s:%s in %s" % (short_path(f.filename), f.lineno, f.name) for f in frames[-6:]
        ],
    }
    for frame in reversed(frames):
        package = package_of(frame.filename)
        where = "%s:%s in %s" % (short_path(frame.filename), frame.lineno, frame.name)
        if package in ("shap", "torch") and evidence["frame"] is None:
            evidence["frame"] = where
        if package == "shap" and evidence["shap_frame"] is None:
            evidence["shap_frame"] = where
    if frames:
        evidence["frame_package"] = package_of(frames[-1].filename)
    return evidence


@contextlib.contextmanager
def captured_stderr(lines):
    """Collect what native code writes to file descriptors 1 and 2 (e.g. numpy ABI messages)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in zip((1, 2), saved):
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            lines.extend(sink.read().decode("utf-8", "replace").splitlines())


@contextlib.contextmanager
def captured_notes(notes):
    """Record warnings, printed lines (old shap prints its warnings) and native stderr output."""
    printed = io.StringIO()
    native = []
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed), \
                captured_stderr(native):
            warnings.simplefilter("always")
            yield
    finally:
        found = [(w.category.__name__, package_of(w.filename), str(w.message)) for w in caught]
        found += [("print", "stdout", line) for line in printed.getvalue().splitlines()]
        found += [("stderr", "stderr", line) for line in native]
        seen = set(n["message"] for n in notes)
        for category, source, message in found:
            lines = message.strip().splitlines()
            text = lines[0].strip()[:300] if lines else ""
            if text and text not in seen and len(notes) < 20:
                seen.add(text)
                notes.append({"category": category, "message": text, "source": source})


class Worker(object):
    def __init__(self, threads):
        self.threads = threads
        self.modules = {}
        self.references = {}  # (model, oracle, device, seed) -> oracle attributions, shared by both explainers

    def import_libraries(self):
        notes = []
        started = time.perf_counter()
        with captured_notes(notes):
            import numpy
            import torch
            import shap
            import additivity  # sibling files (numpy only): the worker runs as a script
            import oracles
            import remedies
        self.np, self.torch, self.shap = numpy, torch, shap
        self.additivity, self.oracles, self.remedies = additivity, oracles, remedies
        torch.set_num_threads(self.threads)
        return {"import_seconds": time.perf_counter() - started, "import_notes": notes}

    def environment(self):
        torch = self.torch
        cuda = torch.cuda.is_available()
        env = {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "versions": {"torch": torch.__version__, "shap": self.shap.__version__,
                         "numpy": self.np.__version__},
            "torch_threads": torch.get_num_threads(),
            "torch_cuda": torch.version.cuda,
            "cuda_available": cuda,
            "cpu_model": cpu_model(),
            "cpu_count": os.cpu_count(),
            "gpu": None,
            "gpu_driver": None,
        }
        if cuda:
            env["gpu"] = torch.cuda.get_device_name(0)
            env["gpu_driver"] = gpu_driver()
        return env

    def load(self, name, path):
        if name not in self.modules:
            folder = os.path.dirname(os.path.abspath(path))
            if folder not in sys.path:  # lets a model import a helper beside it; appended, never shadowing
                sys.path.append(folder)
            spec = importlib.util.spec_from_file_location("harness_model_" + name, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            self.modules[name] = module
        return self.modules[name]

    def sync(self, device):
        if device == "cuda":
            self.torch.cuda.synchronize()

    def explain(self, kind, model, background, samples, device, check_additivity=None, seed=0):
        """Build the explainer and call shap_values() as a user would; time both."""
        shap = self.shap
        self.sync(device)
        started = time.perf_counter()
        if kind == "deep":
            explainer = shap.DeepExplainer(model, background)
        else:
            explainer = shap.GradientExplainer(model, background)
        self.sync(device)
        built = time.perf_counter()
        kwargs = {} if kind == "deep" else {"rseed": seed}
        if check_additivity is not None:
            kwargs["check_additivity"] = check_additivity
        values = explainer.shap_values(samples, **kwargs)
        self.sync(device)
        return values, built - started, time.perf_counter() - built

    def run_case(self, case):
        record = {"notes": [], "stage": "build"}
        self.model, self.model_before = None, None
        try:
            with captured_notes(record["notes"]):
                self._run_case(case, record)
        except self.remedies.NotApplicable as exc:  # a remedy with nothing to change: not a result
            return {"outcome": "n/a", "reason": str(exc)}
        except Exception as exc:  # an exception is a result; SystemExit is a crash
            record["outcome"] = "fail"
            record["error"] = describe_exception(exc)
        if self.model is not None:  # pass or fail, the model must be left as it was given
            record["side_effects"] = side_effects(self.model_before, model_state(self.model))
        return record

    def _run_case(self, case, record):
        torch, device, kind = self.torch, case["device"], case["explainer"]
        module = self.load(case["model"], case["path"])
        shapes = [tuple(s) for s in module.INPUT_SHAPES]
        torch.manual_seed(case.get("seed", 0))
        model = module.build().eval().to(device)
        generator = torch.Generator().manual_seed(case.get("seed", 0))
        if hasattr(module, "inputs"):  # doctor's saved case: the user's own background and samples
            background, samples = ([t.to(device) for t in part] for part in module.inputs())
        else:
            background = [torch.randn((N_BACKGROUND,) + s, generator=generator).to(device) for s in shapes]
            samples = [torch.randn((N_EXPLAINED,) + s, generator=generator).to(device) for s in shapes]
        context = contextlib.nullcontext()
        if case.get("remedy"):  # the same case again, changed as one code remedy says
            remedy = self.remedies.REGISTRY[case["remedy"]]
            model, kind = remedy.apply(torch, model, samples, kind)
            context = remedy.context(torch)
            record["explainer"] = kind
        self.model, self.model_before = model, model_state(model)
        with context:
            self._explain_and_judge(case, record, module, model, kind, shapes, background, samples)

    def _explain_and_judge(self, case, record, module, model, kind, shapes, background, samples):
        torch, device = self.torch, case["device"]
        record["stage"] = "forward"
        with torch.no_grad():  # .tolist(), not .numpy(): the harness must not need torch's numpy bridge
            f_x = self.np.array(model(*samples).detach().cpu().tolist())
            f_background = self.np.array(model(*background).detach().cpu().tolist())
        single = len(shapes) == 1
        bg_arg, x_arg = (background[0], samples[0]) if single else (background, samples)

        record["stage"] = "explain"
        try:
            values, construct, call = self.explain(kind, model, bg_arg, x_arg, device)
        except AssertionError as exc:
            if "sum up to the model" not in str(exc):
                raise
            # shap's own additivity check fired: measure the error ourselves.
            record["shap_check"] = describe_exception(exc)
            values, construct, call = self.explain(kind, model, bg_arg, x_arg, device, False)
        record["stage"] = "warm repeats"
        check_additivity = False if "shap_check" in record else None
        repeats = case.get("repeats", 3)
        if kind == "gradient" and repeats:  # the repeats double as the replicates its verdict needs
            repeats = max(repeats, self.additivity.GRADIENT_REPLICATES - 1)
        warm, replicates = self.warm_calls(repeats, kind, model, bg_arg, x_arg, device, check_additivity)
        record["timing"] = {"cold": {"construct": construct, "call": call}, "warm": warm}
        record["stage"] = "check"
        try:
            record["additivity"] = self.additivity.check(kind, values, f_x, f_background, shapes,
                                                         replicates if kind == "gradient" else ())
        except self.additivity.ShapeProblem as exc:
            record["additivity"] = {"ok": False, "metric": "layout", "error": None, "tolerance": None,
                                    "criterion": str(exc)}
        record["stage"] = "oracles"
        phi = self.flat_attributions(values, f_x, shapes)
        if phi is not None:
            record["oracles"] = self.run_oracles(case, kind, module, model, background, samples, shapes, phi)
            if case.get("keep_attributions"):  # for the supervisor's CPU/CUDA comparison
                record["attributions"] = phi.tolist()
        verdicts = [record["additivity"]["ok"]] + [o["ok"] for o in record.get("oracles", {}).values()]
        record["outcome"] = "pass" if all(v is not False for v in verdicts) else "mismatch"
        record["stage"] = "done"

    def flat_attributions(self, values, f_x, shapes):
        """shap's return value as one (n, features, outputs) array, or None when its layout is unknown."""
        n, m = f_x.reshape(len(f_x), -1).shape
        try:
            arrays = self.additivity.per_input(values, n, shapes, m)
        except self.additivity.ShapeProblem:
            return None
        return self.np.concatenate([a.reshape(n, -1, m) for a in arrays], axis=1)

    def as_function(self, model, shapes, device):
        """The model as a numpy function of flat feature rows (no torch<->numpy bridge needed)."""
        torch, np, oracles = self.torch, self.np, self.oracles

        def f(rows):
            inputs = [torch.tensor(part.tolist(), dtype=torch.float32).to(device)
                      for part in oracles.split_inputs(rows, shapes)]
            with torch.no_grad():
                out = np.array(model(*inputs).detach().cpu().tolist(), dtype=np.float64)
            return out.reshape(len(rows), -1)
        return f

    def run_oracles(self, case, kind, module, model, background, samples, shapes, phi):
        """Closed form for affine models, brute-force Shapley for small inputs."""
        oracles, np = self.oracles, self.np
        x = oracles.flatten_inputs([np.array(s.detach().cpu().tolist()) for s in samples])
        bg = oracles.flatten_inputs([np.array(b.detach().cpu().tolist()) for b in background])
        linear = getattr(module, "CLOSED_FORM", None) == "linear"
        wanted = []
        if linear:
            wanted.append(("analytic", oracles.linear_closed_form))
        if x.shape[1] <= oracles.EXACT_MAX_FEATURES:
            wanted.append(("exact", oracles.exact_shapley))
        found = {}
        for name, compute in wanted:
            key = (case["model"], name, case["device"], case.get("seed", 0))
            if key not in self.references:
                started = time.perf_counter()
                self.references[key] = (compute(self.as_function(model, shapes, case["device"]), x, bg),
                                        time.perf_counter() - started)
            reference, seconds = self.references[key]
            # Only on an affine model does theory make both explainers equal to Shapley values.
            found[name] = oracles.judge(kind, phi, reference, verdict=linear)
            found[name]["seconds"] = seconds
        return found

    def warm_calls(self, repeats, kind, model, background, samples, device, check_additivity):
        """Warm repeats after the cold first call (seeds 1, 2, ...): their timings by median and IQR, and their values."""
        warm, values = {"construct": [], "call": []}, []
        for seed in range(1, repeats + 1):
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                value, c, s = self.explain(kind, model, background, samples, device, check_additivity, seed)
            warm["construct"].append(c)
            warm["call"].append(s)
            values.append(value)
        return {k: summarize(v) for k, v in warm.items()}, values


def model_state(model):
    """What a well-behaved explainer must leave unchanged: hooks, attributes, state_dict keys."""
    import torch.nn.modules.module as module_globals
    state = {"state_dict": sorted(model.state_dict().keys()), "modules": {}, "global hooks": {}}
    for name, module in model.named_modules():
        hooks = {k: len(v) for k, v in vars(module).items() if "hooks" in k and isinstance(v, dict)}
        state["modules"][name or "(model)"] = {
            "type": type(module).__name__, "hooks": hooks,
            "attributes": sorted(k for k in vars(module) if not k.startswith("_")),
        }
    for name, value in vars(module_globals).items():
        if name.startswith("_global") and "hook" in name and isinstance(value, dict):
            state["global hooks"][name] = len(value)
    return state


def side_effects(before, after):
    """One line per change an explainer left on the model (empty: none)."""
    found = []
    for name, was in before["modules"].items():
        now = after["modules"].get(name)
        if now is None:
            found.append("%s (%s) removed" % (name, was["type"]))
            continue
        added = sorted(set(now["attributes"]) - set(was["attributes"]))
        if added:
            found.append("%s (%s): attributes added: %s" % (name, was["type"], ", ".join(added)))
        for kind, count in sorted(now["hooks"].items()):
            if count > was["hooks"].get(kind, 0):
                found.append("%s (%s): %d %s left registered" % (name, was["type"], count - was["hooks"].get(kind, 0),
                                                                 kind.strip("_")))
    for kind, count in sorted(after["global hooks"].items()):
        if count > before["global hooks"].get(kind, 0):
            found.append("torch: %d %s left registered" % (count - before["global hooks"].get(kind, 0), kind.strip("_")))
    if before["state_dict"] != after["state_dict"]:
        added = sorted(set(after["state_dict"]) - set(before["state_dict"]))
        found.append("state_dict keys changed%s" % (": added " + ", ".join(added) if added else ""))
    return found


def summarize(values):
    if not values:
        return {"n": 0, "median": None, "iqr": None}
    ordered = sorted(values)
    if len(ordered) >= 2:
        q = statistics.quantiles(ordered, n=4, method="inclusive")
        iqr = q[2] - q[0]
    else:
        iqr = 0.0
    return {"n": len(ordered), "median": statistics.median(ordered), "iqr": iqr}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_driver():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=20)
        return out.stdout.decode().strip().splitlines()[0] or None
    except (OSError, subprocess.SubprocessError, IndexError):
        return None


def main():
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    # A fatal signal prints the Python stack to the supervisor's stderr file,
    # even while a case is capturing fds 1 and 2 for its notes.
    faulthandler.enable(file=os.fdopen(os.dup(2), "w"))
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    memory_limit = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if memory_limit:  # a capped address space turns a runaway allocation into an error, not an OOM kill
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))

    def send(message):
        protocol.write(wire.encode(message))
        protocol.flush()

    worker = Worker(threads)
    try:
        hello = worker.import_libraries()
        hello.update(worker.environment())
    except Exception as exc:
        send(wire.hello({"import_error": describe_exception(exc)}))
        return
    send(wire.hello(hello))
    for line in sys.stdin:
        case = wire.decode(line)
        if case is not None:
            send(worker.run_case(case))


if __name__ == "__main__":
    main()
