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

# Start-up failures DPDK reports as a bare errno name what fixes them.
"$TEITEN_GEN" --sensor a=192.0.2.0/24 --packets 5000 --seed 4 --out "$TT_TMP/loop.pcap" \
    --truth "$TT_TMP/loop.json" --config "$TT_TMP/loop.conf" >/dev/null
printf '[redis]\nenabled = no\n' >>"$TT_TMP/loop.conf"
sed 's/^\[appliance\]/[appliance]\nrx_mbufs = 16384/' "$TT_TMP/loop.conf" >"$TT_TMP/loop-big.conf"
# A --file-prefix another appliance holds: which process, and the option.
BUSY=it_$$_busy
"$TEITEN" --no-huge -m 256 --no-pci --file-prefix=$BUSY --log-level=lib.eal:error -l 0-1 \
    --vdev "net_pcap0,rx_pcap=$TT_TMP/loop.pcap,infinite_rx=1" -- \
    --config "$TT_TMP/loop-big.conf" --duration 3600 >"$TT_TMP/holder.out" 2>&1 &
HOLDER=$!
TT_PIDS+=("$HOLDER")
wait_for 300 grep -q ': running' "$TT_TMP/holder.out"
check "busy --file-prefix: the first appliance runs" "$?" 0
run_teiten --no-huge -m 256 --no-pci --file-prefix=$BUSY --log-level=lib.eal:error -l 0-1 \
    --vdev "net_pcap0,rx_pcap=$TT_TMP/loop.pcap" -- --config "$TT_TMP/loop.conf"
check "busy --file-prefix: exit" "$TT_RC" 2
check_grep "busy --file-prefix: names the holder and the option" "$TT_ERR" \
    "^teiten: EAL init failed: --file-prefix=$BUSY is in use by process $HOLDER .*another --file-prefix"
check "busy --file-prefix: not 'Success'" "$(grep -c 'Success' "$TT_ERR")" 0
kill -INT "$HOLDER"
wait "$HOLDER"
check "busy --file-prefix: the first appliance stops cleanly" "$?" 0

# infinite_rx keeps the whole file in buffers: 5000 frames, 2944 buffers.
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/loop.pcap,infinite_rx=1" -- \
    --config "$TT_TMP/loop.conf" --duration 5
check "infinite_rx, too few buffers: fails" "$([ "$TT_RC" -ne 0 ] && echo yes)" yes
check_grep "infinite_rx, too few buffers: names [appliance] rx_mbufs" "$TT_ERR" \
    "port 0 loops a pcap file \(infinite_rx=1\).*set \[appliance\] rx_mbufs \(now [0-9]+\)"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/loop.pcap,infinite_rx=1" -- \
    --config "$TT_TMP/loop-big.conf" --duration 1
check "infinite_rx, rx_mbufs raised as told: runs" "$TT_RC" 0

# -m too small: the sensor tables (DPDK FIB) fail first; the message names -m.
TT_MEM=32 run_teiten $(TT_MEM=32 eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/loop.pcap" \
    -- --config "$EXAMPLE"
check "-m 32: fails" "$([ "$TT_RC" -ne 0 ] && echo yes)" yes
check_grep "-m 32: names -m and the heap" "$TT_ERR" \
    "sensor tables: .*DPDK memory: [0-9]+ of [0-9]+ MiB free.*raise -m"

# Hugepages asked for where there are none (a --huge-dir that is no
# hugetlbfs, so the machine's own reservations play no part).
run_teiten -m 64 --no-pci --file-prefix=it_$$_huge --huge-dir="$TT_TMP" \
    --log-level=lib.eal:error -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/loop.pcap" -- \
    --config "$TT_TMP/loop.conf"
check "no usable hugepages: exit" "$TT_RC" 2
check_grep "no usable hugepages: says what to do" "$TT_ERR" \
    "^teiten: EAL init failed: no (usable )?hugepages: .*--no-huge"

# An empty capture is a clean, empty run.
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/empty.pcap" -- \
    --config "$TT_TMP/one.conf" --summary "$TT_TMP/empty.json"
check "empty capture: exit" "$TT_RC" 0
check "empty capture: packets" "$(sj "$TT_TMP/empty.json" .packets)" 0
check "empty capture: first packet" "$(jq -r .first_packet "$TT_TMP/empty.json")" null

finish
