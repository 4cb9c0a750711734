"""Write cassettes/dataloop/ by running the Dataloop tests against the fake gate while recording.

    python tests/dataloop/generate_cassettes.py            # every cassette (old ones removed first)
    python tests/dataloop/generate_cassettes.py -k pulling # only some tests (others kept)

The same tests then replay the cassettes with the network blocked (plain ``pytest tests/dataloop``).
To re-record against a real Dataloop account instead (project ``my-project`` holding a dataset
``my-dataset`` with a recipe labelled cat/dog and the items of examples/dataloop_task_from_items.yaml):

    DATALOOP_TOKEN=<api key or JWT> DATALOOP_REFRESH_TOKEN=<refresh token> \\
        pytest tests/dataloop --record-mode=rewrite -p no:cacheprovider

Live recordings hold real ids and e-mails: read them before committing (tokens are scrubbed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    if not argv:
        shutil.rmtree(REPO / "cassettes" / "dataloop", ignore_errors=True)
    env = {**os.environ, "DATALOOP_FAKE_GATE": "1"}
    env.pop("DATALOOP_TOKEN", None)
    cmd = [sys.executable, "-m", "pytest", "tests/dataloop", "--record-mode=rewrite", "-p", "no:cacheprovider",
           "-q", *argv]
    return subprocess.call(cmd, cwd=REPO, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
