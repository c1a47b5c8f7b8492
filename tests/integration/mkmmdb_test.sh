#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/teiten-mkmmdb on a small RIR delegated-statistics file written
# here: counts that are not CIDR-aligned, IPv6 prefixes, header, summary,
# comments, available and reserved records. mmdblookup reads the result, and
# teiten uses it as geoip_db: the real Mirai source becomes a home source.
. "$(dirname "$0")/lib.sh"
need_real_captures
MK=$TT_SOURCE_ROOT/scripts/teiten-mkmmdb

cat >"$TT_TMP/delegated-test" <<'RIR'
2|test|20240101|6|19830101|20240101|+0900
test|*|ipv4|*|4|summary
test|*|ipv6|*|2|summary
# a comment
test|JP|ipv4|116.90.231.0|256|20100101|allocated
test|JP|ipv4|203.0.113.0|96|20100101|assigned
test|US|ipv4|203.0.113.96|32|20100101|allocated
test|KR|ipv4|198.51.100.0|768|20100101|allocated
test||ipv4|192.0.2.0|256||available
test|JP|ipv6|2001:db8::|32|20100101|allocated
test|DE|ipv6|2001:db8:8000::|33|20100101|allocated
test|NL|ipv6|2001:db9::|32|20100101|reserved
test|JP|asn|64500|1|20100101|allocated
RIR
out=$("$MK" -o "$TT_TMP/test.mmdb" "$TT_TMP/delegated-test")
check "mkmmdb: exit" "$?" 0
check "mkmmdb: says what it took" "$out" \
    "teiten-mkmmdb: $TT_TMP/test.mmdb: 4 IPv4 and 2 IPv6 records (3 skipped)"

lookup() {
    mmdblookup --file "$TT_TMP/test.mmdb" --ip "$1" country_code 2>/dev/null |
        sed -n 's/.*"\([A-Z][A-Z]\)".*/\1/p'
}
check "203.0.113.0 (first of 96)" "$(lookup 203.0.113.0)" JP
check "203.0.113.95 (last of 96)" "$(lookup 203.0.113.95)" JP
check "203.0.113.96 (next record)" "$(lookup 203.0.113.96)" US
check "203.0.113.128 (after it)" "$(lookup 203.0.113.128)" ""
check "198.51.102.255 (768 addresses)" "$(lookup 198.51.102.255)" KR
check "198.51.103.0 (past them)" "$(lookup 198.51.103.0)" ""
check "192.0.2.1 (available: skipped)" "$(lookup 192.0.2.1)" ""
check "2001:db8::1" "$(lookup 2001:db8::1)" JP
check "2001:db8:8000::1 (more specific, later)" "$(lookup 2001:db8:8000::1)" DE
check "2001:db9::1 (reserved: skipped)" "$(lookup 2001:db9::1)" ""

printf 'test|JP|ipv4|1.2.3.4|lots|20100101|allocated\n' >"$TT_TMP/bad"
"$MK" -o "$TT_TMP/bad.mmdb" "$TT_TMP/bad" 2>"$TT_TMP/bad.err"
check "a bad line: exit" "$?" 2
check_grep "a bad line: names file and line" "$TT_TMP/bad.err" "$TT_TMP/bad:1: value 'lots'"

# teiten with it: the Mirai source 116.90.231.16 is in JP's record.
TT_MEM=512
{
    printf '[appliance]\nid = mk-1\nhome_country = JP\ngeoip_db = %s\n' "$TT_TMP/test.mmdb"
    printf '[redis]\nenabled = no\n[sensor world]\nport = 0\nprefixes = 0.0.0.0/0\n'
} >"$TT_TMP/mk.conf"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_REAL/mirai_seqdst_2pkts.pcap" -- \
    --config "$TT_TMP/mk.conf" --summary "$TT_TMP/mk.json"
check "teiten: exit" "$TT_RC" 0
check "teiten: the source is JP" "$(sj "$TT_TMP/mk.json" .scopes.all.country.JP)" 2
check "teiten: home Mirai-type" "$(sj "$TT_TMP/mk.json" .scopes.all.totals.home_mirai)" 2

finish
