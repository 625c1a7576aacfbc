#!/usr/bin/env bash
# Installs what `ingest`'s demo or test suite needs and this machine lacks:
#   Deno 2.9.6            from the npm package `deno` (needs Node.js/npm)
#   redis-server          Debian package (demo and tests)
#   dovecot-imapd         Debian package (demo and tests)
#   prometheus            Debian package (tests only: promtool and a real Prometheus)
#
# Usage: scripts/setup.sh [--dry-run] demo|test
#   --dry-run   print what would be installed and run, change nothing
#
# Nothing already installed is touched. Debian's packages start their system
# services on install (Redis on 6379, Dovecot on 143/993, Prometheus on 9090);
# the demo and the tests start their own private servers on free loopback
# ports, so this script keeps those services from starting during the install
# (a policy-rc.d that denies service starts, restored afterwards) and, under
# systemd, stops and disables the units of the packages it just installed. It
# never stops anything else: a Redis already running on 6379 stays as it is.
#
# Installing needs root; when something is missing and this is not root, the
# script says what and exits 1 (run it again with sudo). Logs go to stderr.
set -euo pipefail

DENO_VERSION=2.9.6
# Overridable only so that tests/setup_test.ts can run the install path with a
# fake apt-get and systemctl without touching this machine.
POLICY=${INGEST_SETUP_POLICY_RC:-/usr/sbin/policy-rc.d}
SYSTEMD_RUNTIME=${INGEST_SETUP_SYSTEMD_RUNTIME:-/run/systemd/system}

log() { echo "[setup] $*" >&2; }
die() {
  log "$*"
  exit 1
}

dry_run=false
target=""
for arg in "$@"; do
  case "$arg" in
  --dry-run) dry_run=true ;;
  demo | test) target=$arg ;;
  -h | --help)
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) die "unknown argument '$arg' (usage: scripts/setup.sh [--dry-run] demo|test)" ;;
  esac
done
[ -n "$target" ] || die "say what to set up for: scripts/setup.sh [--dry-run] demo|test"

# Dovecot lives in /usr/sbin, which is not on every user's PATH.
have() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }

# package:command pairs this target needs.
needs=(redis-server:redis-server dovecot-imapd:dovecot)
# The TLS tests (Redis, Redis Cluster, Dovecot) make a throwaway CA with openssl.
[ "$target" = test ] && needs+=(prometheus:promtool openssl:openssl)

missing_packages=()
for pair in "${needs[@]}"; do
  have "${pair#*:}" || missing_packages+=("${pair%%:*}")
done
need_deno=false
have deno || need_deno=true

if ! $need_deno && [ ${#missing_packages[@]} -eq 0 ]; then
  log "nothing to install: deno, ${needs[*]%%:*} are present"
  exit 0
fi

is_root=false
[ "$(id -u)" = 0 ] && is_root=true

run() {
  if $dry_run; then
    log "would run: $*"
  else
    log "running: $*"
    "$@"
  fi
}

# --- Deno, from npm --------------------------------------------------------
if $need_deno; then
  have npm || die "Deno is missing and so is npm: install Node.js (apt-get install -y nodejs npm), then run this again"
  prefix=$(npm prefix -g 2>/dev/null || echo /usr)
  if ! $is_root && [ ! -w "$prefix/lib" ] && ! $dry_run; then
    die "installing Deno with 'npm install -g' writes to $prefix and needs root: run 'sudo $0 $target'"
  fi
  log "Deno is missing: installing deno@$DENO_VERSION from npm"
  if $dry_run; then
    log "would run: npm install -g --allow-scripts=deno deno@$DENO_VERSION"
  else
    # Older npm versions do not know --allow-scripts; they run install scripts anyway.
    npm install -g --allow-scripts=deno "deno@$DENO_VERSION" >&2 ||
      npm install -g "deno@$DENO_VERSION" >&2 || die "npm could not install deno@$DENO_VERSION"
    have deno || die "npm installed deno@$DENO_VERSION but 'deno' is not on PATH ($(npm prefix -g)/bin)"
  fi
fi

[ ${#missing_packages[@]} -eq 0 ] && exit 0

# --- Debian packages, without starting their services ----------------------
have apt-get || die "missing ${missing_packages[*]}, and apt-get is not available: install them with your package manager"
if ! $is_root && ! $dry_run; then
  die "missing ${missing_packages[*]}: installing them needs root; run 'sudo $0 $target'"
fi
log "missing ${missing_packages[*]}: installing with apt-get (their system services are kept from starting)"

# Our policy-rc.d answers 101 ("action forbidden") to every service start that
# invoke-rc.d and deb-systemd-invoke ask about during the install. An existing
# one is moved aside and put back, whatever happens.
backup=""
restore_policy() {
  if [ -n "$backup" ]; then
    mv -f "$backup" "$POLICY"
  else
    rm -f "$POLICY"
  fi
}
if $dry_run; then
  log "would write $POLICY (exit 101: no service starts) for the install, then restore it"
else
  if [ -e "$POLICY" ]; then
    backup=$(mktemp "$POLICY.ingest-backup.XXXXXX")
    cp -p "$POLICY" "$backup"
  fi
  trap restore_policy EXIT
  printf '#!/bin/sh\n# Written by ingest scripts/setup.sh during apt-get install; removed afterwards.\nexit 101\n' >"$POLICY"
  chmod 0755 "$POLICY"
fi

export DEBIAN_FRONTEND=noninteractive
run apt-get update -qq
run apt-get install -y -qq --no-install-recommends "${missing_packages[@]}"

# Under systemd, a unit of a package installed just now may still be enabled
# (it would start at boot) or running: stop and disable exactly those units.
if [ -d "$SYSTEMD_RUNTIME" ] && have systemctl; then
  for package in "${missing_packages[@]}"; do
    case "$package" in
    redis-server) unit=redis-server ;;
    dovecot-imapd) unit=dovecot ;;
    prometheus) unit=prometheus ;;
    *) continue ;;
    esac
    run systemctl disable --now "$unit.service" || log "could not stop $unit.service (stop it yourself)"
  done
fi

if $dry_run; then
  log "dry run: nothing was changed"
  exit 0
fi
for pair in "${needs[@]}"; do
  have "${pair#*:}" || die "apt-get finished but '${pair#*:}' (package ${pair%%:*}) is still missing"
done
log "installed ${missing_packages[*]}; no system service was left running"
