#!/usr/bin/env bash
# Browser tests drive Debian's chromium (never a downloaded browser build).
# Installs it when missing and running as root; otherwise fails with instructions.
set -euo pipefail
CHROMIUM="${PARCOURS_CHROMIUM:-/usr/bin/chromium}"
if [[ -x "$CHROMIUM" ]]; then exit 0; fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  [[ -x "$CHROMIUM" ]] && exit 0
fi
echo "ERROR: no Chromium at $CHROMIUM: browser tests cannot run." >&2
echo "Install it with 'sudo apt-get install chromium' (Debian/Ubuntu), or set PARCOURS_CHROMIUM" >&2
echo "to the path of a Chromium/Chrome binary." >&2
exit 1
