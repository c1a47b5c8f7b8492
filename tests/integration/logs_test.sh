#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Log lines: on a terminal or a file, each rte_log line (EAL's and teiten's)
# starts with the UTC time and its level; under journald (JOURNAL_STREAM
# names stderr) with the priority prefix journald reads, and no time.
. "$(dirname "$0")/lib.sh"

"$TEITEN_GEN" --sensor a=192.0.2.0/24 --packets 500 --seed 8 --out "$TT_TMP/l.pcap" \
    --truth "$TT_TMP/l.json" --config "$TT_TMP/l.conf" >/dev/null
printf '[redis]\nenabled = no\n' >>"$TT_TMP/l.conf"

BEFORE=$(date -u +%s)
env -u JOURNAL_STREAM "$TEITEN" $(eal_opts) -l 0-1 --log-level=lib.eal:info \
    --vdev "net_pcap0,rx_pcap=$TT_TMP/l.pcap" -- --config "$TT_TMP/l.conf" \
    >"$TT_TMP/plain.out" 2>"$TT_TMP/plain.err"
check "plain: exit" "$?" 0
AFTER=$(date -u +%s)
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
check_grep "plain: teiten's lines: time, level, module" "$TT_TMP/plain.err" \
    "^$TS NOTICE teiten: appliance gen-1: 1 workers, 1 ports, 1 sensors: running$"
check_grep "plain: EAL's lines too" "$TT_TMP/plain.err" "^$TS INFO EAL: "
check_grep "plain: the port module's" "$TT_TMP/plain.err" "^$TS NOTICE port: port 0 "
# Every line rte_log wrote is marked (EAL's "FATAL" alerts bypass it, and
# none are expected here).
check "plain: every line marked" \
    "$(grep -cvE "^$TS (EMERG|ALERT|CRIT|ERR|WARNING|NOTICE|INFO|DEBUG) " "$TT_TMP/plain.err")" 0
FIRST=$(head -1 "$TT_TMP/plain.err" | cut -c1-19)
FIRST_S=$(date -u -d "$FIRST" +%s)
check "plain: the time is now, UTC ($FIRST)" \
    "$([ "$FIRST_S" -ge $((BEFORE - 1)) ] && [ "$FIRST_S" -le $((AFTER + 1)) ] && echo yes)" yes

# Under journald: systemd sets JOURNAL_STREAM to stderr's device:inode.
: >"$TT_TMP/journal.err"
JS=$(stat -c '%d:%i' "$TT_TMP/journal.err")
JOURNAL_STREAM=$JS "$TEITEN" $(eal_opts) -l 0-1 --log-level=lib.eal:info \
    --vdev "net_pcap0,rx_pcap=$TT_TMP/l.pcap" -- --config "$TT_TMP/l.conf" \
    >"$TT_TMP/journal.out" 2>>"$TT_TMP/journal.err"
check "journald: exit" "$?" 0
check_grep "journald: NOTICE is <5>" "$TT_TMP/journal.err" \
    '^<5>teiten: appliance gen-1: 1 workers, 1 ports, 1 sensors: running$'
check_grep "journald: INFO is <6>" "$TT_TMP/journal.err" '^<6>EAL: '
check "journald: every line has a priority" "$(grep -cvE '^<[0-7]>' "$TT_TMP/journal.err")" 0
check "journald: no timestamps (journald stamps)" "$(grep -cE "$TS" "$TT_TMP/journal.err")" 0
# A JOURNAL_STREAM inherited by a run whose stderr is elsewhere is ignored.
JOURNAL_STREAM=$JS "$TEITEN" $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/l.pcap" -- \
    --config "$TT_TMP/l.conf" >/dev/null 2>"$TT_TMP/other.err"
check_grep "inherited JOURNAL_STREAM: still timestamps" "$TT_TMP/other.err" "^$TS NOTICE teiten: "

finish
