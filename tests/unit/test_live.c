/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The live view: which hour is current, the previous hour with its late
 * cells, the day, the run, the per-second rates and the sensor rows; read
 * as a reader on another thread does, through copies (the same scope view
 * the summary uses, tt_scope_build()).
 */
#include <errno.h>
#include <string.h>

#include "cunit_main.h"
#include "tt_live.h"
#include "tt_scope.h"

enum {
	HZ = 1000000,                  /* a TSC of 1 MHz keeps the rates readable */
	MIN_0 = 28198080,              /* 2023-08-13T00:00Z, a day's first minute */
	TCP23 = TT_SVC(TT_SVC_TCP, 23),
	TCP22 = TT_SVC(TT_SVC_TCP, 22),
	UDP53 = TT_SVC(TT_SVC_UDP, 53),
};

static struct tt_shard *
worker_shard(void)
{
	return tt_counters_create(&(struct tt_counters_conf){ .port_cells = 256,
		.country_cells = 64, .hll_cells = 64, .hll_sparse = 64, .hll_dense = 4 });
}

static void
add(struct tt_shard *s, uint32_t minute, uint16_t sensor, uint32_t svc, uint32_t n)
{
	struct tt_count_pkt p = { .minute = minute, .sensor = sensor, .svc = svc,
		.bytes = 60, .hll_index = (uint16_t)(svc & 0x3fff), .hll_rank = 2 };

	while (n-- > 0)
		tt_counters_add(s, &p);
}

static struct tt_live *
live_create(void)
{
	return tt_live_create(&(struct tt_live_conf){ .n_sensors = 2, .n_workers = 2,
		.tsc_hz = HZ });
}

/* Packets of @p svc in @p sensor's view of one bucket; 0 when absent. */
static uint64_t
pkts_of(const struct tt_merged *s, uint16_t sensor, uint32_t minute, uint32_t svc)
{
	struct tt_scope v;
	uint64_t n = 0;
	uint32_t i;

	CU_ASSERT_EQUAL_FATAL(tt_scope_build(&v, s, sensor, minute), 0);
	for (i = 0; i < v.n_port[TT_PORT_COL_PKTS]; i++)
		if (v.port[TT_PORT_COL_PKTS][i].item == svc)
			n = v.port[TT_PORT_COL_PKTS][i].count;
	tt_scope_free(&v);
	return n;
}

/* Packets of @p svc in @p sensor's scope of one view, and the view's first minute. */
static uint64_t
view_pkts(struct tt_live *l, enum tt_live_view view, uint16_t sensor, uint32_t svc,
		uint32_t *first_minute)
{
	struct tt_scope v[TT_LIVE_VIEWS];
	uint32_t first[TT_LIVE_VIEWS];
	uint64_t n = 0;
	uint32_t i;

	CU_ASSERT_EQUAL_FATAL(tt_live_scopes(l, sensor, TT_LIVE_VIEW_BIT(view), v, first), 0);
	for (i = 0; i < v[view].n_port[TT_PORT_COL_PKTS]; i++)
		if (v[view].port[TT_PORT_COL_PKTS][i].item == svc)
			n = v[view].port[TT_PORT_COL_PKTS][i].count;
	if (first_minute != NULL)
		*first_minute = first[view];
	for (i = 0; i < TT_LIVE_VIEWS; i++)
		tt_scope_free(&v[i]);
	return n;
}

/* A sensor's row of tt_live_sensors(), with every row detailed. */
static struct tt_live_sensor
sensor_row(struct tt_live *l, uint32_t sensor)
{
	struct tt_live_sensor rows[2], none = { .sensor = UINT32_MAX };
	uint32_t i;

	CU_ASSERT_EQUAL_FATAL(tt_live_sensors(l, rows, 2), 0);
	for (i = 0; i < 2; i++)
		if (rows[i].sensor == sensor)
			return rows[i];
	return none;
}

static void
test_create_invalid(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(tt_live_create(&(struct tt_live_conf){ .n_sensors = 1,
		.n_workers = 0, .tsc_hz = HZ }));
	CU_ASSERT_EQUAL(errno, EINVAL);
	tt_live_free(NULL);
}

static void
test_empty_view(void)
{
	struct tt_live *l = live_create();
	struct tt_scope v[TT_LIVE_VIEWS];
	uint32_t m[TT_LIVE_VIEWS] = { 1, 1, 1, 1 }, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_EQUAL_FATAL(tt_live_scopes(l, TT_SCOPE_ALL, TT_LIVE_VIEW_BIT(TT_LIVE_HOUR) |
		TT_LIVE_VIEW_BIT(TT_LIVE_PREV_HOUR) | TT_LIVE_VIEW_BIT(TT_LIVE_DAY) |
		TT_LIVE_VIEW_BIT(TT_LIVE_RUN), v, m), 0);
	for (i = 0; i < TT_LIVE_VIEWS; i++) {
		CU_ASSERT_EQUAL(m[i], 0);
		CU_ASSERT_EQUAL(v[i].totals[TT_T_PKTS], 0);
		CU_ASSERT_EQUAL(v[i].n_port[TT_PORT_COL_PKTS], 0);
		tt_scope_free(&v[i]);
	}
	CU_ASSERT_EQUAL(sensor_row(l, 0).pkts, 0);
	CU_ASSERT_EQUAL(sensor_row(l, 0).top_pkts, 0);
	tt_live_free(l);
}

/* The hour follows the packets; the old one becomes the previous hour. */
static void
test_hour_rolls_with_packets(void)
{
	struct tt_live *l = live_create();
	struct tt_shard *w = worker_shard();
	uint32_t hm, pm, dm;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	add(w, MIN_0 + 5, 0, TCP23, 7);
	add(w, MIN_0 + 59, 1, TCP22, 3);
	CU_ASSERT_EQUAL(tt_live_add(l, w, 0), 0);
	tt_counters_reset(w);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_HOUR, TT_SCOPE_ALL, TCP23, &hm), 7);
	CU_ASSERT_EQUAL(hm, MIN_0);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_HOUR, 1, TCP22, NULL), 3);

	/* The next interval crosses into the second hour. */
	add(w, MIN_0 + 59, 0, TCP23, 2);       /* late for the first hour */
	add(w, MIN_0 + 60, 0, UDP53, 4);
	CU_ASSERT_EQUAL(tt_live_add(l, w, 0), 0);
	tt_counters_reset(w);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_HOUR, TT_SCOPE_ALL, UDP53, &hm), 4);
	CU_ASSERT_EQUAL(hm, MIN_0 + 60);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_HOUR, TT_SCOPE_ALL, TCP23, NULL), 0);
	/* The previous hour has the late cells as well as its own. */
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_PREV_HOUR, TT_SCOPE_ALL, TCP23, &pm), 9);
	CU_ASSERT_EQUAL(pm, MIN_0);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_PREV_HOUR, 0, TCP23, NULL), 9);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_PREV_HOUR, TT_SCOPE_ALL, UDP53, NULL), 0);
	/* The day and the run have everything. */
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_DAY, TT_SCOPE_ALL, TCP23, &dm), 9);
	CU_ASSERT_EQUAL(dm, MIN_0);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_RUN, TT_SCOPE_ALL, UDP53, NULL), 4);
	CU_ASSERT_EQUAL(pkts_of(tt_live_run(l), TT_SCOPE_ALL, 0, UDP53), 4);
	CU_ASSERT_EQUAL(sensor_row(l, 0).pkts, 7 + 2 + 4);
	CU_ASSERT_EQUAL(sensor_row(l, 1).pkts, 3);

	/* A jump of hours leaves no stale previous hour behind. */
	add(w, MIN_0 + 300, 0, TCP22, 1);
	CU_ASSERT_EQUAL(tt_live_add(l, w, 0), 0);
	tt_counters_reset(w);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_PREV_HOUR, TT_SCOPE_ALL, TCP23, &pm), 0);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_HOUR, TT_SCOPE_ALL, TCP22, &hm), 1);
	CU_ASSERT_EQUAL(hm, MIN_0 + 300);
	CU_ASSERT_EQUAL(pm, MIN_0 + 240);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_PREV_HOUR, TT_SCOPE_ALL, UDP53, NULL), 0);

	/* The next day starts an empty day view. */
	add(w, MIN_0 + 1440 + 1, 1, TCP23, 5);
	CU_ASSERT_EQUAL(tt_live_add(l, w, 0), 0);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_DAY, TT_SCOPE_ALL, TCP23, &dm), 5);
	CU_ASSERT_EQUAL(dm, MIN_0 + 1440);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_RUN, TT_SCOPE_ALL, TCP23, NULL), 14);
	tt_counters_free(w);
	tt_live_free(l);
}

/* Under the wall clock a quiet hour is current, and empty. */
static void
test_wall_clock_moves_the_hour(void)
{
	struct tt_live *l = live_create();
	struct tt_shard *w = worker_shard();
	struct tt_shard *empty = worker_shard();
	uint32_t hm, pm;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	add(w, MIN_0 + 10, 0, TCP23, 1);
	CU_ASSERT_EQUAL(tt_live_add(l, w, MIN_0 + 10), 0);
	CU_ASSERT_EQUAL(tt_live_add(l, empty, MIN_0 + 61), 0);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_HOUR, TT_SCOPE_ALL, TCP23, &hm), 0);
	CU_ASSERT_EQUAL(view_pkts(l, TT_LIVE_PREV_HOUR, TT_SCOPE_ALL, TCP23, &pm), 1);
	CU_ASSERT_EQUAL(hm, MIN_0 + 60);
	CU_ASSERT_EQUAL(pm, MIN_0);
	tt_counters_free(w);
	tt_counters_free(empty);
	tt_live_free(l);
}

static void
test_rates(void)
{
	struct tt_live *l = live_create();
	struct tt_shard *w = worker_shard();
	uint64_t rx[2] = { 1000, 0 }, busy[2] = { 100000, 0 };
	struct tt_live_rate r[3];

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	tt_live_sample(l, 5 * HZ, rx, busy);
	tt_live_worker_rates(l, 0, 1, r);
	CU_ASSERT_EQUAL(r[0].pps, 0);          /* no interval yet */
	add(w, MIN_0, 1, TCP23, 500);
	CU_ASSERT_EQUAL(tt_live_add(l, w, 0), 0);
	rx[0] = 3000;                          /* 2000 packets in half a second */
	busy[0] = 100000 + 250000;             /* a quarter of a second busy */
	rx[1] = 10;
	busy[1] = 2 * HZ;                      /* more than the interval: capped */
	tt_live_sample(l, 5 * HZ + HZ / 2, rx, busy);
	tt_live_worker_rates(l, 0, 3, r);
	CU_ASSERT_EQUAL(r[0].pps, 4000);
	CU_ASSERT_EQUAL(r[0].busy_permille, 500);
	CU_ASSERT_EQUAL(r[0].cycles_per_packet, 125);
	CU_ASSERT_EQUAL(r[1].busy_permille, 1000);
	CU_ASSERT_EQUAL(r[2].pps, 0);          /* past the last worker */
	tt_live_worker_rates(l, 1, 1, r);
	CU_ASSERT_EQUAL(r[0].busy_permille, 1000);
	CU_ASSERT_EQUAL(sensor_row(l, 1).pps, 1000);
	CU_ASSERT_EQUAL(sensor_row(l, 0).pps, 0);
	tt_counters_free(w);
	tt_live_free(l);
}

/*
 * Sensor rows: busiest first, the lower index among equals; the hour's top
 * service (the lower key among equals) and the day's sources on the
 * detailed rows only.
 */
static void
test_sensor_rows(void)
{
	struct tt_live *l = tt_live_create(&(struct tt_live_conf){ .n_sensors = 3,
		.n_workers = 1, .tsc_hz = HZ });
	struct tt_shard *w = worker_shard();
	struct tt_live_sensor rows[3];
	struct tt_count_pkt p = { .minute = MIN_0 + 61, .sensor = 2, .svc = TCP23, .bytes = 60 };
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	add(w, MIN_0 + 1, 1, UDP53, 9);        /* the previous hour: not the top one */
	add(w, MIN_0 + 61, 1, TCP22, 2);
	add(w, MIN_0 + 61, 1, TCP23, 2);       /* a tie: tcp/22 has the lower key */
	add(w, MIN_0 + 62, 0, UDP53, 1);
	for (i = 0; i < 13; i++) {             /* 13 sources at sensor 2 */
		p.hll_index = (uint16_t)(i * 97);
		p.hll_rank = 1;
		tt_counters_add(w, &p);
	}
	CU_ASSERT_EQUAL_FATAL(tt_live_add(l, w, 0), 0);
	CU_ASSERT_EQUAL_FATAL(tt_live_sensors(l, rows, 2), 0);
	CU_ASSERT_EQUAL(rows[0].sensor, 1);
	CU_ASSERT_EQUAL(rows[0].pkts, 13);
	CU_ASSERT_EQUAL(rows[0].top_svc, TCP22);
	CU_ASSERT_EQUAL(rows[0].top_pkts, 2);
	CU_ASSERT_EQUAL(rows[1].sensor, 2);
	CU_ASSERT_EQUAL(rows[1].pkts, 13);
	CU_ASSERT_EQUAL(rows[1].top_svc, TCP23);
	CU_ASSERT_EQUAL(rows[1].top_pkts, 13);
	CU_ASSERT_EQUAL(rows[1].srcs_today, 13);
	CU_ASSERT_EQUAL(rows[2].sensor, 0);
	CU_ASSERT_EQUAL(rows[2].pkts, 1);
	CU_ASSERT_EQUAL(rows[2].top_pkts, 0);  /* not detailed */
	CU_ASSERT_EQUAL(rows[2].srcs_today, 0);
	CU_ASSERT_EQUAL_FATAL(tt_live_sensors(l, rows, 3), 0);
	CU_ASSERT_EQUAL(rows[2].top_svc, UDP53);
	CU_ASSERT_EQUAL(rows[2].top_pkts, 1);
	tt_counters_free(w);
	tt_live_free(l);
}

static void
assert_same_members(const struct tt_scope_member *a, uint32_t na, const struct tt_scope_member *b,
		uint32_t nb)
{
	uint32_t i;

	CU_ASSERT_EQUAL_FATAL(na, nb);
	for (i = 0; i < na; i++) {
		CU_ASSERT_EQUAL(a[i].item, b[i].item);
		CU_ASSERT_EQUAL(a[i].count, b[i].count);
	}
}

/* The same figures in two scopes. */
static void
assert_same_scope(const struct tt_scope *a, const struct tt_scope *b)
{
	uint32_t m, var;

	CU_ASSERT_EQUAL(memcmp(a->totals, b->totals, sizeof(a->totals)), 0);
	CU_ASSERT_EQUAL(memcmp(a->srcs, b->srcs, sizeof(a->srcs)), 0);
	for (m = 0; m < TT_PORT_COLS; m++)
		assert_same_members(a->port[m], a->n_port[m], b->port[m], b->n_port[m]);
	for (m = 0; m < TT_COUNTRY_COLS; m++)
		assert_same_members(a->country[m], a->n_country[m], b->country[m],
			b->n_country[m]);
	for (var = 0; var < TT_HLL_VARIANTS; var++)
		assert_same_members(a->srcs_svc[var], a->n_srcs_svc, b->srcs_svc[var],
			b->n_srcs_svc);
}

/* The summary builds every scope through an index: the same scopes as one pass each. */
static void
test_scope_index_matches_scan(void)
{
	enum { SENSORS = 5 };
	struct tt_shard *w = worker_shard();
	struct tt_merged *run = tt_counters_merged_create(16);
	struct tt_scope_index *x;
	uint32_t i, s, minute, checked = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	for (i = 0; i < 3000; i++) {
		struct tt_count_pkt p = {
			.minute = MIN_0 + i % 7, .sensor = (uint16_t)((i * 7) % (SENSORS - 1)),
			.svc = i % 5 == 0 ? TCP23 : TT_SVC(TT_SVC_UDP, 1000 + i % 13),
			.bytes = 40 + i % 100, .country = (uint16_t)(i % 11), .home = i % 4 == 0,
			.klass = i % 3 == 0 ? TT_CLASS_MIRAI : TT_CLASS_OTHER,
			.hll_index = (uint16_t)(i * 2654435761u % 16384), .hll_rank = 1 + i % 5,
		};

		p.watched = p.svc == TCP23;
		tt_counters_add(w, &p);
	}
	CU_ASSERT_EQUAL_FATAL(tt_counters_merge(run, w, 1, true), 0);
	x = tt_scope_index_create(run, SENSORS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	for (s = 0; s <= SENSORS; s++) {
		uint16_t sensor = s == SENSORS ? TT_SCOPE_ALL : (uint16_t)s;

		for (minute = MIN_0 - 1; minute <= MIN_0 + 7; minute++) {
			uint32_t want = minute == MIN_0 - 1 ? TT_SCOPE_ANY_MINUTE : minute;
			struct tt_scope a, b;

			CU_ASSERT_EQUAL_FATAL(tt_scope_build(&a, run, sensor, want), 0);
			CU_ASSERT_EQUAL_FATAL(tt_scope_build_indexed(&b, run, x, sensor, want), 0);
			assert_same_scope(&a, &b);
			checked += a.totals[TT_T_PKTS] != 0;
			tt_scope_free(&a);
			tt_scope_free(&b);
		}
	}
	/* sensors 0..3 and all, every minute and the run; sensor 4 saw nothing */
	CU_ASSERT_EQUAL(checked, (SENSORS - 1 + 1) * 8);
	{
		struct tt_scope v;

		CU_ASSERT_EQUAL(tt_scope_build_indexed(&v, run, x, SENSORS, TT_SCOPE_ANY_MINUTE),
			-EINVAL);
	}
	tt_scope_index_free(x);
	tt_scope_index_free(NULL);
	tt_counters_merged_free(run);
	tt_counters_free(w);
}

/* Every view of @p sensor in @p a and @p b: the same figures and the same first minutes. */
static void
assert_same_views(struct tt_live *a, struct tt_live *b, uint16_t sensor)
{
	unsigned int all = TT_LIVE_VIEW_BIT(TT_LIVE_HOUR) | TT_LIVE_VIEW_BIT(TT_LIVE_DAY) |
		TT_LIVE_VIEW_BIT(TT_LIVE_RUN) | TT_LIVE_VIEW_BIT(TT_LIVE_PREV_HOUR);
	struct tt_scope va[TT_LIVE_VIEWS], vb[TT_LIVE_VIEWS];
	uint32_t fa[TT_LIVE_VIEWS], fb[TT_LIVE_VIEWS], v;

	CU_ASSERT_EQUAL_FATAL(tt_live_scopes(a, sensor, all, va, fa), 0);
	CU_ASSERT_EQUAL_FATAL(tt_live_scopes(b, sensor, all, vb, fb), 0);
	for (v = 0; v < TT_LIVE_VIEWS; v++) {
		CU_ASSERT_EQUAL(fa[v], fb[v]);
		assert_same_scope(&va[v], &vb[v]);
		tt_scope_free(&va[v]);
		tt_scope_free(&vb[v]);
	}
}

/*
 * A shard is merged once and folded into the views later (live.c): the
 * views read the same whether they are read after every shard, which
 * folds each one, or only now and then, with shards across minutes, late
 * cells, the hour's and the day's turns and a quiet wall-clock hour
 * folded together. Each shard: up to three minutes just behind its
 * newest, sources spread so the registers go past sparse.
 */
static void
test_folds_read_the_same(void)
{
	/* each shard's newest minute, from MIN_0; 0 and the wall clock: see below */
	static const uint32_t newest[] = {
		0, 0, 1, 1, 1, 2, 30, 59, 59, 60, 60, 61, 119, 121, 300, 301, 1439, 1440,
		1441, 1441, 1500, 1500, 1501,
	};
	struct tt_live *each = live_create(), *seldom = live_create();
	struct tt_shard *w = worker_shard();
	uint32_t i, j, reads = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(each);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seldom);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	for (i = 0; i < sizeof(newest) / sizeof(newest[0]); i++) {
		/* a quiet shard under the wall clock, an hour on: the hour turns empty */
		uint32_t now = i == 14 ? MIN_0 + newest[i] + 60 : 0;

		for (j = 0; j < 600; j++) {
			uint32_t back = j % 7 == 0 ? 2 : j % 3 == 0 ? 1 : 0;
			struct tt_count_pkt p = {
				.minute = MIN_0 + (newest[i] >= back ? newest[i] - back : 0),
				.sensor = (uint16_t)((i + j) % 2),
				.svc = j % 4 == 0 ? TCP23 : j % 4 == 1 ? TCP22 : UDP53,
				.bytes = 40 + j % 50, .country = (uint16_t)((i * 3 + j) % 9),
				.home = j % 5 == 0, .klass = j % 6 == 0 ? TT_CLASS_MIRAI : TT_CLASS_OTHER,
				.hll_index = (uint16_t)((i * 7919u + j) * 2654435761u % 16384),
				.hll_rank = 1 + (i + j) % 6,
			};

			p.watched = p.svc == TCP23;
			if (i != 14)
				tt_counters_add(w, &p);
		}
		CU_ASSERT_EQUAL_FATAL(tt_live_add(each, w, now), 0);
		CU_ASSERT_EQUAL_FATAL(tt_live_add(seldom, w, now), 0);
		tt_counters_reset(w);
		/* `each` is read after every shard; both are compared every fourth */
		assert_same_views(each, each, 0);
		if (i % 4 == 3) {
			assert_same_views(each, seldom, 0);
			assert_same_views(each, seldom, 1);
			assert_same_views(each, seldom, TT_SCOPE_ALL);
			reads++;
		}
	}
	CU_ASSERT_EQUAL_FATAL(tt_live_fold(seldom), 0);
	CU_ASSERT_EQUAL(pkts_of(tt_live_run(seldom), TT_SCOPE_ALL, 0, TCP23),
		pkts_of(tt_live_run(each), TT_SCOPE_ALL, 0, TCP23));
	CU_ASSERT_EQUAL(sensor_row(each, 1).srcs_today, sensor_row(seldom, 1).srcs_today);
	CU_ASSERT_EQUAL(sensor_row(each, 1).top_pkts, sensor_row(seldom, 1).top_pkts);
	assert_same_views(each, seldom, TT_SCOPE_ALL);
	CU_ASSERT_EQUAL(reads, 5);
	/* the views' scopes, through their cached indexes, are a pass over the run's cells */
	for (i = 0; i < 3; i++) {
		uint16_t sensor = i == 2 ? TT_SCOPE_ALL : (uint16_t)i;
		struct tt_scope v[TT_LIVE_VIEWS], scan;
		uint32_t first[TT_LIVE_VIEWS];

		CU_ASSERT_EQUAL_FATAL(tt_live_scopes(seldom, sensor, TT_LIVE_VIEW_BIT(TT_LIVE_RUN),
			v, first), 0);
		CU_ASSERT_EQUAL_FATAL(tt_scope_build(&scan, tt_live_run(seldom), sensor,
			TT_SCOPE_ANY_MINUTE), 0);
		CU_ASSERT(scan.totals[TT_T_PKTS] > 0);
		assert_same_scope(&v[TT_LIVE_RUN], &scan);
		for (j = 0; j < TT_LIVE_VIEWS; j++)
			tt_scope_free(&v[j]);
		tt_scope_free(&scan);
	}
	tt_counters_free(w);
	tt_live_free(each);
	tt_live_free(seldom);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "invalid configuration", test_create_invalid },
		{ "an empty view", test_empty_view },
		{ "the hour rolls with the packets; late cells reach the previous hour",
			test_hour_rolls_with_packets },
		{ "the wall clock moves the hour", test_wall_clock_moves_the_hour },
		{ "worker and sensor rates", test_rates },
		{ "sensor rows: busiest first, the hour's top service, the day's sources",
			test_sensor_rows },
		{ "scopes through an index match a pass per scope", test_scope_index_matches_scan },
		{ "views read the same folded after every shard or now and then",
			test_folds_read_the_same },
		{ NULL, NULL },
	};

	return run_suite("live", tests, NULL, NULL);
}
