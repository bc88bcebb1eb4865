#!/usr/bin/env bash
# The Windows build, tested under Wine (SPEC §10): API-key logins to the demo's fake API on
# 127.0.0.1 stored in the Windows Credential Manager (Wine's), status, token, switch and
# logout, in a fresh Wine prefix, with the config in %AppData%\baseten. Wine 8 lacks
# bcryptprimitives.dll, which Rust's standard library imports for ProcessPrng: a stand-in
# (tests/windows/bcryptprimitives.c) is built with mingw-w64 and put beside the binary.
#
# Usage: tests/wine-smoke.sh BASETEN_EXE_OR_ZIP DEMO_PROGRAM   (`make wine-test` runs it;
# given the release zip, it tests the baseten.exe inside)
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BASETEN_EXE_OR_ZIP DEMO_PROGRAM" >&2; exit 2; }
given=$1 demo=$2
cd "$(dirname "$0")/.."
. tests/smoke-lib.sh

wine=$(command -v wine64 || command -v /usr/lib/wine/wine64) \
  || { echo "error: wine64 not found (Debian: apt-get install wine64)" >&2; exit 1; }
command -v x86_64-w64-mingw32-gcc >/dev/null \
  || { echo "error: x86_64-w64-mingw32-gcc not found (Debian: apt-get install gcc-mingw-w64-x86-64)" >&2; exit 1; }

wineserver=$(dirname "$wine")/wineserver

work=$(mktemp -d)
trap 'stop_fake_api; WINEPREFIX=$work/prefix "$wineserver" -k 2>/dev/null || true; rm -rf "$work"' EXIT
app=$work/app
mkdir "$app"
case $given in
  *.zip)
    python3 -m zipfile -e "$given" "$work/unzipped"
    exe=$(find "$work/unzipped" -name baseten.exe)
    [ -n "$exe" ] || { echo "error: no baseten.exe in $given" >&2; exit 1; }
    cp "$exe" "$app/baseten.exe" ;;
  *) cp "$given" "$app/baseten.exe" ;;
esac
x86_64-w64-mingw32-gcc -shared -O2 -s -o "$app/bcryptprimitives.dll" \
  tests/windows/bcryptprimitives.c -ladvapi32

# A fresh prefix, set up once before the first timed command; no display is needed.
base_env=(HOME="$work" PATH=/usr/bin:/bin WINEPREFIX="$work/prefix" WINEDEBUG=-all)
env -i "${base_env[@]}" "$wine" wineboot --init >"$work/wineboot.log" 2>&1 \
  || { cat "$work/wineboot.log" >&2; echo "error: wineboot failed" >&2; exit 1; }
launch=("$wine" "$app/baseten.exe")
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)

run version '' -- --version
expect 0 "baseten $version"$'\n' ''

start_fake_api "$demo"
remote=(BASETEN_REMOTE_URL="$url" BASETEN_MANAGEMENT_API_URL_OVERRIDE="$url")

# Two logins, no warning: the keys go to the Credential Manager, not to auth.json.
run login $'wine-key-1\n' "${remote[@]}" -- auth login --with-api-key --label ci
expect 0 $'Logged in as newcomer@example.com (Demo Workspace) as profile ci\n' ''
run login2 $'wine-key-2\n' "${remote[@]}" -- auth login --with-api-key --label bot --no-switch
expect 0 $'Logged in as newcomer@example.com (Demo Workspace) as profile bot\n' ''

run status '' "${remote[@]}" -- auth status
expect 0 "$url"$'\n  Logged in as ci\n  Auth type: api_key\n  Storage: keyring\n' ''

run token '' "${remote[@]}" -- auth token
expect 0 $'wine-key-1\n' ''

run switch '' "${remote[@]}" -- auth switch --user bot
[ "$code" -eq 0 ] || fail "switch exited $code: $err"
run token-bot '' "${remote[@]}" -- auth token --jq '{user, token}'
expect 0 $'{\n  "user": "bot",\n  "token": "wine-key-2"\n}\n' ''

# %AppData%\baseten\auth.json names both accounts and holds neither key.
auth=$(find "$work/prefix/drive_c/users" -path '*/AppData/Roaming/baseten/auth.json')
if [ -z "$auth" ]; then
  fail "no auth.json under %AppData%\\baseten"
else
  grep -q '"bot"' "$auth" && grep -q '"ci"' "$auth" || fail "auth.json lacks an account: $(cat "$auth")"
  ! grep -q 'wine-key' "$auth" || fail "auth.json holds a key"
fi

run logout '' "${remote[@]}" -- auth logout
expect 0 $'Logged out bot\n' ''
run token-gone '' "${remote[@]}" -- auth token --user bot
[ "$code" -eq 1 ] || fail "token for a logged-out account exited $code"
run token-ci '' "${remote[@]}" -- auth token --user ci
expect 0 $'wine-key-1\n' ''
run logout-ci '' "${remote[@]}" -- auth logout --user ci
expect 0 $'Logged out ci\n' ''
run status-none '' "${remote[@]}" -- auth status
[ "$code" -eq 1 ] || fail "status after the last logout exited $code"

finish "Wine smoke test"
echo "Wine smoke test ok: $(stat -c %s "$app/baseten.exe") bytes, Credential Manager as keyring"
