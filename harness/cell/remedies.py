"""Code remedies: the changes people are told to make, tried inside the same cell.

When a case fails or gives wrong numbers, the supervisor runs it again once
per remedy that applies, with the same inputs and the same verdict criteria,
so the table can say "works instead" with evidence instead of folklore.
Each remedy names what it changes, the public report it comes from, and
whether it changes what the model computes.

``check_additivity=False`` is deliberately absent: it only silences shap's
own check, the attributions stay wrong.

Standard library at import time (the host reads the descriptions); torch is
passed in by the worker.  Python 3.8+.
"""
from __future__ import annotations

import contextlib
import copy


class NotApplicable(Exception):
    """The remedy has nothing to change for this case (the reason is recorded)."""


class Remedy(object):
    name = ""
    title = ""  # what a user would do, in a few words
    changes = ""  # what exactly the harness changes
    source = ""  # the public report the advice comes from
    semantics = "unchanged"  # "unchanged": same function of the inputs; otherwise what differs
    caveat = ""  # a few words for the table when semantics is not "unchanged"
    explainers = ("deep", "gradient")  # case explainers it is tried on
    devices = ("cpu", "cuda")

    def applies_to(self, case):
        """Cheap check the supervisor makes before sending the case (no torch needed)."""
        return case["explainer"] in self.explainers and case["device"] in self.devices

    def apply(self, torch, model, inputs, explainer):
        """(model, explainer) to run instead; raises NotApplicable when nothing would change."""
        return model, explainer

    def context(self, torch):
        return contextlib.nullcontext()


class GradientInsteadOfDeep(Remedy):
    name = "gradient_explainer"
    title = "GradientExplainer instead"
    changes = "shap.GradientExplainer(model, background) with the same model, background and inputs"
    source = ("https://github.com/shap/shap/issues/3263 : maintainers' summary of DeepExplainer additivity "
              "reports: using GradientExplainer instead does the trick for several users")
    semantics = "model unchanged; a different estimator (expected gradients, a Monte Carlo estimate)"
    caveat = "another estimator"
    explainers = ("deep",)

    def apply(self, torch, model, inputs, explainer):
        return model, "gradient"


class OutOfPlaceActivations(Remedy):
    name = "out_of_place"
    title = "out-of-place activations"
    changes = "every submodule with inplace=True (ReLU, ELU, Dropout, ...) gets inplace=False"
    source = ("https://github.com/shap/shap/issues/3466 : torchvision ResNet's inplace ReLUs make "
              "DeepExplainer raise 'BackwardHookFunctionBackward is a view and is being modified inplace'")

    def apply(self, torch, model, inputs, explainer):
        changed = 0
        for module in model.modules():
            if getattr(module, "inplace", False) is True:
                try:
                    module.inplace = False
                except (AttributeError, RuntimeError):  # a ScriptModule's attributes are frozen
                    raise NotApplicable("a ScriptModule's inplace flags cannot be changed")
                changed += 1
        if not changed:
            raise NotApplicable("no module has inplace=True (in-place tensor ops in forward() need a code change)")
        return model, explainer


class OneModulePerCall(Remedy):
    name = "module_per_call"
    title = "one module per call"
    changes = ("each leaf module that forward() calls more than once is replaced by copies, one per call "
               "(same weights, same order)")
    source = ("https://github.com/shap/shap/issues/1479 : a ReLU object reused in forward() gives DeepExplainer "
              "wrong values or errors; create one activation object per use (also shap#3725)")

    def apply(self, torch, model, inputs, explainer):
        leaves = [m for m in model.modules() if not list(m.children())]
        calls = {}

        def count(module, args, output):
            calls[id(module)] = calls.get(id(module), 0) + 1
        try:
            handles = [m.register_forward_hook(count) for m in leaves]
        except RuntimeError as exc:  # e.g. "register_forward_hook is not supported on ScriptModules"
            raise NotApplicable("cannot observe module calls: %s" % str(exc).splitlines()[0][:200])
        try:
            with torch.no_grad():
                model(*[x[:1] for x in inputs])
        finally:
            for handle in handles:
                handle.remove()
        reused = dict((mid, n) for mid, n in calls.items() if n > 1)
        if not reused:
            raise NotApplicable("every module is called at most once per forward pass")
        per_call = _per_call_class(torch)
        for parent in list(model.modules()):
            for child_name, child in list(parent.named_children()):
                if id(child) in reused:
                    setattr(parent, child_name, per_call(child, reused[id(child)]))
        return model, explainer


class OutOfPlaceAndOnePerCall(Remedy):
    name = "out_of_place_per_call"
    title = "out-of-place + one module per call"
    changes = "out_of_place then module_per_call (torchvision's BasicBlock reuses one inplace ReLU)"
    source = ("https://github.com/shap/shap/issues/1479 : torchvision ResNets reuse one inplace ReLU per block, "
              "so DeepExplainer needs both changes")

    def apply(self, torch, model, inputs, explainer):
        model, explainer = OutOfPlaceActivations().apply(torch, model, inputs, explainer)
        return OneModulePerCall().apply(torch, model, inputs, explainer)


def _per_call_class(torch):
    class PerCall(torch.nn.Module):
        """Dispatches the k-th call of a forward pass to the k-th copy of the module."""

        def __init__(self, module, calls):
            super(PerCall, self).__init__()
            self.copies = torch.nn.ModuleList([copy.deepcopy(module) for _ in range(calls)])
            self.calls = 0

        def forward(self, *args, **kwargs):
            module = self.copies[self.calls % len(self.copies)]
            self.calls += 1
            return module(*args, **kwargs)
    return PerCall


class CudnnDisabled(Remedy):
    name = "cudnn_off"
    title = "cuDNN off"
    changes = "cuDNN disabled while the explainer runs (CUDA cases only)"
    source = ("https://github.com/meta-pytorch/captum/issues/564 : 'cudnn RNN backward can only be called in "
              "training mode' for an LSTM in eval mode, fixed by disabling cuDNN (also shap#1057)")
    devices = ("cuda",)

    @contextlib.contextmanager
    def context(self, torch):
        was = torch.backends.cudnn.enabled
        torch.backends.cudnn.enabled = False
        try:
            yield
        finally:
            torch.backends.cudnn.enabled = was


REGISTRY = dict((r.name, r) for r in (GradientInsteadOfDeep(), OutOfPlaceActivations(), OneModulePerCall(),
                                      OutOfPlaceAndOnePerCall(), CudnnDisabled()))
# Outcomes that are worth a remedy: the case ran and said something wrong (a timeout would cost minutes).
NEEDS_REMEDY = ("fail", "mismatch", "crash")


def applicable(case):
    """Names of the remedies the supervisor tries for this non-passing case."""
    return [name for name, remedy in REGISTRY.items() if remedy.applies_to(case)]


def describe():
    """The registry as data, for the report: title, changes, source, semantics, where it is tried."""
    return dict((name, {"title": r.title, "changes": r.changes, "source": r.source, "semantics": r.semantics,
                        "explainers": list(r.explainers), "devices": list(r.devices)})
                for name, r in REGISTRY.items())
