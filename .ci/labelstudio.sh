#!/usr/bin/env bash
# A real Label Studio server for the Label Studio backend's live tests (tests/labelstudio/).
#
# Sourced by .ci/run (or by you: `. .ci/labelstudio.sh`): installs label-studio into a venv of its own
# (never the project's: it is ~1 GB with its own Django), cached between runs, starts it on loopback
# with a temporary data directory, a non-interactive admin and a legacy API token, waits until its
# API answers (the first start runs ~50 s of migrations) and exports:
#
#   ANNOTATE_TEST_LABELSTUDIO_URL     the server's URL (the live tests run when it is set)
#   ANNOTATE_TEST_LABELSTUDIO_TOKEN   the admin's legacy API token (`Authorization: Token ...`)
#
# The server is stopped when the sourcing shell exits (an EXIT trap), or by `annotate_ls_stop`.
#
# Settings:
#   ANNOTATE_LABELSTUDIO_VENV   a venv that already holds label-studio (reused as is; default: a cached
#                               venv under ${XDG_CACHE_HOME:-$HOME/.cache}/annotate-ci/)
#   ANNOTATE_LABELSTUDIO_PORT   the port to listen on (default 8765; a busy port is refused here,
#                               since Label Studio would silently move to another one)

ANNOTATE_LS_VERSION=1.23.2

annotate_ls_stop() {
  if [ -n "${ANNOTATE_LS_PID:-}" ] && kill -0 "$ANNOTATE_LS_PID" 2>/dev/null; then
    echo "labelstudio.sh: stopping Label Studio (pid $ANNOTATE_LS_PID)" >&2
    kill "$ANNOTATE_LS_PID" 2>/dev/null
    for _ in $(seq 1 20); do kill -0 "$ANNOTATE_LS_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$ANNOTATE_LS_PID" 2>/dev/null || true
  fi
  if [ -n "${ANNOTATE_LS_DATA:-}" ] && [ -d "$ANNOTATE_LS_DATA" ]; then rm -rf "$ANNOTATE_LS_DATA"; fi
  unset ANNOTATE_LS_PID ANNOTATE_LS_DATA
}

annotate_ls_setup() {
  local venv="${ANNOTATE_LABELSTUDIO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/annotate-ci/label-studio-$ANNOTATE_LS_VERSION}"
  local port="${ANNOTATE_LABELSTUDIO_PORT:-8765}" url token i
  if [ ! -x "$venv/bin/label-studio" ]; then
    echo "labelstudio.sh: installing label-studio==$ANNOTATE_LS_VERSION into $venv (a few minutes)" >&2
    python3 -m venv "$venv" || return 1
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "label-studio==$ANNOTATE_LS_VERSION" >&2 \
      || { rm -rf "$venv"; return 1; }
  fi
  if "$venv/bin/python" - "$port" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
  then
    echo "labelstudio.sh: port $port is busy; set ANNOTATE_LABELSTUDIO_PORT" >&2
    return 1
  fi
  ANNOTATE_LS_DATA=$(mktemp -d)
  url="http://127.0.0.1:$port"
  token=$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(20))')
  # a non-interactive admin with a legacy token; no telemetry, no update check, nothing beyond loopback.
  # SSRF protection is off so the webhook tests can subscribe a loopback URL (a stock server refuses
  # loopback and private addresses, which the plan warns about); the server itself listens on loopback.
  env SENTRY_DSN= FRONTEND_SENTRY_DSN= LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false \
      SSRF_PROTECTION_ENABLED=false \
      LABEL_STUDIO_USERNAME=admin@annotate.test \
      LABEL_STUDIO_PASSWORD="$("$venv/bin/python" -c 'import secrets; print(secrets.token_urlsafe(16))')" \
      LABEL_STUDIO_USER_TOKEN="$token" LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
      "$venv/bin/label-studio" start --no-browser --internal-host 127.0.0.1 --port "$port" --host "$url" \
      --data-dir "$ANNOTATE_LS_DATA" >"$ANNOTATE_LS_DATA/server.log" 2>&1 &
  ANNOTATE_LS_PID=$!
  trap annotate_ls_stop EXIT
  # wait for the API itself (migrations run before the port opens, and the port alone says little)
  for i in $(seq 1 240); do
    if ! kill -0 "$ANNOTATE_LS_PID" 2>/dev/null; then
      echo "labelstudio.sh: Label Studio exited; its log:" >&2
      tail -n 30 "$ANNOTATE_LS_DATA/server.log" >&2
      return 1
    fi
    if "$venv/bin/python" - "$url" "$token" <<'EOF' 2>/dev/null
import sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/api/projects?page_size=1", headers={"Authorization": "Token " + sys.argv[2]})
with urllib.request.urlopen(req, timeout=5) as resp:
    sys.exit(0 if resp.status == 200 else 1)
EOF
    then
      export ANNOTATE_TEST_LABELSTUDIO_URL="$url" ANNOTATE_TEST_LABELSTUDIO_TOKEN="$token"
      export ANNOTATE_LS_PID ANNOTATE_LS_DATA
      echo "labelstudio.sh: Label Studio $ANNOTATE_LS_VERSION answers at $url (after ${i}x0.5 s)" >&2
      echo "ANNOTATE_TEST_LABELSTUDIO_URL=$url"
      return 0
    fi
    sleep 0.5
  done
  echo "labelstudio.sh: Label Studio did not answer within 120 s; its log:" >&2
  tail -n 30 "$ANNOTATE_LS_DATA/server.log" >&2
  annotate_ls_stop
  return 1
}

annotate_ls_setup
