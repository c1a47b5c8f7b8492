#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Countries from the RIR-derived database: the Mirai source's country is
# the one mmdblookup (libmaxminddb's own tool, an independent reader) gives,
# home and abroad follow home_country everywhere, and Redis holds the same.
. "$(dirname "$0")/lib.sh"
need_real_captures
need_geoip
TT_MEM=512      # the country tables take ~100 MiB of DPDK memory

cc=$(mmdblookup --file "$TT_GEOIP_DB" --ip 116.90.231.16 country_code 2>/dev/null |
    sed -n 's/.*"\([A-Z][A-Z]\)".*/\1/p')
check "mmdblookup knows the Mirai source" "$([ -n "$cc" ] && echo yes)" yes

for home in "$cc" US; do
    start_redis "r$home" || exit 1
    TT_WITH_GEOIP=1 TT_HOME=$home write_config "$TT_TMP/$home.conf" "geo-$home" \
        "world:0:0.0.0.0/0, ::/0"
    run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_REAL/mirai_seqdst_2pkts.pcap" \
        -- --config "$TT_TMP/$home.conf" --summary "$TT_TMP/$home.json"
    S=$TT_TMP/$home.json
    check "home $home: exit" "$TT_RC" 0
    check "home $home: the source's country is $cc" "$(sj "$S" ".scopes.all.country.$cc")" 2
    check "home $home: Mirai-type from $cc" "$(sj "$S" ".scopes.all[\"country:mirai\"].$cc")" 2
    if [ "$home" = "$cc" ]; then
        check "home $home: home packets" "$(sj "$S" .scopes.all.totals.home)" 2
        check "home $home: home Mirai-type" "$(sj "$S" .scopes.all.totals.home_mirai)" 2
        check "home $home: port:home:mirai" "$(sj "$S" '.scopes.all["port:home:mirai"]["tcp/23"]')" 2
        check "home $home: srcs:home:mirai" "$(sj "$S" '.scopes.all["srcs:home:mirai"]')" 1
    else
        check "home $home: abroad packets" "$(sj "$S" .scopes.all.totals.abroad)" 2
        check "home $home: no home Mirai-type" "$(sj "$S" .scopes.all.totals.home_mirai)" 0
    fi
    redis_scopes "r$home" d >"$TT_TMP/$home.d.json"
    check "home $home: Redis = summary" "$(compare_redis "$S" "$TT_TMP/$home.d.json" | head -3)" ""
done

# Many sources: home counts agree with the country ranking.
TT_WITH_GEOIP=1 TT_HOME=US write_config "$TT_TMP/refl.conf" geo-refl "world:0:0.0.0.0/0, ::/0"
run_teiten $(eal_opts) -l 0-1 \
    --vdev "net_pcap0,rx_pcap=$TT_REAL/synack_reflection_backscatter.pcap" -- \
    --config "$TT_TMP/refl.conf" --summary "$TT_TMP/refl.json"
S=$TT_TMP/refl.json
check "reflection: exit" "$TT_RC" 0
check "reflection: home = country US" "$(sj "$S" .scopes.all.totals.home)" \
    "$(sj "$S" .scopes.all.country.US)"
check "reflection: home + abroad = pkts" \
    "$(( $(sj "$S" .scopes.all.totals.home) + $(sj "$S" .scopes.all.totals.abroad) ))" \
    "$(sj "$S" .scopes.all.totals.pkts)"
check "reflection: port:home sums to home" \
    "$(jq '[.scopes.all["port:home"][]] | add' "$S")" "$(sj "$S" .scopes.all.totals.home)"
check "reflection: countries sum to pkts" "$(jq '[.scopes.all.country[]] | add' "$S")" \
    "$(sj "$S" .scopes.all.totals.pkts)"
check "reflection: more than 30 countries" \
    "$([ "$(jq '.scopes.all.country | length' "$S")" -gt 30 ] && echo yes)" yes

finish
