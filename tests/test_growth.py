"""Laws and known answers of the growth models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity import Q_, ValidationError
from capacity.growth import (
    Compound,
    Fitted,
    GrowthModel,
    Linear,
    Logistic,
    Milestones,
    fit,
    target,
)
from capacity.months import month, month_range
from capacity.units import Quantity

AXIS = month_range("2023-01", "2031-12")
START = month("2023-01")

amounts = st.floats(min_value=1e-3, max_value=1e9, allow_nan=False, allow_infinity=False)


@st.composite
def milestone_lists(draw: st.DrawFn) -> list[tuple[np.datetime64, float]]:
    offsets = draw(st.lists(st.integers(0, AXIS.size - 1), min_size=1, max_size=8,
                            unique=True))
    values = draw(st.lists(amounts, min_size=len(offsets), max_size=len(offsets)))
    return [(START + np.timedelta64(o, "M"), v)
            for o, v in zip(sorted(offsets), values, strict=True)]


def models() -> list[GrowthModel]:
    """One of each model, with uncertainty."""
    return [
        Linear(Q_("1000 vCPU"), "2025-01", Q_("5000 vCPU/year"), slope_sd=Q_("800 vCPU/year")),
        Compound(Q_("2 PB"), "2024-06", Q_("25 %"), rate_sd=0.1),
        Logistic(Q_("130 PFLOPS_fp16"), "2027-01", Q_("1.2 / year"),
                 ceiling_sd=Q_("20 PFLOPS_fp16"), midpoint_sd_months=6),
        Milestones([("2025-03", Q_("0 PFLOPS_fp16")), ("2027-12", Q_("130 PFLOPS_fp16"))],
                   rel_sd=0.2, delay_sd_months=4),
        Fitted("compound", month("2024-01"), "kW", [np.log(300.0), 0.2],
               [[0.01, 0.0], [0.0, 0.002]]),
    ]


def without_uncertainty() -> list[GrowthModel]:
    return [
        Linear(Q_("1000 vCPU"), "2025-01", Q_("-5000 vCPU/year")),
        Compound(Q_("2 PB"), "2024-06", Q_("25 %")),
        Logistic(Q_("130 PFLOPS_fp16"), "2027-01", Q_("1.2 / year"), floor=Q_("3 PFLOPS_fp16")),
        Milestones([("2025-03", Q_("10 PFLOPS_fp16")), ("2027-12", Q_("130 PFLOPS_fp16"))],
                   interpolation="geometric", before="extrapolate"),
        Fitted("logistic", month("2024-01"), "kW", [500.0, 0.9, 2.5],
               np.zeros((3, 3))),
    ]


def names(models: list[GrowthModel]) -> list[str]:
    return [type(m).__name__ for m in models]


# ------------------------------------------------------------------ milestones


@given(milestone_lists(), st.sampled_from(["linear", "geometric"]),
       st.sampled_from(["zero", "hold", "extrapolate"]))
def test_milestones_pass_exactly_through_every_target(
    points: list[tuple[np.datetime64, float]], interpolation: str, before: str
) -> None:
    if before == "extrapolate" and len(points) < 2:
        before = "hold"
    model = Milestones([(m, Q_(v, "PFLOPS_fp16")) for m, v in points],
                       interpolation=interpolation, before=before)  # type: ignore[arg-type]
    months = np.array([m for m, _ in points])
    expected = np.array([v for _, v in points])
    assert np.array_equal(model.magnitudes(months, "PFLOPS_fp16"), expected)
    assert np.array_equal(model.values(months).m_as("PFLOPS_fp16"), expected)
    # and it holds the last target afterwards
    later = month_range(months[-1], months[-1] + np.timedelta64(24, "M"))
    assert np.all(model.magnitudes(later) == expected[-1])


def test_milestones_before_the_first_target() -> None:
    points: list[tuple[str, Quantity]] = [("2025-01", Q_("100 vCPU")),
                                          ("2026-01", Q_("220 vCPU"))]
    months = ["2024-01", "2024-07"]
    assert Milestones(points).magnitudes(months).tolist() == [0, 0]
    assert Milestones(points, before="hold").magnitudes(months).tolist() == [100, 100]
    assert Milestones(points, before="extrapolate").magnitudes(months).tolist() == [0, 40]


def test_geometric_milestones_grow_at_a_constant_rate() -> None:
    model = Milestones([("2025-01", Q_("100 vCPU")), ("2027-01", Q_("400 vCPU"))],
                       interpolation="geometric")
    np.testing.assert_allclose(model.magnitudes(["2026-01"]), [200.0])


def test_milestone_delays_are_whole_months_and_never_early() -> None:
    model = Milestones([("2025-01", Q_("0 vCPU")), ("2025-11", Q_("100 vCPU"))],
                       delay_sd_months=3)
    axis = month_range("2024-12", "2026-06")
    paths = model.sample(axis, 500, np.random.default_rng(3))
    central = model.magnitudes(axis)
    assert np.all(paths <= central)  # a delay only postpones a rising schedule
    # every path is the central path shifted by a whole number of months
    for shift in range(0, 20):
        shifted = np.concatenate([np.zeros(shift), central[: central.size - shift]])
        matches = np.all(paths == shifted, axis=1)
        paths = paths[~matches]
    assert paths.shape[0] == 0


def test_target_strings() -> None:
    model = Milestones.parse(["0 PFLOPS_fp16 by 2025-03", "130 PFLOPS_fp16 by 2027-12"])
    assert model.magnitudes(["2027-12"], "TFLOPS_fp16").tolist() == [130_000.0]
    assert target("5 万元 by 2026-01") == (month("2026-01"), Q_("5 万元"))
    with pytest.raises(ValidationError) as info:
        Milestones.parse(["130 PFLOPS_fp16 in 2027", "12 by 2028-01"])
    assert [e.path for e in info.value.problems] == ["points[0]", "points[1].value"]


# ------------------------------------------------------------------ laws of every model


@pytest.mark.parametrize("model", models(), ids=names(models()))
def test_same_seed_gives_identical_arrays(model: GrowthModel) -> None:
    a = model.sample(AXIS, 64, np.random.default_rng(42))
    b = model.sample(AXIS, 64, np.random.default_rng(42))
    c = model.sample(AXIS, 64, np.random.default_rng(43))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("model", models(), ids=names(models()))
def test_sample_shape_dtype_and_unit(model: GrowthModel) -> None:
    paths = model.sample(AXIS, 7, np.random.default_rng(0))
    assert paths.shape == (7, AXIS.size)
    assert paths.dtype == np.float64
    assert np.all(np.isfinite(paths))
    assert np.all(paths >= 0)
    values = model.values(AXIS)
    assert values.units == model.unit
    assert values.shape == (AXIS.size,)


@pytest.mark.parametrize("model", without_uncertainty(), ids=names(without_uncertainty()))
def test_zero_uncertainty_samples_equal_the_central_path(model: GrowthModel) -> None:
    unit = model.unit
    paths = model.sample(AXIS, 5, np.random.default_rng(1), unit)
    assert np.array_equal(paths, np.broadcast_to(model.magnitudes(AXIS, unit), paths.shape))


@pytest.mark.parametrize("model", models(), ids=names(models()))
def test_scaled_scales_the_central_path(model: GrowthModel) -> None:
    np.testing.assert_allclose(model.scaled(1.2).magnitudes(AXIS),
                               1.2 * model.magnitudes(AXIS), rtol=1e-12)
    with pytest.raises(ValidationError):
        model.scaled(-1.0)


def test_magnitudes_in_another_unit() -> None:
    model = Compound(Q_("2 PB"), "2024-06", 0.25)
    np.testing.assert_allclose(model.magnitudes(AXIS, "TB"), 1000 * model.magnitudes(AXIS))
    with pytest.raises(ValidationError) as info:
        model.magnitudes(AXIS, "kW")
    assert paths(info) == ["unit"]


# ------------------------------------------------------------------ unit invariance


@given(st.floats(0, 1e6), st.floats(-1e5, 1e5), st.floats(0, 1e4))
def test_linear_is_unchanged_in_other_units(start: float, slope: float, sd: float) -> None:
    a = Linear(Q_(start, "vCPU"), "2025-01", Q_(slope, "vCPU/year"), slope_sd=Q_(sd, "vCPU/year"))
    b = Linear(Q_(start / 1000, "kvCPU"), "2025-01", Q_(slope / 12, "vCPU/month"),
               slope_sd=Q_(sd / 12, "vCPU/month"))
    for x, y in [(a.magnitudes(AXIS, "vCPU"), b.magnitudes(AXIS, "vCPU")),
                 (a.sample(AXIS, 4, np.random.default_rng(5), "vCPU"),
                  b.sample(AXIS, 4, np.random.default_rng(5), "vCPU"))]:
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-6)


@given(st.floats(1, 1e4), st.floats(0.1, 5), st.integers(0, 60), st.floats(0, 1e3))
def test_logistic_and_milestones_are_unchanged_in_other_units(
    ceiling: float, rate: float, midpoint: int, floor: float
) -> None:
    mid = START + np.timedelta64(midpoint, "M")
    peta = Logistic(Q_(ceiling + floor, "PFLOPS_fp16"), mid, Q_(rate, "1/year"),
                    floor=Q_(floor, "PFLOPS_fp16"))
    tera = Logistic(Q_((ceiling + floor) * 1000, "TFLOPS_fp16"), mid,
                    Q_(rate / 12, "1/month"), floor=Q_(floor * 1000, "TFLOPS_fp16"))
    np.testing.assert_allclose(peta.magnitudes(AXIS, "PFLOPS_fp16"),
                               tera.magnitudes(AXIS, "PFLOPS_fp16"), rtol=1e-9)
    steps = [Milestones([(mid, Q_(floor * k, u)), (mid + np.timedelta64(9, "M"),
                                                   Q_(ceiling * k, u))])
             for k, u in ((1, "PFLOPS_fp16"), (1000, "TFLOPS_fp16"))]
    np.testing.assert_allclose(steps[0].magnitudes(AXIS, "PFLOPS_fp16"),
                               steps[1].magnitudes(AXIS, "PFLOPS_fp16"), rtol=1e-9)


# ------------------------------------------------------------------ shapes


@given(st.floats(0, 1e9), st.floats(0, 3), st.floats(0, 1))
def test_compound_with_non_negative_rate_never_decreases(
    start: float, rate: float, rate_sd: float
) -> None:
    model = Compound(Q_(start, "vCPU"), "2026-01", rate, rate_sd=rate_sd)
    assert np.all(np.diff(model.magnitudes(AXIS)) >= 0)


def test_compound_rate_uncertainty_is_log_normal_with_median_rate() -> None:
    model = Compound(Q_("100 vCPU"), "2025-01", 0.25, rate_sd=0.1)
    paths = model.sample(["2026-01"], 20_000, np.random.default_rng(9))[:, 0]
    assert np.all(paths > 0)
    assert np.median(paths) == pytest.approx(125.0, rel=0.01)
    assert np.std(paths) == pytest.approx(10.0, rel=0.05)


@given(st.floats(0, 1e4), st.floats(1e-3, 1e4), st.floats(0.01, 20), st.integers(-120, 120),
       st.floats(0, 1e4), st.floats(0, 36))
def test_logistic_stays_within_floor_and_ceiling(
    floor: float, span: float, rate: float, midpoint: int, ceiling_sd: float, shift_sd: float
) -> None:
    ceiling = floor + span
    model = Logistic(Q_(ceiling, "kW"), START + np.timedelta64(midpoint, "M"),
                     Q_(rate, "1/year"), floor=Q_(floor, "kW"), ceiling_sd=Q_(ceiling_sd, "kW"),
                     midpoint_sd_months=shift_sd)
    central = model.magnitudes(AXIS)
    assert np.all((floor <= central) & (central <= ceiling))
    assert np.all(np.diff(central) >= 0)
    assert np.all(model.sample(AXIS, 8, np.random.default_rng(0)) >= floor)


def test_linear_never_goes_below_zero() -> None:
    model = Linear(Q_("100 vCPU"), "2025-01", Q_("-100 vCPU/year"), slope_sd=Q_("50 vCPU/year"))
    assert model.magnitudes(["2025-01", "2026-01", "2030-01"]).tolist() == [100, 0, 0]
    assert np.all(model.sample(AXIS, 50, np.random.default_rng(0)) >= 0)


# ------------------------------------------------------------------ fitting


@pytest.mark.parametrize(
    ("truth", "kind", "expected"),
    [
        (Linear(Q_("300 vCPU"), "2022-01", Q_("1200 vCPU/year")), "linear",
         {"start": Q_("300 vCPU"), "slope": Q_("1200 vCPU/year")}),
        (Compound(Q_("2 PB"), "2022-01", 0.35), "compound",
         {"start": Q_("2 PB"), "rate": Q_("0.35")}),
        (Logistic(Q_("130 PFLOPS_fp16"), "2024-07", Q_("0.9/year")), "logistic",
         {"ceiling": Q_("130 PFLOPS_fp16"), "rate": Q_("0.9/year"), "midpoint": Q_("30 month")}),
    ],
    ids=["linear", "compound", "logistic"],
)
def test_fit_recovers_known_parameters_from_noiseless_data(
    truth: GrowthModel, kind: str, expected: dict[str, object]
) -> None:
    months = month_range("2022-01", "2027-12")[::3]
    history = list(zip(months, truth.values(months), strict=True))
    fitted = fit(history, kind=kind)  # type: ignore[arg-type]
    assert fitted.anchor == month("2022-01")
    for name, value in expected.items():
        assert fitted.parameters[name].m_as(value.units) == pytest.approx(  # type: ignore[attr-defined]
            value.magnitude, rel=1e-6)  # type: ignore[attr-defined]
    np.testing.assert_allclose(fitted.magnitudes(AXIS, truth.unit), truth.magnitudes(AXIS),
                               rtol=1e-6)


def test_fit_uncertainty_spreads_the_paths() -> None:
    rng = np.random.default_rng(11)
    months = month_range("2020-01", "2024-12")[::2]
    noise = rng.normal(1.0, 0.05, months.size)
    truth = Compound(Q_("1000 vCPU"), "2020-01", 0.3).magnitudes(months)
    fitted = fit(list(zip(months, Q_(truth * noise, "vCPU"), strict=True)))
    assert fitted.parameters["rate"].m == pytest.approx(0.3, abs=0.05)
    paths = fitted.sample(month_range("2025-01", "2027-12"), 2000, np.random.default_rng(2))
    spread = np.std(paths, axis=0) / np.mean(paths, axis=0)
    assert np.all(spread > 0)
    assert np.all(np.diff(spread) > 0)  # the further out, the less certain


@pytest.mark.parametrize(("kind", "needed"), [("linear", 3), ("compound", 3), ("logistic", 4)])
def test_fit_says_when_there_are_too_few_points(kind: str, needed: int) -> None:
    history = [(f"202{i}-01", Q_(100 * (i + 1), "vCPU")) for i in range(needed - 1)]
    with pytest.raises(ValidationError) as info:
        fit(history, kind=kind)  # type: ignore[arg-type]
    assert f"at least {needed} points" in str(info.value)


@pytest.mark.parametrize("values", [[0] * 5, [100] * 5, [500, 400, 300, 200, 100]])
def test_a_logistic_fit_to_history_with_no_s_curve_is_refused(values: list[int]) -> None:
    # least squares still return numbers here (a ceiling below 0, a rate of 1e-16 and a
    # midpoint 5e15 years away, a falling rate a Logistic forbids): none is a forecast
    history = [(f"{2020 + i}-01", Q_(v, "vCPU")) for i, v in enumerate(values)]
    with pytest.raises(ValidationError) as info:
        fit(history, kind="logistic")
    assert "shows no S-curve to fit" in str(info.value)
    # one that rises on an S still fits
    rising = [(f"{2020 + i}-01", Q_(100 / (1 + math.exp(-1.2 * (i - 2.5))), "vCPU"))
              for i in range(6)]
    assert fit(rising, kind="logistic").parameters["ceiling"].m_as("vCPU") == \
        pytest.approx(100)


# ------------------------------------------------------------------ validation


def paths(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return sorted(e.path for e in error.value.problems)


def test_milestone_validation_lists_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        Milestones(
            [("2025-03", Q_("0 PFLOPS_fp16")), ("2025-01", Q_("3 PFLOPS_fp16")),
             ("2025-01", Q_("5 TFLOPS_fp32")), ("2026-13", 7),  # type: ignore[list-item]
             ("2027-01", Q_("-1 EFLOPS_fp16")), "nonsense"],  # type: ignore[list-item]
            interpolation="cubic", rel_sd=-0.1, delay_sd_months=Q_("2 kW"))  # type: ignore[arg-type]
    assert paths(info) == sorted([
        "points[1].month", "points[2].month", "points[2].value", "points[3].month",
        "points[3].value", "points[4].value", "points[5]", "interpolation", "rel_sd",
        "delay_sd_months"])
    assert str(info.value).startswith("invalid milestones: 10 problem(s)")


def test_geometric_milestones_need_positive_targets() -> None:
    with pytest.raises(ValidationError) as info:
        Milestones([("2025-01", Q_("0 vCPU")), ("2026-01", Q_("5 vCPU"))],
                   interpolation="geometric")
    assert paths(info) == ["points[0].value"]


def test_model_validation_lists_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        Linear(5, "2025-13", "3 vCPU", slope_sd=Q_("-1 vCPU/year"))  # type: ignore[arg-type]
    assert paths(info) == ["at", "slope", "slope_sd", "start"]
    with pytest.raises(ValidationError) as info:
        Compound(Q_("-1 TB"), "2025-01", Q_("1 TB"), rate_sd=float("nan"))
    assert paths(info) == ["rate", "rate_sd", "start"]
    with pytest.raises(ValidationError) as info:
        Logistic(Q_("-5 vCPU"), "2025-01", 0.5, floor=Q_("1 TB"), ceiling_sd=2,  # type: ignore[arg-type]
                 midpoint_sd_months=-1)
    assert paths(info) == ["ceiling", "ceiling_sd", "floor", "midpoint_sd_months", "rate"]
    with pytest.raises(ValidationError) as info:
        Logistic(Q_("5 vCPU"), "2025-01", Q_("1/year"), floor=Q_("5 vCPU"))
    assert paths(info) == ["ceiling"]


def test_sample_arguments_are_checked() -> None:
    model = models()[0]
    with pytest.raises(ValidationError) as info:
        model.sample(AXIS, 0, 42)  # type: ignore[arg-type]
    assert paths(info) == ["n_paths", "rng"]
    with pytest.raises(ValidationError) as info:
        model.values(["2025-01", "soon"])
    assert paths(info) == ["months[1]"]


def test_linear_growth_of_power_reads_its_slope():
    model = Linear(Q_("100 kW"), "2025-01", Q_("12 kW/year"))
    assert model.magnitudes(["2026-01"], "kW")[0] == pytest.approx(112)
