#!/usr/bin/env bash
# Idle agent benchmark: the real `sp4n run` against the bundled simulator.
#
#   cargo build --release && benches/agent_idle.sh [SECONDS] [COMPLAINTS]
#
# 1. Starts sp4n-sim (1,000 complaints, no platform events), pulls everything once.
# 2. Idle: starts `sp4n run` with jobs that do not fire during the window, samples
#    utime+stime from /proc/PID/stat over SECONDS (default 60) and VmRSS/VmHWM from
#    /proc/PID/status: CPU share of one core and resident memory.
# 3. Empty cycles: restarts the agent with pull and push every 5 seconds on the synced
#    store and reads each job's last duration from /healthz (nothing to do).
set -euo pipefail
SECS=${1:-60}
N=${2:-1000}
BIN=${BIN:-target/release}
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT

"$BIN/sp4n-sim" --complaints "$N" --events-per-day 0 --dir "$W/sim" > "$W/sim.out" &
until [ -s "$W/sim.out" ]; do sleep 0.1; done
BASE=$(sed -E 's/.*"base_url":"([^"]+)".*/\1/' "$W/sim.out")
config() {
  cat > "$W/sp4n.toml" <<TOML
[upstream]
base_url = "$BASE"
token_file = "$W/sim/token"
ca_file = "$W/sim/ca.pem"
[store]
path = "$W/store"
[mappings]
dir = "$PWD/mappings"
[schedule]
$1
TOML
}
config 'pull = "0 3 1 1 *"'
"$BIN/sp4n" --config "$W/sp4n.toml" pull --quiet > /dev/null || true

start_agent() {
  "$BIN/sp4n" --config "$W/sp4n.toml" run --listen 127.0.0.1:0 > "$W/agent.out" 2> "$W/agent.err" &
  APID=$!
  until grep -q "ready" "$W/agent.out" 2>/dev/null; do sleep 0.1; done
  ADDR=$(sed -E 's/.*http:\/\/([^ ]+).*/\1/' "$W/agent.out")
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# 2. Idle.
config 'pull = "0 3 1 1 *"
push = "0 3 1 1 *"
reconcile = "0 3 1 1 *"'
start_agent
sleep 2
T0=$(ticks $APID); S0=$(date +%s.%N)
sleep "$SECS"
T1=$(ticks $APID); S1=$(date +%s.%N)
HZ=$(getconf CLK_TCK)
CPU=$(echo "($T1 - $T0) / $HZ / ($S1 - $S0) * 100" | bc -l)
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$APID/status")
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$APID/status")
printf 'idle agent over %ss: CPU %.3f%% of one core, VmRSS %s KiB, VmHWM %s KiB\n' "$SECS" "$CPU" "$RSS" "$HWM"
kill -TERM $APID; wait $APID

# 3. Empty cycles.
config 'pull = "*/5 * * * * *"
push = "*/5 * * * * *"'
start_agent
sleep 16
curl -s "http://$ADDR/healthz" | tr '{' '\n' | grep -E '"name":"(pull|push)"' \
  | sed -E 's/.*"name":"([a-z]+)".*"last_duration_ms":([0-9]+).*/empty \1 cycle: \2 ms/'
kill -TERM $APID; wait $APID
