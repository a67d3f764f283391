"""The moto SQS time shortcut answers what moto's own functions answer."""

from __future__ import annotations

import datetime

from moto.core import utils as moto_utils

from runner.local import moto_speedups


def test_patched_clock_matches_motos_own() -> None:
    moto_speedups.apply()
    moto_speedups.apply()  # idempotent
    from moto.sqs import models

    assert abs(models.unix_time() - moto_utils.unix_time()) < 0.05
    assert abs(models.unix_time_millis() - moto_utils.unix_time_millis()) < 50
    moment = datetime.datetime(2024, 5, 1, 12, 0, 0)
    assert models.unix_time(moment) == moto_utils.unix_time(moment)
    assert models.unix_time_millis(moment) == moto_utils.unix_time_millis(moment)
