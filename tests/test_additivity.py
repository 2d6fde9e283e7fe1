"""The harness's own additivity check, on every layout shap has used."""
import numpy as np
import pytest

from harness.cell import additivity


def exact_attributions(n, shapes, m, seed=0):
    """Random attributions and the outputs they add up to exactly."""
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(n,) + s + (m,)) for s in shapes]
    expected = rng.normal(size=m)
    total = sum(a.reshape(n, -1, m).sum(axis=1) for a in arrays)
    f_x = total + expected
    background = np.tile(expected, (4, 1))
    return arrays, f_x, background


def test_new_style_trailing_output_axis_adds_up():
    arrays, f_x, bg = exact_attributions(5, [(10,)], 3)
    verdict = additivity.check("deep", arrays[0], f_x, bg, [(10,)])
    assert verdict["ok"]
    assert verdict["error"] < 1e-9


def test_old_style_list_over_outputs():
    arrays, f_x, bg = exact_attributions(5, [(2, 4)], 3)
    old = [arrays[0][..., j] for j in range(3)]
    assert additivity.check("deep", old, f_x, bg, [(2, 4)])["ok"]


def test_old_style_multi_output_multi_input():
    shapes = [(6,), (2, 8)]
    arrays, f_x, bg = exact_attributions(5, shapes, 2)
    old = [[a[..., j] for a in arrays] for j in range(2)]
    assert additivity.check("deep", old, f_x, bg, shapes)["ok"]


def test_new_style_multi_input():
    shapes = [(6,), (2, 8)]
    arrays, f_x, bg = exact_attributions(5, shapes, 2)
    assert additivity.check("gradient", arrays, f_x, bg, shapes)["ok"]


def test_single_output_without_output_axis_and_1d_model_output():
    arrays, f_x, bg = exact_attributions(5, [(10,)], 1)
    assert additivity.check("deep", arrays[0][..., 0], f_x[:, 0], bg[:, 0], [(10,)])["ok"]


def test_wrong_numbers_are_a_mismatch_with_the_measured_error():
    arrays, f_x, bg = exact_attributions(5, [(10,)], 3)
    verdict = additivity.check("deep", arrays[0] * 1.01, f_x, bg, [(10,)])
    assert not verdict["ok"]
    assert verdict["error"] > verdict["tolerance"] == pytest.approx(additivity.DEEP_RTOL * max(1, np.abs(f_x).max()))


def test_gradient_allows_sampling_noise_but_not_a_defect():
    arrays, f_x, bg = exact_attributions(5, [(10,)], 3)
    noisy = arrays[0] * 1.05
    assert additivity.check("gradient", noisy, f_x, bg, [(10,)])["ok"]
    assert not additivity.check("gradient", np.zeros_like(arrays[0]), f_x, bg, [(10,)])["ok"]


def replicate_residuals(delta, noise, bias=0.0, replicates=8, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([bias * delta + noise * rng.standard_normal(delta.shape) for _ in range(replicates)])


@pytest.mark.parametrize("noise", [0.02, 0.1, 0.3])
def test_gradient_verdict_scales_with_the_measured_noise(noise):
    delta = np.random.default_rng(1).standard_normal((5, 3))
    honest = [additivity.judge_replicates(replicate_residuals(delta, noise, seed=s), delta) for s in range(50)]
    assert sum(v["ok"] for v in honest) >= 49  # false alarms are rare at any noise level
    residuals = replicate_residuals(delta, 0.02, bias=0.2)
    biased = additivity.judge_replicates(residuals, delta)
    assert not biased["ok"]
    assert biased["bias"] == pytest.approx(0.2, abs=0.03)
    assert biased["tolerance"] < 0.1
    # on a quiet model a 20 % systematic error is far outside the spread; the old fixed 0.35 let it pass
    assert np.linalg.norm(residuals[0]) / np.linalg.norm(delta) < additivity.GRADIENT_REL_TOL


def test_gradient_verdict_with_replicates_catches_zeros_and_garbage():
    arrays, f_x, bg = exact_attributions(5, [(10,)], 3)
    zeros = np.zeros_like(arrays[0])
    verdict = additivity.check("gradient", zeros, f_x, bg, [(10,)], [zeros] * 3)
    assert not verdict["ok"]
    assert verdict["bias"] == pytest.approx(-1)
    assert verdict["replicates"] == 4
    rng = np.random.default_rng(0)
    orthogonal = arrays[0] + rng.standard_normal(arrays[0].shape)  # same garbage every time: no spread
    assert not additivity.check("gradient", orthogonal, f_x, bg, [(10,)], [orthogonal] * 3)["ok"]
    honest = [arrays[0] * (1 + 0.03 * rng.standard_normal()) for _ in range(8)]
    verdict = additivity.check("gradient", honest[0], f_x, bg, [(10,)], honest[1:])
    assert verdict["ok"]
    assert verdict["criterion"] == additivity.CRITERIA["gradient"]
    assert "single_call_error" in verdict
    assert verdict["mean_residual_se"] > 0


def test_a_single_gradient_estimate_falls_back_to_the_fixed_tolerance():
    arrays, f_x, bg = exact_attributions(5, [(10,)], 3)
    verdict = additivity.check("gradient", arrays[0] * 1.2, f_x, bg, [(10,)])
    assert verdict["ok"]
    assert verdict["tolerance"] == additivity.GRADIENT_REL_TOL
    assert verdict["criterion"] == additivity.CRITERIA["gradient-single"]


def test_unknown_layout_is_reported():
    with pytest.raises(additivity.ShapeProblem, match="unexpected attribution layout"):
        additivity.per_input(np.zeros((5, 11, 3)), 5, [(10,)], 3)


def test_non_finite_attributions_fail():
    arrays, f_x, bg = exact_attributions(5, [(10,)], 1)
    arrays[0][0, 0, 0] = np.nan
    assert not additivity.check("deep", arrays[0], f_x, bg, [(10,)])["ok"]
