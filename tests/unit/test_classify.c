/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Service keys and fingerprint classes against DESIGN.md section 4.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "cunit_main.h"
#include "frames.h"
#include "tt_classify.h"

static struct tt_pkt
tcp4(uint8_t flags, uint32_t dst, uint16_t dport, uint32_t seq, uint16_t ip_id)
{
	struct tt_pkt p = {
		.flags = TT_PKT_HAS_ADDR | TT_PKT_HAS_PORTS | TT_PKT_HAS_L4,
		.family = 4, .l4 = TT_L4_TCP, .proto = 6, .ttl = 50,
		.tcp_flags = flags, .ip_id = ip_id, .sport = 40000, .dport = dport,
		.window = 5840,
	};

	p.dst.v4 = htonl(dst);
	p.src.v4 = htonl(IP4(198, 51, 100, 7));
	p.seq_raw = htonl(seq);
	return p;
}

static void
test_service_parse_invalid(void)
{
	static const char *const bad[] = {
		"", "tcp/", "tcp/65536", "tcp/-1", "tcp/2x", "udp/ 53", "ip/256", "sctp/1",
		"TCP/23", "icmp/0", "tcp/23 ",
	};
	uint32_t svc;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(tt_classify_service_parse(bad[i], &svc), -EINVAL);
}

static void
test_service_round_trip(void)
{
	static const char *const good[] = {
		"tcp/23", "tcp/0", "tcp/65535", "udp/53", "icmp", "icmp6", "ip/47", "tcp", "udp",
	};
	char buf[TT_SVC_STR_MAX];
	uint32_t svc;
	unsigned int i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(tt_classify_service_parse(good[i], &svc), 0);
		tt_classify_service_format(svc, buf, sizeof(buf));
		CU_ASSERT_STRING_EQUAL(buf, good[i]);
	}
}

static void
test_service_of_packets(void)
{
	struct tt_pkt p = tcp4(0x02, 1, 23, 0, 0);

	CU_ASSERT_EQUAL(tt_classify_service(&p), TT_SVC(TT_SVC_TCP, 23));
	p.flags &= (uint8_t)~TT_PKT_HAS_PORTS;
	CU_ASSERT_EQUAL(tt_classify_service(&p), TT_SVC(TT_SVC_TCP_BARE, 0));
	p.l4 = TT_L4_UDP;
	CU_ASSERT_EQUAL(tt_classify_service(&p), TT_SVC(TT_SVC_UDP_BARE, 0));
	p.l4 = TT_L4_ICMP6;
	CU_ASSERT_EQUAL(tt_classify_service(&p), TT_SVC(TT_SVC_ICMP6, 0));
	p.l4 = TT_L4_OTHER;
	p.proto = 47;
	CU_ASSERT_EQUAL(tt_classify_service(&p), TT_SVC(TT_SVC_IP, 47));
}

static void
test_no_l4_is_other(void)
{
	struct tt_pkt p = tcp4(0x02, IP4(192, 0, 2, 1), 23, IP4(192, 0, 2, 1), 0);

	p.flags = TT_PKT_HAS_ADDR | TT_PKT_FRAGMENT;       /* a portless fragment */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
}

static void
test_backscatter(void)
{
	struct tt_pkt p = tcp4(0x12, 1, 80, 0, 0);         /* SYN+ACK */
	static const uint8_t v4_types[] = { 0, 3, 4, 5, 11, 12, 14, 16, 18 };
	static const uint8_t v6_types[] = { 1, 2, 3, 4, 129 };
	unsigned int i;

	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_BACKSCATTER);
	p = tcp4(0x04, 1, 80, 0, 0);                        /* RST */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_BACKSCATTER);
	p = tcp4(0x14, 1, 80, 0, 0);                        /* RST+ACK */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_BACKSCATTER);
	/* a SYN whose seq equals the destination but with RST: backscatter wins */
	p = tcp4(0x06, IP4(192, 0, 2, 1), 23, IP4(192, 0, 2, 1), 0);
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_BACKSCATTER);

	p.l4 = TT_L4_ICMP;
	for (i = 0; i < sizeof(v4_types); i++) {
		p.icmp_type = v4_types[i];
		CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_BACKSCATTER);
	}
	p.icmp_type = 8;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
	p.family = 6;
	p.l4 = TT_L4_ICMP6;
	for (i = 0; i < sizeof(v6_types); i++) {
		p.icmp_type = v6_types[i];
		CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_BACKSCATTER);
	}
	p.icmp_type = 128;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
	p.icmp_type = 0;                                    /* v4 echo reply number, on v6 */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
}

static void
test_mirai(void)
{
	uint32_t dst = IP4(185, 100, 143, 115);
	struct tt_pkt p = tcp4(0x02, dst, 23, dst, 0);

	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_MIRAI);
	p.tcp_flags = 0x12;                                  /* ACK set: not a SYN */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_BACKSCATTER);
	p = tcp4(0x02, dst, 23, dst + 1, 0);
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
	p = tcp4(0x02 | 0x08 | 0x01, dst, 2323, dst, 0);     /* other flags allowed */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_MIRAI);
	p = tcp4(0x02, dst, 23, dst, 0);
	p.family = 6;                                        /* IPv4 only */
	CU_ASSERT_NOT_EQUAL(tt_classify_class(&p), TT_CLASS_MIRAI);
}

static void
test_masscan(void)
{
	uint32_t dst = IP4(192, 0, 2, 77), seq = 0x12345678;
	uint16_t dport = 8080;
	uint16_t id = (uint16_t)((dst ^ dport ^ seq) & 0xffff);
	struct tt_pkt p = tcp4(0x02, dst, dport, seq, id);

	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_MASSCAN);
	p.ip_id ^= 1;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
}

static void
test_zmap(void)
{
	struct tt_pkt p = tcp4(0x02, IP4(192, 0, 2, 1), 443, 99, 54321);

	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_ZMAP);
	p.l4 = TT_L4_ICMP;
	p.icmp_type = 8;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_ZMAP);
	p.l4 = TT_L4_UDP;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_ZMAP);
	p.flags &= (uint8_t)~TT_PKT_HAS_L4;                 /* UDP header cut */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
	p = tcp4(0x10, IP4(192, 0, 2, 1), 443, 99, 54321);   /* a bare ACK */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
}

static void
test_nmap(void)
{
	static const uint16_t windows[] = { 1024, 2048, 3072, 4096 };
	struct tt_pkt p;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		p = tcp4(0x02, IP4(192, 0, 2, 1), 22, 5, 1);
		p.window = windows[i];
		p.flags |= TT_PKT_ONE_MSS;
		p.mss = 1460;
		CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_NMAP);
	}
	p.mss = 1400;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
	p.mss = 1460;
	p.window = 1025;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
	p.window = 1024;
	p.flags &= (uint8_t)~TT_PKT_ONE_MSS;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
	p.flags |= TT_PKT_ONE_MSS;
	p.family = 6;                                        /* nmap applies to IPv6 too */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_NMAP);
}

static void
test_unicorn(void)
{
	struct tt_pkt p = tcp4(0x02, IP4(192, 0, 2, 1), 80, 5, 1);

	p.window = 4128;
	p.ttl = 200;
	p.flags |= TT_PKT_ONE_MSS;
	p.mss = 536;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_UNICORN);
	p.ttl = 199;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_OTHER);
	p.ttl = 255;
	p.family = 6;                                        /* hop limit for IPv6 */
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_UNICORN);
}

static void
test_first_match_wins(void)
{
	/* seq == dst and ip_id 54321 and an nmap window: mirai comes first */
	uint32_t dst = IP4(192, 0, 2, 9);
	struct tt_pkt p = tcp4(0x02, dst, 23, dst, 54321);

	p.window = 1024;
	p.flags |= TT_PKT_ONE_MSS;
	p.mss = 1460;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_MIRAI);
	p.seq_raw = htonl(5);
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_ZMAP);
	p.ip_id = 7;
	CU_ASSERT_EQUAL(tt_classify_class(&p), TT_CLASS_NMAP);
}

static void
test_countries(void)
{
	char cc[3];

	CU_ASSERT_EQUAL(tt_classify_country_index("jp"), -EINVAL);
	CU_ASSERT_EQUAL(tt_classify_country_index("JPN"), -EINVAL);
	CU_ASSERT_EQUAL(tt_classify_country_index(""), -EINVAL);
	CU_ASSERT_EQUAL(tt_classify_country_index("ZZ"), TT_COUNTRY_ZZ);
	tt_classify_country_code((uint16_t)tt_classify_country_index("JP"), cc);
	CU_ASSERT_STRING_EQUAL(cc, "JP");
	CU_ASSERT_TRUE(tt_classify_country_is_assigned("JP"));
	CU_ASSERT_TRUE(tt_classify_country_is_assigned("AD"));
	CU_ASSERT_TRUE(tt_classify_country_is_assigned("ZW"));
	CU_ASSERT_FALSE(tt_classify_country_is_assigned("ZZ"));
	CU_ASSERT_FALSE(tt_classify_country_is_assigned("XX"));
	CU_ASSERT_FALSE(tt_classify_country_is_assigned("UK"));
	CU_ASSERT_STRING_EQUAL(tt_schema_class_name(TT_CLASS_MIRAI), "mirai");
}

/*
 * Every key of every kind has its bit, and no two keys share one: the
 * bitmap's layout (tt_classify.h) spelled out, over all 65,536 values.
 */
static void
test_watch_bits(void)
{
	static uint8_t owner[TT_WATCH_BITS];
	uint32_t kind, v, bit, want, clashes = 0, wrong = 0;

	memset(owner, 0, sizeof(owner));
	for (kind = TT_SVC_NONE; kind <= TT_SVC_OVERFLOW; kind++) {
		for (v = 0; v < 65536; v++) {
			bool has_value = kind == TT_SVC_TCP || kind == TT_SVC_UDP ||
				(kind == TT_SVC_IP && v < 256);

			if (!has_value && v != 0)
				continue;
			if (kind == TT_SVC_TCP)
				want = v;
			else if (kind == TT_SVC_UDP)
				want = 65536 + v;
			else if (kind == TT_SVC_IP)
				want = 2 * 65536 + 16 + v;
			else
				want = 2 * 65536 + kind;
			bit = tt_classify_watch_bit(TT_SVC(kind, v));
			wrong += bit != want;
			if (bit < TT_WATCH_BITS)
				clashes += owner[bit]++ != 0;
		}
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(clashes, 0);
	/* ip/N keeps N's low byte: protocol numbers are bytes */
	CU_ASSERT_EQUAL(tt_classify_watch_bit(TT_SVC(TT_SVC_IP, 0x12f)), 2 * 65536 + 16 + 0x2f);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "bad service names are rejected", test_service_parse_invalid },
		{ "service names round-trip", test_service_round_trip },
		{ "service key of packets", test_service_of_packets },
		{ "no L4 header: other", test_no_l4_is_other },
		{ "backscatter", test_backscatter },
		{ "mirai: SYN with seq == dst", test_mirai },
		{ "masscan: ip_id relation", test_masscan },
		{ "zmap: ip_id 54321", test_zmap },
		{ "nmap: window and one MSS of 1460", test_nmap },
		{ "unicorn: TTL, window 4128, one MSS", test_unicorn },
		{ "first match wins", test_first_match_wins },
		{ "country codes", test_countries },
		{ "watch bitmap: a bit a key", test_watch_bits },
		{ NULL, NULL },
	};

	return run_suite("classify", tests, NULL, NULL);
}
