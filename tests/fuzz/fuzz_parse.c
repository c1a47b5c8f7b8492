/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parser robustness: valid frames of every shape, mutated (byte flips,
 * truncation, lengths set to extremes) and parsed with the frame copied to
 * the end of an exactly-sized heap buffer, under AddressSanitizer and
 * UndefinedBehaviorSanitizer. Any read past the frame aborts the run.
 * Invariants checked on every result: a frame too short for Ethernet is
 * malformed; an address comes with family 4 or 6, ports and an L4 header
 * only with an address, ports only for TCP and UDP, an MSS only from a whole
 * TCP header; a non-first fragment has no L4 header; the class has a name,
 * the service a watch bit, and its published name parses back to it. Each frame is parsed twice: whole, and with only
 * its first half contiguous (as a multi-segment mbuf's first segment), where
 * the parser must not read past the contiguous part either. Every result of
 * tt_parse_frame() (the inline fast path for the common frame, the full
 * parser for the rest) must equal the full parser's alone, field for field;
 * the run counts the frames the fast path took, and fails when none did.
 *
 * Two drivers share the checks. Built with -DTT_LIBFUZZER and clang's
 * -fsanitize=fuzzer (meson -Dfuzzing=true, scripts/fuzz), libFuzzer feeds
 * LLVMFuzzerTestOneInput and a violation aborts with the invariant's name, so
 * libFuzzer saves the input. Otherwise main() mutates built-in frames, and a
 * violation fails the run after printing the first few.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/frames.h"
#include "tt_classify.h"
#include "tt_parse.h"

static unsigned long violations;
static unsigned long fast_frames;

static void
violation(const char *invariant, const uint8_t *data, uint32_t data_len, uint32_t frame_len)
{
	violations++;
#ifdef TT_LIBFUZZER
	(void)data;
	fprintf(stderr, "fuzz_parse: invariant violated: %s (data_len %u, frame_len %u)\n",
		invariant, data_len, frame_len);
	abort();
#else
	uint32_t i;

	if (violations > 5)
		return;
	fprintf(stderr, "fuzz_parse: invariant violated: %s (data_len %u, frame_len %u):",
		invariant, data_len, frame_len);
	for (i = 0; i < data_len; i++)
		fprintf(stderr, " %02x", data[i]);
	fprintf(stderr, "\n");
#endif
}

static void
parse_checked(const uint8_t *data, uint32_t data_len, uint32_t frame_len)
{
	uint8_t *copy = malloc(data_len ? data_len : 1);
	enum tt_class klass;
	uint32_t svc, back;
	struct tt_pkt p, full, fast;
	char name[32];

	if (copy == NULL)
		abort();
	memcpy(copy, data, data_len);
	tt_parse_frame(copy, data_len, frame_len, &p);
	tt_parse_frame_full(copy, data_len, frame_len, &full);
	fast_frames += tt_parse_fast(copy, data_len, frame_len, &fast);
	free(copy);
	if (memcmp(&p, &full, sizeof(p)) != 0)
		violation("the fast path's result is the full parser's", data, data_len, frame_len);
	klass = tt_classify_class(&p);
	svc = tt_classify_service(&p);
	if (frame_len < 14 && !(p.flags & TT_PKT_MALFORMED))
		violation("a frame shorter than Ethernet is malformed", data, data_len, frame_len);
	if ((p.flags & TT_PKT_HAS_PORTS) && !(p.flags & TT_PKT_HAS_ADDR))
		violation("ports only with an address", data, data_len, frame_len);
	if ((p.flags & TT_PKT_FRAGMENT) && (p.flags & (TT_PKT_HAS_L4 | TT_PKT_HAS_PORTS)))
		violation("a non-first fragment has no L4 header", data, data_len, frame_len);
	if (!(p.flags & TT_PKT_HAS_ADDR) != (p.family == 0) ||
			(p.family != 0 && p.family != 4 && p.family != 6))
		violation("an address exactly with family 4 or 6", data, data_len, frame_len);
	if ((p.flags & TT_PKT_HAS_L4) && !(p.flags & TT_PKT_HAS_ADDR))
		violation("an L4 header only with an address", data, data_len, frame_len);
	if ((p.flags & TT_PKT_HAS_PORTS) && p.l4 != TT_L4_TCP && p.l4 != TT_L4_UDP)
		violation("ports only for TCP and UDP", data, data_len, frame_len);
	if ((p.flags & TT_PKT_ONE_MSS) &&
			(p.l4 != TT_L4_TCP || !(p.flags & TT_PKT_HAS_L4)))
		violation("an MSS only from a whole TCP header", data, data_len, frame_len);
	if ((unsigned int)klass >= TT_CLASS_COUNT || tt_schema_class_name(klass) == NULL)
		violation("a class that has a name", data, data_len, frame_len);
	if (tt_classify_watch_bit(svc) >= TT_WATCH_BITS)
		violation("a service's watch bit fits the bitmap", data, data_len, frame_len);
	/* The service as published ("tcp/23") reads back as the same key. */
	if (p.l4 != TT_L4_NONE) {
		int n = tt_classify_service_format(svc, name, sizeof(name));

		if (n <= 0 || (size_t)n >= sizeof(name) ||
				tt_classify_service_parse(name, &back) != 0 || back != svc)
			violation("a service's name reads back as the service", data, data_len,
				frame_len);
	}
}

static void
parse_exact(const uint8_t *data, size_t len)
{
	if (len > UINT32_MAX)
		return;
	parse_checked(data, (uint32_t)len, (uint32_t)len);
	if (len > 1)
		parse_checked(data, (uint32_t)len / 2, (uint32_t)len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_exact(data, size);
	return 0;
}

#ifndef TT_LIBFUZZER
#include "fuzz_rnd.h"

static void
seed_frame(unsigned int kind, struct frame *f)
{
	static const uint8_t s6[16] = { 0x20, 1, 0xd, 0xb8, 9 }, d6[16] = { 0x20, 1, 0xd, 0xb8, 1 };
	static const uint8_t mss[4] = { 2, 4, 5, 0xb4 };
	uint32_t ip;

	switch (kind % 9) {
	case 0:
		eth(f, 0x0800);
		ip = ipv4(f, 6, 0, 1, 0, 64, 6, 1, 2);
		tcp(f, 1, 23, 2, 2, 1024, 6, mss, 4);
		ipv4_fix_total(f, ip);
		break;
	case 1:
		eth(f, 0x8100);
		vlan(f, 0x8100, 0x0800);
		ip = ipv4(f, 5, 0, 1, 0x2000, 64, 17, 1, 2);
		udp(f, 1, 53, 8);
		ipv4_fix_total(f, ip);
		break;
	case 2:
		eth(f, 0x86dd);
		ip = ipv6(f, 0, 0, 64, s6, d6);
		put8(f, 44); put8(f, 0); put32(f, 0); put16(f, 0);
		put8(f, 6); put8(f, 0); put16(f, 0); put32(f, 1);
		tcp(f, 1, 22, 2, 2, 1024, 5, NULL, 0);
		ipv6_fix_payload(f, ip);
		break;
	case 3:
		eth(f, 0x86dd);
		ip = ipv6(f, 0, 58, 64, s6, d6);
		icmp(f, 1, 4);
		ipv6_fix_payload(f, ip);
		break;
	case 4:
		eth(f, 0x88a8);
		vlan(f, 0x88a8, 0x8100);
		vlan(f, 0x8100, 0x0800);
		ip = ipv4(f, 5, 0, 1, 0, 64, 1, 1, 2);
		icmp(f, 3, 3);
		ipv4(f, 5, 28, 1, 0, 64, 17, 2, 1);
		ipv4_fix_total(f, ip);
		break;
	case 5:
		/* The fast path's three frames: a Mirai-type SYN, UDP, an echo request. */
		eth(f, 0x0800);
		ip = ipv4(f, 5, 0, 1, 0x4000, 64, 6, 1, 2);
		tcp(f, 1, 23, 2, 2, 1024, 5, NULL, 0);
		ipv4_fix_total(f, ip);
		break;
	case 6:
		eth(f, 0x0800);
		ip = ipv4(f, 5, 0, 54321, 0, 64, 17, 1, 2);
		udp(f, 1, 161, 8);
		ipv4_fix_total(f, ip);
		break;
	case 7:
		eth(f, 0x0800);
		ip = ipv4(f, 5, 0, 54321, 0, 64, 1, 1, 2);
		icmp(f, 8, 0);
		ipv4_fix_total(f, ip);
		break;
	default:
		eth(f, 0x86dd);
		ip = ipv6(f, 0, 60, 64, s6, d6);
		put8(f, 51); put8(f, 0); put32(f, 0); put16(f, 0);
		put8(f, 17); put8(f, 1); put32(f, 0); put16(f, 0); put32(f, 0);
		udp(f, 1, 123, 8);
		ipv6_fix_payload(f, ip);
		break;
	}
}

int
main(int argc, char **argv)
{
	unsigned long iterations = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000, i;
	struct frame f;

	for (i = 0; i < iterations; i++) {
		unsigned int flips = rnd() % 4, k;

		seed_frame(rnd(), &f);
		for (k = 0; k < flips; k++) {
			uint32_t at = rnd() % f.len;

			switch (rnd() % 3) {
			case 0: f.b[at] ^= (uint8_t)(1 << (rnd() % 8)); break;
			case 1: f.b[at] = (uint8_t)rnd(); break;
			default: f.b[at] = (rnd() & 1) ? 0xff : 0; break;
			}
		}
		if (rnd() % 3 == 0)
			f.len = rnd() % (f.len + 1);
		parse_exact(f.b, f.len);
	}
	/* One check: the whole run, without a sanitizer abort or a violation. */
	printf("%lu mutated frames parsed (%lu parses by the fast path), %lu invariant violations\n",
		iterations, fast_frames, violations);
	if (fast_frames == 0)
		fprintf(stderr, "fuzz_parse: no frame took the fast path: its comparison ran on nothing\n");
	printf("checks: %d passed, %d failed\n", violations == 0 && fast_frames != 0,
		violations != 0 || fast_frames == 0);
	return violations == 0 && fast_frames != 0 ? 0 : 1;
}
#endif
