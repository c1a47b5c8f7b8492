#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Replays each real capture through the appliance and compares the summary
# with counts taken independently of teiten: NOTICE.md beside the captures,
# and tcpdump filters over the same files (noted per figure).
. "$(dirname "$0")/lib.sh"
need_real_captures

# One sensor that sees every address, so every IP packet is attributed.
write_config "$TT_TMP/all.conf" real-1 "everything:0:0.0.0.0/0, ::/0"

replay() {
    run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_REAL/$1.pcap" -- \
        --config "$TT_TMP/all.conf" --summary "$TT_TMP/$1.json"
    check "$1: exit status" "$TT_RC" 0
    S="$TT_TMP/$1.json"
}

# Two real SYNs to 23/TCP, seq == destination, data offset past the payload.
replay mirai_seqdst_2pkts
check "mirai: packets" "$(sj "$S" .packets)" 2
check "mirai: malformed (data offset 24 > 20)" "$(sj "$S" .malformed)" 2
check "mirai: tcp/23" "$(sj "$S" '.scopes.all.port["tcp/23"]')" 2
check "mirai: mirai-type tcp/23" "$(sj "$S" '.scopes.all["port:mirai"]["tcp/23"]')" 2
check "mirai: class mirai" "$(sj "$S" .scopes.all.totals.mirai)" 2
check "mirai: sensor scope" "$(sj "$S" .scopes.everything.totals.mirai)" 2
check "mirai: clock from the capture" "$(sj "$S" .clock)" packet
check "mirai: first packet time" "$(sj "$S" .first_packet)" 2020-11-08T13:36:12Z
check "mirai: one source" "$(sj "$S" .scopes.all.srcs)" 1
check "mirai: one Mirai-type source" "$(sj "$S" '.scopes.all["srcs:mirai"]')" 1
check "mirai: one source on the watched tcp/23" "$(sj "$S" '.scopes.all["srcs:tcp/23:mirai"]')" 1

# nmap -sS: 2011 packets, 1994 SYNs (1 with IP ID 54321), 12 SYN-ACK, 5 RST.
replay nmap_sS_synscan
check "nmap: packets" "$(sj "$S" .packets)" 2011
check "nmap: attributed" "$(sj "$S" .scopes.all.totals.pkts)" 2011
check "nmap: nmap class (1994 SYNs less the zmap one)" "$(sj "$S" .scopes.all.totals.nmap)" 1993
check "nmap: zmap by chance (IP ID 54321)" "$(sj "$S" .scopes.all.totals.zmap)" 1
check "nmap: backscatter (12 SYN-ACK + 5 RST)" "$(sj "$S" .scopes.all.totals.backscatter)" 17
check "nmap: mirai" "$(sj "$S" .scopes.all.totals.mirai)" 0
check "nmap: masscan" "$(sj "$S" .scopes.all.totals.masscan)" 0
check "nmap: malformed" "$(sj "$S" .malformed)" 0

# Hide-and-Seek: 2000 frames, 1908 IPv4 + 61 IPv6 (tcpdump 'ip', 'ip6'), 31 other;
# 0 Mirai-type; tcp/23 255, tcp/22 471, udp/123 136 (tcpdump 'dst port');
# backscatter 7 TCP (SYN-ACK or RST) + 9 ICMP (types 0, 3, 11).
replay iot_hideandseek_nonmirai
check "hns: packets" "$(sj "$S" .packets)" 2000
check "hns: non-IP" "$(sj "$S" .non_ip)" 31
check "hns: attributed" "$(sj "$S" .scopes.all.totals.pkts)" 1969
check "hns: v6" "$(sj "$S" .scopes.all.totals.v6)" 61
check "hns: mirai" "$(sj "$S" .scopes.all.totals.mirai)" 0
check "hns: tcp/23" "$(sj "$S" '.scopes.all.port["tcp/23"]')" 255
check "hns: tcp/22" "$(sj "$S" '.scopes.all.port["tcp/22"]')" 471
check "hns: udp/123" "$(sj "$S" '.scopes.all.port["udp/123"]')" 136
check "hns: backscatter" "$(sj "$S" .scopes.all.totals.backscatter)" 16

# SYN-ACK reflection at the victim: 8000 packets, 6651 SYN-ACK, 1018 RST,
# 153 ICMP unreachable; 4 frames are not IP (tcpdump 'not ip and not ip6').
replay synack_reflection_backscatter
check "reflection: packets" "$(sj "$S" .packets)" 8000
check "reflection: non-IP" "$(sj "$S" .non_ip)" 4
check "reflection: backscatter" "$(sj "$S" .scopes.all.totals.backscatter)" $((6651 + 1018 + 153))
check "reflection: icmp" "$(sj "$S" .scopes.all.port.icmp)" 153
check "reflection: udp/1194 (tcpdump)" "$(sj "$S" '.scopes.all.port["udp/1194"]')" 73

# 37841 spoofed SYNs to 25565/TCP; one has IP ID 54321 (tcpdump 'ip[4:2]=54321').
replay synflood_spoofed
check "flood: packets" "$(sj "$S" .packets)" 37841
check "flood: tcp/25565" "$(sj "$S" '.scopes.all.port["tcp/25565"]')" 37841
check "flood: zmap by chance" "$(sj "$S" .scopes.all.totals.zmap)" 1
check "flood: bytes = 37841 x 60" "$(sj "$S" .scopes.all.totals.bytes)" $((37841 * 60))
check "flood: every source unknown country (no geoip_db)" \
    "$(sj "$S" .scopes.all.country.ZZ)" 37841
# 37623 distinct sources (tcpdump, sort -u); HyperLogLog within 3%
srcs=$(sj "$S" .scopes.all.srcs)
check "flood: unique sources ~37623 (got $srcs)" \
    "$([ "$srcs" -gt 36494 ] && [ "$srcs" -lt 38752 ] && echo yes)" yes

finish
