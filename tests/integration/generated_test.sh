#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Generated darknet traffic with exact ground truth: every figure of the
# generator's truth (per sensor and for all: totals, port, port:<class>)
# must equal teiten's summary, to the packet. One worker, then two workers
# sharing a port that reads the capture split in two files.
. "$(dirname "$0")/lib.sh"

COMPARE=$(dirname "$0")/compare_truth.jq

compare() {
    local diffs
    diffs=$(jq -rn --slurpfile t "$1" --slurpfile s "$2" -f "$COMPARE")
    check "$3: differences from the truth" "${diffs:-none}" none
}

"$TEITEN_GEN" --sensor tokyo-a=192.0.2.0/25+2001:db8:1::/64 \
    --sensor tokyo-b=198.51.100.0/24 --sensor osaka=203.0.113.0/24+2001:db8:2::/48 \
    --packets 30000 --seed 11 --start 1711929600 --span 86400 \
    --out "$TT_TMP/g.pcap" --truth "$TT_TMP/g.json" --config "$TT_TMP/g.conf"
check "generator: exit" "$?" 0
printf '[redis]\nenabled = no\n' >>"$TT_TMP/g.conf"

run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/g.pcap" -- \
    --config "$TT_TMP/g.conf" --summary "$TT_TMP/s1.json"
check "one worker: exit" "$TT_RC" 0
compare "$TT_TMP/g.json" "$TT_TMP/s1.json" "one worker"
check "one worker: first packet at the capture's start" \
    "$(sj "$TT_TMP/s1.json" .first_packet)" 2024-04-01T00:00:00Z
check "one worker: every class is present" \
    "$(jq '[.scopes.all.totals | .mirai, .masscan, .zmap, .nmap, .unicorn, .backscatter
        | select(. > 0)] | length' "$TT_TMP/s1.json")" 6

# Two seeds, two files, two workers on one port: the truths add up.
"$TEITEN_GEN" --sensor tokyo-a=192.0.2.0/25+2001:db8:1::/64 \
    --sensor tokyo-b=198.51.100.0/24 --sensor osaka=203.0.113.0/24+2001:db8:2::/48 \
    --packets 20000 --seed 12 --out "$TT_TMP/h.pcap" --truth "$TT_TMP/h.json"
jq -n --slurpfile a "$TT_TMP/g.json" --slurpfile b "$TT_TMP/h.json" '
    def add2(x; y): if (x | type) == "object"
        then reduce ((x + y) | keys[]) as $k ({}; .[$k] = add2(x[$k] // 0; y[$k] // 0))
        else x + y end;
    add2($a[0] | del(.generator, .sources, .buckets); $b[0] | del(.generator, .sources, .buckets))' >"$TT_TMP/gh.json"
run_teiten $(eal_opts) --lcores '(0-2)@(0-1)' \
    --vdev "net_pcap0,rx_pcap=$TT_TMP/g.pcap,rx_pcap=$TT_TMP/h.pcap" -- \
    --config "$TT_TMP/g.conf" --summary "$TT_TMP/s2.json"
check "two workers: exit" "$TT_RC" 0
check "two workers: packets" "$(sj "$TT_TMP/s2.json" .packets)" 50000
compare "$TT_TMP/gh.json" "$TT_TMP/s2.json" "two workers"

finish
