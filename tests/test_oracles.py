"""The reference oracles, against values worked out by hand."""
import numpy as np
import pytest

from harness.cell import oracles


def product(rows):
    return (rows[:, 0] * rows[:, 1])[:, None]


def maximum(rows):
    return rows.max(axis=1, keepdims=True)


def test_a_product_splits_its_value_evenly():
    # v({}) = v({1}) = v({2}) = 0 against a zero background, v({1,2}) = ab: each gets ab/2.
    phi = oracles.exact_shapley(product, np.array([[3.0, 4.0]]), np.zeros((1, 2)))
    assert phi[0, :, 0] == pytest.approx([6.0, 6.0])


def test_the_maximum_of_two_features_by_hand():
    # x = (1, 2), background (0, 0): v({}) = 0, v({1}) = 1, v({2}) = 2, v({1,2}) = 2.
    # phi_1 = 1/2 (1 - 0) + 1/2 (2 - 2) = 0.5; phi_2 = 1/2 (2 - 0) + 1/2 (2 - 1) = 1.5.
    phi = oracles.exact_shapley(maximum, np.array([[1.0, 2.0]]), np.zeros((1, 2)))
    assert phi[0, :, 0] == pytest.approx([0.5, 1.5])


def test_three_features_with_a_two_row_background_by_hand():
    # f = x1 * x2 + x3, background rows (0,0,0) and (2,2,2), x = (1,1,1).
    # The additive x3 gets x3 - E[b3] = 0; x1 and x2 share the product's gain equally:
    # E[f(x)] - E[f(b)] restricted to the product = 1 - (0 + 4)/2 = -1, so -0.5 each.
    f = lambda rows: (rows[:, 0] * rows[:, 1] + rows[:, 2])[:, None]  # noqa: E731
    phi = oracles.exact_shapley(f, np.ones((1, 3)), np.array([[0.0, 0, 0], [2.0, 2, 2]]))
    assert phi[0, :, 0] == pytest.approx([-0.5, -0.5, 0.0])


def test_exact_values_add_up_and_keep_the_output_axis():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(5, 3))
    f = lambda rows: np.tanh(rows @ weights) ** 2  # noqa: E731
    x, background = rng.normal(size=(4, 5)), rng.normal(size=(6, 5))
    phi = oracles.exact_shapley(f, x, background)
    assert phi.shape == (4, 5, 3)
    assert phi.sum(axis=1) == pytest.approx(f(x) - f(background).mean(axis=0))


def test_the_linear_closed_form_matches_brute_force_and_hand_values():
    w, c = np.array([[2.0], [-1.0], [0.5]]), 3.0
    f = lambda rows: rows @ w + c  # noqa: E731
    x, background = np.array([[1.0, 2.0, 3.0]]), np.array([[0.0, 0.0, 0.0], [2.0, 4.0, 2.0]])
    closed = oracles.linear_closed_form(f, x, background)
    # E[x] = (1, 2, 1): phi = (2*(1-1), -1*(2-2), 0.5*(3-1)) = (0, 0, 1).
    assert closed[0, :, 0] == pytest.approx([0.0, 0.0, 1.0])
    assert oracles.exact_shapley(f, x, background) == pytest.approx(closed)


def test_judging_an_explainer_against_an_oracle():
    reference = np.ones((2, 3, 1))
    assert oracles.judge("deep", reference * (1 + 1e-5), reference, verdict=True)["ok"] is True
    wrong = oracles.judge("deep", reference * 1.1, reference, verdict=True)
    assert wrong["ok"] is False
    assert wrong["deviation"] == pytest.approx(0.1)
    assert wrong["tolerance"] == oracles.DEEP_ORACLE_RTOL
    measured = oracles.judge("gradient", reference * 2, reference, verdict=False)
    assert measured["ok"] is None
    assert measured["deviation"] == pytest.approx(1.0)
    assert oracles.judge("deep", np.ones((2, 4, 1)), reference, verdict=True)["ok"] is False


def test_device_agreement_flags_only_real_differences():
    cpu = np.linspace(-2, 2, 30).reshape(5, 6, 1)
    assert oracles.device_agreement(cpu, cpu + 1e-6)["ok"] is True
    far = oracles.device_agreement(cpu, cpu + 0.5)
    assert far["ok"] is False
    assert far["max_abs_diff"] == pytest.approx(0.5)
    assert oracles.device_agreement(cpu, cpu[:, :3])["ok"] is False


def test_inputs_flatten_and_split_back():
    a, b = np.arange(12.0).reshape(2, 6), np.arange(32.0).reshape(2, 2, 8)
    rows = oracles.flatten_inputs([a, b])
    assert rows.shape == (2, 22)
    back = oracles.split_inputs(rows, [(6,), (2, 8)])
    assert np.array_equal(back[0], a)
    assert np.array_equal(back[1], b)
