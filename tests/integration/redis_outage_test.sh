#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Redis going away, seven ways, each compared with an undisturbed run:
#  1. SIGKILL mid-replay, restarted from its append-only file (appendfsync
#     always, so what it acknowledged survives): contents equal, to the count;
#  2. SIGSTOP until the publisher gives up on a reply and reconnects, then
#     SIGCONT: equal;
#  3. unreachable at start: the appliance runs and backs up, then delivers;
#  4. a backlog_max_mb smaller than one interval's minute cells sheds minute
#     data only, says how much in cells and packets, reports the run as not
#     delivered (exit 1), and hours and days stay whole;
#  5. restarted empty, its client ids from 1 again: a bystander that now
#     holds a broken connection's old id keeps its connection when the
#     appliance reconnects (which kills only its own old client);
#  6. frozen (SIGSTOP) at the stop: the final flush gives up on the reply it
#     waits for when [redis] final_flush_s ends, however long that reply
#     could take, and says what may not have been delivered;
#  7. refusing every write (OOM) at the stop: the final flush retries until
#     final_flush_s, and the appliance id's instance key is still given back;
#  8. a replay that stops while a frozen Redis holds it back: the last
#     interval waits for the publisher within final_flush_s, so the backlog
#     cap sheds minutes only and hours and days stay whole.
. "$(dirname "$0")/lib.sh"

"$TEITEN_GEN" --sensor a=192.0.2.0/24+2001:db8:1::/64 --sensor b=198.51.100.0/24 \
    --packets 300000 --seed 21 --start 1711929600 --span 3600 \
    --out "$TT_TMP/g.pcap" --truth "$TT_TMP/g.truth" >/dev/null
# 16 passes over the file (net_pcap's most queues; 4.8M packets, about 4 s)
# leave time to interfere
VDEV=net_pcap0
for _ in $(seq 1 16); do
    VDEV="$VDEV,rx_pcap=$TT_TMP/g.pcap"
done
SENSORS=("a:0:192.0.2.0/24, 2001:db8:1::/64" "b:0:198.51.100.0/24")

# start_teiten NAME: in the background on the capture; pid in TEITEN_PID
start_teiten() {
    write_config "$TT_TMP/$1.conf" "out-$1" "${SENSORS[@]}"
    timeout 600 "$TEITEN" $(eal_opts) -l 0-1 --vdev "$VDEV" -- \
        --config "$TT_TMP/$1.conf" --summary "$TT_TMP/$1.json" \
        >"$TT_TMP/$1.out" 2>"$TT_TMP/$1.err" &
    TEITEN_PID=$!
    TT_PIDS+=("$TEITEN_PID")
}

# 0. undisturbed
start_redis base || exit 1
start_teiten base
wait "$TEITEN_PID"
check "undisturbed: exit" "$?" 0
redis_dump base >"$TT_TMP/base.dump"
check "undisturbed: Redis holds data" "$([ "$(wc -l <"$TT_TMP/base.dump")" -gt 1000 ] && echo yes)" yes
flushes=$(jq .redis.flushes "$TT_TMP/base.json")
check "undisturbed: several flushes ($flushes)" "$([ "$flushes" -ge 3 ] && echo yes)" yes

# 1. SIGKILL and restart from the AOF, mid-replay
start_redis kill --appendonly yes --appendfsync always || exit 1
start_teiten kill
wait_for 300 flushed_seen kill
check "kill: first flush landed before the kill" "$(flushed_seen kill && echo yes)" yes
kill -9 "${REDIS_PID[kill]}"
wait "${REDIS_PID[kill]}" 2>/dev/null
check "kill: the replay was still running" "$(kill -0 "$TEITEN_PID" 2>/dev/null && echo yes)" yes
sleep 1
restart_redis kill
wait "$TEITEN_PID"
check "kill: exit" "$?" 0
check "kill: delivered" "$(jq .redis.delivered "$TT_TMP/kill.json")" true
check_grep "kill: the lost connection was logged" "$TT_TMP/kill.err" 'reconnecting'
redis_dump kill >"$TT_TMP/kill.dump"
check "kill: Redis equals the undisturbed run" \
    "$(diff "$TT_TMP/base.dump" "$TT_TMP/kill.dump" | head -5)" ""

# 2. SIGSTOP past the reply timeout (2 s and more for a big transaction)
start_redis stop || exit 1
start_teiten stop
wait_for 300 flushed_seen stop
kill -STOP "${REDIS_PID[stop]}"
check "stop: the replay was still running" "$(kill -0 "$TEITEN_PID" 2>/dev/null && echo yes)" yes
wait_for 300 grep -q reconnecting "$TT_TMP/stop.err"
kill -CONT "${REDIS_PID[stop]}"
wait "$TEITEN_PID"
check "stop: exit" "$?" 0
check_grep "stop: the timeout was logged" "$TT_TMP/stop.err" 'reconnecting'
check "stop: errors counted" "$([ "$(jq .redis.errors "$TT_TMP/stop.json")" -gt 0 ] && echo yes)" yes
redis_dump stop >"$TT_TMP/stop.dump"
check "stop: Redis equals the undisturbed run" \
    "$(diff "$TT_TMP/base.dump" "$TT_TMP/stop.dump" | head -5)" ""

# 3. unreachable at start: a live loop keeps running, then delivers
"$TEITEN_GEN" --sensor a=192.0.2.0/24 --packets 2000 --seed 23 \
    --out "$TT_TMP/small.pcap" --truth "$TT_TMP/small.truth" >/dev/null
# start_loop NAME: the small capture looped, like a live port, in the
# background until told to stop (SIGTERM); pid in $pid
start_loop() {
    write_config "$TT_TMP/$1.conf" "out-$1" "a:0:0.0.0.0/0"
    timeout 600 "$TEITEN" $(eal_opts) -l 0-1 \
        --vdev "net_pcap0,rx_pcap=$TT_TMP/small.pcap,infinite_rx=1" -- \
        --config "$TT_TMP/$1.conf" --summary "$TT_TMP/$1.json" \
        >"$TT_TMP/$1.out" 2>"$TT_TMP/$1.err" &
    pid=$!
    TT_PIDS+=("$pid")
}
start_redis late || exit 1
stop_redis late
start_loop late
wait_for 300 grep -q 'backing up in memory and retrying' "$TT_TMP/late.err"
check "late: still running without Redis" "$(kill -0 "$pid" 2>/dev/null && echo yes)" yes
check_grep "late: says it backs up" "$TT_TMP/late.err" 'backing up in memory and retrying'
restart_redis late
wait_for 300 flushed_seen late
check "late: data arrives once Redis is up" "$(flushed_seen late && echo yes)" yes
kill -TERM "$pid"
wait "$pid"
check "late: exit" "$?" 0
check "late: delivered" "$(jq .redis.delivered "$TT_TMP/late.json")" true
redis_scopes late d >"$TT_TMP/late.d.json"
check "late: summary = Redis, backlog included" \
    "$(compare_redis "$TT_TMP/late.json" "$TT_TMP/late.d.json" | head -3)" ""

# 4. backlog cap: a week of minutes in one interval, 8 MiB allowed
"$TEITEN_GEN" --sensor a=192.0.2.0/24 --packets 100000 --seed 22 --start 1711929600 \
    --span 604800 --out "$TT_TMP/week.pcap" --truth "$TT_TMP/week.truth" >/dev/null
start_redis shed || exit 1
stop_redis shed
TT_FLUSH_MS=2000 TT_REDIS_EXTRA=$'backlog_max_mb = 8\n' \
    write_config "$TT_TMP/shed.conf" out-shed "a:0:192.0.2.0/24"
timeout 600 "$TEITEN" $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/week.pcap" -- \
    --config "$TT_TMP/shed.conf" --summary "$TT_TMP/shed.json" \
    >"$TT_TMP/shed.out" 2>"$TT_TMP/shed.err" &
pid=$!
TT_PIDS+=("$pid")
sleep 3
restart_redis shed
wait "$pid"
check "shed: exit 1, not everything delivered" "$?" 1
check "shed: summary says not delivered" "$(jq .redis.delivered "$TT_TMP/shed.json")" false
cells=$(jq .redis.shed_minute_cells "$TT_TMP/shed.json")
check "shed: minute cells shed ($cells)" "$([ "$cells" -gt 0 ] && echo yes)" yes
check "shed: their packets named" "$(jq '.redis.shed_minute_packets > 0' "$TT_TMP/shed.json")" true
check "shed: no hour cell shed" "$(jq .redis.shed_hour_cells "$TT_TMP/shed.json")" 0
check_grep "shed: logged with the amount" "$TT_TMP/shed.err" \
    'shed so far: minute buckets \([0-9]+ cells, [0-9]+ packets\), source keys [0-9]+, hour buckets \(0 cells, 0 packets\)'
check "shed: health hash says so" \
    "$([ "$(rcli shed hget teiten:appliance:out-shed shed_minute_cells)" -gt 0 ] && echo yes)" yes
for kind in d h; do
    redis_scopes shed $kind >"$TT_TMP/shed.$kind.json"
    check "shed: $kind: buckets whole" \
        "$(compare_redis "$TT_TMP/shed.json" "$TT_TMP/shed.$kind.json" | head -3)" ""
done
mpkts=$(redis_all_pkts shed m)
check "shed: minute buckets lost some ($mpkts < 100000 attributed)" \
    "$([ "$mpkts" -lt "$(jq .scopes.all.totals.pkts "$TT_TMP/shed.json")" ] && echo yes)" yes

# 5. a restarted Redis reuses client ids
# hold_ids NAME ID...: open connections to Redis NAME until the highest ID
# is handed out, keeping those that got one of the IDs (their descriptors in
# HELD); true if every ID is held, false if another client took one first.
hold_ids() {
    local name=$1 fd line id max=0 want got=0
    shift
    for want in "$@"; do [ "$want" -gt "$max" ] && max=$want; done
    HELD=()
    while :; do
        exec {fd}<>"/dev/tcp/127.0.0.1/${REDIS_PORT[$name]}" || return 1
        printf 'CLIENT ID\r\n' >&"$fd"
        read -r -t 30 line <&"$fd" || return 1
        id=${line//[^0-9]/}
        [ -n "$id" ] || return 1         # an error, not an id
        if [[ " $* " == *" $id "* ]]; then
            HELD+=("$fd")
            got=$((got + 1))
        else
            exec {fd}>&-
        fi
        [ "$id" -ge "$max" ] && break
    done
    [ "$got" -eq $# ]
}
# teiten_ids NAME: the client ids of the appliance's connections to Redis
# NAME (ACL user teiten); false while it has none.
teiten_ids() {
    rcli "$1" client list | sed -n 's/^id=\([0-9]*\) .* user=teiten .*/\1/p' | grep .
}
# logged_more PATTERN N: the appliance's log (case 5's) has more than N such lines
logged_more() {
    [ "$(grep -c "$1" "$TT_TMP/reuse.err")" -gt "$2" ]
}
start_redis reuse || exit 1
start_loop reuse
wait_for 300 flushed_seen reuse
held=no
# The appliance is frozen (SIGSTOP) while Redis restarts and the bystander
# takes the ids, so it cannot reconnect first however loaded the machine.
# A round fails when another client (the restart's own ping) took one of
# the ids; another restart tries again.
for round in 1 2 3 4 5; do
    wait_for 300 teiten_ids reuse
    # shellcheck disable=SC2207
    ids=($(teiten_ids reuse))
    broken=$(grep -c reconnecting "$TT_TMP/reuse.err")
    connected=$(grep -c ': connected' "$TT_TMP/reuse.err")
    kill -9 "${REDIS_PID[reuse]}"
    wait "${REDIS_PID[reuse]}" 2>/dev/null
    wait_for 300 logged_more reconnecting "$broken"
    pkill -STOP -P "$pid"              # the appliance, under timeout(1)
    restart_redis reuse
    if [ ${#ids[@]} -gt 0 ] && hold_ids reuse "${ids[@]}" &&
            ! logged_more ': connected' "$connected"; then
        held=yes
    fi
    pkill -CONT -P "$pid"
    [ "$held" = yes ] && break
    for fd in "${HELD[@]}"; do exec {fd}>&-; done
    wait_for 300 flushed_seen reuse
done
check "reuse: a bystander holds the old ids (${ids[*]}) before the appliance is back" "$held" yes
wait_for 300 flushed_seen reuse
check "reuse: the appliance delivers again" "$(flushed_seen reuse && echo yes)" yes
alive=0
for fd in "${HELD[@]}"; do
    printf 'PING\r\n' >&"$fd" 2>/dev/null && read -r -t 5 line <&"$fd" &&
        [ "${line%$'\r'}" = +PONG ] && alive=$((alive + 1))
    exec {fd}>&-
done
check "reuse: the bystander's connections are alive" "$alive" "${#HELD[@]}"
kill -TERM "$pid"
wait "$pid"

# 6. frozen at the stop. Redis stops just before the SIGTERM, so the wait of
# the final flush (or of a flush sent just before) outlasts final_flush_s =
# 1: every reply wait allows 2 s and more. Before waits obeyed the stop, a
# flush's reply wait ran its course past the deadline (25 s measured).
start_redis frozen || exit 1
TT_REDIS_EXTRA=$'final_flush_s = 1\n' start_loop frozen
wait_for 300 flushed_seen frozen
kill -STOP "${REDIS_PID[frozen]}"
kill -TERM "$pid"
wait "$pid"
check "frozen: exit (not delivered)" "$?" 1
kill -CONT "${REDIS_PID[frozen]}"
check_grep "frozen: the deadline cut off the wait on Redis" "$TT_TMP/frozen.err" \
    'no time left for the final flush \(\[redis\] final_flush_s\)'
check_grep "frozen: says Redis may still commit what it was sent" "$TT_TMP/frozen.err" \
    'Redis may have committed it or may still commit it'
check "frozen: not delivered" "$(jq .redis.delivered "$TT_TMP/frozen.json")" false
check "frozen: the undelivered figures are upper bounds" \
    "$(jq .redis.undelivered_upper_bound "$TT_TMP/frozen.json")" true
# Redis may commit the transaction it was sent once it runs again, or not:
# either way nothing is counted twice or lost without a word.
in_redis=$(redis_all_pkts frozen d)
undelivered=$(jq .redis.undelivered_packets "$TT_TMP/frozen.json")
all=$(jq .scopes.all.totals.pkts "$TT_TMP/frozen.json")
check "frozen: some packets reported undelivered ($undelivered)" \
    "$([ "$undelivered" -gt 0 ] && echo yes)" yes
check "frozen: Redis ($in_redis) <= all ($all) <= Redis + undelivered" \
    "$([ "$in_redis" -le "$all" ] && [ "$all" -le $((in_redis + undelivered)) ] && echo yes)" yes

# 7. OOM at the stop. A retry that began just before the deadline, or the
# instance key's release after it, must not find the time gone and drop the
# connection: the key would then hold up the next run's start (15 s).
start_redis oom || exit 1
TT_REDIS_EXTRA=$'final_flush_s = 1\n' start_loop oom
wait_for 300 flushed_seen oom
rcli oom CONFIG SET maxmemory 1 >/dev/null
wait_for 300 grep -q OOM "$TT_TMP/oom.err"
kill -TERM "$pid"
wait "$pid"
check "oom: exit (not delivered)" "$?" 1
# Redis answered every transaction (refusing it): nothing of it can commit later.
check "oom: the undelivered figures are exact" \
    "$(jq .redis.undelivered_upper_bound "$TT_TMP/oom.json")" false
check "oom: the instance key was given back" \
    "$(rcli oom PTTL teiten:appliance:out-oom:instance)" -2
rcli oom CONFIG SET maxmemory 0 >/dev/null

# 8. behind at the stop. Each interval of the week's replay holds ~28 MiB of
# minute cells (shed at once) and ~3.4 MiB of hours and source deltas. With
# Redis frozen after the first flush the replay is held back within an
# interval or two: a batch in flight and one waiting, or Redis away. The
# stop comes then, or the replay (16 passes) ends by itself held back.
# Handed over at once, the last interval would take the backlog past 8 MiB
# and shed hours; it waits for the publisher instead.
start_redis behind || exit 1
PREFIX=it_$$_behind
TT_FLUSH_MS=2000 TT_REDIS_EXTRA=$'backlog_max_mb = 8\nfinal_flush_s = 300\n' \
    write_config "$TT_TMP/behind.conf" out-behind "a:0:192.0.2.0/24"
timeout 600 "$TEITEN" --no-huge -m 256 --no-pci --file-prefix="$PREFIX" \
    --log-level=lib.eal:error -l 0-1 \
    --vdev "net_pcap0$(printf ',rx_pcap=%s' "$TT_TMP/week.pcap"{,,,}{,,,})" -- \
    --config "$TT_TMP/behind.conf" --summary "$TT_TMP/behind.json" \
    >"$TT_TMP/behind.out" 2>"$TT_TMP/behind.err" &
pid=$!
TT_PIDS+=("$pid")
# held_back: the replay waits for the publisher (tt_control_replay_throttled())
held_back() {
    [ "$(telemetry "$PREFIX" /teiten/redis \
        '.state != "ok" or .backlog_bytes > .backlog_max_bytes / 2')" = true ]
}
# ... or it has ended so, and its last interval waits (telemetry is closed)
last_waits() { grep -q 'the last interval waits for the publisher' "$TT_TMP/behind.err"; }
wait_for 300 flushed_seen behind
kill -STOP "${REDIS_PID[behind]}"
wait_for 300 eval 'last_waits || held_back'
check "behind: the replay is held back" "$( (last_waits || held_back) && echo yes)" yes
kill -TERM "$pid"                      # the stop, unless it has ended by itself
wait_for 300 last_waits
check_grep "behind: the last interval waits" "$TT_TMP/behind.err" \
    'the last interval waits for the publisher to catch up \(within final_flush_s = 300 s\)'
kill -CONT "${REDIS_PID[behind]}"
wait "$pid"
check "behind: exit 1 (minutes shed)" "$?" 1
check "behind: minute cells shed" \
    "$(jq '.redis.shed_minute_cells > 0' "$TT_TMP/behind.json")" true
check "behind: no hour cell shed" "$(jq .redis.shed_hour_cells "$TT_TMP/behind.json")" 0
check "behind: no source key shed" "$(jq .redis.shed_source_keys "$TT_TMP/behind.json")" 0
check "behind: nothing left undelivered" \
    "$(jq .redis.undelivered_packets "$TT_TMP/behind.json")" 0
for kind in d h; do
    redis_scopes behind $kind >"$TT_TMP/behind.$kind.json"
    check "behind: $kind: buckets whole" \
        "$(compare_redis "$TT_TMP/behind.json" "$TT_TMP/behind.$kind.json" | head -3)" ""
done

finish
