"""Figure 9's arithmetic: spans between hops, Lambda's CPU share by memory, the cold estimate."""

from __future__ import annotations

import math

import pytest

from bench.modal import ModalResults, cold_estimate_ms, cpu_share, span


def test_span_is_milliseconds_between_two_hops_of_each_command_that_has_both() -> None:
    commands = [
        {"sent": 10.0, "opened": 10.025},
        {"sent": 20.0},  # its views.open never came: left out, not counted as zero
        {"sent": 30.0, "opened": 30.5},
    ]
    assert span(commands, "sent", "opened") == pytest.approx([25.0, 500.0])


def test_results_read_the_commands_or_the_windowed_ones() -> None:
    results = ModalResults(commands=[{"sent": 1.0, "opened": 1.02}], windowed=[{"sent": 2.0, "opened": 3.03}])
    assert results.latencies() == pytest.approx([20.0])
    assert results.latencies(of="windowed") == pytest.approx([1030.0])


def test_cpu_share_is_one_vcpu_at_1769_mb_and_proportional_below() -> None:
    assert cpu_share(1769) == 1.0
    assert cpu_share(512) == pytest.approx(512 / 1769)
    assert cpu_share(3538) == 1.0  # a second vCPU does not speed up a single-threaded start


def test_a_cold_modal_is_the_warm_path_to_the_worker_plus_a_fresh_worker() -> None:
    assert cold_estimate_ms(12.0, 480.0) == 492.0
    assert math.isnan(cold_estimate_ms(float("nan"), 480.0))
