#!/usr/bin/env bash
# Many tenants: command-api and projector as separate release processes, loadgen sending
# the command mix across N tenants, then each process's resident memory (now and peak)
# and MongoDB connections (per process, from the kernel's socket table, and the server's
# own serverStatus count). Needs the dev servers (scripts/services up).
#
# Usage: scripts/bench/tenants.sh [tenants=10000] [commands=5*tenants]
set -euo pipefail
cd "$(dirname "$0")/../.."
TENANTS=${1:-10000}
COUNT=${2:-$((TENANTS * 5))}
eval "$(scripts/services env)"
PY=${TILLSTREAM_CACHE:-$HOME/.cache/tillstream}/venv/bin/python
cargo build --release -p command-api -p projector -p bench --bin command-api --bin projector --bin loadgen
BIN=${CARGO_TARGET_DIR:-target}/release
RUN=tn$(date +%s)
API_PORT=18480
ADMIN_PORT=19490
MONGO_PORT=${MONGODB_URI##*:}; MONGO_PORT=${MONGO_PORT%%/*}
export JWT_SECRET=tenants-bench-secret-that-is-long-enough-0123456789
export ADMIN_TOKEN=tenants-bench-admin-token
export NATS_STREAM=${RUN^^} SUBJECT_PREFIX=$RUN RUST_LOG=warn

RUST_LOG=warn LISTEN_ADDR=127.0.0.1:$API_PORT "$BIN/command-api" > "/tmp/$RUN-api.log" 2>&1 &
API=$!
RUST_LOG=warn ADMIN_ADDR=127.0.0.1:$ADMIN_PORT CONSUMER_PREFIX=$RUN "$BIN/projector" > "/tmp/$RUN-projector.log" 2>&1 &
PROJECTOR=$!
trap 'kill $API $PROJECTOR 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$API_PORT/health" > /dev/null && break; sleep 0.2; done

rss() { awk -v k="$2:" '$1 == k {print int($2 / 1024) " MiB"}' "/proc/$1/status"; }
mongo_conns() { ss -Htnp state established "( dport = :$MONGO_PORT )" | grep -c "pid=$1," || true; }
server_conns() { "$PY" -c "import os; from pymongo import MongoClient; print(MongoClient(os.environ['MONGODB_URI']).admin.command('serverStatus')['connections']['current'])"; }
report() {
  echo "[$1] command-api RSS $(rss $API VmRSS) (peak $(rss $API VmHWM)), MongoDB connections $(mongo_conns $API)"
  echo "[$1] projector   RSS $(rss $PROJECTOR VmRSS) (peak $(rss $PROJECTOR VmHWM)), MongoDB connections $(mongo_conns $PROJECTOR)"
  echo "[$1] MongoDB server: $(server_conns) connections open in total"
}
report idle

"$BIN/loadgen" --api-url "http://127.0.0.1:$API_PORT" --tenants "$TENANTS" --count "$COUNT" \
  --connections 64 --lag-every 0 --keep 2>&1 | tee "/tmp/$RUN-loadgen.log" | grep -v '^\[loadgen\] [0-9]' || true
LOADGEN_RUN=$(grep -o 'run lg[0-9a-f]*' "/tmp/$RUN-loadgen.log" | head -1 | cut -d' ' -f2)
report "after the load"

echo "[tenants] waiting for the projector to drain"
while true; do
  left=$(curl -sf -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$ADMIN_PORT/stats" | "$PY" -c "import json,sys; print(sum(p.get('pending',0)+p.get('ack_pending',0) for p in json.load(sys.stdin)['partitions']))")
  [ "$left" = 0 ] && break
  echo "[tenants] $left events to apply"; sleep 5
done
report "drained, $TENANTS tenant databases"

"$PY" - "$LOADGEN_RUN" <<'PY'
import os, sys
from pymongo import MongoClient
client = MongoClient(os.environ["MONGODB_URI"])
names = [n for n in client.list_database_names() if n.startswith(f"tenant_{sys.argv[1]}")]
print(f"[tenants] {len(names)} tenant databases written; dropping them")
for name in names:
    client.drop_database(name)
PY

# The run's stream: runs add up, and a JetStream out of storage refuses every command.
"$PY" -c "import nats" 2> /dev/null || "${PY%/python}/pip" install -q nats-py
"$PY" - <<'PY'
import asyncio, os
import nats

async def main():
    client = await nats.connect(os.environ.get("NATS_URL", "nats://127.0.0.1:4222").split(",")[0])
    await client.jetstream().delete_stream(os.environ["NATS_STREAM"])
    print(f"[tenants] stream {os.environ['NATS_STREAM']} deleted")
    await client.close()

asyncio.run(main())
PY
