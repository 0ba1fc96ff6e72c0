"""``--tg-html``: the run as one self-contained HTML file, to review what the optimizer saw and tried.

Rendered with Jinja2 from the same run model as ``--tg-report`` (see :mod:`.model_extras` for the
optional detail it shows). Self-contained on purpose: CSS, JS and the SVG charts are inline and a
Content-Security-Policy forbids every fetch, so the file opens offline, from a CI artifact, and
never calls home. Names are data: autoescaping is on for every value (a test id such as
``test_files[<script>]`` renders as text), and every string is scrubbed of secrets before rendering
(after escaping, a scrubbed ``<redacted>`` would vanish as an unknown tag).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

    from . import RunReport

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The template environment (Jinja2 is imported only when a report is rendered)."""
    import jinja2

    from .view import usd

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["usd"] = usd
    return env


def render(report: RunReport) -> str:
    """The report as an HTML document."""
    from ..capture import scrub_text
    from .detail import scrubbed
    from .model_extras import ReportDetail
    from .view import build_view

    # Every string scrubbed, then the JSON text as --tg-report is (dict keys included; nothing dropped).
    clean = ReportDetail.model_validate_json(scrub_text(scrubbed(report).model_dump_json()))
    return environment().get_template("report.html.j2").render(view=build_view(clean))


def write(report: RunReport, path: Path) -> Path:
    """Write the report to ``path`` atomically (a reader never sees half a file)."""
    from ..prompts import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render(report).encode("utf-8"), shared=True)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m pytest_textgrad.plugin.report.html RUN.json OUT.html``: a saved report as HTML.

    For a ``--tg-report`` file kept from an earlier run (a CI artifact, say).
    """
    import argparse

    from .model_extras import ReportDetail

    parser = argparse.ArgumentParser(
        prog="python -m pytest_textgrad.plugin.report.html", description=main.__doc__
    )
    parser.add_argument("report", type=Path, help="a JSON report written by --tg-report")
    parser.add_argument("html", type=Path, help="where to write the HTML report")
    args = parser.parse_args(argv)
    from pydantic import ValidationError

    try:
        report = ReportDetail.model_validate_json(args.report.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        parser.error(f"cannot read {args.report}: {error.strerror if isinstance(error, OSError) else error}")
    except ValidationError as error:  # not JSON, or JSON of another file (a baseline, a cassette)
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        parser.error(f"{args.report} is not a --tg-report file ({where}: {first['msg']})")
    try:
        print(f"textgrad HTML report written to {write(report, args.html)}")
    except OSError as error:
        parser.error(f"cannot write {args.html}: {error.strerror or error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
