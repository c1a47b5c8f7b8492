/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source memory: Mirai-type confirmation (DESIGN.md section 4), its horizon,
 * DoS victims (section 7 thresholds), bounded memory under a flood.
 */
#include <errno.h>
#include <string.h>

#include "cunit_main.h"
#include "tt_classify.h"
#include "tt_sources.h"
#include "sources_internal.h"      /* delta_hash_of(), DELTA_WINDOW */

static struct tt_sources_conf conf = { .entries = 1024, .mirai_min_ports = 2, .horizon = 3600 };

static struct tt_sources_pkt
pkt(const uint8_t *addr, uint8_t klass, uint16_t dport, uint32_t sec)
{
	struct tt_sources_pkt p = {
		.addr = addr, .family = 4, .klass = klass, .dport = dport,
		.svc = TT_SVC(TT_SVC_TCP, dport), .sec = sec, .sensor = 0,
	};

	return p;
}

/* @p n IPv4 addresses @p first.0.0.0 on, in order. */
static void
addresses(uint8_t (*a)[4], uint32_t n, uint8_t first)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		a[i][0] = first;
		a[i][1] = (uint8_t)(i >> 16);
		a[i][2] = (uint8_t)(i >> 8);
		a[i][3] = (uint8_t)i;
	}
}

static const struct tt_sources_delta *
delta_of(const struct tt_sources_deltas *d, const uint8_t *addr)
{
	uint32_t i;

	for (i = 0; i < tt_sources_deltas_count(d); i++)
		if (memcmp(tt_sources_deltas_get(d, i)->addr, addr, 4) == 0)
			return tt_sources_deltas_get(d, i);
	return NULL;
}

static void
test_invalid(void)
{
	struct tt_sources_conf bad = { .entries = 1000, .mirai_min_ports = 2 };
	struct tt_sources_table *t;

	errno = 0;
	CU_ASSERT_PTR_NULL(tt_sources_table_create(&bad));
	CU_ASSERT_EQUAL(errno, EINVAL);
	bad.entries = 1024;
	bad.mirai_min_ports = 0;
	CU_ASSERT_PTR_NULL(tt_sources_table_create(&bad));
	bad.mirai_min_ports = TT_SOURCES_MIRAI_PORTS + 1;       /* more than it remembers */
	CU_ASSERT_PTR_NULL(tt_sources_table_create(&bad));
	bad.mirai_min_ports = TT_SOURCES_MIRAI_PORTS;
	t = tt_sources_table_create(&bad);
	CU_ASSERT_PTR_NOT_NULL(t);
	tt_sources_table_free(t);
	CU_ASSERT_PTR_NULL(tt_sources_deltas_create(100, false));
	tt_sources_table_free(NULL);
	tt_sources_deltas_free(NULL);
}

/* seq == dst SYNs to 23 only: Mirai-type packets, not a confirmed source. */
static void
test_one_port_not_confirmed(void)
{
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *d = tt_sources_deltas_create(64, false);
	static const uint8_t a[4] = { 116, 90, 231, 16 };
	struct tt_sources_pkt p;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	for (i = 0; i < 50; i++) {
		p = pkt(a, TT_CLASS_MIRAI, 23, 1000 + i);
		tt_sources_update(t, d, &p);
	}
	CU_ASSERT_EQUAL_FATAL(tt_sources_deltas_count(d), 1);
	CU_ASSERT_EQUAL(delta_of(d, a)->mirai_pkts, 50);
	CU_ASSERT_FALSE(delta_of(d, a)->flags & TT_SOURCES_CONFIRMED);
	CU_ASSERT_EQUAL(delta_of(d, a)->first_seen, 1000);
	CU_ASSERT_EQUAL(delta_of(d, a)->last_seen, 1049);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/*
 * Where one port is enough (mirai_min_ports = 1), a source's first packet
 * confirms it when it is Mirai-type (its entry new), and so does a later
 * one when the first was not (its entry found).
 */
static void
test_one_port_enough(void)
{
	struct tt_sources_conf one_port = conf;
	struct tt_sources_table *t;
	struct tt_sources_deltas *d = tt_sources_deltas_create(64, false);
	static const uint8_t a[4] = { 116, 90, 231, 16 }, b[4] = { 116, 90, 231, 17 };
	struct tt_sources_table_stats st;
	struct tt_sources_pkt p;

	one_port.mirai_min_ports = 1;
	t = tt_sources_table_create(&one_port);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	p = pkt(a, TT_CLASS_MIRAI, 23, 1000);
	tt_sources_update(t, d, &p);
	p = pkt(b, TT_CLASS_ZMAP, 80, 1000);
	tt_sources_update(t, d, &p);
	CU_ASSERT_TRUE(delta_of(d, a)->flags & TT_SOURCES_CONFIRMED);
	CU_ASSERT_FALSE(delta_of(d, b)->flags & TT_SOURCES_CONFIRMED);
	tt_sources_table_stats(t, &st);
	CU_ASSERT_EQUAL(st.confirmed, 1);
	p = pkt(b, TT_CLASS_MIRAI, 2323, 1001);
	tt_sources_update(t, d, &p);
	p = pkt(a, TT_CLASS_MIRAI, 2323, 1001);
	tt_sources_update(t, d, &p);
	CU_ASSERT_TRUE(delta_of(d, b)->flags & TT_SOURCES_CONFIRMED);
	CU_ASSERT_EQUAL(delta_of(d, a)->mirai_pkts, 2);
	tt_sources_table_stats(t, &st);
	CU_ASSERT_EQUAL(st.confirmed, 2);
	CU_ASSERT_EQUAL(st.inserted, 2);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/* 23 and 2323 within the horizon: confirmed, and it stays confirmed. */
static void
test_two_ports_confirmed(void)
{
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *d = tt_sources_deltas_create(64, false);
	static const uint8_t a[4] = { 198, 51, 100, 9 };
	struct tt_sources_table_stats st;
	struct tt_sources_pkt p;

	p = pkt(a, TT_CLASS_MIRAI, 23, 5000);
	tt_sources_update(t, d, &p);
	CU_ASSERT_FALSE(delta_of(d, a)->flags & TT_SOURCES_CONFIRMED);
	p = pkt(a, TT_CLASS_MIRAI, 2323, 5100);
	tt_sources_update(t, d, &p);
	CU_ASSERT_TRUE(delta_of(d, a)->flags & TT_SOURCES_CONFIRMED);
	CU_ASSERT_EQUAL(delta_of(d, a)->n_ports, 2);
	tt_sources_deltas_reset(d);
	p = pkt(a, TT_CLASS_OTHER, 80, 5000 + 86400 * 30);  /* other traffic: no delta */
	tt_sources_update(t, d, &p);
	CU_ASSERT_PTR_NULL(delta_of(d, a));
	p = pkt(a, TT_CLASS_MIRAI, 23, 5000 + 86400 * 30);  /* much later, past the horizon */
	tt_sources_update(t, d, &p);
	CU_ASSERT_TRUE(delta_of(d, a)->flags & TT_SOURCES_CONFIRMED);   /* it stays */
	tt_sources_table_stats(t, &st);
	CU_ASSERT_EQUAL(st.confirmed, 1);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/*
 * A source's ports past its first four live apart from the rest of its
 * memory (sources_internal.h): with all 16 remembered ports needed, each
 * one counts, a revisit refreshes it, and a new port takes the place of
 * the one seen longest ago, wherever it is kept.
 */
static void
test_sixteen_ports(void)
{
	struct tt_sources_conf all16 = { .entries = 1024, .mirai_min_ports = 16, .horizon = 3600 };
	struct tt_sources_table *t = tt_sources_table_create(&all16);
	struct tt_sources_deltas *d = tt_sources_deltas_create(64, false);
	static const uint8_t a[4] = { 192, 0, 2, 16 }, b[4] = { 192, 0, 2, 17 };
	struct tt_sources_pkt p;
	uint16_t port;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	/* a: 15 ports, some again, then a 16th */
	for (port = 1000; port < 1015; port++) {
		p = pkt(a, TT_CLASS_MIRAI, port, 100 + port - 1000);
		tt_sources_update(t, d, &p);
	}
	p = pkt(a, TT_CLASS_MIRAI, 1002, 200);
	tt_sources_update(t, d, &p);
	p = pkt(a, TT_CLASS_MIRAI, 1012, 201);
	tt_sources_update(t, d, &p);
	CU_ASSERT_FALSE(delta_of(d, a)->flags & TT_SOURCES_CONFIRMED);
	p = pkt(a, TT_CLASS_MIRAI, 1015, 202);
	tt_sources_update(t, d, &p);
	CU_ASSERT_TRUE(delta_of(d, a)->flags & TT_SOURCES_CONFIRMED);

	/*
	 * b: five ports at 100..104, eleven more at 4000..4010, the first four
	 * again at 5000..5003: 15 recent, the fifth port (the first one kept
	 * apart) is the oldest. A 17th port takes its place: 16 recent.
	 */
	for (port = 3000; port < 3016; port++) {
		p = pkt(b, TT_CLASS_MIRAI, port, port < 3005 ? 100 + port - 3000 : 4000 + port - 3005);
		tt_sources_update(t, d, &p);
	}
	for (port = 3000; port < 3004; port++) {
		p = pkt(b, TT_CLASS_MIRAI, port, 5000 + port - 3000);
		tt_sources_update(t, d, &p);
	}
	CU_ASSERT_FALSE(delta_of(d, b)->flags & TT_SOURCES_CONFIRMED);
	p = pkt(b, TT_CLASS_MIRAI, 3016, 5100);
	tt_sources_update(t, d, &p);
	CU_ASSERT_TRUE(delta_of(d, b)->flags & TT_SOURCES_CONFIRMED);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/* Outside the horizon: the first port has expired, no confirmation. */
static void
test_horizon_expires(void)
{
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *d = tt_sources_deltas_create(64, false);
	static const uint8_t a[4] = { 203, 0, 113, 5 };
	struct tt_sources_pkt p;

	p = pkt(a, TT_CLASS_MIRAI, 23, 10000);
	tt_sources_update(t, d, &p);
	p = pkt(a, TT_CLASS_MIRAI, 2323, 10000 + 3601);
	tt_sources_update(t, d, &p);
	CU_ASSERT_FALSE(delta_of(d, a)->flags & TT_SOURCES_CONFIRMED);
	p = pkt(a, TT_CLASS_MIRAI, 23, 10000 + 3700);       /* 23 again, inside now */
	tt_sources_update(t, d, &p);
	CU_ASSERT_TRUE(delta_of(d, a)->flags & TT_SOURCES_CONFIRMED);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/* Backscatter: >= 25 packets, >= 60 s, >= 30 a minute makes a victim. */
static void
test_dos_victim(void)
{
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *d = tt_sources_deltas_create(64, false);
	static const uint8_t slow[4] = { 192, 0, 2, 1 }, fast[4] = { 192, 0, 2, 2 };
	struct tt_sources_pkt p;
	int i;

	/* 40 packets over 120 s: 20 a minute, too slow */
	for (i = 0; i < 40; i++) {
		p = pkt(slow, TT_CLASS_BACKSCATTER, 40000, 20000 + i * 3);
		p.sport = 443;
		tt_sources_update(t, d, &p);
	}
	CU_ASSERT_FALSE(delta_of(d, slow)->flags & TT_SOURCES_VICTIM);
	CU_ASSERT_EQUAL(delta_of(d, slow)->victim_pkts, 0);
	CU_ASSERT_EQUAL(delta_of(d, slow)->victim_since, 0);
	/* 100 packets over 99 s: a victim once past 60 s, then every packet counts */
	for (i = 0; i < 100; i++) {
		p = pkt(fast, TT_CLASS_BACKSCATTER, (uint16_t)(40000 + i), 20000 + i);
		p.sport = (uint16_t)(i % 2 ? 80 : 443);
		tt_sources_update(t, d, &p);
	}
	CU_ASSERT_TRUE(delta_of(d, fast)->flags & TT_SOURCES_VICTIM);
	CU_ASSERT_EQUAL(delta_of(d, fast)->victim_pkts, 100);
	/* the packet 60 s after the first passed the rule: the alert's time */
	CU_ASSERT_EQUAL(delta_of(d, fast)->victim_since, 20060);
	/* the alert's figure: its 61 packets at that moment, not the interval's 100 */
	CU_ASSERT_EQUAL(delta_of(d, fast)->victim_rule_pkts, 61);
	CU_ASSERT_EQUAL(delta_of(d, fast)->n_attacked, 2);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/*
 * The DoS alert's figure is the same however the run is cut into intervals
 * (a replay's collections span what the host's speed lets pile up): the
 * interval it passed the rule in says 61, a later one nothing, and a merge
 * keeps the 61.
 */
static void
test_dos_victim_figure_whatever_the_cut(void)
{
	static const uint8_t fast[4] = { 192, 0, 2, 2 };
	unsigned int cut;

	for (cut = 61; cut <= 100; cut += 13) {
		struct tt_sources_table *t = tt_sources_table_create(&conf);
		struct tt_sources_deltas *d[2] = { tt_sources_deltas_create(64, false),
			tt_sources_deltas_create(64, false) };
		struct tt_sources_deltas *merged = tt_sources_deltas_create(16, true);
		struct tt_sources_pkt p;
		unsigned int i;

		for (i = 0; i < 100; i++) {
			p = pkt(fast, TT_CLASS_BACKSCATTER, (uint16_t)(40000 + i), 20000 + i);
			tt_sources_update(t, d[i >= cut], &p);
		}
		CU_ASSERT_EQUAL(delta_of(d[0], fast)->victim_since, 20060);
		CU_ASSERT_EQUAL(delta_of(d[0], fast)->victim_rule_pkts, 61);
		/* the 61 at the rule, then one a packet up to the cut */
		CU_ASSERT_EQUAL(delta_of(d[0], fast)->victim_pkts, cut);
		if (cut < 100) {
			CU_ASSERT_EQUAL(delta_of(d[1], fast)->victim_since, 0);
			CU_ASSERT_EQUAL(delta_of(d[1], fast)->victim_rule_pkts, 0);
		}
		CU_ASSERT_EQUAL(tt_sources_deltas_merge(merged, d[1]), 0);
		CU_ASSERT_EQUAL(tt_sources_deltas_merge(merged, d[0]), 0);
		CU_ASSERT_EQUAL(delta_of(merged, fast)->victim_rule_pkts, 61);
		CU_ASSERT_EQUAL(delta_of(merged, fast)->victim_pkts, 100);
		tt_sources_deltas_free(merged);
		tt_sources_deltas_free(d[0]);
		tt_sources_deltas_free(d[1]);
		tt_sources_table_free(t);
	}
}

/*
 * A flood of plain packets from distinct sources leaves the memory alone (a
 * confirmed bot survives it); a fingerprinted flood is bounded: memory
 * stays put, evictions and dropped deltas are counted.
 */
static void
test_flood_bounded(void)
{
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *d = tt_sources_deltas_create(1 << 16, false);
	struct tt_sources_table_stats before, after;
	const uint8_t bot[4] = { 203, 0, 113, 7 };
	struct tt_sources_pkt p;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	p = pkt(bot, TT_CLASS_MIRAI, 23, 29000);
	tt_sources_update(t, d, &p);
	p = pkt(bot, TT_CLASS_MIRAI, 2323, 29001);
	tt_sources_update(t, d, &p);
	tt_sources_table_stats(t, &before);
	CU_ASSERT_EQUAL(before.confirmed, 1);
	for (i = 0; i < 1u << 16; i++) {
		uint8_t a[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

		p = pkt(a, TT_CLASS_OTHER, 25565, 30000 + i / 1000);
		tt_sources_update(t, d, &p);
	}
	tt_sources_table_stats(t, &after);
	CU_ASSERT_EQUAL(after.inserted, before.inserted);
	CU_ASSERT_EQUAL(after.sources, 1);
	CU_ASSERT_EQUAL(tt_sources_deltas_count(d), 1);            /* the bot's */
	tt_sources_deltas_reset(d);
	p = pkt(bot, TT_CLASS_MIRAI, 23, 31000);
	tt_sources_update(t, d, &p);
	CU_ASSERT_TRUE(delta_of(d, bot)->flags & TT_SOURCES_CONFIRMED);
	tt_sources_deltas_reset(d);

	for (i = 0; i < 1u << 16; i++) {
		uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };

		p = pkt(a, TT_CLASS_MIRAI, 23, 32000 + i / 1000);
		tt_sources_update(t, d, &p);
	}
	tt_sources_table_stats(t, &after);
	CU_ASSERT_EQUAL(after.memory, before.memory);
	CU_ASSERT(after.sources <= 1024);
	CU_ASSERT_EQUAL(after.inserted, before.inserted + (1u << 16));
	CU_ASSERT_EQUAL(after.evicted, after.inserted - after.sources);
	/* every delta is kept or counted as dropped, none lost silently */
	CU_ASSERT_EQUAL(tt_sources_deltas_count(d) + tt_sources_deltas_dropped(d), 1u << 16);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/*
 * A new source takes its bucket's first empty way; in a full bucket, the way
 * of the least recently seen source, the first of them on a tie, with
 * seconds in unsigned order (0x7ffffff0 is before 0x80000003, as 2038 is
 * before 2039). One bucket: a table of TT_SOURCES_WAYS entries.
 */
static void
test_bucket_victim(void)
{
	static const uint32_t first_seen[TT_SOURCES_WAYS] = {
		0x80000010, 0x80000003, 0x80000020, 0x80000003,
		0x7ffffff0, 0x80000040, 0x80000050, 0x80000060,
	};
	struct tt_sources_conf one = conf;
	struct tt_sources_table *t;
	struct tt_sources_deltas *d = tt_sources_deltas_create(1 << 10, false);
	struct tt_sources_table_stats st;
	uint8_t a[TT_SOURCES_WAYS + 2][4];
	struct tt_sources_pkt p;
	uint64_t inserted;
	uint32_t w;

	one.entries = TT_SOURCES_WAYS;
	t = tt_sources_table_create(&one);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	addresses(a, TT_SOURCES_WAYS + 2, 10);
	for (w = 0; w < TT_SOURCES_WAYS; w++) {
		p = pkt(a[w], TT_CLASS_MIRAI, 23, first_seen[w]);
		tt_sources_update(t, d, &p);
	}
	tt_sources_table_stats(t, &st);
	CU_ASSERT_EQUAL(st.sources, TT_SOURCES_WAYS);
	CU_ASSERT_EQUAL(st.evicted, 0);
	/* the 9th gives up source 4 (0x7ffffff0), the 10th source 1 (the first 0x80000003) */
	p = pkt(a[TT_SOURCES_WAYS], TT_CLASS_MIRAI, 23, 0x80000100);
	tt_sources_update(t, d, &p);
	p = pkt(a[TT_SOURCES_WAYS + 1], TT_CLASS_MIRAI, 23, 0x80000101);
	tt_sources_update(t, d, &p);
	tt_sources_table_stats(t, &st);
	CU_ASSERT_EQUAL(st.evicted, 2);
	/* the kept ones are found again: nothing inserted */
	inserted = st.inserted;
	for (w = 0; w < TT_SOURCES_WAYS + 2; w++) {
		if (w == 1 || w == 4)
			continue;
		p = pkt(a[w], TT_CLASS_MIRAI, 23, 0x80000200);
		tt_sources_update(t, d, &p);
	}
	tt_sources_table_stats(t, &st);
	CU_ASSERT_EQUAL(st.inserted, inserted);
	p = pkt(a[1], TT_CLASS_MIRAI, 23, 0x80000201);
	tt_sources_update(t, d, &p);
	p = pkt(a[4], TT_CLASS_MIRAI, 23, 0x80000202);
	tt_sources_update(t, d, &p);
	tt_sources_table_stats(t, &st);
	CU_ASSERT_EQUAL(st.inserted, inserted + 2);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

static void
test_merge(void)
{
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *a = tt_sources_deltas_create(64, false), *b = tt_sources_deltas_create(64, false);
	struct tt_sources_deltas *m = tt_sources_deltas_create(16, true);
	static const uint8_t x[4] = { 10, 0, 0, 1 };
	struct tt_sources_pkt p;

	p = pkt(x, TT_CLASS_MIRAI, 23, 100);
	tt_sources_update(t, a, &p);
	p = pkt(x, TT_CLASS_NMAP, 22, 200);
	tt_sources_update(t, b, &p);
	CU_ASSERT_EQUAL(tt_sources_deltas_merge(m, a), 0);
	CU_ASSERT_EQUAL(tt_sources_deltas_merge(m, b), 0);
	CU_ASSERT_EQUAL_FATAL(tt_sources_deltas_count(m), 1);
	CU_ASSERT_EQUAL(delta_of(m, x)->pkts, 2);
	CU_ASSERT_EQUAL(delta_of(m, x)->mirai_pkts, 1);
	CU_ASSERT_EQUAL(delta_of(m, x)->class_mask, (1u << TT_CLASS_MIRAI) | (1u << TT_CLASS_NMAP));
	CU_ASSERT_EQUAL(delta_of(m, x)->first_seen, 100);
	CU_ASSERT_EQUAL(delta_of(m, x)->last_seen, 200);
	CU_ASSERT_EQUAL(delta_of(m, x)->n_ports, 2);
	tt_sources_deltas_free(a);
	tt_sources_deltas_free(b);
	tt_sources_deltas_free(m);
	tt_sources_table_free(t);
}

/*
 * A deltas table at its limit still finds every delta it holds: each probe
 * passes thousands of other sources' slots, dozens of them under the same
 * mark (sources_internal.h), and must stop at its own cell alone. New
 * sources are dropped and counted. A growable table that takes them all in
 * (rehashing as it grows) finds them too.
 */
static void
test_full_deltas_find_their_own(void)
{
	enum { CAPACITY = 4096, HELD = CAPACITY / 4 * 3, SOURCES = 2 * CAPACITY };
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *d = tt_sources_deltas_create(CAPACITY, false);
	struct tt_sources_deltas *m = tt_sources_deltas_create(16, true);
	uint8_t a[SOURCES][4];
	struct tt_sources_pkt p;
	uint32_t i, pass, wrong = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	addresses(a, SOURCES, 10);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < SOURCES; i++) {
			p = pkt(a[i], TT_CLASS_MIRAI, pass == 0 ? 23 : 2323, 1000 + pass);
			tt_sources_update(t, d, &p);
		}
	}
	CU_ASSERT_EQUAL(tt_sources_deltas_count(d), HELD);
	CU_ASSERT_EQUAL(tt_sources_deltas_dropped(d), 2 * (SOURCES - HELD));
	/* the first HELD sources took the table, once each, and both packets */
	for (i = 0; i < SOURCES; i++) {
		const struct tt_sources_delta *c = delta_of(d, a[i]);

		if (i < HELD)
			wrong += c == NULL || c->pkts != 2 || c->n_ports != 2;
		else
			wrong += c != NULL;
	}
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(tt_sources_deltas_merge(m, d), 0);
	CU_ASSERT_EQUAL(tt_sources_deltas_merge(m, d), 0);
	CU_ASSERT_EQUAL(tt_sources_deltas_count(m), HELD);
	for (i = 0; i < HELD; i++) {
		const struct tt_sources_delta *c = delta_of(m, a[i]);

		wrong += c == NULL || c->pkts != 4;
	}
	CU_ASSERT_EQUAL(wrong, 0);
	tt_sources_deltas_free(m);
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/*
 * A probe's window of marks wraps past the last slot: the marks of the
 * first slots are copied after it (sources_internal.h, set_mark()). The
 * smallest table, 16 slots: sources whose home is one of the last
 * DELTA_WINDOW - 1 slots, then sources whose home is slot 0, fill it to
 * its limit; every one of them must be found again, the next dropped.
 * After a reset, the copies must be clear too: a stale copy would send
 * the same sources to cells that are no longer the table's, and the
 * second fill would find fewer than it holds.
 */
static void
test_deltas_wrap(void)
{
	enum { CAPACITY = 16, HELD = CAPACITY / 4 * 3, DAY = 1 };
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *d = tt_sources_deltas_create(CAPACITY, false);
	uint8_t a[HELD + 1][4];
	struct tt_sources_pkt p;
	uint32_t i, n = 0, round, wrong = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	/* homes in the last slots first (their windows wrap), then at slot 0 */
	for (round = 0; round < 2; round++) {
		for (i = 0; n < (round == 0 ? HELD / 2 : HELD + 1) && i < 1u << 20; i++) {
			uint8_t b[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
			struct src_key k = src_key_of(b, 4);
			uint32_t home = delta_hash_of(src_key_hash(k, 4), DAY) & (CAPACITY - 1);

			if (round == 0 ? home > CAPACITY - DELTA_WINDOW : home == 0)
				memcpy(a[n++], b, 4);
		}
	}
	CU_ASSERT_EQUAL_FATAL(n, HELD + 1);
	for (round = 0; round < 2; round++) {
		uint32_t pass;

		for (pass = 0; pass < 2; pass++) {
			for (i = 0; i <= HELD; i++) {
				p = pkt(a[i], TT_CLASS_MIRAI, 23, DAY * 86400 + pass);
				tt_sources_update(t, d, &p);
			}
		}
		CU_ASSERT_EQUAL(tt_sources_deltas_count(d), HELD);
		CU_ASSERT_EQUAL(tt_sources_deltas_dropped(d), 2);
		for (i = 0; i <= HELD; i++) {
			const struct tt_sources_delta *c = delta_of(d, a[i]);

			wrong += i < HELD ? c == NULL || c->pkts != 2 : c != NULL;
		}
		CU_ASSERT_EQUAL(wrong, 0);
		tt_sources_deltas_reset(d);
		CU_ASSERT_EQUAL(tt_sources_deltas_count(d), 0);
	}
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/*
 * The filter a table at its limit drops new sources by
 * (sources_internal.h): every held delta has its bit, so each is found
 * and counted again at the limit; a new source is dropped whether its bit
 * is clear (no probe) or set by another's (probed, not found); and a
 * reset clears every bit, so a refill is filtered by its own deltas only.
 */
static void
test_deltas_filter(void)
{
	enum { CAPACITY = 256, HELD = CAPACITY / 4 * 3, NEW = 4 * CAPACITY, DAY = 3 };
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *d = tt_sources_deltas_create(CAPACITY, false);
	uint8_t a[HELD + NEW][4];
	struct tt_sources_pkt p;
	uint32_t i, round, set = 0, wrong = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	addresses(a, HELD + NEW, 20);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < HELD + NEW; i++) {
			p = pkt(a[i], TT_CLASS_MIRAI, 23, DAY * 86400 + round);
			tt_sources_update(t, d, &p);
		}
		for (i = 0; i < HELD; i++) {
			p = pkt(a[i], TT_CLASS_MIRAI, 2323, DAY * 86400 + round + 1);
			tt_sources_update(t, d, &p);
		}
		CU_ASSERT_EQUAL(tt_sources_deltas_count(d), HELD);
		CU_ASSERT_EQUAL(tt_sources_deltas_dropped(d), NEW);
		for (i = 0; i < HELD + NEW; i++) {
			struct src_key k = src_key_of(a[i], 4);
			uint32_t bit = delta_filter_bit(d, src_key_hash(k, 4), DAY);
			const struct tt_sources_delta *c = delta_of(d, a[i]);

			if (i < HELD)
				wrong += !delta_filter_has(d, bit) || c == NULL || c->pkts != 2;
			else
				set += delta_filter_has(d, bit);
		}
		CU_ASSERT_EQUAL(wrong, 0);
		/* eight bits a slot, 3/32 of them set: a new source's is seldom */
		CU_ASSERT(set < NEW / 4);
		tt_sources_deltas_reset(d);
		for (i = 0; i <= d->filter_mask / 8; i++)
			wrong += d->filter[i] != 0;
		CU_ASSERT_EQUAL(wrong, 0);
		set = 0;
	}
	tt_sources_deltas_free(d);
	tt_sources_table_free(t);
}

/*
 * A delta's lists keep their cap smallest members, sorted, whatever order
 * they arrive in: the ports of a source probing 40 services from the top
 * down and then again, its sensors, and the merge of two such deltas.
 */
static void
test_capped_lists(void)
{
	enum { PORTS = TT_SOURCES_PORTS + 8, SENSORS = TT_SOURCES_SENSORS + 2 };
	struct tt_sources_table *t = tt_sources_table_create(&conf);
	struct tt_sources_deltas *a = tt_sources_deltas_create(64, false), *b = tt_sources_deltas_create(64, false);
	struct tt_sources_deltas *m = tt_sources_deltas_create(16, true);
	static const uint8_t x[4] = { 198, 51, 100, 9 };
	const struct tt_sources_delta *c;
	struct tt_sources_pkt p;
	uint32_t i, wrong = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	/* a: ports 1000, 990, ... (descending), twice; sensors 9 down to 0 */
	for (i = 0; i < 2 * PORTS; i++) {
		p = pkt(x, TT_CLASS_NMAP, (uint16_t)(1000 - 10 * (i % PORTS)), 100 + i);
		p.sensor = (uint16_t)(SENSORS - 1 - i % SENSORS);
		tt_sources_update(t, a, &p);
	}
	/* b: ports 5, 25, ... (ascending), between a's; one sensor */
	for (i = 0; i < PORTS; i++) {
		p = pkt(x, TT_CLASS_NMAP, (uint16_t)(5 + 20 * i), 200 + i);
		tt_sources_update(t, b, &p);
	}
	c = delta_of(a, x);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->n_ports, TT_SOURCES_PORTS);
	for (i = 0; i < TT_SOURCES_PORTS; i++)     /* 610, 620, ..., 920: the 32 smallest of a */
		wrong += c->ports[i] != TT_SVC(TT_SVC_TCP, 1000 - 10 * (PORTS - 1) + 10 * i);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL_FATAL(c->n_sensors, TT_SOURCES_SENSORS);
	for (i = 0; i < TT_SOURCES_SENSORS; i++)
		wrong += c->sensors[i] != i;
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(tt_sources_deltas_merge(m, a), 0);
	CU_ASSERT_EQUAL(tt_sources_deltas_merge(m, b), 0);
	c = delta_of(m, x);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(c->n_ports, TT_SOURCES_PORTS);
	/* the union's 32 smallest: b's 5, 25, ..., 605, then a's 610 */
	for (i = 0; i + 1 < TT_SOURCES_PORTS; i++)
		wrong += c->ports[i] != TT_SVC(TT_SVC_TCP, 5 + 20 * i);
	wrong += c->ports[TT_SOURCES_PORTS - 1] != TT_SVC(TT_SVC_TCP, 610);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(c->n_sensors, TT_SOURCES_SENSORS);
	CU_ASSERT_EQUAL(c->pkts, 3 * PORTS);
	tt_sources_deltas_free(a);
	tt_sources_deltas_free(b);
	tt_sources_deltas_free(m);
	tt_sources_table_free(t);
}

/*
 * add_capped() against its rule: after each value, the list holds the cap
 * smallest distinct values so far, sorted, its count is their number, and
 * the slots past it stay padded. Runs of values from a small range (most
 * of them repeats, as a scanner's services are) and from a wide one, at
 * the ports' and at the sensors' capacity.
 */
static void
test_capped_against_rule(void)
{
	static const uint32_t caps[] = { TT_SOURCES_PORTS, TT_SOURCES_SENSORS };
	uint32_t list[TT_SOURCES_PORTS], want[TT_SOURCES_PORTS], seed = 1, wrong = 0, checked = 0;
	uint32_t cap, n_want, keep, v, c, run, i, j;
	uint8_t n;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		cap = caps[c];
		for (run = 0; run < 200; run++) {
			memset(list, LIST_PAD_BYTE, sizeof(list));
			n = 0;
			n_want = 0;
			for (i = 0; i < 100; i++) {
				seed = seed * 1103515245u + 12345u;
				v = run % 2 ? (seed >> 8) % 48 : seed >> 1;
				add_capped(list, &n, cap, v);
				for (j = 0; j < n_want && want[j] < v; j++)
					;
				if (j < cap && !(j < n_want && want[j] == v)) {
					keep = n_want < cap ? n_want : cap - 1;
					memmove(&want[j + 1], &want[j], (keep - j) * sizeof(*want));
					want[j] = v;
					n_want = keep + 1;
				}
				wrong += n != n_want || memcmp(list, want, n_want * sizeof(*want)) != 0;
				for (j = n; j < cap; j++)
					wrong += list[j] != UINT32_MAX;
				checked++;
			}
		}
	}
	CU_ASSERT_EQUAL(checked, 2 * 200 * 100);
	CU_ASSERT_EQUAL(wrong, 0);
}

/*
 * tt_sources_update_burst() updates as tt_sources_update() one packet at a
 * time does, in the same order: a small table whose buckets give up
 * sources, a deltas table that fills and drops, every class (plain
 * packets among them), Mirai-type sources that reach confirmation, a day
 * boundary, and bursts of 37 (the pipeline's head and tail in each).
 */
static void
test_bursts_as_single_packets(void)
{
	enum { PACKETS = 20000, SOURCES = 3000, BURST = 37, DELTAS = 2048 };
	struct tt_sources_conf small = { .entries = 256, .mirai_min_ports = 2, .horizon = 3600 };
	struct tt_sources_table *one = tt_sources_table_create(&small);
	struct tt_sources_table *bursts = tt_sources_table_create(&small);
	struct tt_sources_deltas *d_one = tt_sources_deltas_create(DELTAS, false);
	struct tt_sources_deltas *d_bursts = tt_sources_deltas_create(DELTAS, false);
	static uint8_t addr[SOURCES][4];
	struct tt_sources_pkt burst[BURST];
	struct tt_sources_table_stats s_one, s_bursts;
	uint32_t rnd = 12345, i, n = 0, differ = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(one);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bursts);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d_one);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d_bursts);
	addresses(addr, SOURCES, 100);
	for (i = 0; i < PACKETS; i++) {
		static const uint16_t ports[] = { 23, 2323, 80, 443, 8080, 5555, 37215, 52869 };
		struct tt_sources_pkt p;

		rnd = rnd * 1103515245u + 12345u;
		/* a few sources send most packets, as scanners do */
		p = pkt(addr[(rnd >> 8) % ((rnd >> 30) ? 60 : SOURCES)],
			(uint8_t)((rnd >> 4) % TT_CLASS_COUNT), ports[(rnd >> 20) % 8],
			86400 * 20000 + 86400 - 300 + i / 30);
		p.sensor = (uint16_t)((rnd >> 12) % 12);
		p.sport = (uint16_t)(rnd >> 16);
		p.home = (rnd >> 3) & 1;
		p.country = (uint16_t)((rnd >> 24) % 5);
		tt_sources_update(one, d_one, &p);
		burst[n++] = p;
		if (n == BURST || i == PACKETS - 1) {
			tt_sources_update_burst(bursts, d_bursts, burst, n);
			n = 0;
		}
	}
	tt_sources_table_stats(one, &s_one);
	tt_sources_table_stats(bursts, &s_bursts);
	CU_ASSERT(s_one.evicted > 0);
	CU_ASSERT(s_one.confirmed > 0);
	CU_ASSERT(tt_sources_deltas_dropped(d_one) > 0);
	CU_ASSERT_EQUAL(s_bursts.sources, s_one.sources);
	CU_ASSERT_EQUAL(s_bursts.inserted, s_one.inserted);
	CU_ASSERT_EQUAL(s_bursts.evicted, s_one.evicted);
	CU_ASSERT_EQUAL(s_bursts.confirmed, s_one.confirmed);
	CU_ASSERT_EQUAL(tt_sources_deltas_dropped(d_bursts), tt_sources_deltas_dropped(d_one));
	CU_ASSERT_EQUAL_FATAL(tt_sources_deltas_count(d_bursts), tt_sources_deltas_count(d_one));
	for (i = 0; i < tt_sources_deltas_count(d_one); i++)
		differ += memcmp(tt_sources_deltas_get(d_one, i),
			tt_sources_deltas_get(d_bursts, i), sizeof(struct tt_sources_delta)) != 0;
	CU_ASSERT_EQUAL(differ, 0);
	tt_sources_deltas_free(d_one);
	tt_sources_deltas_free(d_bursts);
	tt_sources_table_free(one);
	tt_sources_table_free(bursts);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "invalid input", test_invalid },
		{ "Mirai-type to one port only: not confirmed", test_one_port_not_confirmed },
		{ "23 and 2323: confirmed, and it stays", test_two_ports_confirmed },
		{ "where one port is enough, the first Mirai-type packet confirms",
			test_one_port_enough },
		{ "outside the horizon it expires", test_horizon_expires },
		{ "all sixteen ports count, wherever they are kept", test_sixteen_ports },
		{ "DoS victim thresholds", test_dos_victim },
		{ "the DoS alert's figure is the same however the run is cut",
			test_dos_victim_figure_whatever_the_cut },
		{ "a plain flood leaves the memory alone; a fingerprinted one stays bounded",
			test_flood_bounded },
		{ "a new source takes an empty way, else the least recently seen",
			test_bucket_victim },
		{ "merging deltas", test_merge },
		{ "a full deltas table finds every delta it holds", test_full_deltas_find_their_own },
		{ "a probe's window wraps past the last slot, and a reset clears it",
			test_deltas_wrap },
		{ "a full deltas table drops new sources by its filter, and a reset clears it",
			test_deltas_filter },
		{ "a delta's lists keep their smallest members, sorted", test_capped_lists },
		{ "a capped list follows its rule, value by value", test_capped_against_rule },
		{ "bursts update as single packets do", test_bursts_as_single_packets },
		{ NULL, NULL },
	};

	return run_suite("sources", tests, NULL, NULL);
}
