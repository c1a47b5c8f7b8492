#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Redis refusing, stalling or forgetting, each with a real redis-server; in
# every case either everything arrives exactly once or the appliance says,
# in its exit code and its words, what did not:
#  1. maxmemory with noeviction: OOM refusals are retried until memory frees;
#  2. restarted from a large dataset, answering LOADING for seconds: retried;
#  3. an ACL user without +eval: exit 2, naming the rule, and what had
#     committed before the refusal is not reported undelivered;
#  4. stopped while Redis is away: the final flush waits for it;
#  5. restarted empty mid-run: the loss is detected and reported;
#  6. a second appliance under an id in use: refused, exit 2; a start that
#     waits out the id's key of a run that died ends at once on SIGTERM;
#  7. a week of three sensors with events, replayed: no reconnect loop,
#     nothing shed, Redis equals the summary;
#  8. a live flood of Mirai-type sources while Redis is away: the source
#     deltas are shed past backlog_max_mb, counted in keys, and resident
#     memory stops growing.
. "$(dirname "$0")/lib.sh"

"$TEITEN_GEN" --sensor a=192.0.2.0/24+2001:db8:1::/64 --sensor b=198.51.100.0/24 \
    --packets 150000 --seed 41 --start 1711929600 --span 86400 \
    --out "$TT_TMP/day.pcap" --truth "$TT_TMP/day.truth" >/dev/null
"$TEITEN_GEN" --sensor a=192.0.2.0/24 --packets 2000 --seed 42 \
    --out "$TT_TMP/small.pcap" --truth "$TT_TMP/small.truth" >/dev/null
SENSORS=("a:0:192.0.2.0/24, 2001:db8:1::/64" "b:0:198.51.100.0/24")

# start_teiten NAME VDEV: in the background; pid in TEITEN_PID
start_teiten() {
    write_config "$TT_TMP/$1.conf" "id-$1" "${SENSORS[@]}"
    timeout 900 "$TEITEN" $(eal_opts) -l 0-1 --vdev "$2" -- \
        --config "$TT_TMP/$1.conf" --summary "$TT_TMP/$1.json" \
        >"$TT_TMP/$1.out" 2>"$TT_TMP/$1.err" &
    TEITEN_PID=$!
    TT_PIDS+=("$TEITEN_PID")
}

# same_as_summary NAME KIND: the summary's scopes against Redis's KIND buckets
same_as_summary() {
    redis_scopes "$1" "$2" >"$TT_TMP/$1.$2.json"
    compare_redis "$TT_TMP/$1.json" "$TT_TMP/$1.$2.json" | head -3
}

# 1. maxmemory, noeviction: refused with OOM until the limit is lifted
start_redis oom --maxmemory 3mb --maxmemory-policy noeviction || exit 1
start_teiten oom "net_pcap0,rx_pcap=$TT_TMP/day.pcap"
wait_for 300 grep -q 'refused .*OOM' "$TT_TMP/oom.err"
check_grep "oom: the refusal is logged as retried" "$TT_TMP/oom.err" \
    'redis refused [A-Z]+ for .*: OOM .*retrying with back-off'
check "oom: the replay waits meanwhile" "$(kill -0 "$TEITEN_PID" 2>/dev/null && echo yes)" yes
rcli oom config set maxmemory 0 >/dev/null
wait "$TEITEN_PID"
check "oom: exit" "$?" 0
check "oom: delivered" "$(jq .redis.delivered "$TT_TMP/oom.json")" true
check "oom: refusals counted" "$(jq '.redis.refusals > 0' "$TT_TMP/oom.json")" true
check "oom: every packet in Redis" "$(same_as_summary oom d)" ""
check "oom: the day's packets" "$(rcli oom hget 'teiten:{all}:d:20240401:totals' pkts)" \
    "$(jq '.scopes.all.totals.pkts' "$TT_TMP/day.truth")"

# 2. restarted from a large dataset: LOADING for seconds, then accepted
start_redis load --enable-debug-command yes || exit 1
rcli load debug populate 300000 filler 8 >/dev/null
start_teiten load "net_pcap0,rx_pcap=$TT_TMP/small.pcap,infinite_rx=1"
wait_for 300 flushed_seen load
rcli load shutdown save >/dev/null 2>&1
wait "${REDIS_PID[load]}" 2>/dev/null
# Slow enough to last seconds, answering LOADING between keys.
REDIS_ARGS[load]="${REDIS_ARGS[load]} --key-load-delay 20 --loading-process-events-interval-bytes 4096"
restart_redis load
wait_for 300 grep -q 'LOADING' "$TT_TMP/load.err"
check_grep "loading: LOADING was met and retried" "$TT_TMP/load.err" \
    'redis refused [A-Z]+ for .*: LOADING .*retrying with back-off'
wait_for 300 grep -q 'redis takes writes again' "$TT_TMP/load.err"
check_grep "loading: then accepted" "$TT_TMP/load.err" 'redis takes writes again after'
kill -TERM "$TEITEN_PID"
wait "$TEITEN_PID"
check "loading: exit" "$?" 0
check "loading: delivered" "$(jq .redis.delivered "$TT_TMP/load.json")" true
check "loading: every packet in Redis, once" "$(same_as_summary load d)" ""
check "loading: hours too" "$(same_as_summary load h)" ""

# 3. an ACL user without +eval: host records cannot be written
start_redis noeval || exit 1
write_acl "$TT_TMP/redis-noeval/users.acl" 's/ +eval//'
rcli noeval acl load >/dev/null
write_config "$TT_TMP/noeval.conf" id-noeval "${SENSORS[@]}"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/day.pcap" -- \
    --config "$TT_TMP/noeval.conf" --summary "$TT_TMP/noeval.json"
check "no +eval: exit 2" "$TT_RC" 2
check_grep "no +eval: names the command and the rule" "$TT_ERR" \
    "redis refused EVAL for \{src\}: NOPERM.*the ACL user 'teiten' needs \+eval"
check "no +eval: not delivered" "$(jq .redis.delivered "$TT_TMP/noeval.json")" false
# The first flush's sensors and totals committed before its {src} was
# refused: they are in Redis, and not in undelivered_packets.
in_redis=$(redis_all_pkts noeval d)
undelivered=$(jq .redis.undelivered_packets "$TT_TMP/noeval.json")
check "no +eval: some counts committed before the refusal ($in_redis)" \
    "$([ "$in_redis" -gt 0 ] && echo yes)" yes
check "no +eval: in Redis + undelivered = all packets" "$((in_redis + undelivered))" \
    "$(jq .scopes.all.totals.pkts "$TT_TMP/noeval.json")"
check "no +eval: the refused source keys are counted undelivered" \
    "$(jq '.redis.undelivered_source_keys > 0' "$TT_TMP/noeval.json")" true

# 4. stopped while Redis is away: the final flush waits, then delivers
start_redis away --appendonly yes --appendfsync always || exit 1
start_teiten away "net_pcap0,rx_pcap=$TT_TMP/small.pcap,infinite_rx=1"
wait_for 300 flushed_seen away
kill -9 "${REDIS_PID[away]}"
wait "${REDIS_PID[away]}" 2>/dev/null
kill -TERM "$TEITEN_PID"
wait_for 300 grep -q 'signal: stopping' "$TT_TMP/away.err"
# Longer than the 5 s the final flush used to allow.
sleep 6
check "away: still waiting for Redis" "$(kill -0 "$TEITEN_PID" 2>/dev/null && echo yes)" yes
restart_redis away
wait "$TEITEN_PID"
check "away: exit" "$?" 0
check "away: delivered" "$(jq .redis.delivered "$TT_TMP/away.json")" true
check "away: summary = Redis" "$(same_as_summary away d)" ""

# 5. restarted empty mid-run: what it had taken is gone, and that is said
start_redis empty || exit 1
start_teiten empty "net_pcap0,rx_pcap=$TT_TMP/small.pcap,infinite_rx=1"
wait_for 300 flushed_seen empty
kill -9 "${REDIS_PID[empty]}"
wait "${REDIS_PID[empty]}" 2>/dev/null
restart_redis empty
wait_for 300 grep -q 'redis lost data' "$TT_TMP/empty.err"
check_grep "empty: the loss is logged" "$TT_TMP/empty.err" \
    'redis lost data: the flushed record of \{[a-z]+\} (is missing|had vanished)'
# The hash lives 300 ms past each write: what a poll saw is kept.
data_lost_seen() {
    local n
    n=$(rcli empty hget teiten:appliance:id-empty redis_data_lost)
    [ -n "$n" ] && [ "$n" -ge 1 ] && echo yes >"$TT_TMP/empty.lost"
}
wait_for 300 data_lost_seen
check "empty: the health hash says so" "$(cat "$TT_TMP/empty.lost" 2>/dev/null)" yes
kill -TERM "$TEITEN_PID"
wait "$TEITEN_PID"
check "empty: exit" "$?" 0
check "empty: the summary says so" "$(jq '.redis.data_lost >= 1' "$TT_TMP/empty.json")" true

# 6. one id, two appliances: the second is refused
start_redis dup || exit 1
start_teiten dup "net_pcap0,rx_pcap=$TT_TMP/small.pcap,infinite_rx=1"
wait_for 300 flushed_seen dup
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/small.pcap" -- \
    --config "$TT_TMP/dup.conf"
check "same id: the second exits 2" "$TT_RC" 2
check_grep "same id: says why" "$TT_ERR" "appliance id 'id-dup' is in use"
check "same id: the first runs on" "$(kill -0 "$TEITEN_PID" 2>/dev/null && echo yes)" yes
kill -TERM "$TEITEN_PID"
wait "$TEITEN_PID"
check "same id: the first stops cleanly" "$?" 0

# 6b. the instance key of a run that died (nothing refreshes it) holds up a
# start under its id for the key's life; a SIGTERM meanwhile ends the wait
# at once: exit 0, nothing counted, the dead run's key left as it was.
rcli dup SET teiten:appliance:id-held:instance 0123456789abcdef0123456789abcdef \
    PX 600000 >/dev/null
start_teiten held "net_pcap0,rx_pcap=$TT_TMP/small.pcap,infinite_rx=1"
wait_for 300 grep -q 'the instance key of a run that ended lives' "$TT_TMP/held.err"
kill -TERM "$TEITEN_PID"
wait "$TEITEN_PID"
check "held id: a stop while waiting for it exits 0" "$?" 0
check_grep "held id: says so" "$TT_TMP/held.err" \
    "signal: stopped while claiming appliance id 'id-held' in Redis; nothing was counted"
check "held id: did not wait the key out" \
    "$([ "$(rcli dup PTTL teiten:appliance:id-held:instance)" -gt 0 ] && echo yes)" yes

# 7. a week, three sensors, surges, a ramp and DoS: one replay, all of it
need_geoip
"$TEITEN_GEN" --geoip "$TT_GEOIP_DB" --sensor a=192.0.2.0/24 --sensor b=198.51.100.0/24 --sensor c=203.0.113.0/24 \
    --packets 200000 --seed 43 --start 1711929600 --span 604800 --sources 20000 \
    --surge a:tcp/21318:86400:3600:300 --surge all:udp/53:172800:1800:500 --ramp BG:2:100 \
    --dos 2:345600:600:400 --out "$TT_TMP/week.pcap" --truth "$TT_TMP/week.truth" >/dev/null
SENSORS=("a:0:192.0.2.0/24" "b:0:198.51.100.0/24" "c:0:203.0.113.0/24")
start_redis week || exit 1
TT_WITH_GEOIP=1 start_teiten week "net_pcap0,rx_pcap=$TT_TMP/week.pcap"
wait "$TEITEN_PID"
check "week: exit" "$?" 0
check "week: delivered" "$(jq .redis.delivered "$TT_TMP/week.json")" true
check "week: nothing shed" "$(jq '.redis.shed_minute_cells + .redis.shed_hour_cells' \
    "$TT_TMP/week.json")" 0
check "week: no reconnect" "$(grep -c reconnecting "$TT_TMP/week.err")" 0
for kind in h d; do
    check "week: $kind buckets = summary" "$(same_as_summary week $kind)" ""
done
check "week: minute buckets hold every packet" "$(rcli week --raw EVAL "local n = 0
    for _, k in ipairs(redis.call('KEYS', 'teiten:{all}:m:*:totals')) do
    n = n + tonumber(redis.call('HGET', k, 'pkts')) end return n" 0)" \
    "$(jq .scopes.all.totals.pkts "$TT_TMP/week.json")"

# 8. a flood of spoofed Mirai-type sources on a live port, Redis away
"$TEITEN_GEN" --sensor a=100.64.0.0/10 --packets 100000 --flood-mirai \
    --out "$TT_TMP/mflood.pcap" --truth "$TT_TMP/mflood.truth" >/dev/null
start_redis gone || exit 1
stop_redis gone
TT_REDIS_EXTRA=$'backlog_max_mb = 16\nfinal_flush_s = 1\n' \
    write_config "$TT_TMP/gone.conf" id-gone "a:0:100.64.0.0/10"
sed -i 's/^clock = auto$/clock = auto\nrx_mbufs = 110000/' "$TT_TMP/gone.conf"
PREFIX=it_$$_flood
"$TEITEN" --no-huge -m 512 --no-pci --file-prefix=$PREFIX --log-level=lib.eal:error -l 0-1 \
    --vdev "net_pcap0,rx_pcap=$TT_TMP/mflood.pcap,infinite_rx=1" -- \
    --config "$TT_TMP/gone.conf" --summary "$TT_TMP/gone.json" \
    >"$TT_TMP/gone.out" 2>"$TT_TMP/gone.err" &
TEITEN_PID=$!
TT_PIDS+=("$TEITEN_PID")
shed_keys() {
    telemetry "$PREFIX" /teiten/redis '.shed_source_keys // 0'
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$TEITEN_PID/status"; }
more_shed_than() { [ "$(shed_keys)" -gt "$1" ]; }
# The resident size swings by ~36 MiB as each backlog of deltas is built and
# freed: its peaks over two spans of shedding are compared, not two samples.
RSS_PEAK=0
peak_until_shed() {
    local rss
    rss=$(rss_kib)
    [ "${rss:-0}" -gt "$RSS_PEAK" ] && RSS_PEAK=$rss
    more_shed_than "$1"
}
wait_for 300 more_shed_than 0
first=$(shed_keys)
# three more rounds of shedding, then as many again: the deltas keep coming,
# the memory does not grow
wait_for 300 peak_until_shed $((first * 4))
rss1=$RSS_PEAK
RSS_PEAK=0
wait_for 300 peak_until_shed $((first * 8))
rss2=$RSS_PEAK
check "flood: source deltas shed past backlog_max_mb ($(shed_keys) keys)" \
    "$([ "$(shed_keys)" -gt $((first * 8)) ] && echo yes)" yes
# (ASan holds freed memory in its quarantine: memory is measured without it)
if [ -z "${ASAN_OPTIONS:-}" ]; then
    check "flood: resident memory flat while shedding (peaks ${rss1} -> ${rss2} KiB)" \
        "$([ "$rss2" -le $((rss1 + 32768)) ] && echo yes)" yes
fi
kill -TERM "$TEITEN_PID"
wait "$TEITEN_PID"
check "flood: exit 1, not everything delivered" "$?" 1
check "flood: the summary names the keys shed" \
    "$(jq '.redis.shed_source_keys > 0 and .redis.delivered == false' "$TT_TMP/gone.json")" true
check_grep "flood: the final flush says what it could not deliver" "$TT_TMP/gone.err" \
    'final flush: .*: the counts of [0-9]+ packets and [0-9]+ source keys were not delivered'

finish
