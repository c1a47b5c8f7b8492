#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The generator's truth lists every injected event as the alert it should
# raise (kind, scope, subject, breadth, start, end), a DoS victim only when
# it passes the rule, and --home-mirai-surge adds home-country Mirai-type
# traffic in its window and nowhere else. Without events the list is empty.
. "$(dirname "$0")/lib.sh"
need_geoip

S0=1711929600
gen() {
    "$TEITEN_GEN" --sensor tokyo-a=192.0.2.0/25 --sensor tokyo-b=198.51.100.0/24 \
        --sensor osaka=203.0.113.0/24 --packets 60000 --seed 5 --start $S0 --span 21600 \
        --sources 600 --geoip "$TT_GEOIP_DB" --home JP --home-share 150 "$@"
}

gen --out "$TT_TMP/plain.pcap" --truth "$TT_TMP/plain.json"
check "no events: exit" "$?" 0
check "no events: an empty list" "$(jq -c .events "$TT_TMP/plain.json")" "[]"

gen --surge tokyo-b:tcp/21318:3600:1800:250 --surge all:udp/53:7200:600:500 \
    --ramp BG:2:80 --mirai-port 22:10800 --dos 1:14400:600:900 \
    --home-mirai-surge 18000:1800:200 --out "$TT_TMP/ev.pcap" --truth "$TT_TMP/ev.json"
check "events: exit" "$?" 0
ev() {
    jq -r --arg k "$1" '[.events[] | select(.kind == $k)
        | "\(.scope) \(.subject) \(.breadth) \(.start) \(.end)"] | join(";")' "$TT_TMP/ev.json"
}
check "local surge" "$(jq -r '[.events[] | select(.kind == "surge" and .scope == "tokyo-b")
    | "\(.subject) \(.breadth) \(.start) \(.end)"] | join(";")' "$TT_TMP/ev.json")" \
    "tcp/21318 local $((S0 + 3600)) $((S0 + 5400))"
check "broad surge" "$(jq -r '[.events[] | select(.kind == "surge" and .scope == "all")
    | "\(.subject) \(.breadth) \(.start) \(.end)"] | join(";")' "$TT_TMP/ev.json")" \
    "udp/53 broad $((S0 + 7200)) $((S0 + 7800))"
check "ramp: a country entering the ranking" "$(ev rank)" "all BG  $S0 $((S0 + 21600))"
check "new Mirai-type port" "$(ev new_mirai_port)" "all tcp/22  $((S0 + 10800)) $((S0 + 21600))"
check "home Mirai-type surge" "$(ev mirai_home_surge)" \
    "all JP broad $((S0 + 18000)) $((S0 + 19800))"

# The attacked host passed the DoS rule: it is among the truth's victims,
# marked home exactly when its country is the home one.
victim=$(jq -r '[.events[] | select(.kind == "dos_victim")] | .[0].subject // ""' "$TT_TMP/ev.json")
check "dos victim: one event" "$(jq '[.events[] | select(.kind == "dos_victim")] | length' \
    "$TT_TMP/ev.json")" 1
check "dos victim: in the truth's victims" \
    "$(jq -r --arg v "$victim" '[.victims[] | has($v)] | any' "$TT_TMP/ev.json")" true
cc=$(mmdblookup --file "$TT_GEOIP_DB" --ip "$victim" country_code 2>/dev/null |
    sed -n 's/.*"\([A-Z][A-Z]\)".*/\1/p')
check "dos victim: home marked by its country ($cc)" \
    "$(jq -r '[.events[] | select(.kind == "dos_victim")] | .[0].breadth' "$TT_TMP/ev.json")" \
    "$([ "$cc" == JP ] && echo home)"
check "dos victim: window" "$(jq -r '[.events[] | select(.kind == "dos_victim")] | .[0]
    | "\(.start) \(.end)"' "$TT_TMP/ev.json")" "$((S0 + 14400)) $((S0 + 15000))"

# Home Mirai-type packets: the surge's hour holds several times the others'.
hm() {
    jq -r --arg h "$1" '.buckets[$h].all.home_mirai' "$2"
}
check "home Mirai-type packets grow in the surge's hour" \
    "$(( $(hm h:2024040105 "$TT_TMP/ev.json") > 3 * $(hm h:2024040104 "$TT_TMP/ev.json") ))" 1
check "and only there" \
    "$(( $(hm h:2024040104 "$TT_TMP/ev.json") < 2 * $(hm h:2024040104 "$TT_TMP/plain.json") + 20 ))" 1

gen --home-mirai-surge 0:60:100 --geoip /nonexistent --out "$TT_TMP/x.pcap" \
    --truth "$TT_TMP/x.json" 2>"$TT_TMP/err"
check "a bad --geoip is refused" "$?" 2
"$TEITEN_GEN" --sensor a=10.0.0.0/8 --home-mirai-surge 0:60:100 --out "$TT_TMP/x.pcap" \
    --truth "$TT_TMP/x.json" 2>"$TT_TMP/err"
check "--home-mirai-surge without --geoip: exit" "$?" 2
check_grep "--home-mirai-surge without --geoip: says why" "$TT_TMP/err" "need --geoip"

finish
