#!/usr/bin/env bash
# Follows the README the way a newcomer would: a fresh `git clone` of the committed HEAD in a
# temporary directory, `make run` there (its own .venv, SQLite and the embedded broker), then the
# README's own commands against it. Stops everything and removes the directory on the way out.
# Exits non-zero with a message naming the first step that failed.
#
#   bash scripts/readme_check.sh          (make readme-check)
#   READMECHECK_PORT=8765                 port of the web process (never 8000; a free one if taken)
#   READMECHECK_TIMEOUT=900               seconds `make run` may take to answer on /
#   READMECHECK_KEEP=1                    keep the temporary directory (for a post-mortem)
set -euo pipefail

REPO="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
README="$REPO/README.md"
TIMEOUT="${READMECHECK_TIMEOUT:-900}"
HOST=127.0.0.1
START=$SECONDS
WORK="$(mktemp -d "${TMPDIR:-/tmp}/readme-check.XXXXXX")"
CLONE="$WORK/portal"
LOG="$WORK/make-run.log"
RUN_PID=""
# The README's commands run as a newcomer runs them, against what `make run` set up (SQLite and
# the embedded broker): not against a test run's database or broker named in this environment.
unset DATABASE_URL REDIS_URL CELERY_BROKER_URL TEST_DATABASE_URL

say() { printf '[readme-check %4ss] %s\n' "$((SECONDS - START))" "$*"; }
fail() {
  printf '[readme-check] FAILED: %s\n' "$*" >&2
  if [ -f "$LOG" ]; then
    echo "---- last lines of make run ($LOG) ----" >&2
    tail -n 40 "$LOG" >&2 || true
  fi
  exit 1
}

# Every process below $1 (pids, one per line).
descendants() {
  ps -eo pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      for (pid in parent) {
        p = pid
        while (p in parent && p != root && p > 1) p = parent[p]
        if (p == root && pid != root) print pid
      }
    }'
}

# Alive and not a zombie (an exited child not yet reaped still answers kill -0).
running() {
  local stat
  stat="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ "$stat" != Z* ]]
}

cleanup() {
  local rc=$?
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
    # honcho starts each process in a session of its own and stops them on SIGTERM; whatever
    # of the tree outlives that gets SIGKILL by pid.
    local tree
    tree="$(descendants "$RUN_PID")"
    say "stopping make run (process group $RUN_PID: make, honcho, web, worker, beat)"
    kill -TERM -- "-$RUN_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do
      alive=""
      for pid in $RUN_PID $tree; do running "$pid" && alive=1; done
      [ -n "$alive" ] || break
      sleep 0.5
    done
    # Only pids still working in the clone: a pid of the tree may have been reused since.
    for pid in $RUN_PID $tree; do
      running "$pid" && [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$CLONE"* ]] &&
        kill -KILL "$pid" 2>/dev/null
    done
    wait "$RUN_PID" 2>/dev/null || true
    say "stopped"
  fi
  if [ "${READMECHECK_KEEP:-}" = 1 ]; then
    echo "[readme-check] kept $WORK" >&2
  else
    rm -rf "$WORK"
    say "removed $WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 - "$1" <<'EOF'
import socket, sys
want = int(sys.argv[1])
for port in [want, 0]:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(s.getsockname()[1])
        break
EOF
}
PORT="$(free_port "${READMECHECK_PORT:-8765}")"
[ "$PORT" != 8000 ] || PORT="$(free_port 0)"
BASE="http://$HOST:$PORT"

# The fenced ```sh block that follows the line starting with $1 in the README.
readme_block() {
  awk -v start="$1" '
    index($0, start) == 1 { found = 1; next }
    found && !inside && /^```sh/ { inside = 1; next }
    inside && /^```/ { exit }
    inside { print }
  ' "$README"
}

# ---- 1. a fresh clone, `make run` in it ------------------------------------------------------
[ -z "$(git -C "$REPO" status --porcelain --untracked-files=no)" ] ||
  say "note: the working tree has uncommitted changes; the check uses the committed HEAD"
say "cloning $(git -C "$REPO" rev-parse --short HEAD) into $CLONE"
git clone -q "$REPO" "$CLONE" || fail "git clone of $REPO"

say "make run with HOST=$HOST PORT=$PORT (SQLite, embedded broker: DATABASE_URL, REDIS_URL, CI unset)"
(
  cd "$CLONE"
  # Its own process group (setsid), so the whole honcho tree can be stopped at once.
  exec env -u DATABASE_URL -u REDIS_URL -u CI -u VIRTUAL_ENV HOST="$HOST" PORT="$PORT" \
    setsid make run >"$LOG" 2>&1 </dev/null
) &
RUN_PID=$!

status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$1" || true; }
# The stages of make run as they show in its output, timed for the report.
STAGES=("touch .venv/.installed|pip install done" "manage.py migrate|translations compiled"
  "manage.py seed_demo|migrated" "Starting web|demo seeded")
until [ "$(status_of "$BASE/")" = 200 ]; do
  kill -0 "$RUN_PID" 2>/dev/null || fail "make run exited before the web answered on $BASE/"
  while [ ${#STAGES[@]} -gt 0 ] && grep -qF "${STAGES[0]%%|*}" "$LOG"; do
    say "make run: ${STAGES[0]#*|}"
    STAGES=("${STAGES[@]:1}")
  done
  [ $((SECONDS - START)) -lt "$TIMEOUT" ] || fail "$BASE/ did not answer 200 within ${TIMEOUT}s"
  sleep 2
done
READY=$((SECONDS - START))
say "web answers on $BASE/ after ${READY}s (clone, venv, pip install, migrate, seed, start)"

# ---- 2. the pages ----------------------------------------------------------------------------
page="$(curl -sf "$BASE/")" || fail "$BASE/ failed"
grep -q '异地就医' <<<"$page" || fail "$BASE/ does not show 异地就医 (Chinese first)"
page="$(curl -sf "$BASE/?lang=en")" || fail "$BASE/?lang=en failed"
grep -q 'Cross-region medical treatment and direct settlement' <<<"$page" ||
  fail "$BASE/?lang=en is not in English"
[ "$(status_of "$BASE/healthz")" = 200 ] || fail "$BASE/healthz does not answer 200"
say "/ in Chinese, /?lang=en in English, /healthz 200"

# ---- 3. Celery worker and beat under honcho --------------------------------------------------
for _ in $(seq 1 60); do
  grep -qE 'worker\.1 +\|.*ready\.' "$LOG" && grep -qE 'beat\.1 +\|.*beat: Starting' "$LOG" && break
  sleep 1
done
procs="$(for pid in $(descendants "$RUN_PID"); do ps -o args= -p "$pid" || true; done)"
grep -q 'celery -A portal worker' <<<"$procs" || fail "no Celery worker process under make run"
grep -q 'celery -A portal beat' <<<"$procs" || fail "no Celery beat process under make run"
grep -qE 'worker\.1 +\|.*ready\.' "$LOG" || fail "the Celery worker never reported ready"
grep -qE 'beat\.1 +\|.*beat: Starting' "$LOG" || fail "Celery beat never started"
say "Celery worker ready and beat started (honcho children of make run)"

# ---- 4. the README's commands ----------------------------------------------------------------
# As a newcomer would type them in the clone, with its .venv first on PATH (`python` is the venv's).
cd "$CLONE"
export PATH="$CLONE/.venv/bin:$PATH"

totp="$(python manage.py demo_totp agency_shenyang | tail -n 1)"
[[ "$totp" =~ ^[0-9]{6}$ ]] || fail "demo_totp agency_shenyang printed '$totp', not a 6-digit code"
say "demo_totp agency_shenyang prints a code"

page="$(curl -sf "$BASE/hospitals/?q=hyd")" || fail "$BASE/hospitals/?q=hyd failed"
grep -q '哈尔滨医科大学附属第一医院' <<<"$page" ||
  fail "/hospitals/?q=hyd does not find 哈尔滨医科大学附属第一医院"
for path in /api/v1/hospitals /api/schema/ /api/docs/; do
  [ "$(status_of "$BASE$path")" = 200 ] || fail "$BASE$path does not answer 200"
done
say "/hospitals/?q=hyd finds 哈医大一院; /api/v1/hospitals, /api/schema/, /api/docs/ answer 200"

# The hospital clerk's block, command by command (a line at column 0 starts a command, the
# rest continue it); the README's port 8000 is swapped for ours.
BLOCK="$(readme_block '**Hospital clerk**')"
[ -n "$BLOCK" ] || fail "no \`\`\`sh block after '**Hospital clerk**' in the README"
CMDS="$WORK/commands"
mkdir -p "$CMDS"
awk -v dir="$CMDS" '
  /^[^ \t]/ { n++ }
  n { print > (dir "/" sprintf("%02d", n)) }
' <<<"$BLOCK"
KEY=""
eligible_checked=""
for file in "$CMDS"/*; do
  cmd="$(sed "s#127\.0\.0\.1:8000#$HOST:$PORT#g" "$file")"
  case "$cmd" in
    "python manage.py create_hospital_key "*)
      out="$(bash -c "$cmd")" || fail "README command failed: $cmd"
      KEY="$(tail -n 1 <<<"$out" | tr -d '[:space:]')"
      [ ${#KEY} -ge 20 ] || fail "create_hospital_key's last line is not a key: '$KEY'"
      export KEY
      say "create_hospital_key printed a key on its last line"
      ;;
    curl*)
      [ -n "$KEY" ] || fail "a curl in the README's block comes before create_hospital_key"
      # The command as written, its HTTP status appended on a line of its own.
      out="$(bash -c "curl() { command curl -w '\\n%{http_code}' \"\$@\"; }
$cmd")" || fail "README command failed: $cmd"
      code="$(tail -n 1 <<<"$out")"
      body="$(sed '$d' <<<"$out")"
      url="$(grep -o "$BASE[^ ]*" <<<"$cmd" | head -n 1)"
      [[ "$code" == 2?? ]] || fail "README curl to $url answered $code: $body"
      if [[ "$url" == */api/v1/eligibility ]] && grep -q '王秀兰' <<<"$cmd"; then
        grep -qE '"eligible": *true' <<<"$body" ||
          fail "README eligibility curl for 王秀兰 is not \"eligible\": true: $body"
        eligible_checked=1
        say "README curl $url: $code, \"eligible\": true for 王秀兰"
      else
        say "README curl $url: $code"
      fi
      ;;
    *) fail "unexpected command in the README's hospital clerk block: $cmd" ;;
  esac
done
[ -n "$eligible_checked" ] || fail "the README's block has no eligibility curl for 王秀兰"

say "all README checks passed in $((SECONDS - START))s (make run ready after ${READY}s)"
