"""What a reproduction returns (`Report`), and the small formatting helpers its text tables share."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any, Callable, Sequence, Union

import numpy as np

from .. import _core
from ..results import Estimate, SimulationResult, SummaryResult
from ..simulate import SEMANTICS
from ..sweep import SweepResult

__all__ = ["Design", "Report", "experiment_table", "finite", "format_table", "table_rows"]

Result = Union[SimulationResult, SummaryResult, SweepResult, Estimate]  # Estimate: also SplittingResult, RareExitTime


@dataclasses.dataclass(frozen=True)
class Design:
    """How a reproduction's numbers were made, stated under its table so that a referee can redo them: the time
    step(s), the paths per row, the seeds (and which rows share them), the censoring (time cap, how many paths it
    cut, what a censored row's estimate rests on), how many of the table's rows are statistically independent
    experiments (rows that share a seed stream are correlated, through common random numbers or an exact
    rescaling, and count once together), and the choices the source left open: which was made and how much it
    matters."""

    dt: str
    paths: str
    seeds: str
    censoring: str
    rows: int
    independent: int
    choices: tuple[str, ...] = ()  # where the source leaves a choice open: which was made, and how much it matters

    def __post_init__(self) -> None:
        if not 0 <= self.independent <= self.rows:
            raise ValueError(f"independent must lie in [0, rows={self.rows}], got independent={self.independent}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible."""
        return {**dataclasses.asdict(self), "choices": list(self.choices)}

    def text(self) -> str:
        """The lines printed under the table."""
        return "\n".join([f"dt: {self.dt}", f"paths: {self.paths}", f"seeds: {self.seeds}",
                          f"censoring: {self.censoring}",
                          f"independent experiments: {self.independent} of {self.rows} rows (rows that share a "
                          "seed stream are correlated and count once)",
                          *(f"choice: {c}" for c in self.choices)])


@dataclasses.dataclass
class Report:
    """What a reproduction returns: a JSON-compatible document with its numbers and the parameters that produced
    them (`reproduce` puts the name, description, version and seed in front); the same numbers as a text table;
    the results (saved by `save`); and figures, name -> a function that draws one and saves it to the PNG path it
    is given (called only by `save`); and its `Design` (dt, paths, seeds, censoring, independent rows), which
    `reproduce` adds to both the document and the text."""

    data: dict[str, Any]
    text: str
    results: dict[str, Result]
    figures: dict[str, Callable[[Path], None]] = dataclasses.field(default_factory=dict)
    design: Design | None = None

    def to_json(self) -> str:
        """The document as indented JSON (non-finite numbers are refused: reproductions write them as null)."""
        return json.dumps(self.data, indent=2, allow_nan=False)

    def save(self, directory: str | Path, name: str) -> Path:
        """Write NAME.json, NAME.txt, every result (.npz) and every figure (.png) to `directory` (made if needed);
        returns the directory."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.json").write_text(self.to_json() + "\n")
        (out / f"{name}.txt").write_text(self.text + "\n")
        for result_name, res in self.results.items():
            res.save(out / f"{result_name}.npz")
        for figure_name, draw in self.figures.items():
            draw(out / f"{figure_name}.png")
        return out


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Right-aligned columns, one line per row, under a header line."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def finite(x: float) -> float | None:
    """A float for JSON: None for NaN and infinities."""
    return float(x) if math.isfinite(x) else None


def experiment_table(rows: list[dict[str, Any]], **params: Any) -> Any:
    """The rows of an experiment as a pandas DataFrame whose `attrs` say what made it: the package version, the
    semantics of its runs (`simulate.SEMANTICS`), the seed and the experiment's other `params`."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame.attrs.update(version=_core.__version__, semantics=SEMANTICS, seed=params.pop("seed"), params=params)
    return frame


def table_rows(table: Any) -> list[dict[str, Any]]:
    """A DataFrame's rows as JSON-compatible dicts (NaN -> None, numpy scalars -> Python)."""
    rows = []
    for record in table.to_dict("records"):
        rows.append({k: (finite(float(v)) if isinstance(v, (float, np.floating)) else
                         int(v) if isinstance(v, (np.integer,)) else v) for k, v in record.items()})
    return rows
