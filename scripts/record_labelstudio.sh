#!/usr/bin/env bash
# Re-record the Label Studio cassettes (cassettes/labelstudio/) from a fresh real server.
#
#   bash scripts/record_labelstudio.sh            # installs label-studio into its cached venv if needed
#   ANNOTATE_LABELSTUDIO_VENV=/path/to/venv bash scripts/record_labelstudio.sh
#
# Starts Label Studio with an empty temporary data directory (.ci/labelstudio.sh: keys and projects of
# earlier runs would change what the tests see), removes the old cassettes, runs the replay-mode tests
# against the server with recording on (tests/labelstudio/conftest.py scrubs tokens, cookies and
# sessions), stops the server, then replays everything once without it and scans the new cassettes.
# Record mode `all`, not `rewrite`: the latter replays a request identical to one already recorded in
# the same test (every listing, every progress poll) instead of asking the server again.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
. .ci/labelstudio.sh
rm -rf cassettes/labelstudio
ANNOTATE_LS_RECORD=1 python -m pytest -q -p no:cacheprovider tests/labelstudio -k replay --record-mode=all
annotate_ls_stop
env -u ANNOTATE_TEST_LABELSTUDIO_URL -u ANNOTATE_TEST_LABELSTUDIO_TOKEN \
  python -m pytest -q -p no:cacheprovider tests/labelstudio
