#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Who is scanning, in Redis ({src} keys) and in the summary:
#  - the real Mirai pair: one source, Mirai-type on one port only (so not
#    confirmed), in the rolling sets, the day's exact count and a host record;
#  - the real SYN-ACK reflection capture lasts 0.15 s: under the DoS rule
#    (>= 25 packets over >= 60 s at >= 30 a minute) no sender is a victim,
#    yet each backscatter sender has its host record;
#  - a generated two-minute scenario with an attack: the day's victims set
#    equals the generator's victims (the DoS rule applied to every
#    backscatter sender), packet for packet; confirmed Mirai-type sources
#    appear as the rule says;
#  - a flood of 2^22 spoofed Mirai-type sources: memory stays at the cap,
#    evictions are counted, every counter stays exact; a flood of plain
#    SYNs does not touch the memory at all.
. "$(dirname "$0")/lib.sh"
need_real_captures
need_geoip
TT_MEM=512
start_redis src || exit 1
R() { rcli src "$@"; }

cc=$(mmdblookup --file "$TT_GEOIP_DB" --ip 116.90.231.16 country_code 2>/dev/null |
    sed -n 's/.*"\([A-Z][A-Z]\)".*/\1/p')
TT_WITH_GEOIP=1 TT_HOME=$cc write_config "$TT_TMP/m.conf" src-1 "world:0:0.0.0.0/0, ::/0"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_REAL/mirai_seqdst_2pkts.pcap" -- \
    --config "$TT_TMP/m.conf" --summary "$TT_TMP/m.json"
check "mirai: exit" "$TT_RC" 0
# the last packet: 2020-11-08T13:37:52Z = 1604842672
check "mirai: rolling set, scored by last seen" \
    "$(R zrange 'teiten:{src}:mirai' 0 -1 withscores | tr '\n' ' ')" "116.90.231.16 1604842672 "
check "mirai: home set (home_country $cc)" "$(R zscore 'teiten:{src}:mirai:home' 116.90.231.16)" \
    1604842672
check "mirai: the day's exact count" "$(R zscore 'teiten:{src}:d:20201108:mirai' 116.90.231.16)" 2
H='teiten:{src}:host:116.90.231.16'
check "mirai: host record" "$(R hmget "$H" pkts first_seen last_seen class country ports sensors \
    confirmed | tr '\n' ' ')" "2 1604842572 1604842672 mirai $cc tcp/23 world 0 "
ttl=$(R ttl "$H")
check "mirai: host record lives the sources horizon (7d)" \
    "$([ "$ttl" -gt 604000 ] && [ "$ttl" -le 604800 ] && echo yes)" yes
check "mirai: one port is not a confirmed source" "$(sj "$TT_TMP/m.json" .sources.confirmed_mirai)" 0
check "mirai: one source remembered" "$(sj "$TT_TMP/m.json" .sources.tracked)" 1

R FLUSHALL >/dev/null
write_config "$TT_TMP/r.conf" src-2 "world:0:0.0.0.0/0, ::/0"
run_teiten $(eal_opts) -l 0-1 \
    --vdev "net_pcap0,rx_pcap=$TT_REAL/synack_reflection_backscatter.pcap" -- \
    --config "$TT_TMP/r.conf" --summary "$TT_TMP/r.json"
check "reflection: exit" "$TT_RC" 0
check "reflection: 0.15 s is no DoS by the rule: no victims" \
    "$(R --scan --pattern 'teiten:{src}:d:*:victims' | wc -l)" 0
# a host record per backscatter sender (SYN-ACK, RST, ICMP errors), counted by tcpdump
senders=$(tcpdump -nn -r "$TT_REAL/synack_reflection_backscatter.pcap" \
    '(tcp[13] & 0x12 = 0x12) or (tcp[13] & 4 != 0) or (icmp and (icmp[0] = 0 or icmp[0] = 3
     or icmp[0] = 4 or icmp[0] = 5 or icmp[0] = 11 or icmp[0] = 12 or icmp[0] = 14
     or icmp[0] = 16 or icmp[0] = 18))' 2>/dev/null |
    awk '{ s=$3; n=gsub(/\./,".",s); if (n==4) sub(/\.[0-9]+$/,"",s); print s }' | sort -u | wc -l)
check "reflection: a host record per backscatter sender ($senders)" \
    "$(R --scan --pattern 'teiten:{src}:host:*' | wc -l)" "$senders"
# Of its 7055 IP senders (tcpdump; NOTICE.md's "7056 sources" also counts
# 172.99.233.1, which only sends ARP), the memory holds the backscatter ones:
# plain packets are counted, not remembered.
check "reflection: its backscatter senders remembered" \
    "$(sj "$TT_TMP/r.json" .sources.tracked)" "$senders"
check "reflection: their class is backscatter" \
    "$(R hget "teiten:{src}:host:$(R --scan --pattern 'teiten:{src}:host:*' | head -1 |
        sed 's/.*host://')" class)" backscatter

# Two minutes of generated traffic: 256 bots, each fast enough to be a victim
# when it sends backscatter, Mirai bots probing 23 and 2323, and an attack on
# two hosts from 0:20 to 1:40 (a fifth of the packets then).
R FLUSHALL >/dev/null
"$TEITEN_GEN" --sensor a=192.0.2.0/24 --packets 150000 --seed 41 --start 1711929600 \
    --span 120 --dos 2:20:80:200 \
    --out "$TT_TMP/g.pcap" --truth "$TT_TMP/g.truth" --config "$TT_TMP/g.conf" >/dev/null
printf '[redis]\nport = %s\nflush_interval_ms = 100\n' "$TT_REDIS_PORT" >>"$TT_TMP/g.conf"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/g.pcap" -- \
    --config "$TT_TMP/g.conf" --summary "$TT_TMP/g.json"
check "generated: exit" "$TT_RC" 0
victims=$(R zcard 'teiten:{src}:d:20240401:victims')
check "generated: DoS victims found ($victims)" "$([ "$victims" -gt 0 ] && echo yes)" yes
check "generated: as many as the truth's" "$victims" \
    "$(jq '.victims["20240401"] | length' "$TT_TMP/g.truth")"
# the attacked hosts sent ~3000 packets each; the bots' backscatter a few hundred
check "generated: the attacked hosts top the set" \
    "$(R zrevrange 'teiten:{src}:d:20240401:victims' 0 0 withscores | tail -1 |
        awk '{ print ($1 > 1000) ? "yes" : "no" }')" yes
check "generated: the victims set = the truth's, packet for packet" \
    "$(diff <(jq -r '.victims["20240401"] | to_entries[] | "\(.key) \(.value)"' \
        "$TT_TMP/g.truth" | sort) \
        <(R zrange 'teiten:{src}:d:20240401:victims' 0 -1 withscores | paste -d' ' - - | sort) |
        head -5)" ""
check "generated: no other day has victims" \
    "$(R --scan --pattern 'teiten:{src}:d:*:victims' | tr '\n' ' ')" \
    "teiten:{src}:d:20240401:victims "
bad=0
for v in $(R zrange 'teiten:{src}:d:20240401:victims' 0 -1); do
    R hget "teiten:{src}:host:$v" class | grep -q backscatter || bad=$((bad + 1))
    [ -n "$(R hget "teiten:{src}:host:$v" attacked)" ] || bad=$((bad + 1))
done
check "generated: every victim sent backscatter and names attacked services" "$bad" 0
confirmed=0
for m in $(R zrange 'teiten:{src}:mirai' 0 -1); do
    [ "$(R hget "teiten:{src}:host:$m" confirmed)" = 1 ] && confirmed=$((confirmed + 1))
done
check "generated: confirmed Mirai-type sources in Redis = the workers' count ($confirmed)" \
    "$confirmed" "$(sj "$TT_TMP/g.json" .sources.confirmed_mirai)"
check "generated: some are confirmed" "$([ "$confirmed" -gt 0 ] && echo yes)" yes
check "generated: daily Mirai-type counts add up to the Mirai-type packets" \
    "$(R --raw EVAL "local n = 0 local z = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
        for i = 2, #z, 2 do n = n + tonumber(z[i]) end return n" 1 'teiten:{src}:d:20240401:mirai')" \
    "$(sj "$TT_TMP/g.json" .scopes.all.totals.mirai)"
check "generated: scanner sets" "$(for c in masscan zmap nmap unicorn; do
    [ "$(R zcard "teiten:{src}:$c")" -gt 0 ] && echo "$c"; done | tr '\n' ' ')" \
    "masscan zmap nmap unicorn "

# A flood of 2^22 spoofed Mirai-type sources against a table of 65536.
"$TEITEN_GEN" --sensor a=192.0.2.0/24 --packets 4194304 --flood-mirai --span 60 \
    --out "$TT_TMP/flood.pcap" --truth "$TT_TMP/flood.truth" --config "$TT_TMP/f.conf" >/dev/null
sed -i 's/^home_country = JP$/home_country = JP\nsources_max = 65536/' "$TT_TMP/f.conf"
printf '[redis]\nenabled = no\n' >>"$TT_TMP/f.conf"
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/flood.pcap" -- \
    --config "$TT_TMP/f.conf" --summary "$TT_TMP/f.json"
rm -f "$TT_TMP/flood.pcap"
F=$TT_TMP/f.json
check "flood: exit" "$TT_RC" 0
check "flood: memory held at the cap" "$(sj "$F" .sources.tracked)" 65536
check "flood: every source seen" "$(sj "$F" .sources.inserted)" 4194304
check "flood: evictions counted" "$(sj "$F" .sources.evicted)" $((4194304 - 65536))
check "flood: table memory as configured (65536 entries)" \
    "$([ "$(sj "$F" .sources.memory_bytes)" -lt $((65536 * 160)) ] && echo yes)" yes
check "flood: counters exact" "$(jq -rn --slurpfile t "$TT_TMP/flood.truth" --slurpfile s "$F" \
    -f "$(dirname "$0")/compare_truth.jq" | head -3)" ""
srcs=$(sj "$F" .scopes.all.srcs)
check "flood: unique sources ~4194304 ($srcs)" \
    "$([ "$srcs" -gt 4152361 ] && [ "$srcs" -lt 4236247 ] && echo yes)" yes
check "flood: all Mirai-type" "$(sj "$F" .scopes.all.totals.mirai)" 4194304

# A flood of plain SYNs from 2^18 spoofed sources: counted, not remembered.
"$TEITEN_GEN" --sensor a=192.0.2.0/24 --packets 262144 --flood --span 60 \
    --out "$TT_TMP/plain.pcap" --truth "$TT_TMP/plain.truth" >/dev/null
run_teiten $(eal_opts) -l 0-1 --vdev "net_pcap0,rx_pcap=$TT_TMP/plain.pcap" -- \
    --config "$TT_TMP/f.conf" --summary "$TT_TMP/p.json"
check "plain flood: exit" "$TT_RC" 0
check "plain flood: counted" "$(sj "$TT_TMP/p.json" .scopes.all.totals.pkts)" 262144
check "plain flood: nothing remembered" \
    "$(jq -r '[.sources.tracked, .sources.inserted] | @tsv' "$TT_TMP/p.json")" "$(printf '0\t0')"

finish
