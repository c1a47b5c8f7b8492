#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The /teiten/* telemetry commands and scripts/teiten-console, on a running
# appliance replaying a generated capture of two hours. Every figure is held
# against the generator's truth or against what the same run published to
# Redis (the commands and the publisher read the same worker shards). The
# replies are read with DPDK's own dpdk-telemetry.py, which exits 0 even when
# it cannot connect, so every check parses its JSON.
. "$(dirname "$0")/lib.sh"

CONSOLE=$TT_SOURCE_ROOT/scripts/teiten-console
command -v dpdk-telemetry.py >/dev/null || skip "dpdk-telemetry.py is not installed"
command -v tmux >/dev/null || skip "tmux is not installed"

PREFIX=it_$$_tel
START=1711929600                        # 2024-04-01T00:00:00Z
"$TEITEN_GEN" --sensor tokyo-a=192.0.2.0/25+2001:db8:1::/64 \
    --sensor osaka.b=198.51.100.0/24 --packets 40000 --seed 21 --start $START \
    --span 7200 --out "$TT_TMP/g.pcap" --truth "$TT_TMP/g.json" --config "$TT_TMP/g.conf" \
    >/dev/null
check "generator: exit" "$?" 0
start_redis main || exit 1
printf '[redis]\nhost = 127.0.0.1\nport = %s\nflush_interval_ms = 200\n' \
    "$TT_REDIS_PORT" >>"$TT_TMP/g.conf"
TRUTH=$TT_TMP/g.json
truth() { jq -r "$1" "$TRUTH"; }

# tq COMMAND JQ: a field of the command's reply (the reply is keyed by the
# command without its parameters).
tq() {
    telemetry "$PREFIX" "$@"
}

"$TEITEN" --no-huge -m 256 --no-pci --file-prefix="$PREFIX" --log-level=lib.eal:error \
    -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/g.pcap" -- --config "$TT_TMP/g.conf" \
    --duration 3600 --summary "$TT_TMP/s.json" >"$TT_TMP/run.out" 2>&1 &
TEITEN_PID=$!
TT_PIDS+=("$TEITEN_PID")

PACKETS=$(truth .packets)
DARK=$(truth .scopes.all.totals.pkts)
settled() {
    [ "$(tq /teiten/workers '."worker/0".rx_pkts')" == "$PACKETS" ] &&
        [ "$(tq /teiten/classes '.run.pkts')" == "$DARK" ] &&
        [ "$(tq /teiten/redis '.backlog_cells')" == 0 ]
}
wait_for 300 settled
check "the replay is counted and published" "$?" 0

# /teiten/info
check "info: appliance" "$(tq /teiten/info .appliance)" gen-1
check "info: sensors" "$(tq /teiten/info .sensors)" 2
check "info: no sensor retired without a reload" "$(tq /teiten/info .sensors_retired)" 0
check "info: workers" "$(tq /teiten/info .workers)" 1
check "info: clock of a replay" "$(tq /teiten/info .clock)" packet
check "info: version" "$(tq /teiten/info .version)" "$(sed -n "s/^ *version: '\(.*\)',/\1/p" \
    "$TT_SOURCE_ROOT/meson.build")"
check "info: parameters are refused" "$(tq /teiten/info,x .error)" \
    "/teiten/info takes no parameters"

# /teiten/workers and the standard /ethdev/stats beside it
check "workers: rx packets" "$(tq /teiten/workers '."worker/0".rx_pkts')" "$PACKETS"
check "workers: parse errors are the malformed frames" \
    "$(tq /teiten/workers '."worker/0".parse_errors')" "$(truth .malformed)"
check "workers: not dark" "$(tq /teiten/workers '."worker/0".not_dark')" "$(truth .not_dark)"
check "workers: port rx" "$(tq /teiten/workers '."port/0".ipackets')" "$PACKETS"
check "workers: port misses" "$(tq /teiten/workers '."port/0".imissed')" 0
check "workers: cycles per packet measured" \
    "$(tq /teiten/workers '."worker/0".cycles_per_packet_run > 0')" true
idle() { [ "$(tq /teiten/workers '."worker/0".pps')" == 0 ]; }
wait_for 60 idle
check "workers: idle after the replay (pps over the last second)" "$?" 0
check "workers: a bad index is refused" "$(tq /teiten/workers,x '.error | length > 0')" true
check "/ethdev/stats,0 still answers" "$(tq /ethdev/stats,0 .ipackets)" "$PACKETS"

# /teiten/sensors: busiest first, run packets from the truth
for s in tokyo-a osaka.b; do
    check "sensors: $s packets" \
        "$(tq /teiten/sensors "[.name, .pkts] | transpose[] | select(.[0] == \"$s\") | .[1]")" \
        "$(truth ".scopes[\"$s\"].totals.pkts")"
done
BUSIEST=$(truth '.scopes | del(.all) | to_entries | max_by(.value.totals.pkts) | .key')
check "sensors: the busiest comes first" "$(tq /teiten/sensors '.name[0]')" "$BUSIEST"
check "sensors: a limit of 1" "$(tq /teiten/sensors,1 '[.shown, .more, (.name | length)] | @tsv')" \
    "$(printf '1\t1\t1')"
check "sensors: unique sources today estimated" \
    "$(tq /teiten/sensors '[.srcs_today[] | select(. > 0)] | length')" 2
check "sensors: a limit of 0 is refused" "$(tq /teiten/sensors,0 '.error | length > 0')" true

# /teiten/top: the current hour against the hour buckets teiten wrote to Redis
HOUR=2024040101
PREV=2024040100
check "top: the current hour" "$(tq /teiten/top,service .hour)" 2024-04-01T01:00Z
redis_top() {
    rcli main --raw ZREVRANGE "teiten:{$1}:h:$2:$3" 0 $(($4 - 1)) WITHSCORES | paste -sd' '
}
tel_top() {
    tq "/teiten/top,$1,$2,$3" '[.top, .top_pkts] | transpose[] | "\(.[0]) \(.[1])"' | paste -sd' '
}
check "top: services of the hour = Redis h:$HOUR" "$(tel_top service all 5)" \
    "$(redis_top all $HOUR port 5)"
check "top: services of a sensor = Redis" "$(tel_top service tokyo-a 5)" \
    "$(redis_top tokyo-a $HOUR port 5)"
check "top: countries of a sensor = Redis" "$(tel_top country osaka.b 3)" \
    "$(redis_top osaka.b $HOUR country 3)"
check "top: hour packets = Redis" "$(tq /teiten/top,service .pkts)" \
    "$(rcli main HGET "teiten:{all}:h:$HOUR:totals" pkts)"
check "top: previous hour's packets = Redis" "$(tq /teiten/top,service .prev_pkts)" \
    "$(rcli main HGET "teiten:{all}:h:$PREV:totals" pkts)"
FIRST=$(tq /teiten/top,service,all,1 '.top[0]')
PREV_RANK=$(($(rcli main ZREVRANK "teiten:{all}:h:$PREV:port" "$FIRST") + 1))
check "top: previous-hour rank of $FIRST = Redis" "$(tq /teiten/top,service '.prev_rank[0]')" \
    "$PREV_RANK"
check "top: more + shown = distinct" \
    "$(tq /teiten/top,service,all,3 '.more + (.top | length) == .distinct')" true
for bad in "" "bogus" "service,nowhere" "service,all,0" "service,all,101" "service,all,5,x"; do
    check "top: '$bad' is refused" "$(tq "/teiten/top,$bad" '.error | length > 0')" true
done

# /teiten/classes and /teiten/mirai
for c in backscatter mirai masscan zmap nmap unicorn malformed v6; do
    check "classes: run $c = truth" "$(tq /teiten/classes ".run.$c")" \
        "$(truth ".scopes.all.totals.$c")"
    check "classes: hour $c = Redis" "$(tq /teiten/classes ".hour.$c")" \
        "$(rcli main HGET "teiten:{all}:h:$HOUR:totals" $c | sed 's/^$/0/')"
done
check "classes: of a sensor" "$(tq /teiten/classes,tokyo-a .run.mirai)" \
    "$(truth '.scopes["tokyo-a"].totals.mirai')"
check "classes: an unknown scope is refused" "$(tq /teiten/classes,nowhere '.error | length > 0')" \
    true
check "mirai: today's packets" "$(tq /teiten/mirai .today.pkts)" "$(truth .scopes.all.totals.mirai)"
check "mirai: the hour's top port = Redis" "$(tq /teiten/mirai '.top_ports[0]')" \
    "$(rcli main ZREVRANGE "teiten:{all}:h:$HOUR:port:mirai" 0 0)"
check "mirai: today's sources = PFCOUNT" "$(tq /teiten/mirai .today.srcs)" \
    "$(rcli main PFCOUNT "teiten:{all}:d:20240401:srcs:mirai")"
check "mirai: confirmed sources" "$(tq /teiten/mirai '.confirmed_sources > 0')" true

# /teiten/redis
check "redis: connected" "$(tq /teiten/redis .connected)" yes
check "redis: flushes committed" "$(tq /teiten/redis '.flush_seq > 0')" true
check "redis: no errors" "$(tq /teiten/redis .errors)" 0
check "redis: nothing held back" "$(tq /teiten/redis '[.backlog_cells, .backlog_bytes] | @tsv')" \
    "$(printf '0\t0')"
check "redis: flush sequence = health hash" "$(tq /teiten/redis .flush_seq)" \
    "$(rcli main HGET "teiten:appliance:gen-1" flush_seq)"

# teiten-console --once
"$CONSOLE" --file-prefix "$PREFIX" --once >"$TT_TMP/once.txt" 2>&1
check "console --once: exit" "$?" 0
check_grep "console --once: the hour's top service" "$TT_TMP/once.txt" \
    "^  $FIRST +$(tq /teiten/top,service '.top_pkts[0]') "
check_grep "console --once: the busiest sensor" "$TT_TMP/once.txt" \
    "^  $BUSIEST +0 +$(truth ".scopes[\"$BUSIEST\"].totals.pkts") "
check_grep "console --once: Redis connected" "$TT_TMP/once.txt" "^REDIS .* connected"
"$CONSOLE" --file-prefix "$PREFIX" --once --scope nowhere >"$TT_TMP/bad.txt" 2>&1
check "console --once: an unknown scope fails" "$?" 1
check_grep "console --once: and says why" "$TT_TMP/bad.txt" "no sensor 'nowhere'"
"$CONSOLE" --file-prefix it_$$_absent --once >"$TT_TMP/absent.txt" 2>&1
check "console: no appliance is an error" "$?" 1
check_grep "console: and says where it looked" "$TT_TMP/absent.txt" \
    "cannot connect to /var/run/dpdk/it_$$_absent/dpdk_telemetry.v2"

# teiten-console live, in a detached tmux of its own
TMUX_SOCK=tt_$$
trap 'for s in "" _2 _3; do tmux -L "$TMUX_SOCK$s" kill-server 2>/dev/null; done
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$TMUX_SOCK"*; cleanup' EXIT
tmux -L "$TMUX_SOCK" new-session -d -x 180 -y 60 \
    "$CONSOLE --file-prefix $PREFIX --interval 0.5; sleep 30"
screen_has() { tmux -L "$TMUX_SOCK" capture-pane -p | grep -qE -- "$1"; }
# the panes of the second and third consoles, on tmux servers of their own
screen2_has() { tmux -L "${TMUX_SOCK}_2" capture-pane -p | grep -qE -- "$1"; }
screen3_has() { tmux -L "${TMUX_SOCK}_3" capture-pane -p | grep -qE -- "$1"; }
wait_for 60 screen_has "^  $FIRST +[0-9]+"
check "console: the screen shows the top service $FIRST" "$?" 0
wait_for 60 screen_has "^  $BUSIEST +0 "
check "console: the screen shows the busiest sensor" "$?" 0
tmux -L "$TMUX_SOCK" send-keys s
wait_for 60 screen_has "scope osaka.b"
check "console: s moves to the first sensor's scope" "$?" 0
wait_for 60 screen_has "TOP THIS HOUR \(2024-04-01T01:00Z, osaka.b: $(tq /teiten/top,service,osaka.b .pkts) packets"
check "console: the scope's own hour" "$?" 0
tmux -L "$TMUX_SOCK" capture-pane -p >"$TT_TMP/screen.txt"
tmux -L "$TMUX_SOCK" send-keys q
wait_for 60 bash -c "! tmux -L $TMUX_SOCK capture-pane -p | grep -q 'TOP THIS HOUR'"
check "console: q quits" "$?" 0
tmux -L "$TMUX_SOCK" kill-server 2>/dev/null

# A terminal too small for the screen says what it hides.
tmux -L "${TMUX_SOCK}_3" new-session -d -x 80 -y 20 \
    "$CONSOLE --file-prefix $PREFIX --interval 0.5; sleep 30"
wait_for 60 screen3_has "^[0-9]+ lines hidden: .*REDIS"
check "console, 80x20: names the hidden sections" "$?" 0
wait_for 60 screen3_has "[0-9]+ lines? cut at 80 columns"
check "console, 80x20: says lines are cut at its width" "$?" 0
tmux -L "${TMUX_SOCK}_3" capture-pane -p >"$TT_TMP/small.txt"
sed 's/^/     | /' "$TT_TMP/small.txt" | tail -4
tmux -L "${TMUX_SOCK}_3" kill-server 2>/dev/null

# + and - take effect at once: the refresh is 16 s away, the screen shows
# the new interval within 8 s.
tmux -L "${TMUX_SOCK}_2" new-session -d -x 180 -y 60 \
    "$CONSOLE --file-prefix $PREFIX --interval 16 2>$TT_TMP/gone.err; echo \$? >$TT_TMP/gone.rc; sleep 60"
wait_for 120 screen2_has "^  $FIRST +[0-9]+"
check "console: watching again" "$?" 0
tmux -L "${TMUX_SOCK}_2" send-keys +
wait_for 8 screen2_has "refresh 32 s"
check "console: + redraws at once" "$?" 0
for _ in 1 2 3 4 5 6; do tmux -L "${TMUX_SOCK}_2" send-keys -- -; done
wait_for 8 screen2_has "refresh 0.5 s"
check "console: - redraws at once" "$?" 0

# After the stop: the summary agrees with what telemetry said of the run.
RUN_MIRAI=$(tq /teiten/classes .run.mirai)
RECORD_OFF=$(tq /teiten/workers '."worker/0".hll_record_off_pkts')
DELTAS_DROPPED=$(tq /teiten/workers '."worker/0".source_deltas_dropped')
kill -INT "$TEITEN_PID"
wait "$TEITEN_PID"
check "teiten: exit after SIGINT" "$?" 0
check "summary: run mirai = telemetry" "$(sj "$TT_TMP/s.json" .scopes.all.totals.mirai)" \
    "$RUN_MIRAI"
# Mostly new sources in each minute: the record of registers turns off for some of
# them, how many depends on when the control plane takes the shards.
check "summary: packets with the record off = telemetry" \
    "$(sj "$TT_TMP/s.json" .workers.hll_record_off_pkts)" "$RECORD_OFF"
check "telemetry: packets with the record off, a count" "$([[ $RECORD_OFF =~ ^[0-9]+$ ]]; echo $?)" 0
# A replay waits for the swap rather than fill its deltas, so both are 0 here;
# test_dataplane.c fills them live.
check "summary: source deltas dropped = telemetry" \
    "$(sj "$TT_TMP/s.json" .sources.deltas_dropped)" "$DELTAS_DROPPED"

# The console watching it waits for the appliance instead of exiting...
wait_for 120 screen2_has "waiting for teiten"
check "console: says it waits when the appliance stops" "$?" 0
check_grep "console: and why" <(tmux -L "${TMUX_SOCK}_2" capture-pane -p) \
    "^teiten is not answering on /var/run/dpdk/$PREFIX/dpdk_telemetry.v2"
check "console: still running" "$([ -s "$TT_TMP/gone.rc" ] && echo exited || echo running)" running
# ... and picks it up again when it returns.
"$TEITEN" --no-huge -m 256 --no-pci --file-prefix="$PREFIX" --log-level=lib.eal:error \
    -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/g.pcap" -- --config "$TT_TMP/g.conf" \
    --duration 3600 >"$TT_TMP/run2.out" 2>&1 &
TEITEN_PID=$!
TT_PIDS+=("$TEITEN_PID")
wait_for 120 screen2_has "teiten restarted \(pid $TEITEN_PID\)"
check "console: reconnects to the restarted appliance" "$?" 0
wait_for 120 screen2_has "^  $FIRST +[0-9]+"
check "console: and shows it again" "$?" 0
tmux -L "${TMUX_SOCK}_2" send-keys q
wait_for 60 test -s "$TT_TMP/gone.rc"
check "console: q quits after a reconnect, exit 0" "$(cat "$TT_TMP/gone.rc" 2>/dev/null)" 0
tmux -L "${TMUX_SOCK}_2" kill-server 2>/dev/null
kill -INT "$TEITEN_PID"
wait "$TEITEN_PID"
check "teiten, second run: exit after SIGINT" "$?" 0

finish
