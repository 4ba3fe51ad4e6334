"""PhenoFace app entry point: parse options, build the UI, launch.

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--classifier-dir DIR] [--generator-dir DIR]
                  [--db FILE_OR_URL]

Importing this module builds nothing and loads no catalogue or model.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
import threading

#: Set before Gradio, diffusers or huggingface_hub are imported: no version check, telemetry or hub call.
OFFLINE_ENVIRONMENT = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}

SHARE_REFUSED = (
    "--share is not available: it would download Gradio's tunnel program and publish this server at a public "
    "gradio.live address, for anyone with the link, through an outgoing connection. PhenoFace makes no outgoing "
    "connection. To serve a class, run it with --host on your institution's network, behind its HTTPS proxy."
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="PhenoFace: synthetic faces for genetics education (not diagnosis).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default: 7860)")
    parser.add_argument(
        "--share", action="store_true", help="refused: a public gradio.live link needs an outgoing connection"
    )
    parser.add_argument("--concurrency", type=int, default=2, help="renders run at once across all users (default: 2)")
    parser.add_argument(
        "--render-workers", type=int, default=min(2, os.cpu_count() or 1),
        help="processes that draw the 3D child, 0 to draw in the server process (default: the cores, at most 2)",
    )  # fmt: skip
    parser.add_argument("--max-queue", type=int, default=32, help="requests waiting before new ones are refused")
    parser.add_argument("--size", type=int, default=256, help="face width and height in pixels, 128 to 512")
    parser.add_argument(
        "--classifier-dir", default=None, help="trained classifier folder (default: assets/classifier)"
    )
    parser.add_argument(
        "--generator-dir", default=None, help="trained diffusion generator folder (default: assets/generator)"
    )
    parser.add_argument(
        "--external-pipeline",
        default=None,
        help="a local diffusers pipeline folder to offer as a third generator (off by default; never downloaded)",
    )
    parser.add_argument(
        "--db",
        default=None,
        help="quiz results: a SQLite file, or a PostgreSQL URL (postgresql+psycopg://user@host/name) for a "
        "server a class shares (default: ~/.phenoface/quiz.sqlite3)",
    )
    parser.add_argument(
        "--accounts",
        action="store_true",
        help="run a class: everyone signs in (accounts made with python -m models.quiz.programme add-account), "
        "results are kept per account, and the Class tab offers classes, quiz sets and the educator's dashboard",
    )
    args = parser.parse_args(argv)
    if args.share:
        parser.error(SHARE_REFUSED)
    if not 128 <= args.size <= 512:
        parser.error(f"--size must be 128 to 512 pixels, not {args.size}")
    if not 1 <= args.port <= 65535:
        parser.error(f"--port must be 1 to 65535, not {args.port}")
    if not 0 <= args.render_workers <= 16:
        parser.error(f"--render-workers must be 0 to 16, not {args.render_workers}")
    return args


def exposure_warning(host: str, accounts: bool = False) -> str | None:
    """What listening on `host` exposes, or None for this machine only (a loopback address or name)."""
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:  # a host name: it may resolve to any interface
        pass
    if accounts:
        return (
            f"warning: --host {host} serves PhenoFace to every machine that can reach this address. Everyone signs "
            "in (--accounts), but the server does not encrypt: passwords and answers cross the network in clear "
            "unless an HTTPS reverse proxy stands in front of it. Use it behind one, on a network you trust."
        )
    return (
        f"warning: --host {host} serves PhenoFace to every machine that can reach this address, not only this "
        "one. Anyone there can generate faces, upload images to be explained and take quizzes under any "
        "learner name, and read that name's results; there is no login and no encryption. Use it only on a "
        "network you trust, behind an HTTPS proxy, or run a class with --accounts."
    )


def main(args: argparse.Namespace) -> None:
    from models import tempfiles

    # before Gradio is imported: its cache goes into this process's folder (removed at exit, or at the
    # next start after a kill), and nothing it or huggingface_hub imports may phone home
    tempfiles.remove_stale()
    os.environ.update(OFFLINE_ENVIRONMENT)
    os.environ["GRADIO_TEMP_DIR"] = str(tempfiles.process_root() / "gradio")
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(tempfiles.process_root() / "torchinductor"))
    warning = exposure_warning(args.host, args.accounts)
    if warning:
        print(warning, file=sys.stderr)

    import ui  # imported here so that importing app.py loads neither gradio nor the catalogue
    from models import runtime
    from models.phenotype import workers

    if args.render_workers:  # spawned before the server opens its port; they load in the background
        workers.start(args.render_workers)

    runtime.configure(
        classifier_dir=args.classifier_dir,
        generator_dir=args.generator_dir,
        external_pipeline=args.external_pipeline,
        db_path=args.db,
    )
    ui.accounts.enable(args.accounts)
    if args.accounts:  # the store must open (and its schema be current) before anyone signs in
        try:
            ui.accounts.store()
        except ValueError as err:
            sys.exit(f"error: {err}")
    demo = ui.build_app(render_size=args.size)
    demo.queue(default_concurrency_limit=args.concurrency, max_size=args.max_queue)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        # quiet: Gradio's own banner suggests share=True, which PhenoFace refuses; it prints its own line
        demo.launch(
            server_name=args.host,
            server_port=args.port,
            share=False,
            max_file_size=ui.MAX_UPLOAD_BYTES,
            head=ui.ACCESSIBILITY_SCRIPT,
            theme=ui.THEME,
            quiet=True,
            prevent_thread_lock=True,
            auth=ui.accounts.check_password if args.accounts else None,
            auth_message=ui.accounts.SIGN_IN_MESSAGE if args.accounts else None,
        )
    except OSError as err:  # e.g. the port is taken: one line, not a traceback
        sys.exit(f"error: could not start the server on {args.host}:{args.port}: {err}")
    print(f"PhenoFace is running at {demo.local_url} (press Ctrl-C to stop)", flush=True)
    # models load on first use; load them now, beside the server, so the first user does not wait for them
    warming = threading.Thread(target=runtime.warm_up, name="phenoface-warm-up", daemon=True)
    warming.start()
    code = 0
    try:
        demo.block_thread()  # returns on Ctrl-C, having closed the server
    except SystemExit as stop:  # SIGTERM
        code = stop.code or 0
    if warming.is_alive():
        _leave_now(code)
    sys.exit(code)


def _leave_now(code: int) -> None:
    """Exit while the warm-up thread still runs, without tearing the interpreter down around it.

    Finalised under a thread that was inside torch or MediaPipe, the process aborted ("terminate called
    without an active exception", SIGABRT) for Ctrl-C or SIGTERM in the few seconds after start. This
    process's folder (downloads, Gradio's cache) is removed first; the render workers are not waited for
    (they may still be loading their first child for several seconds) and end on their own when this process
    has gone (`models.phenotype.workers`).
    """
    from models import tempfiles
    from models.phenotype import workers

    tempfiles.remove_own()
    workers.abandon()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _exit_on_sigterm(*_) -> None:
    # Exit normally on SIGTERM (e.g. a container stop), so that atexit removes the download folders.
    # A second SIGTERM during that clean-up is ignored rather than breaking it with a traceback.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.exit(0)


if __name__ == "__main__":
    try:
        main(parse_args())
    except KeyboardInterrupt:  # Ctrl-C before the server started (imports, building the UI)
        print("PhenoFace stopped before it started serving.", file=sys.stderr)
        sys.exit(130)
