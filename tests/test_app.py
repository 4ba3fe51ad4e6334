"""app.py: its options and its shutdown on SIGTERM (no UI is built)."""

from __future__ import annotations

import signal

import pytest

import app


def test_defaults_bind_to_this_machine_only():
    args = app.parse_args([])
    assert args.host == "127.0.0.1" and not args.share


@pytest.mark.parametrize("argv", [["--size", "64"], ["--port", "0"]])
def test_bad_options_exit_2(argv):
    with pytest.raises(SystemExit) as err:
        app.parse_args(argv)
    assert err.value.code == 2


def test_sigterm_exits_normally_and_ignores_a_second_one():
    before = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as err:
            app._exit_on_sigterm(signal.SIGTERM, None)
        assert err.value.code == 0  # a normal exit, so atexit clean-up runs
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, before)


def test_warm_up_loads_the_classifier_before_the_first_request():
    from models import runtime

    runtime.configure()  # forget any model another test loaded
    assert "classifier" not in runtime._cache
    assert runtime.warm_up() == []
    assert "classifier" in runtime._cache  # the first quiz answer or Explain finds it loaded
