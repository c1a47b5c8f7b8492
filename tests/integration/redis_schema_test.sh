#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Replays into a real redis-server: for every real capture and a generated
# one, the summary equals what Redis holds, rebuilt from the day buckets,
# from the hour buckets, and (for the metrics minute buckets carry) from the
# minute buckets; every key has a TTL; minute buckets carry only totals,
# port, country and srcs; the health hash is there while the appliance lives.
. "$(dirname "$0")/lib.sh"
need_real_captures
start_redis main || exit 1

# every IPv4 address; a second sensor that receives nothing
write_config "$TT_TMP/all.conf" redis-1 "everything:0:0.0.0.0/0" "none:0:2001:db8:9::/48"

# only the metrics a minute bucket carries
minute_view() {
    jq '.scopes |= map_values(with_entries(select(.key == "totals" or .key == "port"
        or .key == "country" or .key == "srcs")))' "$1"
}

replay_and_compare() {
    local name=$1 pcap=$2 kind diffs
    rcli main FLUSHALL >/dev/null
    run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$pcap" -- \
        --config "$TT_TMP/all.conf" --summary "$TT_TMP/$name.json"
    check "$name: exit" "$TT_RC" 0
    check "$name: delivered" "$(jq .redis.delivered "$TT_TMP/$name.json")" true
    for kind in d h; do
        redis_scopes main $kind >"$TT_TMP/$name.$kind.json"
        diffs=$(compare_redis "$TT_TMP/$name.json" "$TT_TMP/$name.$kind.json")
        check "$name: summary = Redis $kind: buckets" "${diffs:-none}" none
    done
    redis_scopes main m >"$TT_TMP/$name.m.json"
    minute_view "$TT_TMP/$name.json" >"$TT_TMP/$name.mv.json"
    diffs=$(compare_redis "$TT_TMP/$name.mv.json" "$TT_TMP/$name.m.json")
    check "$name: summary = Redis m: buckets (totals, port, country, srcs)" "${diffs:-none}" none
    check "$name: every key has a TTL" \
        "$(rcli main --raw EVAL "local n = 0 for _, k in ipairs(redis.call('KEYS', '*'))
            do if redis.call('TTL', k) < 0 then n = n + 1 end end return n" 0)" 0
    check "$name: minute buckets carry totals, port, country, srcs only" \
        "$(rcli main --scan --pattern 'teiten:*:m:*' | sed 's/.*:m:[0-9]*://' | sort -u |
            grep -v -x -e totals -e port -e country -e srcs | wc -l)" 0
    check "$name: no temporary key left" "$(rcli main --scan --pattern '*:tmp:*' | wc -l)" 0
}

replay_and_compare mirai "$TT_REAL/mirai_seqdst_2pkts.pcap"
# spot checks against NOTICE.md, straight from Redis
check "mirai: d: Mirai-type tcp/23" \
    "$(rcli main zscore 'teiten:{everything}:d:20201108:port:mirai' tcp/23)" 2
check "mirai: h: totals mirai" "$(rcli main hget 'teiten:{all}:h:2020110813:totals' mirai)" 2
check "mirai: m: buckets of the capture's minutes" \
    "$(rcli main --scan --pattern 'teiten:{all}:m:*:totals' | sort | tr '\n' ' ')" \
    "teiten:{all}:m:202011081336:totals teiten:{all}:m:202011081337:totals "
check "mirai: unique Mirai-type sources on tcp/23" \
    "$(rcli main pfcount 'teiten:{all}:d:20201108:srcs:tcp/23:mirai')" 1
check "mirai: empty sensor writes nothing" \
    "$(rcli main --scan --pattern 'teiten:{none}:*' | grep -vc ':flushed$')" 0
check "mirai: tag committed with this appliance's seq" \
    "$(rcli main hexists 'teiten:{all}:flushed' redis-1)" 1

replay_and_compare nmap "$TT_REAL/nmap_sS_synscan.pcap"
check "nmap: d: nmap class" "$(rcli main hget 'teiten:{all}:d:20100704:totals' nmap)" 1993
replay_and_compare hideandseek "$TT_REAL/iot_hideandseek_nonmirai.pcap"
replay_and_compare reflection "$TT_REAL/synack_reflection_backscatter.pcap"
check "reflection: backscatter in Redis" \
    "$(rcli main --raw EVAL "local n = 0 for _, k in ipairs(redis.call('KEYS',
        'teiten:{all}:d:*:totals')) do n = n + (tonumber(redis.call('HGET', k,
        'backscatter')) or 0) end return n" 0)" 7822
replay_and_compare flood "$TT_REAL/synflood_spoofed.pcap"

"$TEITEN_GEN" --sensor everything=192.0.2.0/25+2001:db8:1::/64 --packets 50000 --seed 3 \
    --start 1711929600 --span 259200 --out "$TT_TMP/g.pcap" --truth "$TT_TMP/g.truth"
replay_and_compare generated "$TT_TMP/g.pcap"
check "generated: three days of day buckets" \
    "$(rcli main --scan --pattern 'teiten:{all}:d:*:totals' | wc -l)" 3
check "generated: 72 hours of hour buckets" \
    "$(rcli main --scan --pattern 'teiten:{all}:h:*:totals' | wc -l)" 72

# The health hash, while the appliance runs (a loop on the wall clock).
# A flush a second: the hash lives 3 s past each refresh, which a loaded
# host keeps up with (at 100 ms it lapsed between refreshes there).
TT_FLUSH_MS=1000 write_config "$TT_TMP/live.conf" live-1 "everything:0:0.0.0.0/0"
timeout 600 "$TEITEN" $(eal_opts) -l 0-1 \
    --vdev "net_pcap0,rx_pcap=$TT_REAL/nmap_sS_synscan.pcap,infinite_rx=1" -- \
    --config "$TT_TMP/live.conf" >"$TT_TMP/live.out" 2>"$TT_TMP/live.err" &
pid=$!
TT_PIDS+=("$pid")
# Each figure is waited for (a snapshot that has it), not read once after
# a fixed sleep.
health_fields=""
health_pkts=""
health_ttl=""
for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || break
    fields=$(rcli main hkeys teiten:appliance:live-1 | sort | tr '\n' ' ')
    case "$fields" in *flush_seq*) health_fields=$fields ;; esac
    pkts=$(rcli main hget teiten:appliance:live-1 rx_pkts)
    [ -n "$pkts" ] && [ "$pkts" -gt 0 ] && health_pkts=yes
    ttl=$(rcli main pttl teiten:appliance:live-1)
    [ "$ttl" -gt 0 ] && health_ttl=$ttl
    [ -n "$health_fields" ] && [ -n "$health_pkts" ] && [ -n "$health_ttl" ] && break
    sleep 0.1
done
check "health: fields" "$health_fields" \
    "flush_seq hll_record_off_pkts instance last_flush malformed not_dark redis_backlog_bytes redis_data_lost redis_errors redis_refusals rx_missed rx_pkts shed_hour_cells shed_hour_packets shed_minute_bytes shed_minute_cells shed_minute_packets shed_source_keys source_deltas_dropped started version workers "
check "sensor metadata: a hash per sensor, no config needed" \
    "$(rcli main hmget teiten:sensor:everything location port appliance | paste -sd' ')" \
    "domestic 0 live-1"
check "health: packets counted" "$health_pkts" yes
check "health: expires within 3 flush intervals ($health_ttl ms)" \
    "$([ -n "$health_ttl" ] && [ "$health_ttl" -le 3000 ] && echo yes)" yes
kill -TERM "$pid"
wait "$pid"
check "health: clean stop" "$?" 0
# It expires 3 flush intervals (3 s) after the last write: a dead appliance's.
wait_for 60 [ "$(rcli main exists teiten:appliance:live-1)" = 0 ]
check "health: key gone after the appliance" "$(rcli main exists teiten:appliance:live-1)" 0

finish
