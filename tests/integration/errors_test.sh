#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Bad input at start: every config problem exits 2 naming file:line, key and
# value; bad options, a missing pcap file, a port no sensor can use and too
# few lcores each fail at once with a clear message.
. "$(dirname "$0")/lib.sh"

# The example as installed names /var/lib/teiten/country.mmdb; meson makes
# a copy that names the database of data/ instead (config/meson.build).
EXAMPLE=${TT_EXAMPLE:-$TT_SOURCE_ROOT/build/config/teiten.conf.test}

run_teiten -- --config "$EXAMPLE" --check-config
check "example: --check-config exit" "$TT_RC" 0
check_grep "example: says valid" "$TT_OUT" 'valid: appliance tokyo-1, 2 sensors, 3 prefixes'

# broken NAME SED-EXPRESSION PATTERN-OF-THE-BROKEN-LINE MESSAGE-PATTERN
broken() {
    local name=$1 expr=$2 line_pat=$3 msg=$4 f="$TT_TMP/$1.conf" line
    sed "$expr" "$EXAMPLE" >"$f"
    line=$(grep -n -- "$line_pat" "$f" | tail -1 | cut -d: -f1)
    run_teiten -- --config "$f" --check-config
    check "$name: exit" "$TT_RC" 2
    check_grep "$name: names $f:$line" "$TT_ERR" "^$f:$line: .*$msg"
}

broken unknown-key 's/^mirai_min_ports = 2/mirai_min_port = 2/' \
    '^mirai_min_port = 2' 'mirai_min_port = 2: unknown key'
broken unknown-section 's/^\[alerts\]/[alert]/' '^\[alert\]' 'unknown section'
broken bad-country 's/^home_country = JP/home_country = JA/' '^home_country' 'home_country = JA'
broken bad-prefix 's|^prefixes = 192.0.2.128/25|prefixes = 192.0.2.128/24|' \
    '^prefixes = 192.0.2.128/24' "'192.0.2.128/24' is not a prefix"
broken overlap 's|^prefixes = 192.0.2.128/25|prefixes = 192.0.2.64/26|' \
    '^prefixes = 192.0.2.64/26' 'overlaps 192.0.2.0/25 of sensor tokyo-a'
broken duplicate-sensor 's/^\[sensor tokyo-b\]/[sensor tokyo-a]/' \
    '^\[sensor tokyo-a\]$' ''
check_grep "duplicate-sensor: says where the first is" "$TT_ERR" 'duplicate sensor \(first at line'
broken missing-geoip 's|^geoip_db = .*|geoip_db = /nonexistent/country.mmdb|' \
    '^geoip_db' 'geoip_db = /nonexistent/country.mmdb: No such file'
broken bad-clock 's/^clock = auto/clock = ntp/' '^clock' 'clock = ntp'
broken bad-duration 's/^hour = 90d/hour = 90y/' '^hour' 'hour = 90y'
broken bad-location 's/^location = domestic/location = home/' '^location = home' \
    'location = home'

run_teiten -- --config "$TT_TMP/nonexistent.conf" --check-config
check "missing config: exit" "$TT_RC" 2
check_grep "missing config: says so" "$TT_ERR" 'nonexistent.conf:0: cannot read: No such file'

run_teiten -l 0-1 -- --duration abc --config "$EXAMPLE"
check "bad --duration: exit" "$TT_RC" 2
check_grep "bad --duration: says so" "$TT_ERR" '^teiten: --duration abc: expected whole seconds'
run_teiten -l 0-1
check "no --: exit" "$TT_RC" 2
check_grep "no --: usage" "$TT_ERR" '^usage: '
run_teiten -l 0-1 -- --config "$EXAMPLE" stray
check "stray argument: exit" "$TT_RC" 2

write_config "$TT_TMP/one.conf" err-1 "a:0:192.0.2.0/24"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/none.pcap" -- \
    --config "$TT_TMP/one.conf"
check "missing pcap: exit" "$TT_RC" 2
check_grep "missing pcap: the file is named" "$TT_ERR" 'none.pcap'
line=$(grep -n '^port = 0' "$TT_TMP/one.conf" | cut -d: -f1)
check_grep "missing pcap: the port is missing, and why" "$TT_ERR" \
    "one.conf:$line: \[sensor a\] port = 0: no such DPDK port \(0 probed.*failed to probe"

printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\0\0\x01\0\0\0' \
    >"$TT_TMP/empty.pcap"
write_config "$TT_TMP/two.conf" err-2 "a:0:192.0.2.0/24" "b:3:198.51.100.0/24"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/empty.pcap" -- \
    --config "$TT_TMP/two.conf"
check "sensor on a missing port: exit" "$TT_RC" 2
line=$(grep -n '^port = 3' "$TT_TMP/two.conf" | cut -d: -f1)
check_grep "sensor on a missing port: names the sensor line" "$TT_ERR" \
    "two.conf:$line: \[sensor b\] port = 3: no such DPDK port"

run_teiten $(eal_opts) -l 0 --vdev "net_pcap0,rx_pcap=$TT_TMP/empty.pcap" -- \
    --config "$TT_TMP/one.conf"
check "one lcore: exit" "$TT_RC" 2
check_grep "one lcore: says why" "$TT_ERR" 'no worker lcore'

# An empty capture is a clean, empty run.
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/empty.pcap" -- \
    --config "$TT_TMP/one.conf" --summary "$TT_TMP/empty.json"
check "empty capture: exit" "$TT_RC" 0
check "empty capture: packets" "$(sj "$TT_TMP/empty.json" .packets)" 0
check "empty capture: first packet" "$(jq -r .first_packet "$TT_TMP/empty.json")" null

finish
