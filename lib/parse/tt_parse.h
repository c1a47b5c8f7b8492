/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_PARSE_H
#define TT_PARSE_H

/*
 * Frame -> header fields (DESIGN.md section 4, "Parsing").
 *
 * Pure and per-packet: no DPDK types, no allocation, no logging. Any thread.
 * The parser never fails: a frame it cannot fully read is flagged
 * TT_PKT_MALFORMED and every field it could read is still filled in, so the
 * packet is attributed as far as its headers allow.
 */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum tt_pkt_flag {
	TT_PKT_MALFORMED = 1 << 0,   /* some header was cut or inconsistent */
	TT_PKT_HAS_ADDR = 1 << 1,    /* src and dst are valid */
	TT_PKT_HAS_PORTS = 1 << 2,   /* sport and dport are valid (TCP, UDP) */
	TT_PKT_HAS_L4 = 1 << 3,      /* the whole fixed L4 header was readable */
	TT_PKT_FRAGMENT = 1 << 4,    /* a non-first fragment: no L4 header */
	TT_PKT_ONE_MSS = 1 << 5,     /* TCP options are exactly one MSS (+ EOL padding) */
};

/* What sits after the last IP header, as far as the service key cares. */
enum tt_l4 {
	TT_L4_NONE,     /* no IP header readable */
	TT_L4_TCP,
	TT_L4_UDP,
	TT_L4_ICMP,     /* ICMP over IPv4 */
	TT_L4_ICMP6,    /* ICMPv6 over IPv6 */
	TT_L4_OTHER,    /* any other protocol number, incl. ICMP over IPv6 */
};

struct tt_pkt {
	uint8_t flags;          /* enum tt_pkt_flag */
	uint8_t family;         /* 0 (no IP), 4 or 6 */
	uint8_t l4;             /* enum tt_l4 */
	uint8_t proto;          /* IP protocol number of the L4 header */
	uint8_t ttl;            /* IPv4 TTL or IPv6 hop limit */
	uint8_t tcp_flags;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t ip_id;         /* IPv4 identification, host order */
	uint16_t sport;         /* host order */
	uint16_t dport;         /* host order */
	uint16_t window;        /* TCP window, host order */
	uint16_t mss;           /* valid with TT_PKT_ONE_MSS */
	uint32_t seq_raw;       /* TCP sequence as on the wire (network order) */
	union {
		uint32_t v4;    /* network order */
		uint8_t v6[16];
	} src, dst;
};

/* TCP flag bits as they sit in the header's 14th byte. */
enum {
	TT_TCP_FIN = 0x01,
	TT_TCP_SYN = 0x02,
	TT_TCP_RST = 0x04,
	TT_TCP_ACK = 0x10,
};

/** The parser reads at most this many leading bytes of a frame. */
#define TT_PARSE_MAX_HEADER 512

/**
 * Parse one Ethernet frame with every rule of DESIGN.md section 4: VLAN
 * tags, IPv4 options and fragments, IPv6 extension headers, cut and
 * inconsistent headers.
 * @param data       the first bytes of the frame (contiguous)
 * @param data_len   how many bytes @p data holds
 * @param frame_len  the frame's length as received (>= data_len); lengths in
 *                   the headers are checked against it
 * @param pkt        filled in completely (no need to clear it first)
 * @return the TT_PKT_* flags, also stored in pkt->flags.
 */
unsigned int tt_parse_frame_full(const uint8_t *data, uint32_t data_len,
		uint32_t frame_len, struct tt_pkt *pkt);

static inline uint16_t
tt_parse_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Four bytes in network order, as one load. */
static inline uint32_t
tt_parse_rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

/**
 * TCP options of @p len bytes at @p opt: when they are exactly one MSS
 * option, then only end-of-list padding, set TT_PKT_ONE_MSS and the MSS.
 * Both parsers call it.
 */
static inline void
tt_parse_tcp_options(const uint8_t *opt, uint32_t len, struct tt_pkt *pkt)
{
	enum { TCPOPT_EOL = 0, TCPOPT_MSS = 2, TCPOLEN_MSS = 4 };
	uint32_t i;

	if (len < TCPOLEN_MSS || opt[0] != TCPOPT_MSS || opt[1] != TCPOLEN_MSS)
		return;
	for (i = TCPOLEN_MSS; i < len; i++)
		if (opt[i] != TCPOPT_EOL)
			return;
	pkt->mss = tt_parse_rd16(opt + 2);
	pkt->flags |= TT_PKT_ONE_MSS;
}

/**
 * The common darknet frame alone, inline: Ethernet, untagged or with one
 * 802.1Q tag, IPv4 with a 20-byte header, not a later fragment, lengths
 * consistent and all bytes contiguous, and a TCP header whose options lie
 * within the datagram, a UDP header or an ICMP header. Fills @p pkt
 * exactly as tt_parse_frame_full() would and returns true; for any other
 * frame returns false, @p pkt perhaps partly written, for the full parser
 * to fill.
 * tests/fuzz/fuzz_parse.c and `test_parse --real` hold the two to the
 * same result on mutated frames and on the real captures.
 *
 * Why: the full parser is a call into this library and a walk of branches
 * for tags, options and extension headers that scans rarely carry. Busy
 * cycles a packet of its stage (parse and classify) are in the commits
 * that added this and widened it.
 */
static inline bool
tt_parse_fast(const uint8_t *data, uint32_t data_len, uint32_t frame_len,
		struct tt_pkt *pkt)
{
	enum {
		ETH = 14, VLAN = 4, TPID_8021Q = 0x8100, L3 = 20, L4_MIN = 8, TCP_NO_OPTIONS = 20,
		IPV4_IHL_5 = 0x080045,     /* EtherType IPv4, then version 4 with IHL 5 */
	};
	const uint8_t *ip, *l4;
	uint32_t l2, room, total, tcp_len = 0, ports;

	if (data_len > frame_len)
		data_len = frame_len;
	if (data_len < ETH + L3 + L4_MIN)
		return false;
	/* One 802.1Q tag: a darknet that arrives on a trunk port has it on every frame. */
	l2 = ETH + (tt_parse_rd16(data + 12) == TPID_8021Q ? VLAN : 0);
	ip = data + l2;
	l4 = ip + L3;
	/* EtherType IPv4, version 4 and IHL 5: the first three bytes of one load, up to ip[1]. */
	if (data_len < l2 + L3 + L4_MIN || tt_parse_rd32(ip - 2) >> 8 != IPV4_IHL_5)
		return false;
	/*
	 * Within the readable bytes and with an L4 header's room: total - 28
	 * at most the room past 28 bytes, in one unsigned compare (a total
	 * under 28 wraps past any room). No fragment offset.
	 */
	room = data_len - l2 - (L3 + L4_MIN);
	total = tt_parse_rd16(ip + 2);
	if (total - (L3 + L4_MIN) > room || (tt_parse_rd16(ip + 6) & 0x1fff) != 0)
		return false;
	/*
	 * Written before the protocol is tested: one switch on it, not a
	 * test and then the fields. callgrind of the worker, mixed
	 * 20,000-frame loop, the parse's instructions a packet 81.2 -> 76.8.
	 */
	memset(pkt, 0, sizeof(*pkt));
	pkt->family = 4;
	pkt->ttl = ip[8];
	pkt->proto = ip[9];
	pkt->ip_id = tt_parse_rd16(ip + 4);
	memcpy(&pkt->src.v4, ip + 12, 4);
	memcpy(&pkt->dst.v4, ip + 16, 4);
	switch (ip[9]) {
	case 6:
		/* The fixed header first: the data offset is in it. */
		if (total < L3 + TCP_NO_OPTIONS)
			return false;
		/* At least the fixed header, within the datagram: the same unsigned compare. */
		tcp_len = (uint32_t)(l4[12] >> 4) * 4;
		if (tcp_len - TCP_NO_OPTIONS > total - (L3 + TCP_NO_OPTIONS))
			return false;
		pkt->l4 = TT_L4_TCP;
		pkt->flags = TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4;
		ports = tt_parse_rd32(l4);
		pkt->sport = (uint16_t)(ports >> 16);
		pkt->dport = (uint16_t)ports;
		memcpy(&pkt->seq_raw, l4 + 4, 4);
		pkt->tcp_flags = l4[13];
		pkt->window = tt_parse_rd16(l4 + 14);
		if (tcp_len > TCP_NO_OPTIONS)
			tt_parse_tcp_options(l4 + TCP_NO_OPTIONS, tcp_len - TCP_NO_OPTIONS, pkt);
		break;
	case 17:
		pkt->l4 = TT_L4_UDP;
		pkt->flags = TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4;
		ports = tt_parse_rd32(l4);
		pkt->sport = (uint16_t)(ports >> 16);
		pkt->dport = (uint16_t)ports;
		break;
	case 1:
		pkt->l4 = TT_L4_ICMP;
		pkt->flags = TT_PKT_HAS_ADDR | TT_PKT_HAS_L4;
		pkt->icmp_type = l4[0];
		pkt->icmp_code = l4[1];
		break;
	default:
		return false;
	}
	return true;
}

/**
 * Parse one Ethernet frame (arguments and result as tt_parse_frame_full()):
 * the common frame inline (tt_parse_fast()), any other by the full parser.
 */
static inline unsigned int
tt_parse_frame(const uint8_t *data, uint32_t data_len, uint32_t frame_len,
		struct tt_pkt *pkt)
{
	if (tt_parse_fast(data, data_len, frame_len, pkt))
		return pkt->flags;
	return tt_parse_frame_full(data, data_len, frame_len, pkt);
}

#endif /* TT_PARSE_H */
