#!/usr/bin/env bash
# Installs the system packages the portal needs when they are missing (as root), or prints the
# exact command to run. Usage: scripts/sysdeps.sh venv|run|test
#   venv  only what `python -m venv` needs (ensurepip: Debian's python3.X-venv)
#   run   that, plus WeasyPrint's libraries, a CJK font and its fallback for the rare
#         characters of names (CJK Ext A-F), gettext and poppler-utils
#   test  that, plus the browser, docker-compose and wrk the tests use
# PYTHON names the interpreter the Makefile builds the virtual environment with.
set -euo pipefail
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
RUN_PKGS="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-wqy-microhei fonts-hanazono gettext poppler-utils"
TEST_PKGS="chromium docker-compose wrk"
case "${1:-run}" in
  venv) pkgs="" ;;
  run) pkgs="$RUN_PKGS" ;;
  test) pkgs="$RUN_PKGS $TEST_PKGS" ;;
  *) echo "usage: $0 venv|run|test" >&2; exit 2 ;;
esac

missing=()
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian splits ensurepip out of the interpreter: without it `python3 -m venv` fails. The package
# is named after the interpreter's version (python3.11-venv), which the distribution's python3-venv
# only matches when PYTHON is the distribution's default python3.
if ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
  missing+=("$("$PYTHON" -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')")
fi
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
