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

#include <stdint.h>

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
 * Parse one Ethernet frame.
 * @param data       the first bytes of the frame (contiguous)
 * @param data_len   how many bytes @p data holds
 * @param frame_len  the frame's length as received (>= data_len); lengths in
 *                   the headers are checked against it
 * @param pkt        filled in completely (no need to clear it first)
 * @return the TT_PKT_* flags, also stored in pkt->flags.
 */
unsigned int tt_parse_frame(const uint8_t *data, uint32_t data_len,
		uint32_t frame_len, struct tt_pkt *pkt);

#endif /* TT_PARSE_H */
