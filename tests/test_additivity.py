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
    assert verdict["ok"] and verdict["error"] < 1e-9


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


def test_unknown_layout_is_reported():
    with pytest.raises(additivity.ShapeProblem, match="unexpected attribution layout"):
        additivity.per_input(np.zeros((5, 11, 3)), 5, [(10,)], 3)


def test_non_finite_attributions_fail():
    arrays, f_x, bg = exact_attributions(5, [(10,)], 1)
    arrays[0][0, 0, 0] = np.nan
    assert not additivity.check("deep", arrays[0], f_x, bg, [(10,)])["ok"]
