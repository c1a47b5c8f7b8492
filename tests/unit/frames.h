/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_TEST_FRAMES_H
#define TT_TEST_FRAMES_H

/*
 * Frame builder for unit tests: writes Ethernet, VLAN, IPv4/IPv6, TCP, UDP
 * and ICMP headers byte by byte, so each test states the exact bytes a rule
 * is about without depending on the code under test.
 */

#include <stdint.h>
#include <string.h>

struct frame {
	uint8_t b[1600];
	uint32_t len;
};

static inline void
put8(struct frame *f, uint8_t v)
{
	f->b[f->len++] = v;
}

static inline void
put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static inline void
put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static inline void
put_bytes(struct frame *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static inline void
eth(struct frame *f, uint16_t type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	f->len = 0;
	put_bytes(f, macs, sizeof(macs));
	put16(f, type);
}

/* Replace the last ethertype by a VLAN tag of type `tpid` carrying `inner`. */
static inline void
vlan(struct frame *f, uint16_t tpid, uint16_t inner)
{
	f->b[f->len - 2] = (uint8_t)(tpid >> 8);
	f->b[f->len - 1] = (uint8_t)tpid;
	put16(f, 100);
	put16(f, inner);
}

/* IPv4 header of 20 bytes (no options) unless ihl_words > 5. */
static inline uint32_t
ipv4(struct frame *f, uint8_t ihl_words, uint16_t total, uint16_t id, uint16_t frag,
		uint8_t ttl, uint8_t proto, uint32_t src, uint32_t dst)
{
	uint32_t start = f->len, i;

	put8(f, (uint8_t)(0x40 | ihl_words));
	put8(f, 0);
	put16(f, total);
	put16(f, id);
	put16(f, frag);
	put8(f, ttl);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
	for (i = 5; i < ihl_words; i++)
		put32(f, 0x01010101);   /* NOP options */
	return start;
}

static inline uint32_t
ipv6(struct frame *f, uint16_t payload, uint8_t nh, uint8_t hops,
		const uint8_t src[16], const uint8_t dst[16])
{
	uint32_t start = f->len;

	put32(f, 0x60000000);
	put16(f, payload);
	put8(f, nh);
	put8(f, hops);
	put_bytes(f, src, 16);
	put_bytes(f, dst, 16);
	return start;
}

/* TCP header; `opts` of `optlen` bytes follow; data offset from doff_words. */
static inline void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
		uint16_t window, uint8_t doff_words, const uint8_t *opts, uint32_t optlen)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, seq);
	put32(f, 0);
	put8(f, (uint8_t)(doff_words << 4));
	put8(f, flags);
	put16(f, window);
	put16(f, 0);
	put16(f, 0);
	if (optlen != 0)
		put_bytes(f, opts, optlen);
}

static inline void
udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t len)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, len);
	put16(f, 0);
}

static inline void
icmp(struct frame *f, uint8_t type, uint8_t code)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put32(f, 0);
}

/* Write the IPv4 total length after the frame is complete. */
static inline void
ipv4_fix_total(struct frame *f, uint32_t ip_start)
{
	uint16_t total = (uint16_t)(f->len - ip_start);

	f->b[ip_start + 2] = (uint8_t)(total >> 8);
	f->b[ip_start + 3] = (uint8_t)total;
}

static inline void
ipv6_fix_payload(struct frame *f, uint32_t ip_start)
{
	uint16_t payload = (uint16_t)(f->len - ip_start - 40);

	f->b[ip_start + 4] = (uint8_t)(payload >> 8);
	f->b[ip_start + 5] = (uint8_t)payload;
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#endif /* TT_TEST_FRAMES_H */
