"""One table for every benchmark figure: printed with its same-run baseline and ratio, and written as JSON.

A row compares a figure with a baseline measured in the same run (the ratio is what travels between
machines), or stands alone against an absolute limit (memory growth, for instance).
"""

import json
import platform
import statistics
import time
from dataclasses import asdict
from dataclasses import dataclass


@dataclass
class Row:
    section: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    ratios: list[float] | None = None  # of rounds measured beside the baseline, when there were several


def _ratio(value: float, baseline: float, ratios: list[float] | None) -> float:
    if ratios:
        return statistics.median(ratios)
    return value / baseline if baseline else float("nan")


class Table:
    def __init__(self):
        self.rows: list[Row] = []
        self.section = ""
        self.started = time.time()

    def begin(self, section: str) -> None:
        self.section = section
        print(f"\n== {section}")

    def ratio(
        self,
        name: str,
        value: float,
        unit: str,
        baseline_name: str,
        baseline: float,
        minimum: float,
        ratios: list[float] | None = None,
    ) -> Row:
        """A figure against a baseline of this run, where higher is better and the ratio must reach
        minimum; with ``ratios`` (rounds measured beside the baseline), their median is the ratio."""
        ratio = _ratio(value, baseline, ratios)
        target = f">= {minimum:.2f}x"
        return self._add(
            Row(self.section, name, value, unit, baseline_name, baseline, ratio, target, ratio >= minimum, ratios)
        )

    def at_most(self, name: str, value: float, unit: str, limit: float, baseline_name: str = "", baseline=None) -> Row:
        """A figure that must stay at or under an absolute limit (a memory growth, a time ratio)."""
        ratio = value / baseline if baseline else None
        return self._add(
            Row(self.section, name, value, unit, baseline_name, baseline, ratio, f"<= {limit:g}", value <= limit)
        )

    def compare(
        self, name: str, value: float, unit: str, baseline_name: str, baseline: float, ratios: list[float] | None = None
    ) -> Row:
        """A figure beside its baseline of this run, with their ratio and no target (to explain others)."""
        ratio = _ratio(value, baseline, ratios) if baseline else None
        return self._add(Row(self.section, name, value, unit, baseline_name, baseline, ratio, ratios=ratios))

    def note(self, name: str, value: float, unit: str) -> Row:
        """A figure reported without a target."""
        return self._add(Row(self.section, name, value, unit))

    def _add(self, row: Row) -> Row:
        self.rows.append(row)
        baseline = f"{row.baseline_name:<30} {row.baseline:10.1f}" if row.baseline is not None else f"{'':<41}"
        ratio = f"{row.ratio:6.2f}x" if row.ratio is not None else f"{'':7}"
        verdict = "" if row.ok is None else ("ok  " if row.ok else "MISS")
        spread = f"  rounds {min(row.ratios):.2f}-{max(row.ratios):.2f}x" if row.ratios and len(row.ratios) > 1 else ""
        print(
            f"{row.name:<44} {row.value:10.1f} {row.unit:<6} | {baseline} | {ratio} {row.target:<9} {verdict}{spread}",
            flush=True,
        )
        return row

    def failed(self) -> list[Row]:
        return [row for row in self.rows if row.ok is False]

    def write_json(self, path: str) -> None:
        with open(path, "w") as handle:
            json.dump(
                {
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
                    "machine": {"python": platform.python_version(), "cpu": platform.processor() or platform.machine()},
                    "rows": [asdict(row) for row in self.rows],
                },
                handle,
                indent=2,
            )
