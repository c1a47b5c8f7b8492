#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/teiten-exporter scraped by Debian's prometheus on loopback: a
# replay is counted and published, prometheus scrapes the exporter until its
# figures equal the generator's truth, and they are read back through
# prometheus's HTTP API with curl. When the appliance stops, the exporter
# stays up and says teiten_up 0; when it comes back, teiten_up is 1 again.
. "$(dirname "$0")/lib.sh"

EXPORTER=$TT_SOURCE_ROOT/scripts/teiten-exporter
command -v prometheus >/dev/null || skip "prometheus is not installed"
command -v curl >/dev/null || skip "curl is not installed"

# spare_port: a TCP port on 127.0.0.1 nobody listens on.
spare_port() {
    local port attempt
    for attempt in $(seq 1 50); do
        port=$(port_candidate "$attempt")
        (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
    done
    return 1
}

PREFIX=it_$$_exp
"$TEITEN_GEN" --sensor tokyo-a=192.0.2.0/25 --sensor osaka=198.51.100.0/24 --packets 20000 \
    --seed 9 --out "$TT_TMP/g.pcap" --truth "$TT_TMP/g.json" --config "$TT_TMP/g.conf" >/dev/null
check "generator: exit" "$?" 0
truth() { jq -r "$1" "$TT_TMP/g.json"; }
start_redis main || exit 1
printf '[redis]\nhost = 127.0.0.1\nport = %s\nflush_interval_ms = 200\n' \
    "$TT_REDIS_PORT" >>"$TT_TMP/g.conf"

start_teiten() {
    "$TEITEN" --no-huge -m 256 --no-pci --file-prefix="$PREFIX" --log-level=lib.eal:error \
        -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/g.pcap" -- --config "$TT_TMP/g.conf" \
        --duration 3600 >"$TT_TMP/run.$1.out" 2>&1 &
    TEITEN_PID=$!
    TT_PIDS+=("$TEITEN_PID")
}
start_teiten 1

EXP_PORT=$(spare_port)
"$EXPORTER" --file-prefix "$PREFIX" --listen "127.0.0.1:$EXP_PORT" 2>"$TT_TMP/exporter.err" &
TT_PIDS+=("$!")
metrics() { curl -sf "http://127.0.0.1:$EXP_PORT/metrics"; }
wait_for 120 metrics
check "exporter: answers on /metrics" "$?" 0

PROM_PORT=$(spare_port)
cat >"$TT_TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: teiten
    static_configs:
      - targets: ['127.0.0.1:$EXP_PORT']
EOF
prometheus --config.file="$TT_TMP/prometheus.yml" --storage.tsdb.path="$TT_TMP/prom" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$TT_TMP/prometheus.log" 2>&1 &
TT_PIDS+=("$!")
api() { curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/$1"; }
# promql QUERY: the value of the query's single result (empty if none), as
# of the last scrape that answered in the past 10 s: one scrape past its 1 s
# timeout on a loaded machine marks every series stale until the next.
promql() {
    curl -sf --get "http://127.0.0.1:$PROM_PORT/api/v1/query" \
        --data-urlencode "query=last_over_time(($1)[10s:1s])" |
        jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}
target_up() {
    [ "$(api targets | jq -r '.data.activeTargets[0].health' 2>/dev/null)" == up ]
}
wait_for 300 target_up
check "prometheus: the exporter's target is up" "$?" 0

# What the exporter serves is valid for prometheus's own parser.
metrics >"$TT_TMP/metrics.txt"
if command -v promtool >/dev/null; then
    promtool check metrics <"$TT_TMP/metrics.txt" >"$TT_TMP/promtool.out" 2>&1
    check "promtool check metrics: no problem" "$?:$(wc -l <"$TT_TMP/promtool.out")" "0:0"
fi
check_grep "exporter: HELP lines" "$TT_TMP/metrics.txt" '^# HELP teiten_worker_rx_packets_total '
check_grep "exporter: TYPE lines" "$TT_TMP/metrics.txt" \
    '^# TYPE teiten_worker_rx_packets_total counter$'
check_grep "exporter: packets with the record of registers off" "$TT_TMP/metrics.txt" \
    '^teiten_worker_hll_record_off_packets_total{worker="0",lcore="1"} [0-9]'
check_grep "exporter: packets whose host record had no room" "$TT_TMP/metrics.txt" \
    '^teiten_worker_source_deltas_dropped_total{worker="0",lcore="1"} [0-9]'

# The Grafana dashboard beside the exporter asks only for metrics it serves.
DASHBOARD=$TT_SOURCE_ROOT/config/grafana-teiten.json
missing=
for name in $(jq -r '.. | .expr? // empty' "$DASHBOARD" | grep -o 'teiten_[a-z_]*' | sort -u); do
    grep -q "^# TYPE $name " "$TT_TMP/metrics.txt" || missing="$missing $name"
done
check "grafana dashboard: every metric it uses is served" "${missing:-none}" none
check "grafana dashboard: panels" "$(jq '.panels | length > 10' "$DASHBOARD")" true

PACKETS=$(truth .packets)
settled() {
    [ "$(promql 'sum(teiten_worker_rx_packets_total)')" == "$PACKETS" ] &&
        [ "$(promql 'teiten_dark_packets_total')" == "$(truth .scopes.all.totals.pkts)" ] &&
        [ "$(promql 'teiten_redis_backlog_cells')" == 0 ]
}
wait_for 300 settled
check "prometheus: the replay's packets, counted and published" "$?" 0
check "prometheus: teiten_up" "$(promql teiten_up)" 1
check "prometheus: port rx = truth" "$(promql 'teiten_port_rx_packets_total{port="0"}')" "$PACKETS"
check "prometheus: no port misses" "$(promql 'teiten_port_rx_missed_total{port="0"}')" 0
for s in tokyo-a osaka; do
    check "prometheus: sensor $s packets = truth" \
        "$(promql "teiten_sensor_packets_total{sensor=\"$s\"}")" \
        "$(truth ".scopes[\"$s\"].totals.pkts")"
done
for c in backscatter mirai masscan zmap nmap unicorn; do
    check "prometheus: class $c = truth" "$(promql "teiten_class_packets_total{class=\"$c\"}")" \
        "$(truth ".scopes.all.totals.$c")"
done
check "prometheus: malformed = truth" "$(promql teiten_malformed_packets_total)" \
    "$(truth .scopes.all.totals.malformed)"
check "prometheus: worker malformed = truth" \
    "$(promql 'sum(teiten_worker_malformed_packets_total)')" "$(truth .malformed)"
check "prometheus: not dark = truth" "$(promql 'sum(teiten_worker_not_dark_packets_total)')" \
    "$(truth .not_dark)"
check "prometheus: busy share is a ratio" "$(promql 'teiten_worker_busy_ratio <= bool 1')" 1
check "prometheus: Redis connected" "$(promql teiten_redis_connected)" 1
check "prometheus: Redis errors" "$(promql teiten_redis_errors_total)" 0
check "prometheus: Redis shed nothing" "$(promql teiten_redis_shed_minute_cells_total)" 0
check "prometheus: flush sequence = the health hash" "$(promql teiten_redis_flush_sequence)" \
    "$(rcli main HGET teiten:appliance:gen-1 flush_seq)"
check "prometheus: info labels" \
    "$(promql 'count(teiten_info{appliance="gen-1",clock="packet",home_country="JP"})')" 1

# The appliance stops: the exporter stays, and says so.
kill -TERM "$TEITEN_PID"
wait "$TEITEN_PID"
check "teiten: exit after SIGTERM" "$?" 0
down() { [ "$(promql teiten_up)" == 0 ]; }
wait_for 120 down
check "prometheus: teiten_up 0 while the appliance is away" "$?" 0
check "prometheus: the target itself stays up" "$(api targets |
    jq -r '.data.activeTargets[0].health')" up
# ... and it comes back.
start_teiten 2
back() { [ "$(promql teiten_up)" == 1 ] && [ "$(promql teiten_uptime_seconds)" != "" ]; }
wait_for 300 back
check "prometheus: teiten_up 1 once the appliance is back" "$?" 0
kill -TERM "$TEITEN_PID"
wait "$TEITEN_PID"
check "teiten: second run, exit after SIGTERM" "$?" 0

finish
