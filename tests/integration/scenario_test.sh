#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The bundled scenario (scenarios/default.args): sources drawn from the
# country database with a home share, a local surge, a broad 53/UDP burst,
# a ramping country, a new Mirai-type port and a DoS attack whose victim's
# backscatter floods the darknet for 20 minutes. teiten replays it with the
# same database into Redis; the summary must equal the generator's truth to
# the packet (countries and home/abroad included), the unique-source
# estimates must be within HyperLogLog error of the exact counts, every
# hour bucket in Redis must equal the truth's, and each event must show
# where the reports look for it.
. "$(dirname "$0")/lib.sh"
need_geoip

SCENARIO=$TT_SOURCE_ROOT/scenarios/default.args
# shellcheck disable=SC2046
"$TEITEN_GEN" $(sed 's/#.*//' "$SCENARIO") --packets 80000 --geoip "$TT_GEOIP_DB" \
    --out "$TT_TMP/d.pcap" --truth "$TT_TMP/d.json" --config "$TT_TMP/d.conf"
check "generator: exit" "$?" 0
T=$TT_TMP/d.json
truth() { jq -r "$1" "$T"; }

start_redis main || exit 1
printf '[redis]\nhost = 127.0.0.1\nport = %s\nflush_interval_ms = 200\n' \
    "$TT_REDIS_PORT" >>"$TT_TMP/d.conf"
TT_MEM=512 run_teiten $(TT_MEM=512 eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/d.pcap" -- \
    --config "$TT_TMP/d.conf" --summary "$TT_TMP/s.json"
check "teiten: exit" "$TT_RC" 0
S=$TT_TMP/s.json

diffs=$(jq -rn --slurpfile t "$T" --slurpfile s "$S" -f "$(dirname "$0")/compare_truth.jq")
check "summary = truth (ports, classes, countries, home and abroad)" "${diffs:-none}" none
check "sources are at home and abroad" \
    "$(jq '.scopes.all.totals | .home > 0 and .abroad > .home' "$S")" true
check "several countries" "$(jq '.scopes.all.country | length > 20' "$S")" true

# Unique sources: HLL estimates within 3% of the exact distinct counts (a
# home source with Mirai-type and other packets in both srcs:home:mirai and
# srcs:home:nonmirai, in the truth as in teiten).
for scope in all tokyo-a tokyo-b osaka; do
    for v in srcs srcs:home srcs:mirai srcs:home:nonmirai; do
        exact=$(truth ".sources[\"$scope\"][\"$v\"]")
        est=$(jq -r ".scopes[\"$scope\"][\"$v\"]" "$S")
        check "$scope $v: estimate $est within 3% of $exact" \
            "$(awk -v e="$est" -v x="$exact" 'BEGIN { d = e - x; if (d < 0) d = -d;
                print (d <= 0.03 * x) ? "yes" : "no" }')" yes
    done
done

# Every hour bucket of every scope in Redis equals the truth's.
hour_diffs() {
    local key scope field want got
    for key in $(truth '.buckets | keys[]'); do
        for scope in all tokyo-a tokyo-b osaka; do
            for field in pkts home home_mirai mirai backscatter masscan zmap nmap; do
                want=$(truth ".buckets[\"$key\"][\"$scope\"].$field")
                got=$(rcli main HGET "teiten:{$scope}:$key:totals" "$field")
                [ "${got:-0}" == "$want" ] || echo "$key $scope $field: truth $want, Redis ${got:-0}"
            done
        done
    done
}
check "Redis hour buckets = truth (24 hours x 4 scopes)" "$(hour_diffs | head -5)" ""
check "the truth has 24 hour buckets" "$(truth '.buckets | length')" 24

# The local surge: 21318/TCP tops tokyo-b's 10:00 hour and no other sensor sees it.
check "surge: tokyo-b's top service at 10:00" \
    "$(rcli main ZREVRANGE "teiten:{tokyo-b}:h:2024040110:port" 0 0)" tcp/21318
check "surge: tokyo-a never sees 21318/TCP" \
    "$(rcli main ZSCORE "teiten:{tokyo-a}:d:20240401:port" tcp/21318)" ""
check "surge: not at tokyo-b before 10:00" \
    "$(rcli main ZSCORE "teiten:{tokyo-b}:h:2024040109:port" tcp/21318)" ""
# The broad burst: 53/UDP tops every sensor at 17:00.
for s in tokyo-a tokyo-b osaka; do
    check "burst: $s's top service at 17:00" \
        "$(rcli main ZREVRANGE "teiten:{$s}:h:2024040117:port" 0 0)" udp/53
done
# The ramp: Bulgaria's share of the packets grows over the day.
share() {
    local bg all
    bg=$(rcli main ZSCORE "teiten:{all}:h:$1:country" BG)
    all=$(rcli main HGET "teiten:{all}:h:$1:totals" pkts)
    awk -v b="${bg:-0}" -v a="$all" 'BEGIN { printf "%.3f", b / a }'
}
check "ramp: BG's share at 22:00 ($(share 2024040122)) is 5x its share at 01:00 ($(share 2024040101))" \
    "$(awk -v late="$(share 2024040122)" -v early="$(share 2024040101)" \
        'BEGIN { print (late > 5 * early) ? "yes" : "no" }')" yes
# The new Mirai-type port: 22/TCP appears among Mirai-type services at 12:00.
check "new Mirai-type port: none on tcp/22 before 12:00" \
    "$(rcli main ZSCORE "teiten:{all}:h:2024040111:port:mirai" tcp/22)" ""
check "new Mirai-type port: tcp/22 from 12:00" \
    "$(rcli main ZSCORE "teiten:{all}:h:2024040112:port:mirai" tcp/22 | awk '{ print ($1 > 0) ? "yes" : "no" }')" yes
# The attack: the day's victims set is the truth's, packet for packet; the
# bots' own backscatter is far too slow for the rule, so the attacked host
# is the only victim.
check "DoS: the day's victims set = the truth's" \
    "$(diff <(truth '.victims["20240401"] | to_entries[] | "\(.key) \(.value)"' | sort) \
        <(rcli main ZRANGE 'teiten:{src}:d:20240401:victims' 0 -1 WITHSCORES |
            paste -d' ' - - | sort) | head -5)" ""
check "DoS: one victim" "$(rcli main ZCARD 'teiten:{src}:d:20240401:victims')" 1
check "DoS: backscatter at 08:00 is over 3x that at 07:00" \
    "$(rcli main EVAL "return { redis.call('HGET', KEYS[1], 'backscatter'),
        redis.call('HGET', KEYS[2], 'backscatter') }" 2 'teiten:{all}:h:2024040108:totals' \
        'teiten:{all}:h:2024040107:totals' | paste -d' ' - - |
        awk '{ print ($1 > 3 * $2) ? "yes" : "no" }')" yes

finish
