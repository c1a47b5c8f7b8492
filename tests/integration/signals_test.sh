#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A looping port never ends by itself: SIGTERM, SIGINT and --duration stop it
# cleanly (exit 0, final totals written). Wall clock, since a loop has no
# capture timestamps.
. "$(dirname "$0")/lib.sh"
need_real_captures

write_config "$TT_TMP/loop.conf" sig-1 "a:0:0.0.0.0/0, ::/0"
H=$TT_REAL/iot_hideandseek_nonmirai.pcap

# rx_past PREFIX N: the appliance's worker has received more than N packets
rx_past() {
    local rx
    rx=$(telemetry "$1" /teiten/workers '."worker/0".rx_pkts')
    [ "${rx:-0}" != null ] && [ "${rx:-0}" -gt "$2" ]
}

for sig in TERM INT; do
    prefix=it_$$_$sig
    timeout 600 "$TEITEN" --no-huge -m 256 --no-pci --file-prefix="$prefix" \
        --log-level=lib.eal:error -l 0-1 --vdev "net_pcap0,rx_pcap=$H,infinite_rx=1" -- \
        --config "$TT_TMP/loop.conf" --summary "$TT_TMP/$sig.json" \
        >"$TT_TMP/$sig.out" 2>"$TT_TMP/$sig.err" &
    pid=$!
    TT_PIDS+=("$pid")
    # Signalled once it has looped past one pass: before its handlers are
    # in place, a signal would end it as the default action does.
    wait_for 300 rx_past "$prefix" 2000
    check "SIG$sig: running, past one pass" "$(rx_past "$prefix" 2000 && echo yes)" yes
    kill -"$sig" "$pid"
    wait "$pid"
    check "SIG$sig: exit status" "$?" 0
    check_grep "SIG$sig: logged" "$TT_TMP/$sig.err" 'signal: stopping'
    check "SIG$sig: wall clock for a loop" "$(sj "$TT_TMP/$sig.json" .clock)" wall
    pkts=$(sj "$TT_TMP/$sig.json" .packets)
    attributed=$(sj "$TT_TMP/$sig.json" .scopes.all.totals.pkts)
    nonip=$(sj "$TT_TMP/$sig.json" .non_ip)
    check "SIG$sig: looped past one pass of 2000 frames" "$([ "$pkts" -gt 2000 ] && echo yes)" yes
    check "SIG$sig: every frame accounted (attributed + non-IP)" \
        "$((attributed + nonip))" "$pkts"
done

# SIGHUP never ends the sensor: the config is read again and applied, and
# a broken one refused with the running one kept (not under timeout(1),
# which passes on one SIGHUP but not the next)
cp "$TT_TMP/loop.conf" "$TT_TMP/hup.conf"
"$TEITEN" $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$H,infinite_rx=1" -- \
    --config "$TT_TMP/hup.conf" --summary "$TT_TMP/hup.json" \
    >"$TT_TMP/hup.out" 2>"$TT_TMP/hup.err" &
pid=$!
TT_PIDS+=("$pid")
wait_for 300 grep -q ': running' "$TT_TMP/hup.err"
check_grep "SIGHUP: running before the signal" "$TT_TMP/hup.err" ': running'
kill -HUP "$pid"
wait_for 300 grep -q 'every worker counts with generation 2' "$TT_TMP/hup.err"
check_grep "SIGHUP: the same config is applied as generation 2" "$TT_TMP/hup.err" \
    "SIGHUP: $TT_TMP/hup.conf applied \(generation 2\): sensors 1 \(\+0, -0, 0 back\), prefixes 2 -> 2 \(unchanged\)"
check_grep "SIGHUP: every worker took it" "$TT_TMP/hup.err" \
    "reload: every worker counts with generation 2 from now"
printf '[sensor b]\nport = 0\nprefixes = 10.0.0.0/33\n' >>"$TT_TMP/hup.conf"
kill -HUP "$pid"
wait_for 300 grep -q 'is not valid' "$TT_TMP/hup.err"
check_grep "SIGHUP: a broken config's problem is named" "$TT_TMP/hup.err" \
    "^$TT_TMP/hup.conf:[0-9]+: \[sensor b\] prefixes = 10.0.0.0/33"
# ... in the words --check-config has for it, every line of them
"$TEITEN" -- --config "$TT_TMP/hup.conf" --check-config >/dev/null 2>"$TT_TMP/hup.check"
check "SIGHUP: --check-config's lines, each logged" "$(grep -cvxFf "$TT_TMP/hup.err" \
    "$TT_TMP/hup.check") of $(grep -c . "$TT_TMP/hup.check") missing" \
    "0 of $(grep -c . "$TT_TMP/hup.check") missing"
check "SIGHUP: still running" "$(kill -0 "$pid" 2>/dev/null && echo yes)" yes
kill -TERM "$pid"
wait "$pid"
check "SIGHUP: then SIGTERM stops it cleanly" "$?" 0
check "SIGHUP: nothing lost: every frame accounted" \
    "$(($(sj "$TT_TMP/hup.json" .scopes.all.totals.pkts) + $(sj "$TT_TMP/hup.json" .non_ip)))" \
    "$(sj "$TT_TMP/hup.json" .packets)"

run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$H,infinite_rx=1" -- \
    --config "$TT_TMP/loop.conf" --duration 2 --summary "$TT_TMP/dur.json"
check "--duration: exit status" "$TT_RC" 0
check_grep "--duration: logged" "$TT_ERR" 'duration of 2 s reached'
# Its polling time, start to stop (duration_ms adds start-up's tail and the
# exit, which a loaded machine stretches).
ms=$(sj "$TT_TMP/dur.json" .workers.run_ms)
check "--duration: polled about 2 s ($ms ms)" \
    "$([ "$ms" -ge 2000 ] && [ "$ms" -lt 4000 ] && echo yes)" yes

finish
