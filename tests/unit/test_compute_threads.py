"""The round worker leaves a core to the event loop (bench/loop_stall.py measured why)."""

from __future__ import annotations

import os

import pytest

from bot import compute


def test_the_worker_math_threads_leave_a_core_and_keep_an_operator_choice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    for name in compute._THREAD_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    compute._leave_a_core_to_the_loop()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7"
    assert os.environ["OMP_NUM_THREADS"] == "7"
    assert os.environ["MKL_NUM_THREADS"] == "3"


def test_one_core_still_gets_one_math_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    compute._leave_a_core_to_the_loop()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
