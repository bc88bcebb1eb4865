# Shared by the smoke tests that run a built binary outside cargo (tests/scratch-smoke.sh,
# tests/wine-smoke.sh): running one command with a chosen environment, checking its exit
# code and exact output, counting failures, and the demo's fake API on loopback.
#
# The sourcing script sets `launch` (the command words that run the binary) and `base_env`
# (VAR=value words every run gets), and has a temporary directory in $work.

failures=0
server_pid=

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run NAME STDIN [VAR=value...] -- ARGS...: runs the binary with ARGS, STDIN as its input
# and only base_env and the given variables as its environment, leaving its exit code,
# stdout and stderr in $code, $out, $err.
run() {
  local name=$1 input=$2
  shift 2
  local vars=()
  while [ "$1" != -- ]; do vars+=("$1"); shift; done
  shift
  echo "\$ ${vars[*]}${vars[*]:+ }baseten $*"
  code=0
  printf '%s' "$input" | env -i "${base_env[@]}" "${vars[@]}" "${launch[@]}" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" || code=$?
  out=$(cat "$work/$name.out"; echo x) out=${out%x}
  err=$(cat "$work/$name.err"; echo x) err=${err%x}
}

# expect CODE STDOUT STDERR: the last run's exit code and exact output.
expect() {
  local want_code=$1 want_out=$2 want_err=$3
  [ "$code" -eq "$want_code" ] || fail "exit code $code, expected $want_code"
  [ "$out" = "$want_out" ] || fail "stdout $(printf '%q' "$out"), expected $(printf '%q' "$want_out")"
  [ "$err" = "$want_err" ] || fail "stderr $(printf '%q' "$err"), expected $(printf '%q' "$want_err")"
}

# start_fake_api DEMO_PROGRAM: starts `DEMO_PROGRAM --serve` and sets $url to its
# address on 127.0.0.1; stop_fake_api ends it.
start_fake_api() {
  coproc server { exec "$1" --serve; }
  server_pid=$server_PID
  read -r url <&"${server[0]}" || { echo "error: the fake API did not start" >&2; exit 1; }
  case $url in http://127.0.0.1:*) ;; *) echo "error: unexpected server URL $url" >&2; exit 1 ;; esac
}

stop_fake_api() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
}

# finish NAME: exits 1 with a count when anything failed.
finish() {
  if [ "$failures" -gt 0 ]; then
    echo "$1: $failures failure(s)" >&2
    exit 1
  fi
}
