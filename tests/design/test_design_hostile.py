"""Hostile input for the design commands (issue 15): each request ends, within a time bound, in
exact figures or a one-line error naming the value (and the limit, where one applies), exit 2.
Expected figures are derived by hand in each test."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archcalc import OptionError
from archcalc.design import limits, plan_schedules
from archcalc.design.sweep import parse_amount, sweep


def _one_line_error(r, *parts: str) -> None:
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: ") and r.output.count("\n") == 1, r.output
    for p in parts:
        assert p in r.output, r.output


@pytest.mark.parametrize(
    ("args", "parts"),
    [
        # a Fraction of 1e999999999 would hold a billion digits: the exponent is read first
        (["sweep", "--budget", "1e999999999"],
         ["--budget = '1e999999999'", "999,999,999", "over the limit 300"]),
        (["sweep", "--budget", "1e-999999999"], ["--budget = '1e-999999999'", "limit 300"]),
        (["sweep", "--tolerance", "1e-999999999"], ["--tolerance", "limit 300"]),
        (["sweep", "--budget", "9" * 2000], ["--budget = '999", "characters"]),
        # ranges are counted before they are expanded
        (["sweep", "--depth", "1:100000000"],
         ["--depth = '1:100000000'", "100,000,000 values", "limit 10,000,000"]),
        (["sweep", "--width", "99999999999"], ["--width", "over the limit 4,294,967,296"]),
        # 2·10^8 configurations = 100 x 20,000 x 5 x 10 x 2 families, before any is evaluated
        (["sweep", "--depth", "1:100", "--width", "1:20000", "--kernel", "1,3,5,7,9",
          "--resolution", "1:10"], ["200,000,000 configurations", "limit 10,000,000"]),
        # figures past 2^63 - 1 (W = 10^7, R = 10^5): Python ints, a lower limit
        (["sweep", "--family", "plain", "--depth", "1:600000", "--width", "10000000",
          "--kernel", "3", "--resolution", "100000"],
         ["600,000 configurations with figures past 2^63 - 1", "limit 500,000"]),
        (["schedule", "--top", "-1"], ["--top = -1: must be a positive integer"]),
        (["schedule", "--top", "0"], ["--top = 0: must be a positive integer"]),
        # 1000000007 is prime: its divisors are found by trial division up to its root
        (["schedule", "--input", "1000000007", "--final", "7"],
         ["--final = 7: unreachable from --input 1000000007", "valid: 1, 1000000007"]),
        (["schedule", "--input", "1099511627776"], ["--input", "over the limit 4,294,967,296"]),
        (["schedule", "--layers", "1000000", "--final", "224"],
         ["--layers = 1000000", "limit 1,000"]),
        # 224/56 = 4 = 2·2 in 900 layers: 900 places for a 4, C(900, 2) = 404,550 for two 2s
        (["schedule", "--layers", "900", "--final", "56"],
         ["--layers = 900: more than 20,000 schedules"]),
        (["fcn", "alexnet", "--window", "9" * 5000], ["--window = '999", "characters"]),
        (["finetune", "alexnet", "--lr0", "1e999999999"], ["--lr0 = '1e999999999'", "limit 300"]),
        (["finetune", "alexnet", "--alpha", "1e-999999999"], ["--alpha", "limit 300"]),
        (["explain-cost", "alexnet", "--steps", "99999999999"], ["--steps", "4,294,967,296"]),
    ],
)  # fmt: skip
def test_hostile_requests_end_in_one_line(cli, args, parts):
    _one_line_error(cli(*args), *parts)


def test_schedule_of_a_2_to_the_32_input(cli):
    # 2^32 -> 1 in 2 layers: strides (2^a, 2^(32-a)) for a = 0 ... 32, 33 schedules
    plan = plan_schedules(2**32, 2, 1)
    assert len(plan.schedules) == 33
    best = plan.schedules[0]  # least memory: (2^32, 1), both outputs 64·1·1, float32
    assert best.strides == (2**32, 1) and best.sizes == (1, 1)
    assert best.activations_bytes == (64 + 64) * 4
    # the last unit sees taps -1..1 of layer 1 (size 1): unit 0, whose taps -1..1 reach
    # pixels 0 and 1 of the input: 2 per axis
    assert best.pixels_seen == 2 * 2
    r = cli("schedule", "--input", "4294967296", "--final", "1", "--layers", "2", "--top", "3")
    assert r.exit_code == 0, r.output


def test_a_schedule_of_a_thousand_layers():
    # product 1: the only schedule is all ones; RF 1 + 1000·(3 − 1)
    plan = plan_schedules(224, 1000, 224)
    assert len(plan.schedules) == 1 and plan.schedules[0].rf == 1 + 1000 * 2


def test_coverage_walks_intervals_not_pixels(monkeypatch):
    # 2^20 -> 2^16 with strides (16, 1), 3x3: every unit of layer 1 is used; unit j of layer
    # 1 sees pixels 16j − 1 … 16j + 1, so 2 for j = 0 (clipped) and 3 for the other 2^16 − 1
    plan = plan_schedules(2**20, 2, 2**16, channels=1)
    assert plan.find("16,1").pixels_seen == (2 + 3 * (2**16 - 1)) ** 2
    # the walk's work is bounded: 2^16 intervals at layer 1 pass a limit of 1,000
    monkeypatch.setattr(limits, "coverage_steps", 1000)
    with pytest.raises(OptionError, match=r"input = 1048576: the coverage walk .* limit 1,000"):
        plan_schedules(2**20, 2, 2**16, channels=1)


def test_library_errors_name_the_python_argument():
    with pytest.raises(OptionError, match=r"^budget = '1e999999999': order of magnitude"):
        sweep(budget="1e999999999")
    with pytest.raises(OptionError, match=r"^depths = '1:100000000': 100,000,000 values"):
        sweep(depths="1:100000000")
    # a value's echo is capped: 10^1000 has 1,001 digits
    with pytest.raises(OptionError, match=r"^budget = 1000.*\(1,001 characters\): order of mag"):
        parse_amount(10**1000, "budget")


_SIZES = st.sampled_from(["0", "-1", "1", "7", "224", "2", "3x4", "abc", "1e999", "", "²",
                          "4294967297", "9" * 40, "1:100000000", "3:1", "1,2,3"])  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    command=st.sampled_from(["schedule", "sweep"]),
    options=st.lists(
        st.tuples(
            st.sampled_from(["--input", "--layers", "--final", "--kernel", "--channels",
                             "--top", "--depth", "--width", "--budget", "--tolerance",
                             "--max-stride", "--highlight"]),
            _SIZES,
        ),
        max_size=3,
    ),
)  # fmt: skip
def test_fuzzed_design_arguments(cli, command, options):
    args = [command, "--format", "json"] + [x for pair in options for x in pair]
    r = cli(*args)
    if r.exit_code != 0:
        assert r.exit_code == 2, r.output
        if r.output.startswith("error: "):  # archcalc's own; Click's usage errors are its own
            assert r.output.count("\n") == 1, r.output
