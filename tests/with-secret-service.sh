#!/usr/bin/env bash
# Runs a command against a real, unlocked Secret Service (gnome-keyring-daemon) on a
# private session bus, with throwaway XDG directories and no display, so that nothing of
# the user's own keyring is touched and a locked keyring fails fast instead of prompting.
#   usage: tests/with-secret-service.sh <command> [args...]
# Needs dbus-run-session, gnome-keyring-daemon and secret-tool (Debian: dbus,
# gnome-keyring, libsecret-tools). Exits 127 without running the command if one is missing.
set -euo pipefail

if [ -z "${_BASETEN_SS_INNER:-}" ]; then
  for tool in dbus-run-session gnome-keyring-daemon secret-tool; do
    command -v "$tool" >/dev/null || { echo "with-secret-service: $tool not found" >&2; exit 127; }
  done
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  export XDG_DATA_HOME=$tmp/data XDG_CACHE_HOME=$tmp/cache XDG_CONFIG_HOME=$tmp/config XDG_RUNTIME_DIR=$tmp/run
  mkdir -p "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR"
  chmod 700 "$XDG_RUNTIME_DIR"
  unset DISPLAY WAYLAND_DISPLAY
  rc=0
  _BASETEN_SS_INNER=1 dbus-run-session -- "$0" "$@" || rc=$?
  exit "$rc"
fi

owner() {
  dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null \
    | awk '/uint32/{print $2}'
}
# Creates the "login" collection on first run, unlocks it and makes it the default.
printf '%s' 'throwaway-test-keyring-password' \
  | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
pid=""
for _ in $(seq 100); do pid=$(owner || true); [ -n "$pid" ] && break; sleep 0.05; done
[ -n "$pid" ] || { echo "with-secret-service: gnome-keyring did not start" >&2; exit 1; }
echo -n probe | secret-tool store --label=probe baseten-probe 1 && secret-tool clear baseten-probe 1
export BASETEN_TEST_SECRET_SERVICE=1
rc=0
"$@" || rc=$?
kill "$pid" 2>/dev/null || true
exit "$rc"
