# Sourced by .ci/run: headless Chromium for the comparison report's render tests and the web UI's browser
# tests (tests/serve, driven through Playwright's Python package with this browser, never a downloaded one).
# Installs Debian's `chromium` when it is missing and exports ANNOTATE_CHROMIUM. In CI a missing
# browser makes those tests fail (they skip only on a developer machine), so a failed install here
# shows up as a test failure naming Chromium, not as a silent skip.
if [ -z "${ANNOTATE_CHROMIUM:-}" ] || [ ! -x "${ANNOTATE_CHROMIUM}" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing chromium (Debian package)"
    if [ "$(id -u)" -eq 0 ]; then _apt="apt-get"; else _apt="sudo apt-get"; fi
    $_apt update -qq >/dev/null || echo "warning: apt-get update failed" >&2
    DEBIAN_FRONTEND=noninteractive $_apt install -y -qq chromium >/dev/null \
      || echo "warning: could not install chromium; the report render and web UI tests will fail" >&2
    unset _apt
  fi
  if command -v chromium >/dev/null 2>&1; then
    ANNOTATE_CHROMIUM=$(command -v chromium)
    export ANNOTATE_CHROMIUM
  fi
fi
echo "== chromium: ${ANNOTATE_CHROMIUM:-not found}"
