"""The soak, short: co-editing sessions through the Docs emulator against two instances behind
nginx on PostgreSQL for about half a minute, then nothing lost, stored twice or torn, no error
answered to Docs, the metrics agreeing with what was sent and memory flat (tests/soak.py says how
each is checked). ``make soak`` runs the long one.
"""

import pytest

from tests.databases import ENGINE
from tests.soak import Settings
from tests.soak import run_soak
from tests.soak import summary_table
from tests.soak import write_report

pytestmark = pytest.mark.skipif(
    ENGINE != "postgresql",
    reason="the soak is defined on PostgreSQL (two instances share it); it runs in the suite's PostgreSQL pass",
)


def test_a_short_soak_loses_nothing_answers_no_error_and_stays_flat(tmp_path):
    # Twenty seconds are too short for the emulator's memory to settle (it holds every open
    # session's document and a thread per callback); the long run holds it to the bound too.
    exempt = (*Settings.rss_exempt, "docs emulator")
    settings = Settings(sessions=24, seconds=20, workers=8, sample_seconds=1.0, warmup_fraction=0.4, rss_exempt=exempt)
    settings.actions["convert"] = 1.5  # a few conversions even in a short run
    report = run_soak(settings, str(tmp_path))
    write_report(report, str(tmp_path / "soak.json"))
    print(summary_table(report))
    calls, driver = report["callbacks"], report["driver"]
    # The run did what a soak is for: sessions co-edited, force-saved, closed and converted.
    assert calls["final saves (status 2)"] >= 5 and calls["force-saves (status 6)"] >= 3, calls
    assert calls["status 1 joins"] >= 20 and driver.get("conversions", 0) >= 1, (calls, driver)
    assert report["failures"] == [], summary_table(report)
