"""The unit tests of apache/'s shell scripts drive their functions from bash: each script guards its main,
so sourcing it only defines them."""
import os
import pathlib
import subprocess

import pytest

APACHE = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def sourced():
    """sourced(script, snippet, *args, stdin="", **env): runs the bash snippet, with "$@" = args, after
    sourcing apache/<script> (its `set -euo pipefail` included). The environment is PATH and env only: the
    scripts' settings are their defaults unless a test says otherwise."""
    def run(script, snippet, *args, stdin="", **env):
        return subprocess.run(["bash", "-c", f'source "$SCRIPT"\n{snippet}', "bash", *args], input=stdin,
                              capture_output=True, text=True, timeout=10,
                              env={"PATH": os.environ["PATH"], **env, "SCRIPT": str(APACHE / script)})
    return run
