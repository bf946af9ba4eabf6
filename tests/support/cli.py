"""The `dpghub` command line run the way fixtures prepare a hub's home: several commands in
one process, each through the command line's own typer app (what the `dpghub` script runs)."""

from __future__ import annotations

import json
import subprocess
import sys

OPERATOR_EMAIL = "admin@dpghub.kr"  # the operator `dpghub init` creates
OPERATOR_PASSWORD = "operator-pass-1"

# Runs the commands given as JSON in its first argument, in order, through the command line's
# own typer app (what the `dpghub` script runs); prints their outputs as JSON, or exits 1 at
# the first that fails, saying which and what it printed
_IN_ONE_PROCESS = """
import json, sys
from typer.testing import CliRunner
from dpghub.cli import app
outputs = []
for args in json.loads(sys.argv[1]):
    done = CliRunner().invoke(app, args)
    if done.exit_code != 0:
        sys.stderr.write(f"dpghub {' '.join(args)} failed ({done.exit_code}):\\n{done.output}")
        if done.exc_info and not isinstance(done.exception, SystemExit):
            import traceback
            traceback.print_exception(*done.exc_info)
        sys.exit(1)
    outputs.append(done.stdout)
json.dump(outputs, sys.stdout)
"""


def dpghub_each(env: dict[str, str], *commands: tuple[str, ...]) -> list[str]:
    """Several `dpghub` commands, in order, in one process; their standard outputs. A fixture
    preparing a hub runs a dozen or more, and each process would import the whole hub first
    (about 2 s of a core here)."""
    done = subprocess.run([sys.executable, "-c", _IN_ONE_PROCESS, json.dumps(commands)],
                          env=env, capture_output=True, text=True, timeout=120 * len(commands))
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout)


def init_hub(env: dict[str, str], *commands: tuple[str, ...]) -> list[str]:
    """A fresh database with the operator (OPERATOR_EMAIL / OPERATOR_PASSWORD), then the
    `dpghub` `commands` (dpghub_each); their outputs."""
    out, *outputs = dpghub_each(env, ("init", "--admin-password", OPERATOR_PASSWORD), *commands)
    assert OPERATOR_PASSWORD in out  # it prints the operator's password
    return outputs
