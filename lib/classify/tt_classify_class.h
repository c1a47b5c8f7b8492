/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_CLASSIFY_CLASS_H
#define TT_CLASSIFY_CLASS_H

/*
 * Fingerprint class of one packet, first match wins (DESIGN.md section
 * 4): a few compares on fields the parser already extracted, per packet
 * on any worker. Inline, as the parser's fast path is: as a call into
 * the library (its entry, its exit, the packet's fields loaded again) it
 * cost callgrind of the worker, flood at one sensor, 541.5 -> 532.5
 * instructions a packet. tt_classify.h includes it.
 */

#include <stdbool.h>
#include <arpa/inet.h>

#include "tt_parse.h"
#include "tt_schema.h"

static inline bool
tt_classify_backscatter_icmp(const struct tt_pkt *pkt)
{
	switch (pkt->l4 == TT_L4_ICMP ? pkt->icmp_type : 255) {
	case 0: case 3: case 4: case 5: case 11: case 12: case 14: case 16: case 18:
		return true;
	default:
		break;
	}
	if (pkt->l4 != TT_L4_ICMP6)
		return false;
	switch (pkt->icmp_type) {
	case 1: case 2: case 3: case 4: case 129:
		return true;
	default:
		return false;
	}
}

static inline bool
tt_classify_nmap_window(uint16_t w)
{
	return w == 1024 || w == 2048 || w == 3072 || w == 4096;
}

/*
 * Tried and not kept: every fingerprint tested without a branch and the
 * first found taken by a bit scan, so mixed traffic would not mispredict
 * from packet to packet. It is ~135 instructions and six saved registers
 * for every packet, where these branches run a dozen for a flood. Pair
 * ratios of 6 interleaved pairs of 4 s, busy cycles a packet: flood at one
 * sensor 1.028, Mirai-type flood 1.062, mixed 2,000-frame loop 1.098,
 * mixed 20,000-frame loop 0.995.
 */
static inline enum tt_class
tt_classify_class(const struct tt_pkt *pkt)
{
	enum {
		ZMAP_IP_ID = 54321,
		NMAP_MSS = 1460,
		UNICORN_MIN_TTL = 200,
		UNICORN_WINDOW = 4128,
		ICMP_ECHO_REQUEST = 8,
	};
	bool v4 = pkt->family == 4;
	bool syn;

	/* Fingerprints need the L4 header; a portless fragment is "other". */
	if (!(pkt->flags & TT_PKT_HAS_L4))
		return TT_CLASS_OTHER;

	switch (pkt->l4) {
	case TT_L4_TCP:
		if ((pkt->tcp_flags & (TT_TCP_SYN | TT_TCP_ACK)) ==
				(TT_TCP_SYN | TT_TCP_ACK) ||
				(pkt->tcp_flags & TT_TCP_RST))
			return TT_CLASS_BACKSCATTER;
		syn = (pkt->tcp_flags & (TT_TCP_SYN | TT_TCP_ACK)) == TT_TCP_SYN;
		if (!syn)
			return TT_CLASS_OTHER;
		if (v4 && pkt->seq_raw == pkt->dst.v4)
			return TT_CLASS_MIRAI;
		/* masscan: ip_id = (dst ^ dport ^ seq) in host order, truncated */
		if (v4 && pkt->ip_id ==
				((ntohl(pkt->dst.v4) ^ pkt->dport ^ ntohl(pkt->seq_raw)) & 0xffff))
			return TT_CLASS_MASSCAN;
		if (v4 && pkt->ip_id == ZMAP_IP_ID)
			return TT_CLASS_ZMAP;
		if ((pkt->flags & TT_PKT_ONE_MSS) && pkt->mss == NMAP_MSS &&
				tt_classify_nmap_window(pkt->window))
			return TT_CLASS_NMAP;
		if ((pkt->flags & TT_PKT_ONE_MSS) && pkt->ttl >= UNICORN_MIN_TTL &&
				pkt->window == UNICORN_WINDOW)
			return TT_CLASS_UNICORN;
		return TT_CLASS_OTHER;
	case TT_L4_ICMP:
	case TT_L4_ICMP6:
		if (tt_classify_backscatter_icmp(pkt))
			return TT_CLASS_BACKSCATTER;
		if (v4 && pkt->icmp_type == ICMP_ECHO_REQUEST && pkt->ip_id == ZMAP_IP_ID)
			return TT_CLASS_ZMAP;
		return TT_CLASS_OTHER;
	case TT_L4_UDP:
		if (v4 && pkt->ip_id == ZMAP_IP_ID)
			return TT_CLASS_ZMAP;
		return TT_CLASS_OTHER;
	default:
		return TT_CLASS_OTHER;
	}
}

#endif /* TT_CLASSIFY_CLASS_H */
