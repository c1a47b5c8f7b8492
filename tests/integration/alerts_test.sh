#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Alerts end to end (DESIGN.md section 7), on the real binary and Redis:
#  1. every event the generator injects (a local and a broad surge, a
#     country's climb, a new Mirai-type port, a DoS victim at home, a surge
#     of home Mirai-type sources) alerts with the right kind, scope, subject
#     and breadth, in time: within 3 replayed minutes of its window for
#     minute detectors, by the end of the next hour for hour detectors; for
#     two seeds;
#  2. the stream and its pub/sub copy carry the same entries;
#  3. Redis killed in the middle of the replay: the stream afterwards equals
#     the undisturbed run's, entry for entry; /teiten/alerts shows them while
#     the appliance waits for Redis;
#  4. a steady week (the rate swinging 40% over each day, a long tail of
#     ports and sources, no event) raises at most one alert an appliance-day
#     after its first day.
. "$(dirname "$0")/lib.sh"
need_geoip

S0=1711929600
gen() {
    local seed=$1
    shift
    "$TEITEN_GEN" --sensor tokyo-a=192.0.2.0/25+2001:db8:1::/64 \
        --sensor tokyo-b=198.51.100.0/24 --sensor osaka=203.0.113.0/24 \
        --packets 300000 --seed "$seed" --start $S0 --span 86400 --sources 3000 \
        --geoip "$TT_GEOIP_DB" --home JP --home-share 150 \
        --surge tokyo-b:tcp/21318:36000:3600:250 --surge all:udp/53:61200:1800:600 \
        --ramp BG:2:80 --mirai-port 22:43200 --dos 1:28800:1200:900 \
        --home-mirai-surge 68400:3600:150 "$@"
}

# stream NAME: the alerts stream as JSON lines, one object an entry, ids left out
stream() {
    rcli "$1" --raw XRANGE teiten:alerts - + | python3 -c '
import json, sys
lines = sys.stdin.read().split("\n")
for i in range(0, len(lines) - 22, 23):
    kv = lines[i + 1:i + 23]
    print(json.dumps(dict(zip(kv[0::2], kv[1::2])), sort_keys=True))'
}

# matched EVENTS-JSON STREAM-JSONL: one line per injected event, "ok ..." when
# an alert of its kind, scope, subject (and breadth for a surge) fell in time
matched() {
    python3 - "$1" "$2" <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))["events"]
alerts = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
for e in events:
    def fits(a):
        if (a["kind"], a["scope"], a["subject"]) != (e["kind"], e["scope"], e["subject"]):
            return False
        if e["breadth"] and a["breadth"] != e["breadth"]:
            return False
        ts, slack = int(a["ts"]), 180 if a["res"] == "m" else 7200
        return e["start"] - 3600 <= ts <= e["end"] + slack
    hits = [a for a in alerts if fits(a)]
    first = min((int(a["ts"]) - e["start"] for a in hits), default=None)
    print("%s %s %s %s %s%s" % ("ok" if hits else "MISSED", e["kind"], e["scope"],
        e["subject"], e["breadth"] or "-",
        "" if first is None else " (first alert %+d s from the start)" % first))
PY
}

# replay NAME PCAP: into the Redis NAME, clock = packet, in the foreground
replay() {
    run_teiten $(TT_MEM=512 eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$2" -- \
        --config "$TT_TMP/$1.conf" --summary "$TT_TMP/$1.json"
}

for seed in 11 12; do
    gen $seed --out "$TT_TMP/s$seed.pcap" --truth "$TT_TMP/s$seed.truth" \
        --config "$TT_TMP/s$seed.base" >/dev/null
    start_redis "s$seed" || exit 1
    { cat "$TT_TMP/s$seed.base"
      printf '[redis]\nport = %s\nflush_interval_ms = 200\nuser = teiten\npassword_file = %s\n' \
          "$TT_REDIS_PORT" "$TT_TMP/teiten.pass"; } >"$TT_TMP/s$seed.conf"
    # a subscriber from the start: the pub/sub copy of every entry, until
    # the test ends it (a bound of its own would cut a slow replay short)
    redis-cli -p "$TT_REDIS_PORT" --raw SUBSCRIBE teiten:alerts \
        >"$TT_TMP/s$seed.sub" 2>&1 &
    sub=$!
    TT_PIDS+=("$sub")
    wait_for 60 grep -q '^subscribe$' "$TT_TMP/s$seed.sub"
    replay "s$seed" "$TT_TMP/s$seed.pcap"
    check "seed $seed: exit" "$TT_RC" 0
    stream "s$seed" >"$TT_TMP/s$seed.alerts"
    n=$(wc -l <"$TT_TMP/s$seed.alerts")
    matched "$TT_TMP/s$seed.truth" "$TT_TMP/s$seed.alerts" >"$TT_TMP/s$seed.match"
    sed 's/^/     /' "$TT_TMP/s$seed.match"
    check "seed $seed: every injected event alerted ($n alerts in all)" \
        "$(grep -c '^MISSED' "$TT_TMP/s$seed.match")" 0
    check "seed $seed: $(jq '.events | length' "$TT_TMP/s$seed.truth") events in the truth" \
        "$([ "$(jq '.events | length' "$TT_TMP/s$seed.truth")" -ge 6 ] && echo yes)" yes
    wait_for 60 [ "$(grep -c '^{' "$TT_TMP/s$seed.sub")" -ge "$n" ]
    check "seed $seed: pub/sub carried each entry once" "$(grep -c '^{' "$TT_TMP/s$seed.sub")" "$n"
    kill "$sub" 2>/dev/null
done

# 3. the same replay, Redis killed while it runs (its AOF keeps what it took)
start_redis cut --appendonly yes --appendfsync always || exit 1
sed "s/^port = ${REDIS_PORT[s11]}\$/port = $TT_REDIS_PORT/" "$TT_TMP/s11.conf" >"$TT_TMP/cut.conf"
PREFIX=it_$$_alerts
"$TEITEN" --no-huge -m 512 --no-pci --file-prefix=$PREFIX --log-level=lib.eal:error -l 0-1 \
    --vdev "net_pcap0,rx_pcap=$TT_TMP/s11.pcap" -- --config "$TT_TMP/cut.conf" \
    --summary "$TT_TMP/cut.json" >"$TT_TMP/cut.out" 2>"$TT_TMP/cut.err" &
pid=$!
TT_PIDS+=("$pid")
has_alerts() { [ "$(rcli cut xlen teiten:alerts 2>/dev/null)" -gt 0 ]; }
wait_for 300 has_alerts
kill -9 "${REDIS_PID[cut]}"
wait "${REDIS_PID[cut]}" 2>/dev/null
check "cut: the replay waits for Redis" "$(kill -0 "$pid" 2>/dev/null && echo yes)" yes
check "cut: /teiten/alerts shows the latest while Redis is away" \
    "$(telemetry "$PREFIX" /teiten/alerts,3 '(.shown > 0) and (.kind | length) == .shown')" true
restart_redis cut
wait "$pid"
check "cut: exit" "$?" 0
stream cut >"$TT_TMP/cut.alerts"
check "cut: the stream equals the undisturbed run's" \
    "$(diff "$TT_TMP/s11.alerts" "$TT_TMP/cut.alerts" | head -5)" ""

# 4. a steady week
"$TEITEN_GEN" --sensor tokyo-a=192.0.2.0/25 --sensor tokyo-b=198.51.100.0/24 \
    --sensor osaka=203.0.113.0/24 --packets 600000 --seed 13 --start $S0 --span 604800 \
    --sources 3000 --geoip "$TT_GEOIP_DB" --home JP --home-share 150 --diurnal 400 \
    --out "$TT_TMP/week.pcap" --truth "$TT_TMP/week.truth" --config "$TT_TMP/week.base" >/dev/null
check "steady week: no event injected" "$(jq -c .events "$TT_TMP/week.truth")" "[]"
start_redis week || exit 1
{ cat "$TT_TMP/week.base"
  printf '[redis]\nport = %s\nflush_interval_ms = 200\nuser = teiten\npassword_file = %s\n' \
      "$TT_REDIS_PORT" "$TT_TMP/teiten.pass"; } >"$TT_TMP/week.conf"
replay week "$TT_TMP/week.pcap"
check "steady week: exit" "$TT_RC" 0
stream week >"$TT_TMP/week.alerts"
after=$(jq -s --argjson from $((S0 + 86400)) '[.[] | select((.ts | tonumber) >= $from)] | length' \
    "$TT_TMP/week.alerts")
sed 's/^/     /' "$TT_TMP/week.alerts" | head -10
check "steady week: $after alerts on days 2-7, at most one a day" \
    "$([ "$after" -le 6 ] && echo yes)" yes

finish
