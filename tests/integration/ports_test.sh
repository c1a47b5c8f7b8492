#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Several ports and several workers per port:
#  - two net_pcap ports, a sensor on each: a packet for port 1's prefix that
#    arrives on port 0 is not dark;
#  - one port with two rx_pcap files (two queues) and --lcores mapping three
#    lcores onto two cores, so two workers share the port;
#  - one port with three files and two workers (worker 0 takes queues 0 and 2).
# Expected figures (tcpdump over the same files): nmap_sS_synscan has 1994
# packets to 64.13.134.52 (one with IP ID 54321) and 17 to 172.16.0.8; the
# Mirai capture has one SYN to 185.100.143.115 and one to 95.130.237.126.
. "$(dirname "$0")/lib.sh"
need_real_captures

M=$TT_REAL/mirai_seqdst_2pkts.pcap
N=$TT_REAL/nmap_sS_synscan.pcap
F=$TT_REAL/synflood_spoofed.pcap

write_config "$TT_TMP/two.conf" ports-1 \
    "a:0:185.100.143.0/24" \
    "b:1:64.13.134.0/24, 95.130.237.0/24"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$M" --vdev "net_pcap1,rx_pcap=$N" \
    -- --config "$TT_TMP/two.conf" --summary "$TT_TMP/two.json"
S=$TT_TMP/two.json
check "two ports: exit status" "$TT_RC" 0
check "two ports: packets" "$(sj "$S" .packets)" 2013
check "two ports: sensor a" "$(sj "$S" .scopes.a.totals.pkts)" 1
check "two ports: sensor a mirai" "$(sj "$S" .scopes.a.totals.mirai)" 1
check "two ports: sensor b" "$(sj "$S" .scopes.b.totals.pkts)" 1994
check "two ports: sensor b nmap" "$(sj "$S" .scopes.b.totals.nmap)" 1993
check "two ports: all = a + b" "$(sj "$S" .scopes.all.totals.pkts)" 1995
check "two ports: not dark (17 replies + 1 on the wrong port)" "$(sj "$S" .not_dark)" 18
check_grep "two ports: a table row per sensor" "$TT_OUT" '^\[sensor b\] port 1: 1994 packets'

# Both files on one port: two queues, two workers on two cores with three lcores.
write_config "$TT_TMP/one.conf" ports-2 \
    "a:0:185.100.143.0/24, 95.130.237.0/24, 64.13.134.0/24"
run_teiten $(eal_opts) --lcores '(0-2)@(0-1)' --log-level=tt.main:info \
    --vdev "net_pcap0,rx_pcap=$M,rx_pcap=$N" \
    -- --config "$TT_TMP/one.conf" --summary "$TT_TMP/one.json"
S=$TT_TMP/one.json
check "shared port: exit status" "$TT_RC" 0
check_grep "shared port: worker 0 polls one queue" "$TT_ERR" 'worker 0: lcore 1, 1 rx queues'
check_grep "shared port: worker 1 polls one queue" "$TT_ERR" 'worker 1: lcore 2, 1 rx queues'
check "shared port: packets" "$(sj "$S" .packets)" 2013
check "shared port: attributed" "$(sj "$S" .scopes.a.totals.pkts)" 1996
check "shared port: mirai" "$(sj "$S" .scopes.a.totals.mirai)" 2
check "shared port: nmap" "$(sj "$S" .scopes.a.totals.nmap)" 1993
check "shared port: not dark" "$(sj "$S" .not_dark)" 17

# Three files, two workers: queue 2 goes to worker 0 as well.
write_config "$TT_TMP/three.conf" ports-3 "a:0:0.0.0.0/0"
run_teiten $(eal_opts) --lcores '(0-2)@(0-1)' --log-level=tt.main:info \
    --vdev "net_pcap0,rx_pcap=$M,rx_pcap=$N,rx_pcap=$F" \
    -- --config "$TT_TMP/three.conf" --summary "$TT_TMP/three.json"
S=$TT_TMP/three.json
check "three files: exit status" "$TT_RC" 0
check_grep "three files: worker 0 polls two queues" "$TT_ERR" 'worker 0: lcore 1, 2 rx queues'
check "three files: packets" "$(sj "$S" .packets)" $((2 + 2011 + 37841))
check "three files: attributed" "$(sj "$S" .scopes.a.totals.pkts)" $((2 + 2011 + 37841))
check "three files: tcp/25565" "$(sj "$S" '.scopes.a.port["tcp/25565"]')" 37841

finish
