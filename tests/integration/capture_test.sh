#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Live capture from a running appliance with DPDK's dpdk-dumpcap (a
# secondary process attached through rte_pdump). A secondary process maps
# the primary's memory, so this one run uses hugepages: the test reserves
# them, mounts hugetlbfs if nothing is mounted, and gives both back at exit.
. "$(dirname "$0")/lib.sh"

command -v dpdk-dumpcap >/dev/null || skip "dpdk-dumpcap is not installed"
[ "$(id -u)" -eq 0 ] || skip "reserving hugepages needs root"

# Given back by difference (scripts/hugepages.sh): a benchmark reserving
# its own meanwhile keeps them.
. "$TT_SOURCE_ROOT/scripts/hugepages.sh"
PAGES_ADDED=
HUGETLBFS_USED=
give_back() {
    local pid
    for pid in "${TT_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -f /dev/hugepages/it_$$_*
    rm -rf /dev/hugepages/it_$$_sub
    [ -n "$HUGETLBFS_USED" ] && tt_hugetlbfs_done
    [ -n "$PAGES_ADDED" ] && tt_hugepages_change $((-PAGES_ADDED)) >/dev/null
    cleanup
}
trap give_back EXIT
PAGES_ADDED=$(tt_hugepages_change 256) || { PAGES_ADDED=; skip "cannot reserve hugepages"; }
[ "$PAGES_ADDED" -ge 256 ] || skip "cannot reserve 256 hugepages"
tt_hugetlbfs_use || skip "cannot mount hugetlbfs"
HUGETLBFS_USED=1

PREFIX=it_$$_cap
"$TEITEN_GEN" --sensor tokyo-a=192.0.2.0/25 --packets 2000 --seed 5 \
    --out "$TT_TMP/c.pcap" --truth "$TT_TMP/c.json" --config "$TT_TMP/c.conf" >/dev/null
check "generator: exit" "$?" 0
# infinite_rx keeps the file in mbufs and loops it, so packets keep coming.
sed -i 's/^\[appliance\]/[appliance]\nrx_mbufs = 8192/' "$TT_TMP/c.conf"
printf '[redis]\nenabled = no\n' >>"$TT_TMP/c.conf"

# rte_pdump's end of a capture must bind to the capture guard
# (lib/capture/tt_capture.h), which waits for the workers to leave its
# callback: the binary exports it, and each end of a capture logs the wait.
check "teiten exports the capture guard's rte_eth_remove_rx_callback" \
    "$(nm -D --defined-only "$TEITEN" | grep -c ' rte_eth_remove_rx_callback$')" 1
"$TEITEN" -m 256 --no-pci --file-prefix="$PREFIX" --log-level=lib.eal:error \
    --log-level=tt.capture:info -l 0-1 \
    --vdev "net_pcap0,rx_pcap=$TT_TMP/c.pcap,infinite_rx=1" -- \
    --config "$TT_TMP/c.conf" --duration 3600 >"$TT_TMP/run.out" 2>&1 &
TEITEN_PID=$!
TT_PIDS+=("$TEITEN_PID")
rx_pkts() {
    telemetry "$PREFIX" /teiten/workers '."worker/0".rx_pkts'
}
receiving() { [ "$(rx_pkts)" -gt 0 ] 2>/dev/null; }
wait_for 300 receiving
check "the appliance runs on hugepages and receives" "$?" 0

# The README's command: capture 50 packets of port 0 into a pcapng file.
BEFORE_S=$(date +%s.%N)
timeout 120 dpdk-dumpcap --file-prefix="$PREFIX" -i 0 -c 50 -w "$TT_TMP/live.pcapng" \
    >"$TT_TMP/dumpcap.out" 2>&1
check "dpdk-dumpcap: exit" "$?" 0
AFTER_S=$(date +%s.%N)
# Each packet's pcapng timestamp (ns since 1970), read from the file itself:
# tcpdump folds times past 2106 into 32 bits and would hide a wrong year.
pcapng_times() {
    python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 0
while off + 8 <= len(d):
    kind, length = struct.unpack_from("<II", d, off)
    if kind == 6:                       # enhanced packet block
        hi, lo = struct.unpack_from("<II", d, off + 12)
        print("%.6f" % (((hi << 32) | lo) / 1e9))
    off += length
PY
}
pcapng_times "$TT_TMP/live.pcapng" >"$TT_TMP/times.txt"
check "dpdk-dumpcap: timestamps read" "$([ "$(wc -l <"$TT_TMP/times.txt")" -ge 50 ] && echo yes)" yes
check "dpdk-dumpcap: every timestamp within the capture's wall time ($BEFORE_S .. $AFTER_S)" \
    "$(awk -v a="$BEFORE_S" -v b="$AFTER_S" '$1 < a - 1 || $1 > b + 1' "$TT_TMP/times.txt" |
        head -3 | paste -sd' ')" ""
CAPTURED=$(tcpdump -nr "$TT_TMP/live.pcapng" 2>/dev/null | wc -l)
check "dpdk-dumpcap: at least 50 packets read back" "$([ "$CAPTURED" -ge 50 ] && echo yes)" yes
# Every captured frame is one of the replayed file's (timestamps left out).
tcpdump -tnr "$TT_TMP/c.pcap" 2>/dev/null | sort -u >"$TT_TMP/replayed.txt"
tcpdump -tnr "$TT_TMP/live.pcapng" 2>/dev/null | sort -u >"$TT_TMP/captured.txt"
check "dpdk-dumpcap: every frame comes from the replay" \
    "$(comm -13 "$TT_TMP/replayed.txt" "$TT_TMP/captured.txt" | wc -l)" 0
# A BPF filter runs in dumpcap: only the asked-for service.
timeout 120 dpdk-dumpcap --file-prefix="$PREFIX" -i 0 -c 20 -f "tcp dst port 23" \
    -w "$TT_TMP/telnet.pcapng" >"$TT_TMP/dumpcap2.out" 2>&1
check "dpdk-dumpcap with a filter: exit" "$?" 0
tcpdump -nr "$TT_TMP/telnet.pcapng" 2>/dev/null >"$TT_TMP/telnet.txt"
check "dpdk-dumpcap with a filter: at least 20 packets" \
    "$([ "$(wc -l <"$TT_TMP/telnet.txt")" -ge 20 ] && echo yes)" yes
check "dpdk-dumpcap with a filter: only tcp/23" "$(grep -vc '\.23: ' "$TT_TMP/telnet.txt")" 0

BEFORE=$(rx_pkts)
counting_on() { [ "$(rx_pkts)" -gt "$BEFORE" ]; }
wait_for 60 counting_on
check "the appliance keeps counting after the captures" "$(counting_on && echo yes)" yes
# A later capture in the same run is stamped right too.
BEFORE_S=$(date +%s.%N)
timeout 120 dpdk-dumpcap --file-prefix="$PREFIX" -i 0 -c 10 -w "$TT_TMP/later.pcapng" \
    >"$TT_TMP/dumpcap3.out" 2>&1
AFTER_S=$(date +%s.%N)
check "dpdk-dumpcap, a later capture: timestamps within its wall time" \
    "$(pcapng_times "$TT_TMP/later.pcapng" |
        awk -v a="$BEFORE_S" -v b="$AFTER_S" '$1 < a - 1 || $1 > b + 1 { n++ } END { print (NR > 0 && n == 0) ? 1 : 0 }')" 1
kill -INT "$TEITEN_PID"
wait "$TEITEN_PID"
check "teiten: exit after SIGINT" "$?" 0
check "each of the 3 captures' ends waited for the workers" \
    "$(grep -c 'capture: an rx callback was removed; the workers left it' "$TT_TMP/run.out")" 3
# DPDK 22.11 leaves the run's hugepage map files behind on a clean exit,
# holding their pages; teiten.service removes them after every stop with
# the command below (its ExecStopPost, for its own --huge-dir).
LEFT=$(ls /dev/hugepages/ | grep -c "^${PREFIX}map_")
echo "     after a clean exit: $LEFT hugepage map files left by DPDK"
check "a clean exit leaves hugepage map files (what the unit cleans up)" \
    "$([ "$LEFT" -gt 0 ] && echo yes)" yes
rm -f /dev/hugepages/${PREFIX}map_*
check "... and removing them as the unit does leaves none" \
    "$(ls /dev/hugepages/ | grep -c "^${PREFIX}map_")" 0

# teiten.service gives EAL a folder of its own on the mount (--huge-dir):
# DPDK 22.11 takes a sub-folder of a hugetlbfs mount, and the map files of
# the run land there, where the unit's ExecStopPost finds them.
SUB=/dev/hugepages/it_$$_sub
install -d -m 0770 "$SUB"
"$TEITEN" -m 256 --no-pci --file-prefix="${PREFIX}s" --huge-dir="$SUB" \
    --log-level=lib.eal:error -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/c.pcap" -- \
    --config "$TT_TMP/c.conf" --summary "$TT_TMP/sub.json" >"$TT_TMP/sub.out" 2>&1
check "--huge-dir on a sub-folder (as the unit runs it): exit" "$?" 0
check "--huge-dir on a sub-folder: the replay counted" "$(sj "$TT_TMP/sub.json" .packets)" 2000
check "--huge-dir on a sub-folder: the map files are there" \
    "$([ "$(ls "$SUB" | grep -c "^${PREFIX}smap_")" -gt 0 ] && echo yes)" yes
rm -f "$SUB/${PREFIX}smap_"*
rmdir "$SUB"
check "--huge-dir on a sub-folder: removed as the unit does" "$([ -e "$SUB" ] && echo left || echo gone)" gone

# A mount of the scripts' own (scripts/hugepages.sh), unmounted by hand while
# its marker stays, is mounted again by the next use. Only when this test is
# its one user: another's files would keep it mounted.
unmount_by_hand() {
    [ "$(cat "$TT_HUGETLBFS_MARK" 2>/dev/null)" = 1 ] && umount /dev/hugepages
}
if tt_hugepages_locked unmount_by_hand; then
    check "hugetlbfs unmounted by hand" "$(tt_hugetlbfs_mounted && echo mounted || echo gone)" gone
    tt_hugetlbfs_use
    check "hugetlbfs: the next use mounts it again" \
        "$(tt_hugetlbfs_mounted && echo mounted || echo gone)" mounted
    tt_hugetlbfs_done
else
    echo "     hugetlbfs is not this test's alone: its remount is not checked"
fi

finish
