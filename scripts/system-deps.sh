#!/usr/bin/env bash
# Install the Debian packages glyphflow's tests and quick start use, when missing:
# Chromium (browser tests drive /usr/bin/chromium through Playwright) and real fonts
# (the list in scripts/debian-fonts.txt). Needs root and apt; elsewhere it says what to
# install and carries on (tests that need these skip with a reason).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t fonts < <(grep -v '^\s*#' "$here/debian-fonts.txt" | grep -v '^\s*$')
wanted=(chromium fontconfig "${fonts[@]}")
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: not root or no apt-get; please install: ${missing[*]}" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
