import pickle
import subprocess
import sys

import pint
import pytest
from hypothesis import given
from hypothesis import strategies as st

from capacity import Q_, Precision, ureg
from capacity.errors import CapacityError, DimensionError, FieldError
from capacity.units import H100_SXM, PrecisionRatio, convert_precision, parse_quantity

COMPUTE_UNITS = [p.value for p in Precision]


def test_information_is_a_dimension_not_a_number():
    with pytest.raises(pint.DimensionalityError):
        Q_("1 TB") + 5
    assert Q_("1 TB").dimensionality == Q_("1 bit").dimensionality
    assert Q_("1 TiB") != Q_("1 TB")
    assert Q_("1 TiB").m_as("TB") == pytest.approx(1.099511627776)


def test_it_units_parse():
    assert Q_("3 racks") == Q_("3 cabinet") == Q_("3 cab")
    assert Q_("46000 vCPU").m_as("vCPU") == 46000
    assert Q_("2 ¥") == Q_("2 yuan") == Q_("2 CNY")
    assert Q_("315000 万元").m_as("亿元") == pytest.approx(31.5)
    assert Q_("1 亿元").m_as("yuan") == pytest.approx(1e8)
    assert Q_("8 kW").m_as("standard_rack") == pytest.approx(3.2)
    assert Q_("130 PFLOPS_fp16").m_as("TFLOPS_fp16") == pytest.approx(130_000)
    assert Q_("0.6 yuan/kWh").m_as("yuan/MWh") == pytest.approx(600)


def test_yen_is_not_dropped():
    assert Q_("2 ¥").dimensionality == Q_("1 yuan").dimensionality
    assert Q_("2 ¥").dimensionality != Q_("2").dimensionality


def test_plurals_are_not_guessed():
    # "FLOPS" is a rate unit name, never the plural of a "FLOP" amount.
    with pytest.raises(pint.UndefinedUnitError):
        Q_("3 FLOPS")


@given(a=st.sampled_from(COMPUTE_UNITS), b=st.sampled_from(COMPUTE_UNITS),
       x=st.floats(0, 1e9), y=st.floats(0, 1e9))
def test_precisions_never_mix(a, b, x, y):
    qa, qb = Q_(x, a), Q_(y, b)
    if a == b:
        assert (qa + qb).m_as(a) == pytest.approx(x + y)
    else:
        with pytest.raises(pint.DimensionalityError):
            qa + qb
        with pytest.raises(pint.DimensionalityError):
            qa.to(b)


def test_precision_conversion_needs_a_named_ratio():
    ratio = H100_SXM[Precision.FP64, Precision.FP16]
    out = convert_precision(Q_("33.5 TFLOPS_fp64"), ratio)
    assert out.m_as("TFLOPS_fp16") == pytest.approx(989.4)
    back = convert_precision(out, ratio.inverse())
    assert back.m_as("TFLOPS_fp64") == pytest.approx(33.5)
    with pytest.raises(DimensionError):
        convert_precision(Q_("1 TFLOPS_fp32"), ratio)
    with pytest.raises(FieldError):
        PrecisionRatio("bad", Precision.FP64, Precision.FP16, -1.0)


def test_parse_quantity_rejects_bare_numbers_and_wrong_dimensions():
    assert parse_quantity("8 kW", "kW", "it_power") == Q_("8 kW")
    with pytest.raises(FieldError, match="it_power: has no unit"):
        parse_quantity(8, "kW", "it_power")
    with pytest.raises(DimensionError, match=r"it_power: is kWh \(energy\), expected power"):
        parse_quantity("8 kWh", "kW", "it_power")
    with pytest.raises(FieldError, match="must be finite"):
        parse_quantity(Q_(float("nan"), "kW"), "kW", "it_power")
    with pytest.raises(FieldError, match="another unit registry"):
        parse_quantity(pint.UnitRegistry().Quantity(1, "kW"), "kW", "it_power")
    assert issubclass(DimensionError, CapacityError)
    assert issubclass(DimensionError, TypeError)


def test_quantities_pickle_into_a_fresh_process():
    data = pickle.dumps([Q_("130 PFLOPS_fp16"), Q_("3 cabinet"), Q_("315000 万元")])
    # The child unpickles before importing capacity itself: unpickling must do it.
    code = ("import pickle, sys; q = pickle.loads(sys.stdin.buffer.read()); "
            "print(q[0].m_as('EFLOPS_fp16'), q[1].m_as('rack'), q[2].m_as('亿元'))")
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                         check=True).stdout.decode().split()
    assert [float(x) for x in out] == pytest.approx([0.13, 3.0, 31.5])


def test_registry_is_the_application_registry():
    assert pint.get_application_registry().get() is ureg


@pytest.mark.parametrize("text", ["10**10**10 kW", "(", "1 2 3 kW", '__import__("os")',
                                  "2 * 3 kW", "kW" * 150])
def test_parse_quantity_only_hands_plain_quantities_to_pint(text):
    with pytest.raises(FieldError, match="is not a quantity"):
        parse_quantity(text, "kW", "grid")


def test_parse_quantity_reads_units_with_one_level_of_parentheses():
    price = parse_quantity("30 yuan/(PFLOPS_fp16*hour)", "yuan/(PFLOPS_fp16*hour)", "price")
    assert price.m_as("yuan/(TFLOPS_fp16*hour)") == pytest.approx(0.03)
