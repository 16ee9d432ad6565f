#!/usr/bin/env bash
# Installs the system packages the portal needs when they are missing (as root), or prints the
# exact command to run. Usage: scripts/sysdeps.sh run|test
set -euo pipefail
RUN_PKGS="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-wqy-microhei gettext poppler-utils"
TEST_PKGS="chromium docker-compose wrk"
pkgs="$RUN_PKGS"
[ "${1:-run}" = "test" ] && pkgs="$RUN_PKGS $TEST_PKGS"

missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "These system packages are missing. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
