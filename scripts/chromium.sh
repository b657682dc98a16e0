#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests (`scripts/chromium.sh ensure`). Installs it
# with apt-get when running as root with CI=true; otherwise only reports. Prints the binary's path.
set -euo pipefail
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done
if [ "${CI:-}" = "true" ] && [ "$(id -u)" = "0" ]; then
  echo "chromium.sh: installing Debian's chromium" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) >&2
  echo /usr/bin/chromium
  exit 0
fi
echo "chromium.sh: Chromium is not installed (apt-get install chromium)" >&2
exit 1
