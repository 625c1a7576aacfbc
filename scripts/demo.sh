#!/usr/bin/env bash
# The demo, on any Debian machine with Node.js/npm: installs what is missing
# (scripts/setup.sh demo: Deno, redis-server, Dovecot, without leaving their
# system services running), then runs `deno task demo`. Arguments go to the
# demo (e.g. scripts/demo.sh --keep).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh demo
exec deno task demo "$@"
