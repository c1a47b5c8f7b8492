/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser against DESIGN.md section 4, one rule per test; invalid input first.
 * Then the fast path: which frames it takes, and that it agrees with the full
 * parser on them. `test_parse --real DIR` holds the two to the same result
 * on every frame of the real captures in DIR.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "cunit_main.h"
#include "frames.h"
#include "tt_parse.h"

static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static unsigned int
parse(const struct frame *f, struct tt_pkt *p)
{
	return tt_parse_frame(f->b, f->len, f->len, p);
}

/* A well-formed IPv4 TCP SYN to 192.0.2.1:23. */
static void
syn4(struct frame *f)
{
	uint32_t ip;

	eth(f, 0x0800);
	ip = ipv4(f, 5, 0, 1, 0, 64, 6, IP4(198, 51, 100, 7), IP4(192, 0, 2, 1));
	tcp(f, 40000, 23, IP4(192, 0, 2, 1), 0x02, 5840, 5, NULL, 0);
	ipv4_fix_total(f, ip);
}

/* A SYN as syn4(), with a TCP data offset of @p doff_words and @p optlen option bytes. */
static void
syn4_options(struct frame *f, uint8_t doff_words, const uint8_t *opts, uint32_t optlen)
{
	uint32_t ip;

	eth(f, 0x0800);
	ip = ipv4(f, 5, 0, 1, 0, 64, 6, IP4(198, 51, 100, 7), IP4(192, 0, 2, 1));
	tcp(f, 40000, 23, 1, 0x02, 1024, doff_words, opts, optlen);
	ipv4_fix_total(f, ip);
}

static void
test_frame_too_short(void)
{
	struct frame f;
	struct tt_pkt p;

	eth(&f, 0x0800);
	f.len = 13;
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.family, 0);
}

static void
test_vlan_cut(void)
{
	struct frame f;
	struct tt_pkt p;

	eth(&f, 0x8100);
	put16(&f, 100);         /* the tag's TCI, but no inner type */
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_MALFORMED);
}

static void
test_non_ip_is_not_malformed(void)
{
	struct frame f;
	struct tt_pkt p;

	eth(&f, 0x0806);        /* ARP */
	put32(&f, 0x00010800);
	CU_ASSERT_EQUAL(parse(&f, &p), 0);
	CU_ASSERT_FALSE(p.flags & TT_PKT_HAS_ADDR);
}

static void
test_third_vlan_tag_is_not_followed(void)
{
	struct frame f;
	struct tt_pkt p;

	eth(&f, 0x88a8);
	put16(&f, 1);
	put16(&f, 0x8100);
	put16(&f, 2);
	put16(&f, 0x8100);      /* a third tag */
	put16(&f, 3);
	put16(&f, 0x0800);
	ipv4(&f, 5, 40, 0, 0, 64, 6, 1, 2);
	tcp(&f, 1, 2, 0, 2, 0, 5, NULL, 0);
	CU_ASSERT_EQUAL(parse(&f, &p), 0);
	CU_ASSERT_EQUAL(p.family, 0);
}

static void
test_vlan_and_qinq(void)
{
	static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x9100 };
	struct frame f;
	struct tt_pkt p;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		syn4(&f);
		memmove(f.b + 16, f.b + 12, f.len - 12);
		f.len += 4;
		f.b[12] = (uint8_t)(tpids[i] >> 8);
		f.b[13] = (uint8_t)tpids[i];
		f.b[14] = 0;
		f.b[15] = 7;
		CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4);
		CU_ASSERT_EQUAL(p.dport, 23);
	}
	/* QinQ: 0x88a8 outer, 0x8100 inner */
	syn4(&f);
	memmove(f.b + 20, f.b + 12, f.len - 12);
	f.len += 8;
	f.b[12] = 0x88; f.b[13] = 0xa8; f.b[14] = 0; f.b[15] = 1;
	f.b[16] = 0x81; f.b[17] = 0x00; f.b[18] = 0; f.b[19] = 2;
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4);
	CU_ASSERT_EQUAL(p.dst.v4, htonl(IP4(192, 0, 2, 1)));
}

static void
test_ipv4_too_short(void)
{
	struct frame f;
	struct tt_pkt p;

	eth(&f, 0x0800);
	put32(&f, 0x45000028);
	put32(&f, 0);
	put32(&f, 0x40060000);
	put32(&f, IP4(198, 51, 100, 7));    /* 16 bytes: no destination */
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.family, 0);
}

static void
test_ipv4_bad_version(void)
{
	struct frame f;
	struct tt_pkt p;

	syn4(&f);
	f.b[14] = 0x55;
	parse(&f, &p);
	CU_ASSERT_TRUE(p.flags & TT_PKT_MALFORMED);
	CU_ASSERT_TRUE(p.flags & TT_PKT_HAS_ADDR);      /* still attributed */
	CU_ASSERT_EQUAL(p.dport, 23);
}

static void
test_ipv4_ihl_under_5(void)
{
	struct frame f;
	struct tt_pkt p;

	syn4(&f);
	f.b[14] = 0x44;
	parse(&f, &p);
	CU_ASSERT_EQUAL(p.flags, TT_PKT_MALFORMED | TT_PKT_HAS_ADDR);
	CU_ASSERT_EQUAL(p.l4, TT_L4_TCP);                /* protocol, no port */
}

static void
test_ipv4_ihl_past_data(void)
{
	struct frame f;
	struct tt_pkt p;

	eth(&f, 0x0800);
	ipv4(&f, 5, 20, 0, 0, 64, 6, 1, 2);
	f.b[14] = 0x4f;                                  /* 60 bytes claimed, 20 present */
	parse(&f, &p);
	CU_ASSERT_EQUAL(p.flags, TT_PKT_MALFORMED | TT_PKT_HAS_ADDR);
}

static void
test_ipv4_total_under_ihl(void)
{
	struct frame f;
	struct tt_pkt p;

	syn4(&f);
	f.b[16] = 0;
	f.b[17] = 19;
	parse(&f, &p);
	CU_ASSERT_TRUE(p.flags & TT_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.dport, 23);
}

static void
test_ipv4_total_over_captured(void)
{
	struct frame f;
	struct tt_pkt p;

	syn4(&f);
	f.b[17] += 1;
	parse(&f, &p);
	CU_ASSERT_TRUE(p.flags & TT_PKT_MALFORMED);
	CU_ASSERT_TRUE(p.flags & TT_PKT_HAS_L4);
}

static void
test_ipv4_padding_is_fine(void)
{
	struct frame f;
	struct tt_pkt p;

	syn4(&f);
	memset(f.b + f.len, 0, 6);
	f.len += 6;                                      /* 60-byte minimum frame */
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4);
}

static void
test_ipv4_options(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ipv4(&f, 7, 0, 9, 0, 64, 17, IP4(198, 51, 100, 7), IP4(192, 0, 2, 1));
	udp(&f, 5353, 53, 8);
	ipv4_fix_total(&f, ip);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4);
	CU_ASSERT_EQUAL(p.l4, TT_L4_UDP);
	CU_ASSERT_EQUAL(p.dport, 53);
	CU_ASSERT_EQUAL(p.ip_id, 9);
}

static void
test_ipv4_fragments(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	/* non-first fragment: protocol known, no port, not malformed */
	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0x00b9, 64, 6, 1, IP4(192, 0, 2, 1));
	put32(&f, 0xdeadbeef);
	ipv4_fix_total(&f, ip);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_FRAGMENT);
	CU_ASSERT_EQUAL(p.l4, TT_L4_TCP);
	/* first fragment (MF, offset 0): ports are there */
	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0x2000, 64, 17, 1, IP4(192, 0, 2, 1));
	udp(&f, 1, 161, 100);
	ipv4_fix_total(&f, ip);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4);
	CU_ASSERT_EQUAL(p.dport, 161);
}

static void
test_tcp_too_short(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, 1, 2);
	put16(&f, 1234);
	put16(&f, 2323);
	put32(&f, 0);                                    /* 8 of 20 bytes */
	ipv4_fix_total(&f, ip);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_MALFORMED | TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS);
	CU_ASSERT_EQUAL(p.dport, 2323);
	/* under 4 bytes: not even ports */
	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, 1, 2);
	put16(&f, 1234);
	ipv4_fix_total(&f, ip);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_MALFORMED | TT_PKT_HAS_ADDR);
}

static void
test_tcp_doff_under_5(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, 1, 2);
	tcp(&f, 1, 22, 77, 0x02, 1024, 4, NULL, 0);
	ipv4_fix_total(&f, ip);
	parse(&f, &p);
	CU_ASSERT_TRUE(p.flags & TT_PKT_MALFORMED);
	CU_ASSERT_TRUE(p.flags & TT_PKT_HAS_L4);
	CU_ASSERT_EQUAL(p.tcp_flags, 0x02);
}

/* The shape of the real Mirai packets: total 40, data offset 24, padding. */
static void
test_tcp_doff_past_payload_still_read(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, IP4(116, 90, 231, 16), IP4(185, 100, 143, 115));
	tcp(&f, 55524, 23, IP4(185, 100, 143, 115), 0x02, 14600, 6, NULL, 0);
	ipv4_fix_total(&f, ip);
	put16(&f, 0x0204);                               /* padding that looks like an option */
	put32(&f, 0);
	parse(&f, &p);
	CU_ASSERT_EQUAL(p.flags, TT_PKT_MALFORMED | TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS |
		TT_PKT_HAS_L4);
	CU_ASSERT_EQUAL(p.dport, 23);
	CU_ASSERT_EQUAL(p.seq_raw, p.dst.v4);
}

static void
test_tcp_options_one_mss(void)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
	static const uint8_t mss_eol[8] = { 2, 4, 0x05, 0xb4, 0, 0, 0, 0 };
	static const uint8_t mss_nop[8] = { 2, 4, 0x05, 0xb4, 1, 1, 1, 1 };
	static const uint8_t nop_mss[8] = { 1, 1, 1, 1, 2, 4, 0x05, 0xb4 };
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, 1, 2);
	tcp(&f, 1, 80, 5, 0x02, 1024, 6, mss, 4);
	ipv4_fix_total(&f, ip);
	parse(&f, &p);
	CU_ASSERT_TRUE(p.flags & TT_PKT_ONE_MSS);
	CU_ASSERT_EQUAL(p.mss, 1460);

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, 1, 2);
	tcp(&f, 1, 80, 5, 0x02, 1024, 7, mss_eol, 8);
	ipv4_fix_total(&f, ip);
	parse(&f, &p);
	CU_ASSERT_TRUE(p.flags & TT_PKT_ONE_MSS);

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, 1, 2);
	tcp(&f, 1, 80, 5, 0x02, 1024, 7, mss_nop, 8);
	ipv4_fix_total(&f, ip);
	parse(&f, &p);
	CU_ASSERT_FALSE(p.flags & TT_PKT_ONE_MSS);

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, 1, 2);
	tcp(&f, 1, 80, 5, 0x02, 1024, 7, nop_mss, 8);
	ipv4_fix_total(&f, ip);
	parse(&f, &p);
	CU_ASSERT_FALSE(p.flags & TT_PKT_ONE_MSS);
}

static void
test_udp_and_icmp_too_short(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 17, 1, 2);
	put16(&f, 1);
	put16(&f, 53);
	put16(&f, 8);
	ipv4_fix_total(&f, ip);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_MALFORMED | TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS);

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 1, 1, 2);
	put32(&f, 0x08000000);
	ipv4_fix_total(&f, ip);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_MALFORMED | TT_PKT_HAS_ADDR);
	CU_ASSERT_EQUAL(p.l4, TT_L4_ICMP);
}

static void
test_ipv6_too_short(void)
{
	struct frame f;
	struct tt_pkt p;

	eth(&f, 0x86dd);
	ipv6(&f, 0, 59, 64, SRC6, DST6);
	f.len -= 1;
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.family, 0);
}

static void
test_ipv6_bad_version_and_payload(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x86dd);
	ip = ipv6(&f, 0, 6, 64, SRC6, DST6);
	tcp(&f, 1, 22, 0, 0x02, 0, 5, NULL, 0);
	ipv6_fix_payload(&f, ip);
	f.b[ip] = 0x40;
	parse(&f, &p);
	CU_ASSERT_TRUE(p.flags & TT_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.dport, 22);

	f.b[ip] = 0x60;
	f.b[ip + 5] += 1;                                /* payload past the data */
	parse(&f, &p);
	CU_ASSERT_TRUE(p.flags & TT_PKT_MALFORMED);
	CU_ASSERT_EQUAL(p.dport, 22);
}

static void
test_ipv6_extension_chain(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x86dd);
	ip = ipv6(&f, 0, 0, 64, SRC6, DST6);
	put8(&f, 60); put8(&f, 0); put32(&f, 0); put16(&f, 0);     /* hop-by-hop */
	put8(&f, 43); put8(&f, 1); put32(&f, 0); put16(&f, 0);     /* dest opts, 16 bytes */
	put32(&f, 0); put32(&f, 0);
	put8(&f, 17); put8(&f, 0); put32(&f, 0); put16(&f, 0);     /* routing */
	udp(&f, 1, 123, 8);
	ipv6_fix_payload(&f, ip);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4);
	CU_ASSERT_EQUAL(p.family, 6);
	CU_ASSERT_EQUAL(p.dport, 123);
	CU_ASSERT_EQUAL(memcmp(p.dst.v6, DST6, 16), 0);
}

static void
test_ipv6_fragment(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x86dd);
	ip = ipv6(&f, 0, 44, 64, SRC6, DST6);
	put8(&f, 6); put8(&f, 0); put16(&f, 0x0100); put32(&f, 7); /* offset 32 */
	put32(&f, 0);
	ipv6_fix_payload(&f, ip);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_FRAGMENT);
	CU_ASSERT_EQUAL(p.l4, TT_L4_TCP);
}

/*
 * A later fragment whose fragment header names an extension header next
 * (destination options, 60, that begin the fragmentable part): what
 * follows is data. Read as a header, data starting 11 ff made a valid
 * fragment malformed (the "length" ran past it), and data starting 06
 * made it bare tcp.
 */
static void
test_ipv6_later_fragment_payload_is_data(void)
{
	static const uint8_t data_first[2][2] = { { 0x11, 0xff }, { 0x06, 0x00 } };
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;
	unsigned int i, k;

	for (k = 0; k < 2; k++) {
		eth(&f, 0x86dd);
		ip = ipv6(&f, 0, 44, 64, SRC6, DST6);
		put8(&f, 60); put8(&f, 0); put16(&f, 0x0100); put32(&f, 7); /* offset 32 */
		put8(&f, data_first[k][0]);
		put8(&f, data_first[k][1]);
		for (i = 2; i < 16; i++)
			put8(&f, 0);
		ipv6_fix_payload(&f, ip);
		CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_FRAGMENT);
		CU_ASSERT_EQUAL(p.proto, 60);
		CU_ASSERT_EQUAL(p.l4, TT_L4_OTHER);   /* ip/60 */
	}
}

static void
test_ipv6_too_many_extensions(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;
	int i;

	eth(&f, 0x86dd);
	ip = ipv6(&f, 0, 60, 64, SRC6, DST6);
	for (i = 0; i < 9; i++) {
		put8(&f, i == 8 ? 6 : 60);
		put8(&f, 0); put32(&f, 0); put16(&f, 0);
	}
	tcp(&f, 1, 22, 0, 0x02, 0, 5, NULL, 0);
	ipv6_fix_payload(&f, ip);
	parse(&f, &p);
	CU_ASSERT_EQUAL(p.flags, TT_PKT_MALFORMED | TT_PKT_HAS_ADDR);
}

static void
test_ipv6_cut_extension(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x86dd);
	ip = ipv6(&f, 0, 60, 64, SRC6, DST6);
	put8(&f, 6); put8(&f, 2); put32(&f, 0); put16(&f, 0);      /* claims 24 bytes */
	ipv6_fix_payload(&f, ip);
	parse(&f, &p);
	CU_ASSERT_EQUAL(p.flags, TT_PKT_MALFORMED | TT_PKT_HAS_ADDR);
}

static void
test_icmp_family_mismatch_is_other(void)
{
	struct frame f;
	struct tt_pkt p;
	uint32_t ip;

	eth(&f, 0x86dd);
	ip = ipv6(&f, 0, 1, 64, SRC6, DST6);
	icmp(&f, 8, 0);
	ipv6_fix_payload(&f, ip);
	parse(&f, &p);
	CU_ASSERT_EQUAL(p.l4, TT_L4_OTHER);
	CU_ASSERT_EQUAL(p.proto, 1);

	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 58, 1, 2);
	icmp(&f, 128, 0);
	ipv4_fix_total(&f, ip);
	parse(&f, &p);
	CU_ASSERT_EQUAL(p.l4, TT_L4_OTHER);
	CU_ASSERT_EQUAL(p.proto, 58);
}

static void
test_headers_past_readable_bytes(void)
{
	struct frame f;
	struct tt_pkt p;

	syn4(&f);
	/* only 30 bytes readable of a longer frame: IPv4 header cut */
	tt_parse_frame(f.b, 30, f.len, &p);
	CU_ASSERT_TRUE(p.flags & TT_PKT_MALFORMED);
	CU_ASSERT_FALSE(p.flags & TT_PKT_HAS_ADDR);
}

static void
test_well_formed_syn(void)
{
	struct frame f;
	struct tt_pkt p;

	syn4(&f);
	CU_ASSERT_EQUAL(parse(&f, &p), TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4);
	CU_ASSERT_EQUAL(p.family, 4);
	CU_ASSERT_EQUAL(p.l4, TT_L4_TCP);
	CU_ASSERT_EQUAL(p.sport, 40000);
	CU_ASSERT_EQUAL(p.dport, 23);
	CU_ASSERT_EQUAL(p.ttl, 64);
	CU_ASSERT_EQUAL(p.window, 5840);
	CU_ASSERT_EQUAL(p.src.v4, htonl(IP4(198, 51, 100, 7)));
}

/* Does the fast path take @p f, and with the full parser's result? */
static bool
fast_takes(const struct frame *f, uint32_t data_len)
{
	struct tt_pkt fast, full;
	bool took = tt_parse_fast(f->b, data_len, f->len, &fast);

	tt_parse_frame_full(f->b, data_len, f->len, &full);
	if (took)
		CU_ASSERT_EQUAL(memcmp(&fast, &full, sizeof(fast)), 0);
	return took;
}

/*
 * fast_takes() of the frame's first @p len bytes, as the datagram's whole
 * length and copied to a block of exactly that size, so that the
 * sanitizer build sees any read past it.
 */
static bool
fast_takes_exact(const struct frame *f, uint32_t len)
{
	struct frame *cut = malloc(sizeof(*cut));
	uint8_t *exact = malloc(len);
	struct tt_pkt fast;
	bool took;

	CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
	CU_ASSERT_PTR_NOT_NULL_FATAL(exact);
	*cut = *f;
	cut->len = len;
	cut->b[14 + 2] = (uint8_t)((len - 14) >> 8);
	cut->b[14 + 3] = (uint8_t)(len - 14);
	memcpy(exact, cut->b, len);
	took = tt_parse_fast(exact, len, len, &fast);
	CU_ASSERT_EQUAL(took, fast_takes(cut, len));
	free(exact);
	free(cut);
	return took;
}

static void
test_fast_path_takes_the_common_frames(void)
{
	static const uint8_t mss[4] = { 2, 4, 5, 0xb4 };
	static const uint8_t mss_eol[8] = { 2, 4, 5, 0xb4, 0, 0, 0, 0 };
	static const uint8_t mss_sack[8] = { 2, 4, 5, 0xb4, 1, 1, 4, 2 };
	struct tt_pkt p;
	struct frame f;
	uint32_t ip;

	syn4(&f);
	CU_ASSERT_TRUE(fast_takes(&f, f.len));
	/* Ethernet padding after the datagram, and DF or MF without an offset. */
	put32(&f, 0);
	f.b[14 + 6] = 0x60;
	CU_ASSERT_TRUE(fast_takes(&f, f.len));
	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 54321, 0, 64, 17, IP4(198, 51, 100, 7), IP4(192, 0, 2, 1));
	udp(&f, 5353, 53, 8);
	ipv4_fix_total(&f, ip);
	CU_ASSERT_TRUE(fast_takes(&f, f.len));
	eth(&f, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 1, IP4(198, 51, 100, 7), IP4(192, 0, 2, 1));
	icmp(&f, 8, 0);
	ipv4_fix_total(&f, ip);
	CU_ASSERT_TRUE(fast_takes(&f, f.len));

	/* TCP options: one MSS, one MSS and end-of-list padding, and more. */
	syn4_options(&f, 6, mss, 4);
	CU_ASSERT_TRUE(fast_takes(&f, f.len));
	CU_ASSERT_TRUE(tt_parse_fast(f.b, f.len, f.len, &p));
	CU_ASSERT(p.flags & TT_PKT_ONE_MSS);
	CU_ASSERT_EQUAL(p.mss, 1460);
	syn4_options(&f, 7, mss_eol, 8);
	CU_ASSERT_TRUE(fast_takes(&f, f.len));
	CU_ASSERT_TRUE(tt_parse_fast(f.b, f.len, f.len, &p));
	CU_ASSERT(p.flags & TT_PKT_ONE_MSS);
	syn4_options(&f, 7, mss_sack, 8);
	CU_ASSERT_TRUE(fast_takes(&f, f.len));
	CU_ASSERT_TRUE(tt_parse_fast(f.b, f.len, f.len, &p));
	CU_ASSERT_FALSE(p.flags & TT_PKT_ONE_MSS);
	CU_ASSERT_EQUAL(p.dport, 23);

	/* One 802.1Q tag, and a cut one. */
	eth(&f, 0x8100);
	vlan(&f, 0x8100, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, IP4(198, 51, 100, 7), IP4(192, 0, 2, 1));
	tcp(&f, 40000, 23, 1, 0x02, 1024, 5, NULL, 0);
	ipv4_fix_total(&f, ip);
	CU_ASSERT_TRUE(fast_takes(&f, f.len));
	CU_ASSERT_FALSE(fast_takes(&f, f.len - 1));
	CU_ASSERT_TRUE(tt_parse_fast(f.b, f.len, f.len, &p));
	CU_ASSERT_EQUAL(p.src.v4, htonl(IP4(198, 51, 100, 7)));
	CU_ASSERT_EQUAL(p.dport, 23);
}

static void
test_fast_path_declines_the_rest(void)
{
	static const uint8_t mss[4] = { 2, 4, 5, 0xb4 };
	struct tt_pkt p;
	struct frame f;
	uint32_t ip;

	syn4(&f);
	CU_ASSERT_FALSE(fast_takes(&f, f.len - 1));      /* the TCP header not all contiguous */
	syn4(&f);
	f.b[14 + 7] = 1;                                  /* a later fragment */
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
	syn4(&f);
	f.b[14 + 3] = 27;                                 /* total under IP + 8 */
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
	syn4(&f);
	f.b[14 + 3] = 40 + 1;                             /* total past the frame */
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
	CU_ASSERT_FALSE(fast_takes_exact(&f, 14 + 20 + 12));  /* the TCP header cut before its offset */
	syn4(&f);
	f.b[14 + 9] = 47;                                 /* GRE */
	CU_ASSERT_FALSE(fast_takes(&f, f.len));

	syn4_options(&f, 7, mss, 4);                      /* TCP options past the datagram */
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
	tt_parse_frame_full(f.b, f.len, f.len, &p);
	CU_ASSERT(p.flags & TT_PKT_MALFORMED);
	syn4_options(&f, 4, NULL, 0);                     /* a data offset under 20 bytes */
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
	eth(&f, 0x0800);
	ip = ipv4(&f, 6, 0, 1, 0, 64, 6, IP4(198, 51, 100, 7), IP4(192, 0, 2, 1));
	tcp(&f, 40000, 23, 1, 0x02, 1024, 5, NULL, 0);    /* IPv4 options */
	ipv4_fix_total(&f, ip);
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
	eth(&f, 0x8100);
	vlan(&f, 0x8100, 0x8100);
	vlan(&f, 0x8100, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, IP4(198, 51, 100, 7), IP4(192, 0, 2, 1));
	tcp(&f, 40000, 23, 1, 0x02, 1024, 5, NULL, 0);    /* two VLAN tags */
	ipv4_fix_total(&f, ip);
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
	eth(&f, 0x88a8);
	vlan(&f, 0x88a8, 0x0800);
	ip = ipv4(&f, 5, 0, 1, 0, 64, 6, IP4(198, 51, 100, 7), IP4(192, 0, 2, 1));
	tcp(&f, 40000, 23, 1, 0x02, 1024, 5, NULL, 0);    /* an 802.1ad tag */
	ipv4_fix_total(&f, ip);
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
	eth(&f, 0x8100);
	vlan(&f, 0x8100, 0x86dd);
	ip = ipv6(&f, 0, 6, 64, SRC6, DST6);
	tcp(&f, 40000, 23, 1, 0x02, 1024, 5, NULL, 0);    /* IPv6 under a VLAN tag */
	ipv6_fix_payload(&f, ip);
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
	eth(&f, 0x86dd);
	ip = ipv6(&f, 0, 6, 64, SRC6, DST6);
	tcp(&f, 40000, 23, 1, 0x02, 1024, 5, NULL, 0);    /* IPv6 */
	ipv6_fix_payload(&f, ip);
	CU_ASSERT_FALSE(fast_takes(&f, f.len));
}

/*
 * --real DIR: every frame of every pcap file in DIR (read by libpcap), whole
 * and with only its first half contiguous, parsed by tt_parse_frame() and by
 * the full parser alone; the results must be equal, and some frames must
 * have taken the fast path. Exit 77 (meson: skipped) when DIR is missing.
 */
static int
real_captures(const char *dir_path)
{
	unsigned long frames = 0, fast = 0, differ = 0;
	DIR *dir = opendir(dir_path);
	struct dirent *e;
	int files = 0, rc;

	if (dir == NULL) {
		printf("the real captures are not at %s: skipped\n", dir_path);
		return 77;
	}
	while ((e = readdir(dir)) != NULL) {
		size_t n = strlen(e->d_name);
		unsigned long file_frames = 0, file_fast = 0;
		char path[4096], errbuf[PCAP_ERRBUF_SIZE];
		struct pcap_pkthdr *h;
		const u_char *frame;
		pcap_t *pc;

		if (n < 5 || strcmp(e->d_name + n - 5, ".pcap") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir_path, e->d_name);
		pc = pcap_open_offline(path, errbuf);
		if (pc == NULL) {
			fprintf(stderr, "%s: %s\n", path, errbuf);
			closedir(dir);
			return 1;
		}
		while ((rc = pcap_next_ex(pc, &h, &frame)) == 1) {
			/* What the worker passes: the bytes it holds, the length on the wire. */
			uint32_t wire = h->len > h->caplen ? h->len : h->caplen, half;
			struct tt_pkt a, b;

			for (half = 0; half < 2; half++) {
				uint32_t len = half ? h->caplen / 2 : h->caplen;

				file_fast += tt_parse_fast(frame, len, wire, &a);
				tt_parse_frame(frame, len, wire, &a);
				tt_parse_frame_full(frame, len, wire, &b);
				differ += memcmp(&a, &b, sizeof(a)) != 0;
			}
			file_frames++;
		}
		if (rc != PCAP_ERROR_BREAK) {
			fprintf(stderr, "%s: after %lu frames: %s\n", path, file_frames,
				pcap_geterr(pc));
			pcap_close(pc);
			closedir(dir);
			return 1;
		}
		pcap_close(pc);
		printf("%s: %lu frames, %lu of %lu parses by the fast path\n", e->d_name,
			file_frames, file_fast, 2 * file_frames);
		frames += file_frames;
		fast += file_fast;
		files++;
	}
	closedir(dir);
	printf("%d captures, %lu frames: %lu parses by the fast path, %lu differ from the full parser\n",
		files, frames, fast, differ);
	return files > 0 && fast > 0 && differ == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct test_case tests[] = {
		{ "frame under 14 bytes is malformed", test_frame_too_short },
		{ "a cut VLAN tag is malformed", test_vlan_cut },
		{ "ARP is non-IP, not malformed", test_non_ip_is_not_malformed },
		{ "a third VLAN tag is not followed", test_third_vlan_tag_is_not_followed },
		{ "802.1Q, 802.1ad and 0x9100 tags, and QinQ", test_vlan_and_qinq },
		{ "IPv4 under 20 bytes has no address", test_ipv4_too_short },
		{ "IPv4 version not 4 is malformed, still attributed", test_ipv4_bad_version },
		{ "IPv4 IHL under 5", test_ipv4_ihl_under_5 },
		{ "IPv4 IHL past the data", test_ipv4_ihl_past_data },
		{ "IPv4 total length under IHL", test_ipv4_total_under_ihl },
		{ "IPv4 total length over captured", test_ipv4_total_over_captured },
		{ "Ethernet padding is fine", test_ipv4_padding_is_fine },
		{ "IPv4 options are skipped", test_ipv4_options },
		{ "IPv4 fragments", test_ipv4_fragments },
		{ "TCP under 20 bytes, under 4 bytes", test_tcp_too_short },
		{ "TCP data offset under 5", test_tcp_doff_under_5 },
		{ "TCP data offset past the payload is still read",
			test_tcp_doff_past_payload_still_read },
		{ "options exactly one MSS", test_tcp_options_one_mss },
		{ "UDP and ICMP under 8 bytes", test_udp_and_icmp_too_short },
		{ "IPv6 under 40 bytes has no address", test_ipv6_too_short },
		{ "IPv6 bad version, payload past data", test_ipv6_bad_version_and_payload },
		{ "IPv6 extension header chain", test_ipv6_extension_chain },
		{ "IPv6 non-first fragment", test_ipv6_fragment },
		{ "an IPv6 later fragment's payload is data, not headers",
			test_ipv6_later_fragment_payload_is_data },
		{ "more than 8 IPv6 extension headers", test_ipv6_too_many_extensions },
		{ "a cut IPv6 extension header", test_ipv6_cut_extension },
		{ "ICMP over IPv6 and ICMPv6 over IPv4 are ip/<proto>",
			test_icmp_family_mismatch_is_other },
		{ "headers past the readable bytes", test_headers_past_readable_bytes },
		{ "a well-formed SYN", test_well_formed_syn },
		{ "the fast path takes the common frames", test_fast_path_takes_the_common_frames },
		{ "the fast path declines the rest", test_fast_path_declines_the_rest },
		{ NULL, NULL },
	};

	if (argc == 3 && strcmp(argv[1], "--real") == 0)
		return real_captures(argv[2]);

	return run_suite("parse", tests, NULL, NULL);
}
