#!/usr/bin/env bash
# The test suite, on any Debian machine with Node.js/npm: installs what is
# missing (scripts/setup.sh test: Deno, redis-server, Dovecot, Prometheus,
# without leaving their system services running), then runs `deno task test`.
# Extra arguments go to `deno test` (e.g. scripts/test.sh tests/dlq_test.ts).
# .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
exec deno task test "$@"
