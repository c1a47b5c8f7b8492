#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The quarterly report. teiten-gen writes captures at four sensors (two
# domestic, two overseas): 2024Q1 (13 weeks, 7862400 s) with a new
# Mirai-type port and a ramping country, and, each in a capture of its own
# merged into it, a local surge (21318/TCP at tokyo-b for eight hours), a
# broad one (53/UDP at every sensor for a day), a new service in the top
# five (37215/TCP at every sensor for three days) and a two-minute DoS
# attack whose victims' backscatter passes the DoS rule; 2023Q4 for the
# previous ranks and 2023Q1 for the months a year earlier. teiten replays
# them (packet clock) into a throwaway Redis, its alert detectors on, and
# teiten-report writes the quarter's report (all sensors; domestic ones in
# Japanese, absolute) and a week's. report_check.py holds every table to the
# generators' truth, computed there independently, every figure's series to
# the day buckets, and runs every recipe of docs/redis-schema.md against the
# same Redis. T5 comes from the alert stream: the injected surges and the
# attack's, local or broad as injected. F5's other home Telnet sources come
# from srcs:tcp/23:home:nonmirai; with those keys gone from three days, as an
# older teiten leaves them, from HLL(home) - HLL(home:mirai) on those days,
# and the report says so. Then the victims' host records
# expire and the stream is trimmed: T6's home or abroad comes from the
# dos_victim alerts, T5 from day buckets, and the report says so; with no
# stream at all, the same, and the victims are unknown.
# The reports and a headless Chromium screenshot of three stay in
# build/report_test/.
. "$(dirname "$0")/lib.sh"
need_geoip
command -v chromium >/dev/null || skip "no chromium (scripts/common.sh installs it)"

OUT=$(cd "$(dirname "$TEITEN")/../.." && pwd)/report_test
rm -rf "$OUT"
mkdir -p "$OUT"
REPORT=$TT_SOURCE_ROOT/scripts/teiten-report
CHECK=$(dirname "$0")/report_check.py
SENSORS=(--sensor tokyo-a=192.0.2.0/25+2001:db8:1::/64 --sensor tokyo-b=198.51.100.0/24
    --sensor sg=203.0.113.0/24 --sensor fra=100.64.0.0/24+2001:db8:2::/48)
gen() {  # gen NAME ARGS...: a capture and its truth in $TT_TMP
    local name=$1
    shift
    "$TEITEN_GEN" "${SENSORS[@]}" --geoip "$TT_GEOIP_DB" --home JP --day-truth "$@" \
        --out "$TT_TMP/$name.pcap" --truth "$TT_TMP/$name.json" --config "$TT_TMP/$name.conf"
    check "teiten-gen $name: exit" "$?" 0
}
Q1=1704067200       # 2024-01-01 00:00 UTC
DAY=86400
gen earlier --seed 11 --packets 12000 --start 1672531200 --span $((90 * DAY)) \
    --sources 1500 --home-share 200
gen previous --seed 12 --packets 30000 --start 1696118400 --span $((92 * DAY)) \
    --sources 1500 --home-share 200
gen quarter --seed 13 --packets 45000 --start $Q1 --span 7862400 \
    --sources 1500 --home-share 200 --ramp BG:2:100 --mirai-port 22:$((60 * DAY))
# The surges, each all of its capture's packets: the quarter brings a sensor
# about five packets an hour, so each brings its service 40 an hour at a
# sensor, twice [alerts] surge_min_pkts (20), against about one before.
gen local --seed 15 --packets 320 --start $((Q1 + 20 * DAY + 10800)) --span 28800 \
    --sources 40 --home-share 200 --surge tokyo-b:tcp/21318:0:28800:1000
gen broad --seed 16 --packets 3840 --start $((Q1 + 50 * DAY)) --span $DAY \
    --sources 300 --home-share 200 --surge all:udp/53:0:$DAY:1000
gen new --seed 17 --packets 11520 --start $((Q1 + 70 * DAY)) --span $((3 * DAY)) \
    --sources 300 --home-share 200 --surge all:tcp/37215:0:$((3 * DAY)):1000
# 2024-02-15 12:00 UTC: six hosts under attack, each sending 100 backscatter
# packets in two minutes (the DoS rule: >= 25 packets, >= 60 s, >= 30 a minute)
gen attack --seed 14 --packets 600 --start $((Q1 + 45 * DAY + 43200)) --span 120 \
    --sources 8 --home-share 500 --dos 6:0:120:1000

# One capture in time order: the attack's packets merged into the quarter's.
/usr/bin/python3 - "$TT_TMP"/{earlier,previous,quarter,attack,local,broad,new,all}.pcap <<'EOF'
import heapq, struct, sys
def records(path):
    with open(path, "rb") as f:
        head = f.read(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            sec, usec, cap, _ = struct.unpack("<IIII", h)
            yield (sec, usec), h + f.read(cap)
*ins, out = sys.argv[1:]
with open(ins[0], "rb") as f:
    head = f.read(24)
with open(out, "wb") as f:
    f.write(head)
    for _, rec in heapq.merge(*(records(p) for p in ins), key=lambda r: r[0]):
        f.write(rec)
EOF
check "captures merged" "$?" 0

# The config: the generator's sensors, with labels and locations.
CONF=$TT_TMP/report.conf
start_redis main || exit 1
sed -e 's/^clock = auto/clock = packet/' \
    -e '/^\[sensor tokyo-a\]/a label = 東京センサー1\nlocation = domestic' \
    -e '/^\[sensor tokyo-b\]/a label = 東京センサー2\nlocation = domestic' \
    -e '/^\[sensor sg\]/a label = Singapore 1\nlocation = overseas' \
    -e '/^\[sensor fra\]/a label = Frankfurt 1\nlocation = overseas' \
    "$TT_TMP/quarter.conf" >"$CONF"
# The replay waits for Redis whenever the publisher is behind, so nothing is
# shed and the final flush holds at most two intervals.
printf '\n[redis]\nhost = 127.0.0.1\nport = %s\nflush_interval_ms = 100\n' \
    "$TT_REDIS_PORT" >>"$CONF"
check "config: two domestic and two overseas sensors" \
    "$(grep -c '^location = domestic' "$CONF") $(grep -c '^location = overseas' "$CONF")" "2 2"

# The appliance publishes as the least-privilege user of config/redis-acl.conf
# (lib.sh); the report reads as the default user, as a consumer would.
sed "/^\[redis\]/a user = teiten\npassword_file = $TT_TMP/teiten.pass" "$CONF" \
    >"$TT_TMP/appliance.conf"
TT_MEM=512 run_teiten $(TT_MEM=512 eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/all.pcap" \
    -- --config "$TT_TMP/appliance.conf" --summary "$TT_TMP/s.json"
check "teiten: exit" "$TT_RC" 0
[ "$TT_RC" -eq 0 ] || tail -20 "$TT_ERR" | sed 's/^/     | /'
truths=("$TT_TMP"/{earlier,previous,quarter,attack,local,broad,new}.json)
check "every packet replayed" "$(jq .packets "$TT_TMP/s.json")" \
    "$(jq -s 'map(.packets) | add' "${truths[@]}")"
check "the sensors' packets = the truth's" "$(jq .scopes.all.totals.pkts "$TT_TMP/s.json")" \
    "$(jq -s 'map(.scopes.all.totals.pkts) | add' "${truths[@]}")"

# report NAME ARGS...: a report into $OUT/NAME, checked against the truth;
# CHECK_ARGS: what T5 and T6 must read (report_check.py --t5-from,
# --victims-from), --only for T5 and T6 alone.
report() {
    local name=$1 scope=all a prev=
    shift
    for a in "$@"; do [ "${prev:-}" = --scope ] && scope=$a; prev=$a; done
    "$REPORT" --config "$CONF" --out "$OUT/$name" "$@" >"$TT_TMP/report.out" 2>&1
    check "teiten-report $name: exit" "$?" 0
    check "teiten-report $name: prints where the report is" "$(cat "$TT_TMP/report.out")" \
        "$OUT/$name/report.html"
    /usr/bin/python3 "$CHECK" report "$OUT/$name/report.json" --scope "$scope" \
        --truth "${truths[@]}" --conf "$CONF" --geoip "$TT_GEOIP_DB" --port "$TT_REDIS_PORT" \
        ${CHECK_ARGS:-} >"$TT_TMP/check.out" 2>&1
    tally "$TT_TMP/check.out"
}

# tally FILE: the checker's "ok"/"FAIL" lines into this script's counts
# (a checker that crashed counts as a failure).
tally() {
    cat "$1"
    TT_PASSED=$((TT_PASSED + $(grep -c '^ok ' "$1")))
    TT_FAILED=$((TT_FAILED + $(grep -c '^FAIL' "$1")))
    if grep -q '^Traceback' "$1" || ! grep -q '^ok ' "$1"; then
        TT_FAILED=$((TT_FAILED + 1))
        echo "FAIL the checker did not finish"
    fi
}

report quarter --quarter 2024Q1
report quarter-domestic-ja --quarter 2024Q1 --scope domestic --lang ja --absolute
report week --week 2024-W07 --absolute

# The events where the report shows them.
Q=$OUT/quarter/report.json
check "T5: 21318/TCP on 2024-01-21 at tokyo-b alone, local" \
    "$(jq -c '.tables.T5[] | select(.service == "tcp/21318") | [.day, .sensors, .breadth]' "$Q")" \
    '["2024-01-21",["tokyo-b"],"local"]'
check "T5: 53/UDP on 2024-02-20 at every sensor, broad" \
    "$(jq -c '.tables.T5[] | select(.service == "udp/53") | [.day, (.sensors | length), .breadth]' "$Q")" \
    '["2024-02-20",4,"broad"]'
check "T5: 37215/TCP on 2024-03-11 at every sensor, broad" \
    "$(jq -c '.tables.T5[] | select(.service == "tcp/37215") | [.day, (.sensors | length), .breadth]' "$Q")" \
    '["2024-03-11",4,"broad"]'
check_grep "T5: the report says it read the alert stream" "$OUT/quarter/report.md" \
    '^Source: the alert stream teiten:alerts, which holds every alert since its first entry'
check "T6: victims at home and abroad" \
    "$(jq -c '[.tables.T6[].location] | unique' "$Q")" '["abroad","home"]'
check "T2: BG's share grows (its daily series ends higher than it starts)" \
    "$(jq '.figures.F2.series.BG // [0] | (.[-7:] | add) > 3 * (.[:7] | add)' "$Q")" true
check "T1: 37215/TCP, new this quarter, has no previous rank" \
    "$(jq -c '.tables.T1[] | select(.service == "tcp/37215") | [.name, .prev_rank]' "$Q")" \
    '["huawei-upnp",null]'
check "T1: 23/TCP is telnet" "$(jq -r '.tables.T1[0] | "\(.service) \(.name)"' "$Q")" "tcp/23 telnet"
check "service names as operators know them" \
    "$(/usr/bin/python3 -c 'import sys, importlib.machinery as m
r = m.SourceFileLoader("r", sys.argv[1]).load_module()
print(*(r.service_name(s) for s in sys.argv[2:]))' "$REPORT" tcp/3389 tcp/445 tcp/2323 udp/123 \
        tcp/37215 tcp/993 ip/47)" "rdp smb telnet-alt ntp huawei-upnp imaps gre"
check "labels and locations come from the appliance's sensor hashes" \
    "$(jq -r '[.sensors[].from] | unique | join(",")' "$Q")" "redis"
check "the sensor hashes say what the config says" \
    "$(jq -r '.sensors[] | "\(.name)=\(.location)"' "$Q" | sort | paste -sd' ')" \
    "$(awk '/^\[sensor / { n = $2; sub(/\]$/, "", n) } /^location = / { print n "=" $3 }' \
        "$CONF" | sort | paste -sd' ')"
check "the Japanese report is in Japanese" \
    "$(grep -c '宛先ポート別パケット数' "$OUT/quarter-domestic-ja/report.html")" 1

# The appliance's sensor hashes (DESIGN section 5), when Redis has them,
# take the config's place.
rcli main HSET teiten:sensor:tokyo-a label "Tokyo A (Redis)" location domestic port 0 \
    appliance gen-1 >/dev/null
"$REPORT" --port "$TT_REDIS_PORT" --scope domestic --week 2024-W07 \
    --config "$CONF" --out "$TT_TMP/meta" >/dev/null
check "a sensor's label and location from its Redis hash" \
    "$(jq -c '[.sensors[] | select(.name == "tokyo-a") | .label, .from], .scope_sensors' \
        "$TT_TMP/meta/report.json" | paste -sd' ')" '["Tokyo A (Redis)","redis"] ["tokyo-a","tokyo-b"]'
# Without them (an appliance older than the hashes), the config's, said so.
rcli main DEL teiten:sensor:tokyo-a teiten:sensor:tokyo-b \
    teiten:sensor:sg teiten:sensor:fra >/dev/null
"$REPORT" --port "$TT_REDIS_PORT" --week 2024-W07 --config "$CONF" --out "$TT_TMP/nometa" \
    >/dev/null
check "without the hashes, labels and locations come from the config, and the report says so" \
    "$(jq -r '[.sensors[].from] | unique | join(",")' "$TT_TMP/nometa/report.json") $(grep -c \
        '^- Sensor labels and locations of .* come from' "$TT_TMP/nometa/report.md")" "config 1"

# An ACL user with a password file, as the appliance's config names them.
rcli main ACL SETUSER reporter on '>s3cret' '~*' '+@all' >/dev/null
printf 's3cret\n' >"$TT_TMP/reporter.pass"
printf 'wrong\n' >"$TT_TMP/wrong.pass"
for pass in reporter wrong; do
    sed "s/^\[redis\]/[redis]\nuser = reporter\npassword_file = $pass.pass/" "$CONF" \
        >"$TT_TMP/acl.conf"
    "$REPORT" --config "$TT_TMP/acl.conf" --week 2024-W07 --out "$TT_TMP/acl-$pass" \
        >"$TT_TMP/acl.out" 2>&1
    check "ACL user reporter, password file $pass.pass: exit" "$?" \
        "$([ $pass = reporter ] && echo 0 || echo 1)"
done
check_grep "a wrong password is an error naming the problem" "$TT_TMP/acl.out" \
    '^teiten-report: .*(WRONGPASS|invalid username-password)'
check "a bad quarter is an error before any connection" \
    "$("$REPORT" --quarter 2024Q5 --port 1 --out "$TT_TMP/bad" 2>&1)" \
    "teiten-report: --quarter 2024Q5: expected YYYYQn"

# Every recipe of docs/redis-schema.md against this Redis.
/usr/bin/python3 "$CHECK" recipes "$TT_SOURCE_ROOT/docs/redis-schema.md" \
    --truth "${truths[@]}" --conf "$CONF" --geoip "$TT_GEOIP_DB" --port "$TT_REDIS_PORT" \
    --end $((Q1 + 7862400)) >"$TT_TMP/check.out" 2>&1
tally "$TT_TMP/check.out"

# F5 on days an older teiten wrote: no srcs:tcp/23:home:nonmirai. The days
# whose all scope had one (home sources sent non-Mirai-type Telnet packets)
# fall back to the difference, and the label and a note say which.
older=0
for d in 20240212 20240213 20240214; do
    for s in all tokyo-a tokyo-b sg fra; do
        n=$(rcli main DEL "teiten:{$s}:d:$d:srcs:tcp/23:home:nonmirai")
        [ "$s" = all ] && older=$((older + n))
    done
done
check "F5: the older days had home non-Mirai-type Telnet sources" "$older" 3
report f5-older --week 2024-W07
check "F5: the older days read the difference, the others the key" \
    "$(jq -c '.figures.F5.nonmirai_from' "$OUT/f5-older/report.json")" \
    '["difference","difference","difference","key","key","key","key"]'
check_grep "F5: the report says which days are the difference, and why" \
    "$OUT/f5-older/report.md" \
    '^- On 3 days \(2024-02-12\.\.2024-02-14\) Redis has no srcs:tcp/23:home:nonmirai though'

# T5 and T6 when what they read is gone. The victims' host records expire
# ([retention] sources, 7 days after a victim's last packet): home or abroad
# comes from the dos_victim alerts. The stream is trimmed (XADD MAXLEN ~
# 100000 keeps the newest entries) to what came from February on: the
# quarter's T5 is recomputed from day buckets, and the report says why; a
# week after the trim still reads the stream.
for ip in $(jq -r '.victims[] | keys[]' "$TT_TMP/attack.json"); do
    rcli main DEL "teiten:{src}:host:$ip" >/dev/null
done
read -r first ts < <(rcli main --raw XRANGE teiten:alerts - + | awk -v from=1706745600 '
    { i = (NR - 1) % 23 } i == 0 { id = $0 } i == 2 && $0 >= from { print id, $0; exit }')
check "the stream trimmed to February on" \
    "$(rcli main XTRIM teiten:alerts MINID "$first" | awk '{ print ($1 > 0) }')" 1
CHECK_ARGS="--only --t5-from day_buckets --victims-from alert" report trimmed --quarter 2024Q1
# complete from the hour after the first entry left: an hour's alerts come after its minutes'
check_grep "T5 from day buckets, and why" "$OUT/trimmed/report.md" \
    "^Source: recomputed from day buckets, because the alert stream teiten:alerts was trimmed .*: it holds every alert only from $(date -u -d "@$((ts + 3600))" '+%Y-%m-%d %H:%M') UTC on, after the period.s first day with traffic \\(2024-01-01\\)"
check_grep "T6 says the host records had expired" "$OUT/trimmed/report.md" \
    '^- 6 of 6 victims. host records had expired: their home or abroad comes from their dos_victim alert'
CHECK_ARGS="--only" report trimmed-week --week 2024-W11
# Alerts disabled (or an appliance older than them): no stream.
rcli main DEL teiten:alerts >/dev/null
CHECK_ARGS="--only --t5-from day_buckets --victims-from none" report no-stream --week 2024-W07
check_grep "T5 from day buckets: no stream" "$OUT/no-stream/report.md" \
    '^Source: recomputed from day buckets, because the alert stream teiten:alerts does not exist'
check_grep "T6: victims with neither a host record nor an alert are unknown" \
    "$OUT/no-stream/report.md" '^- 6 of 6 victims have neither a host record nor a dos_victim alert'

# The HTML as a browser shows it.
for name in quarter quarter-domestic-ja trimmed; do
    profile=$(mktemp -d "$TT_TMP/chromium.XXXXXX")
    timeout 300 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --screenshot="$OUT/$name.png" --window-size=1280,4400 \
        "file://$OUT/$name/report.html" >"$TT_TMP/chromium.log" 2>&1
    check "chromium: a screenshot of $name/report.html" \
        "$(head -c 8 "$OUT/$name.png" 2>/dev/null | od -An -tx1 | tr -d ' ')" 89504e470d0a1a0a
done
echo "reports and screenshots: $OUT"

finish
