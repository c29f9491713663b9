"""`tandem bench`: build a national cycle in a dedicated database and time what people do
with it, each figure beside its floor."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import typer
from sqlalchemy import Engine

from cli.common import echo, friendly


def register(app: typer.Typer) -> None:
    @app.command()
    @friendly
    def bench(
        scale: float = typer.Option(
            1.0, "--scale", help="Share of the 382 councils to build: 0.01 for a quick run."
        ),
        database_url: str = typer.Option(
            "",
            "--database-url",
            help="A dedicated database (default: TANDEM_DATABASE_URL if set, else a new "
            "SQLite file in a temporary folder). Refused if it holds anything but a bench.",
        ),
        keep: bool = typer.Option(
            False, "--keep", help="Keep the built data afterwards (and say where it is)."
        ),
        reuse: bool = typer.Option(
            False, "--reuse", help="Reuse a kept bench build of the same scale; skip building."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
        pages: bool = typer.Option(
            False, "--pages", help="Also time each screen of the app on the built data."
        ),
    ) -> None:
        """Time reports, exports, imports and concurrent submits on a national cycle."""
        from sqlalchemy.engine import make_url

        from core.db import make_engine
        from core.settings import load_settings
        from tools.bench import (
            bench_marker,
            build_national,
            councils_per_nation,
            prepare_database,
            wipe_bench_database,
        )
        from tools.bench_run import format_table, run_timings

        councils_per_nation(scale)  # checks --scale before anything is touched
        url = database_url.strip() or load_settings().database_url
        temp_dir: Path | None = None
        if not url:
            temp_dir = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
            url = f"sqlite:///{temp_dir / 'bench.db'}"

        def say(message: str) -> None:
            if not as_json:
                typer.echo(message, err=True)

        engine = make_engine(url)
        ours = False  # only a database the bench prepared (empty or a bench) is ever wiped
        try:
            reused = prepare_database(engine, reuse_scale=scale if reuse else None)
            ours = True
            if reused:
                build = bench_marker(engine) or {}
                say(f"Reusing the bench build already in {_shown(engine)}.")
            else:
                say(f"Building the national cycle at scale {scale} in {_shown(engine)}…")
                build = build_national(engine, scale, progress=say).as_dict()
            result = run_timings(engine, build, progress=say)
            if pages:
                from cli.page_times import time_pages

                say("Timing the app's screens…")
                result.timings.extend(time_pages(url))
        finally:
            if ours and not keep:
                wipe_bench_database(engine)
            engine.dispose()
            if temp_dir is not None and not keep:
                shutil.rmtree(temp_dir, ignore_errors=True)
        if as_json:
            echo(json.dumps(result.as_dict(), indent=2, default=str))
        else:
            echo(format_table(result))
        if keep:
            shown = make_url(url).render_as_string(hide_password=True)
            say(f"The bench data is kept in {shown} (run again with --reuse to skip the build).")


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
