/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The detectors' feed: which buckets are judged, when, in what order; late
 * cells; silence and outages; DoS victims and their minute; the alerts'
 * order whatever packet time each collection brings.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cunit_main.h"
#include "tt_alerts_feed.h"
#include "tt_classify.h"
#include "tt_counters.h"
#include "tt_sources.h"

#define M0 28401120u           /* 2024-01-01 00:00 UTC, in minutes */

static const char *const names[2] = { "tokyo", "osaka" };

static struct tt_alerts *
detectors(void)
{
	struct tt_alerts_conf c;

	tt_alerts_conf_default(&c);
	c.n_sensors = 2;
	c.sensor_names = names;
	c.home_country = (uint16_t)tt_classify_country_index("JP");
	return tt_alerts_create(&c);
}

static struct tt_shard *
worker_shard(void)
{
	return tt_counters_create(&(struct tt_counters_conf){ .port_cells = 1024,
		.country_cells = 256, .hll_cells = 256, .hll_sparse = 64, .hll_dense = 8 });
}

/* The source deltas of one worker interval, beside its shard. */
static struct tt_sources_deltas *deltas;

/* @p n packets to @p port/TCP at sensor @p sensor in minute @p minute */
static void
add_port(struct tt_shard *s, uint32_t minute, uint16_t sensor, uint16_t port, unsigned int n)
{
	struct tt_count_pkt p = {
		.minute = minute, .svc = TT_SVC(TT_SVC_TCP, port), .bytes = 60, .sensor = sensor,
		.country = (uint16_t)tt_classify_country_index("US"), .klass = TT_CLASS_OTHER,
		.watched = true,
	};
	unsigned int i;

	for (i = 0; i < n; i++) {
		p.hll_index = (uint16_t)(i * 7919 % 16384);
		p.hll_rank = 1;
		tt_counters_add(s, &p);
	}
}

/* @p n packets to 23/TCP at sensor @p sensor in minute @p minute */
static void
add(struct tt_shard *s, uint32_t minute, uint16_t sensor, unsigned int n)
{
	add_port(s, minute, sensor, 23, n);
}

struct seen {
	unsigned int n;
	struct tt_alert last;
};

static int
record(void *ctx, const struct tt_alert *al)
{
	struct seen *s = ctx;

	s->n++;
	s->last = *al;
	return 0;
}

static uint64_t
judged(const struct tt_alerts *a, enum tt_alerts_res res)
{
	struct tt_alerts_stats st;

	tt_alerts_stats_get(a, &st);
	return st.buckets[res];
}

static void
test_create_invalid(void)
{
	tt_alerts_feed_free(NULL);
}

/* Minutes before the complete one are judged once each, silent ones too; hours when whole. */
static void
test_buckets_in_order(void)
{
	struct tt_alerts *a = detectors();
	struct tt_alerts_feed *f;
	struct tt_shard *s = worker_shard();
	struct seen seen = { 0 };
	uint32_t m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	f = tt_alerts_feed_create(a, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (m = M0; m < M0 + 5; m++)
		add(s, m, 0, 10);
	CU_ASSERT_EQUAL(tt_alerts_feed_add(f, s, deltas), 0);
	tt_counters_reset(s);
	/* before the first packet: nothing to judge */
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0, record, &seen), 0);
	CU_ASSERT_EQUAL(judged(a, TT_ALERTS_RES_MINUTE), 0);
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0 + 3, record, &seen), 0);
	CU_ASSERT_EQUAL(judged(a, TT_ALERTS_RES_MINUTE), 3);
	CU_ASSERT_EQUAL(judged(a, TT_ALERTS_RES_HOUR), 0);
	/* a late cell of a judged minute is left out; minutes 3 and 4, then silence */
	add(s, M0 + 1, 0, 10);
	add(s, M0 + 7, 1, 10);
	CU_ASSERT_EQUAL(tt_alerts_feed_add(f, s, deltas), 0);
	tt_counters_reset(s);
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0 + 10, record, &seen), 0);
	CU_ASSERT_EQUAL(judged(a, TT_ALERTS_RES_MINUTE), 10);
	/* the hour once its last minute is complete */
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0 + 59, record, &seen), 0);
	CU_ASSERT_EQUAL(judged(a, TT_ALERTS_RES_HOUR), 0);
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0 + 60, record, &seen), 0);
	CU_ASSERT_EQUAL(judged(a, TT_ALERTS_RES_MINUTE), 60);
	CU_ASSERT_EQUAL(judged(a, TT_ALERTS_RES_HOUR), 1);
	/* the clock going back judges nothing again */
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0 + 30, record, &seen), 0);
	CU_ASSERT_EQUAL(judged(a, TT_ALERTS_RES_MINUTE), 60);
	tt_alerts_feed_free(f);
	tt_alerts_free(a);
	tt_counters_free(s);
}

/* More than a day without a packet is an outage: skipped, not judged silent. */
static void
test_outage_skipped(void)
{
	struct tt_alerts *a = detectors();
	struct tt_alerts_feed *f = tt_alerts_feed_create(a, 2);
	struct tt_shard *s = worker_shard();
	struct seen seen = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	add(s, M0, 0, 5);
	add(s, M0 + 3 * 1440, 0, 5);
	CU_ASSERT_EQUAL(tt_alerts_feed_add(f, s, deltas), 0);
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0 + 3 * 1440 + 2, record, &seen), 0);
	/* the first minute, then from the next data on: 1 + 2, not three days */
	CU_ASSERT_EQUAL(judged(a, TT_ALERTS_RES_MINUTE), 3);
	tt_alerts_feed_free(f);
	tt_alerts_free(a);
	tt_counters_free(s);
}

/* A DoS victim alerts once, stamped with the minute it passed the rule. */
static void
test_victim(void)
{
	struct tt_sources_conf sc = { .entries = 64, .mirai_min_ports = 2, .horizon = 604800 };
	struct tt_sources_table *t = tt_sources_table_create(&sc);
	struct tt_alerts *a = detectors();
	struct tt_alerts_feed *f = tt_alerts_feed_create(a, 2);
	struct tt_shard *s = worker_shard();
	static const uint8_t victim[4] = { 198, 51, 100, 9 };
	struct seen seen = { 0 };
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (i = 0; i < 120; i++) {
		struct tt_sources_pkt p = {
			.addr = victim, .family = 4, .klass = TT_CLASS_BACKSCATTER, .sport = 443,
			.dport = (uint16_t)(40000 + i), .svc = TT_SVC(TT_SVC_TCP, 40000 + i),
			.sec = M0 * 60 + 30 + i,
		};

		tt_sources_update(t, deltas, &p);
	}
	/* its packets are counted too */
	add(s, M0, 0, 30);
	add(s, M0 + 1, 0, 60);
	add(s, M0 + 2, 0, 30);
	CU_ASSERT_EQUAL(tt_alerts_feed_add(f, s, deltas), 0);
	tt_counters_reset(s);
	/* held until its minute is judged: after that minute's own alerts */
	CU_ASSERT_EQUAL(seen.n, 0);
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0 + 1, record, &seen), 0);
	CU_ASSERT_EQUAL(seen.n, 0);
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0 + 2, record, &seen), 0);
	CU_ASSERT_EQUAL(seen.n, 1);
	CU_ASSERT_EQUAL(seen.last.kind, TT_ALERTS_DOS_VICTIM);
	CU_ASSERT_STRING_EQUAL(seen.last.subject_name, "198.51.100.9");
	/* first packet at :30, the rule passed 60 s later: the next minute */
	CU_ASSERT_EQUAL(seen.last.ts, (uint64_t)(M0 + 1) * 60);
	/* the same victim in the next interval: not again the same day */
	CU_ASSERT_EQUAL(tt_alerts_feed_add(f, s, deltas), 0);
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f, M0 + 3, record, &seen), 0);
	CU_ASSERT_EQUAL(seen.n, 1);
	tt_alerts_feed_free(f);
	tt_alerts_free(a);
	tt_counters_free(s);
	tt_sources_table_free(t);
}

/* The alerts of a run, in the order they came, one line each. */
struct order {
	unsigned int n;
	char line[64][96];
};

static int
keep_order(void *ctx, const struct tt_alert *al)
{
	struct order *o = ctx;

	if (o->n < 64)
		snprintf(o->line[o->n], sizeof(o->line[0]), "%s %s %s %s %" PRIu64,
			tt_alerts_kind_name(al->kind), al->res == TT_ALERTS_RES_HOUR ? "h" : "m",
			al->scope_name, al->subject_name, al->ts);
	o->n++;
	return 0;
}

enum { ORDER_HOURS = 7 };

/* minute @p m's packets: a steady 23/TCP, a 445/TCP surge through hour 4, a 8080/TCP one in hour 5 */
static void
order_minute(struct tt_shard *s, uint32_t m)
{
	uint32_t h = (m - M0) / 60;

	add(s, m, 0, 10);
	add(s, m, 1, 10);
	if (h == 4)
		add_port(s, m, 0, 445, 300);
	if (h == 5 && (m - M0) % 60 >= 20)
		add_port(s, m, 1, 8080, 300);
}

/*
 * One replay, its shards cut two ways: a minute a collection, as a live
 * appliance (or a fast host) sees it, and the whole run in one collection,
 * as a slow host or one back from a Redis outage does. The alerts, a DoS
 * victim's among them, come in the same order: minutes, then their hour,
 * and the victim after its minute.
 */
static void
test_order_whatever_the_collections(void)
{
	struct tt_sources_conf sc = { .entries = 64, .mirai_min_ports = 2, .horizon = 604800 };
	struct tt_sources_table *t = tt_sources_table_create(&sc);
	struct tt_sources_deltas *none = tt_sources_deltas_create(64, false);
	struct tt_sources_deltas *vd = tt_sources_deltas_create(64, false);
	struct tt_shard *s = tt_counters_create(&(struct tt_counters_conf){ .port_cells = 4096,
		.country_cells = 4096, .hll_cells = 4096, .hll_sparse = 64, .hll_dense = 8 });
	static const uint8_t victim[4] = { 198, 51, 100, 9 };
	/* the victim passes the rule in minute 4:31 */
	const uint32_t vmin = M0 + 4 * 60 + 31, last = M0 + ORDER_HOURS * 60;
	static struct order fine, coarse;
	struct tt_alerts *a1 = detectors(), *a2 = detectors();
	struct tt_alerts_feed *f1 = tt_alerts_feed_create(a1, 2), *f2 = tt_alerts_feed_create(a2, 2);
	unsigned int i, hour_alerts = 0, victims = 0;
	uint32_t m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(none);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f2);
	for (i = 0; i < 120; i++) {
		struct tt_sources_pkt p = {
			.addr = victim, .family = 4, .klass = TT_CLASS_BACKSCATTER, .sport = 443,
			.dport = (uint16_t)(40000 + i), .svc = TT_SVC(TT_SVC_TCP, 40000 + i),
			.sec = (vmin - 1) * 60 + 30 + i,
		};

		tt_sources_update(t, vd, &p);
	}
	/* a minute a collection, judged up to the minute before, as live */
	for (m = M0; m < last; m++) {
		tt_counters_reset(s);
		order_minute(s, m);
		CU_ASSERT_EQUAL(tt_alerts_feed_add(f1, s, m == vmin + 1 ? vd : none), 0);
		CU_ASSERT_EQUAL(tt_alerts_feed_advance(f1, m, keep_order, &fine), 0);
	}
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f1, last + 1, keep_order, &fine), 0);
	/* the whole run in one collection */
	tt_counters_reset(s);
	for (m = M0; m < last; m++)
		order_minute(s, m);
	CU_ASSERT_EQUAL(tt_alerts_feed_add(f2, s, vd), 0);
	CU_ASSERT_EQUAL(tt_alerts_feed_advance(f2, last + 1, keep_order, &coarse), 0);

	CU_ASSERT_TRUE(fine.n >= 4 && fine.n <= 64);
	CU_ASSERT_EQUAL(fine.n, coarse.n);
	for (i = 0; i < fine.n && i < coarse.n && i < 64; i++) {
		if (strcmp(fine.line[i], coarse.line[i]) != 0)
			printf("\n  alert %u: one minute a collection '%s', one collection '%s'", i,
				fine.line[i], coarse.line[i]);
		CU_ASSERT_STRING_EQUAL(fine.line[i], coarse.line[i]);
		hour_alerts += strstr(fine.line[i], " h ") != NULL;
		victims += strncmp(fine.line[i], "dos_victim", 10) == 0;
	}
	/* the run has what makes the order: hour alerts beside minute ones, a victim */
	CU_ASSERT_TRUE(hour_alerts > 0 && hour_alerts < fine.n);
	CU_ASSERT_EQUAL(victims, 1);
	tt_alerts_feed_free(f1);
	tt_alerts_feed_free(f2);
	tt_alerts_free(a1);
	tt_alerts_free(a2);
	tt_counters_free(s);
	tt_sources_deltas_free(none);
	tt_sources_deltas_free(vd);
	tt_sources_table_free(t);
}

static int
deltas_init(void)
{
	deltas = tt_sources_deltas_create(64, false);
	return deltas == NULL;
}

static int
deltas_fini(void)
{
	tt_sources_deltas_free(deltas);
	return 0;
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "free NULL", test_create_invalid },
		{ "buckets judged once, in order, when complete", test_buckets_in_order },
		{ "a gap of days is an outage", test_outage_skipped },
		{ "a DoS victim at the minute it passed the rule", test_victim },
		{ "the same order however the collections cut the run",
			test_order_whatever_the_collections },
		{ NULL, NULL },
	};

	return run_suite("alerts_feed", tests, deltas_init, deltas_fini);
}
