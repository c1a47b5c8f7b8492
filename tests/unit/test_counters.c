/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Counter shards: cells, fixed capacity with counted overflow, merge.
 */
#include <errno.h>
#include <string.h>

#include "counters_internal.h"
#include "counters_rows.h"
#include "cunit_main.h"
#include "tt_counters.h"

static struct tt_shard *
worker_shard(uint32_t port_cells, uint32_t country_cells)
{
	struct tt_counters_conf c = {
		.port_cells = port_cells, .country_cells = country_cells, .hll_cells = 64,
		.hll_sparse = 64, .hll_dense = 4,
	};

	return tt_counters_create(&c);
}

static struct tt_counters_losses
losses(const struct tt_merged *m)
{
	struct tt_counters_losses l;

	tt_counters_merged_losses(m, &l);
	return l;
}

static struct tt_merged *
merged_shard(uint32_t n)
{
	return tt_counters_merged_create(n);
}

static void
add(struct tt_shard *s, uint32_t minute, uint16_t sensor, uint32_t svc, uint16_t country,
		bool home, bool v6, bool malformed, unsigned int klass, uint32_t bytes)
{
	struct tt_count_pkt p = {
		.minute = minute, .sensor = sensor, .svc = svc, .country = country,
		.home = home, .v6 = v6, .malformed = malformed, .klass = (uint8_t)klass,
		.bytes = bytes, .hll_index = 1, .hll_rank = 1,
	};

	tt_counters_add(s, &p);
}

static uint64_t
sum_column(struct table t, unsigned int col, uint16_t sensor)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < cells(t); i++)
		if (key(t, i).sensor == sensor)
			sum += values(t, i)[col];
	return sum;
}

static void
test_create_invalid(void)
{
	errno = 0;
	CU_ASSERT_PTR_NULL(worker_shard(1000, 1024));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(worker_shard(1024, 8));
	CU_ASSERT_PTR_NULL(merged_shard(0));
	tt_counters_free(NULL);
	tt_counters_merged_free(NULL);
}

static void
test_add_and_read(void)
{
	struct tt_shard *s = worker_shard(1024, 1024);
	struct tt_merged *m = merged_shard(16);
	struct table pt, ct;
	const uint64_t *v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	add(s, 100, 0, TT_SVC(TT_SVC_TCP, 23), 5, true, false, false,
		TT_CLASS_MIRAI, 60);
	add(s, 100, 0, TT_SVC(TT_SVC_TCP, 23), 6, false, true, true,
		TT_CLASS_OTHER, 74);
	add(s, 101, 0, TT_SVC(TT_SVC_TCP, 23), 6, false, false, false,
		TT_CLASS_NMAP, 60);
	pt = port_table(s);
	CU_ASSERT_EQUAL(tt_counters_merge(m, s, 1, false), 0);
	ct = country_table(m);                    /* a worker shard's, through a merge */
	CU_ASSERT_EQUAL(cells(country_table(s)), 0);
	CU_ASSERT_EQUAL_FATAL(cells(pt), 2);      /* minutes 100 and 101 */
	v = values(pt, 0);
	CU_ASSERT_EQUAL(key(pt, 0).minute, 100);
	CU_ASSERT_EQUAL(v[TT_PORT_COL_PKTS], 2);
	CU_ASSERT_EQUAL(v[TT_PORT_COL_BYTES], 134);
	CU_ASSERT_EQUAL(v[TT_PORT_COL_HOME], 1);
	CU_ASSERT_EQUAL(v[TT_PORT_COL_V6], 1);
	CU_ASSERT_EQUAL(v[TT_PORT_COL_MALFORMED], 1);
	CU_ASSERT_EQUAL(v[TT_PORT_COL_HOME_MIRAI], 1);
	CU_ASSERT_EQUAL(v[tt_schema_class_col(TT_CLASS_MIRAI)], 1);
	CU_ASSERT_EQUAL(v[tt_schema_class_col(TT_CLASS_NMAP)], 0);
	CU_ASSERT_EQUAL(values(pt, 1)[tt_schema_class_col(TT_CLASS_NMAP)], 1);
	CU_ASSERT_EQUAL(cells(ct), 3);
	CU_ASSERT_EQUAL(sum_column(ct, TT_COUNTRY_COL_MIRAI, 0), 1);
	tt_counters_reset(s);
	tt_counters_merged_reset(m);
	CU_ASSERT_EQUAL(cells(pt), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(m, s, 1, false), 0);
	CU_ASSERT_EQUAL(cells(ct), 0);
	tt_counters_free(s);
	tt_counters_merged_free(m);
}

/* A full table keeps counting under the overflow key: nothing is lost. */
static void
test_overflow_is_counted(void)
{
	struct tt_shard *s = worker_shard(16, 16);
	struct table pt;
	uint32_t i, overflow_cells = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (i = 0; i < 20; i++)
		add(s, 1, 0, TT_SVC(TT_SVC_UDP, i), 0, false, false, false,
			TT_CLASS_OTHER, 64);
	pt = port_table(s);
	CU_ASSERT_EQUAL(cells(pt), 12 + 1);        /* 3/4 of 16, plus overflow */
	CU_ASSERT_EQUAL(sum_column(pt, TT_PORT_COL_PKTS, 0), 20);
	for (i = 0; i < cells(pt); i++)
		if (key(pt, i).item == TT_SVC(TT_SVC_OVERFLOW, 0)) {
			overflow_cells++;
			CU_ASSERT_EQUAL(values(pt, i)[TT_PORT_COL_PKTS], 8);
		}
	CU_ASSERT_EQUAL(overflow_cells, 1);
	CU_ASSERT_EQUAL(tt_counters_overflowed(s), 8);
	CU_ASSERT_EQUAL(tt_counters_lost(s), 0);
	/*
	 * Overflow keys of new minutes fill the reserve, up to 7/8 of the
	 * table (14 of 16); then packets are "lost"
	 */
	for (i = 0; i < 5; i++)
		add(s, 2 + i, 0, TT_SVC(TT_SVC_UDP, 1000), 0, false, false, false,
			TT_CLASS_OTHER, 64);
	CU_ASSERT_EQUAL(cells(pt), 14);
	CU_ASSERT_EQUAL(tt_counters_overflowed(s), 8 + 1);
	CU_ASSERT_EQUAL(tt_counters_lost(s), 4);
	tt_counters_free(s);
}

static void
test_merge_collapse_and_all(void)
{
	struct tt_shard *a = worker_shard(16, 16);
	struct tt_merged *run = merged_shard(16);
	struct table pt;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	for (i = 0; i < 10; i++)
		add(a, i, (uint16_t)(i % 2), TT_SVC(TT_SVC_TCP, 23), 0, false,
			false, false, TT_CLASS_MIRAI, 60);
	CU_ASSERT_EQUAL(tt_counters_merge(run, a, 0, true), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(run, a, 0, true), 0);
	pt = port_table(run);
	CU_ASSERT_EQUAL(cells(pt), 3);             /* sensor 0, 1 and all */
	CU_ASSERT_EQUAL(sum_column(pt, TT_PORT_COL_PKTS, 0), 10);
	CU_ASSERT_EQUAL(sum_column(pt, TT_PORT_COL_PKTS, 1), 10);
	CU_ASSERT_EQUAL(sum_column(pt, TT_PORT_COL_PKTS, TT_SCOPE_ALL), 20);
	CU_ASSERT_EQUAL(sum_column(pt, tt_schema_class_col(TT_CLASS_MIRAI), TT_SCOPE_ALL), 20);
	tt_counters_free(a);
	tt_counters_merged_free(run);
}

static void
test_growable_merge_keeps_everything(void)
{
	struct tt_shard *a = worker_shard(1 << 12, 16);
	struct tt_merged *run = merged_shard(16);
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	for (i = 0; i < 3000; i++)
		add(a, 7, 0, TT_SVC(TT_SVC_TCP, i), 0, false, false, false,
			TT_CLASS_OTHER, 60);
	CU_ASSERT_EQUAL(tt_counters_merge(run, a, 1, false), 0);
	CU_ASSERT_EQUAL(cells(port_table(run)), 3000);
	CU_ASSERT_EQUAL(sum_column(port_table(run), TT_PORT_COL_BYTES, 0), 3000 * 60);
	CU_ASSERT_EQUAL(losses(run).overflowed, 0);
	CU_ASSERT(tt_counters_merged_memory(run) > 3000 * 16);
	tt_counters_free(a);
	tt_counters_merged_free(run);
}

/* The earliest bucket a merged shard holds: what a merge from a minute would leave behind. */
static void
test_merged_oldest_minute(void)
{
	struct tt_shard *a = worker_shard(16, 16);
	struct tt_merged *minutes = merged_shard(16), *hours = merged_shard(16);
	struct tt_merged *kept = merged_shard(16);

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(minutes);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hours);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kept);
	CU_ASSERT_EQUAL(tt_counters_merged_oldest_minute(minutes), UINT32_MAX);
	add(a, 129, 0, TT_SVC(TT_SVC_TCP, 23), 0, false, false, false, TT_CLASS_MIRAI, 60);
	add(a, 124, 1, TT_SVC(TT_SVC_TCP, 80), 3, false, false, false, TT_CLASS_OTHER, 60);
	CU_ASSERT_EQUAL(tt_counters_merge(minutes, a, 1, true), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(hours, a, 60, true), 0);
	CU_ASSERT_EQUAL(tt_counters_merged_oldest_minute(minutes), 124);
	CU_ASSERT_EQUAL(tt_counters_merged_oldest_minute(hours), 120);
	CU_ASSERT_EQUAL(tt_counters_merge_merged(kept, minutes, 1, false, 125), 0);
	CU_ASSERT_EQUAL(tt_counters_merged_oldest_minute(kept), 129);
	tt_counters_free(a);
	tt_counters_merged_free(minutes);
	tt_counters_merged_free(hours);
	tt_counters_merged_free(kept);
}

/* Unique sources: registers set on the worker, merged per bucket and scope. */
static void
test_unique_sources(void)
{
	/* 120 minutes x (2 sensors + 1 watched service) groups, a set per variant each */
	struct tt_counters_conf wc = {
		.port_cells = 1024, .country_cells = 1024, .hll_cells = 1024, .hll_sparse = 2048,
		.hll_dense = 64,
	};
	struct tt_shard *w = tt_counters_create(&wc);
	struct tt_merged *hours = merged_shard(16);
	struct table t;
	uint32_t i, cells_all_svc = 0, sensor0_groups = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(hours);
	for (i = 0; i < 3000; i++) {
		uint32_t src = i * 2654435761u;
		struct tt_count_pkt p = {
			.minute = 28000020 + i % 120,               /* two whole UTC hours */
			.sensor = (uint16_t)(i % 2), .svc = TT_SVC(TT_SVC_TCP, 23),
			.klass = i % 3 == 0 ? TT_CLASS_MIRAI : TT_CLASS_OTHER,
			.home = i % 5 == 0, .watched = i % 2 == 0, .bytes = 60,
		};

		tt_hll_position(&src, 4, &p.hll_index, &p.hll_rank);
		tt_counters_add(w, &p);
	}
	CU_ASSERT_EQUAL(tt_counters_hll_dropped(w), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(hours, w, 60, true), 0);
	t = hll_table(hours);
	for (i = 0; i < cells(t); i++) {
		struct tt_counters_row k = key(t, i);
		const struct tt_hll *h = hll_values(t, i);

		CU_ASSERT_EQUAL(k.minute % 60, 0);         /* keyed by the hour's first minute */
		if (k.sensor == TT_SCOPE_ALL && k.item == 0) {
			/* 3000 sources over two hours: ~1500 per hour */
			CU_ASSERT(tt_hll_estimate(&h[TT_HLL_ALL]) > 1450 &&
				tt_hll_estimate(&h[TT_HLL_ALL]) < 1550);
			CU_ASSERT(tt_hll_estimate(&h[TT_HLL_MIRAI]) > 480 &&
				tt_hll_estimate(&h[TT_HLL_MIRAI]) < 520);
			CU_ASSERT(tt_hll_estimate(&h[TT_HLL_HOME_MIRAI]) > 90 &&
				tt_hll_estimate(&h[TT_HLL_HOME_MIRAI]) < 110);
			/* one packet a source: home and not Mirai-type, 3000 / 5 * 2 / 3 */
			CU_ASSERT(tt_hll_estimate(&h[TT_HLL_HOME_NONMIRAI]) > 190 &&
				tt_hll_estimate(&h[TT_HLL_HOME_NONMIRAI]) < 210);
		}
		if (k.sensor == TT_SCOPE_ALL && k.item == TT_SVC(TT_SVC_TCP, 23)) {
			cells_all_svc++;
			/* only even i are watched, and even i all go to sensor 0 */
			CU_ASSERT(tt_hll_estimate(&h[TT_HLL_ALL]) > 720 &&
				tt_hll_estimate(&h[TT_HLL_ALL]) < 780);
		}
		if (k.sensor == 0 && k.item == 0) {
			/*
			 * Sensor 0 saw watched packets only: its worker group 0 is
			 * empty, and the merge folds the watched group into it.
			 */
			sensor0_groups++;
			CU_ASSERT(tt_hll_estimate(&h[TT_HLL_ALL]) > 720 &&
				tt_hll_estimate(&h[TT_HLL_ALL]) < 780);
		}
		if (k.sensor == 1)
			CU_ASSERT_NOT_EQUAL(k.item, TT_SVC(TT_SVC_TCP, 23));
	}
	CU_ASSERT_EQUAL(cells_all_svc, 2);
	CU_ASSERT_EQUAL(sensor0_groups, 2);
	CU_ASSERT(tt_counters_merged_memory(hours) > 4 * TT_HLL_REGISTERS);
	tt_counters_merged_reset(hours);
	CU_ASSERT_EQUAL(cells(hll_table(hours)), 0);
	tt_counters_free(w);
	tt_counters_merged_free(hours);
}

/*
 * Cells of @p a that @p b does not have with the same key and the same
 * @p cols counts (srcs tables: the same estimates), and cells of @p b that
 * @p a lacks. By key: the order cells were made in follows the order
 * packets were counted in.
 */
static uint32_t
cells_differ(struct table a, struct table b, unsigned int cols)
{
	uint32_t i, j, v, differ = cells(a) > cells(b) ? cells(a) - cells(b) : cells(b) - cells(a);

	for (i = 0; i < cells(a); i++) {
		struct tt_counters_row ra = key(a, i), rb;

		for (j = 0; j < cells(b); j++) {
			rb = key(b, j);
			if (rb.minute == ra.minute && rb.sensor == ra.sensor && rb.item == ra.item)
				break;
		}
		if (j == cells(b)) {
			differ++;
			continue;
		}
		for (v = 0; v < cols; v++)
			if (ra.counts[v] != rb.counts[v])
				break;
		if (v < cols) {
			differ++;
			continue;
		}
		for (v = 0; ra.srcs != NULL && v < TT_HLL_VARIANTS; v++)
			if (tt_hll_estimate(&ra.srcs[v]) != tt_hll_estimate(&rb.srcs[v]))
				break;
		differ += ra.srcs != NULL && v < TT_HLL_VARIANTS;
	}
	return differ;
}

/*
 * Bursts that fill small tables: runs of one to six packets of a key (a
 * port cell and an HLL group), over more keys than the tables hold, in
 * bursts of 9 in arrival order, count as a packet at a time does: the
 * cells under the overflow key, the packets counted there, those lost and
 * the HLL updates dropped for want of a group cell included.
 */
static void
test_bursts_of_repeats_fill_tables_alike(void)
{
	enum { PACKETS = 600, BURST = 9 };
	struct tt_shard *one = worker_shard(16, 16), *bursts = worker_shard(16, 16);
	struct tt_merged *run_one = merged_shard(16), *run_bursts = merged_shard(16);
	struct tt_count_pkt burst[BURST];
	uint8_t in_order[BURST];
	uint32_t i, n = 0, run = 0, svc = 0, minute = 29000000, src;

	CU_ASSERT_PTR_NOT_NULL_FATAL(one);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bursts);
	for (i = 0; i < BURST; i++)
		in_order[i] = (uint8_t)i;
	for (i = 0; i < PACKETS; i++) {
		struct tt_count_pkt p = {
			.sensor = (uint16_t)(svc % 3), .country = (uint16_t)(i % 5),
			.klass = svc % 2 ? TT_CLASS_MIRAI : TT_CLASS_OTHER, .home = i % 4 == 0,
			.watched = svc % 3 != 0, .bytes = 60 + i % 7,
		};

		if (run == 0) {            /* the next key, every 40th a new minute */
			run = 1 + i * 7 % 6;
			svc++;
			minute += svc % 40 == 0;
		}
		run--;
		p.minute = minute;
		p.svc = TT_SVC(TT_SVC_TCP, svc);
		src = i * 2654435761u;
		tt_hll_position(&src, 4, &p.hll_index, &p.hll_rank);
		tt_counters_add(one, &p);
		burst[n++] = p;
		if (n == BURST || i + 1 == PACKETS) {
			tt_counters_add_burst(bursts, burst, in_order, n);
			n = 0;
		}
	}
	CU_ASSERT(tt_counters_overflowed(one) > 0);
	CU_ASSERT(tt_counters_lost(one) > 0);
	CU_ASSERT(tt_counters_hll_dropped(one) > 0);
	CU_ASSERT_EQUAL(tt_counters_overflowed(bursts), tt_counters_overflowed(one));
	CU_ASSERT_EQUAL(tt_counters_lost(bursts), tt_counters_lost(one));
	CU_ASSERT_EQUAL(tt_counters_hll_dropped(bursts), tt_counters_hll_dropped(one));
	CU_ASSERT_EQUAL(cells_differ(port_table(one), port_table(bursts), TT_PORT_COLS), 0);
	CU_ASSERT_EQUAL(cells(hll_table(bursts)), cells(hll_table(one)));
	/* the registers and the countries, as a merge reads them */
	CU_ASSERT_EQUAL(tt_counters_merge(run_one, one, 1, true), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(run_bursts, bursts, 1, true), 0);
	CU_ASSERT_EQUAL(cells_differ(hll_table(run_one), hll_table(run_bursts), 0), 0);
	CU_ASSERT(cells(country_table(run_one)) > 0);
	CU_ASSERT_EQUAL(cells_differ(country_table(run_one), country_table(run_bursts),
		TT_COUNTRY_COLS), 0);
	tt_counters_free(one);
	tt_counters_free(bursts);
	tt_counters_merged_free(run_one);
	tt_counters_merged_free(run_bursts);
}

/*
 * The worker's path (hashes, then a burst at a time in an order of its
 * own: tt_counters_add_burst()) counts exactly as tt_counters_add() a
 * packet at a time, and a shard's sets are "spread" once their registers
 * take its gate: 512 KiB here, and sooner with a gate of 256 KiB. Bursts
 * of 37, taken last packet first, so the pipeline's distances and the
 * order both matter, and the registers are loaded ahead once the sets
 * spread.
 */
static void
test_stepwise_path_and_spread(void)
{
	enum { SENSORS = 40, SOURCES = 1000, BURST = 37 };
	struct tt_counters_conf wc = {
		.port_cells = 1024, .country_cells = 1024, .hll_cells = 1024, .hll_sparse = 256,
		.hll_dense = 256, .spread_register_bytes = 512 << 10,
	};
	struct tt_counters_conf half_gate = wc;
	struct tt_shard *plain = tt_counters_create(&wc), *steps = tt_counters_create(&wc);
	struct tt_shard *early;
	struct tt_merged *run_plain = merged_shard(16), *run_steps = merged_shard(16);
	struct table a, b;
	struct tt_count_pkt burst[BURST];
	uint8_t last_first[BURST];
	uint32_t i, j, n = 0, spread_at = 0, early_at = 0;

	half_gate.spread_register_bytes = 256 << 10;
	early = tt_counters_create(&half_gate);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	CU_ASSERT_PTR_NOT_NULL_FATAL(steps);
	CU_ASSERT_PTR_NOT_NULL_FATAL(early);
	CU_ASSERT_FALSE(tt_counters_sets_spread(steps));
	for (i = 0; i < SENSORS * SOURCES; i++) {
		uint32_t src = i * 2654435761u;
		struct tt_count_pkt p = {
			.minute = 28000020, .sensor = (uint16_t)(i % SENSORS),
			.svc = TT_SVC(TT_SVC_TCP, 23), .klass = i % 3 ? TT_CLASS_MIRAI : TT_CLASS_OTHER,
			.home = i % 4 == 0, .watched = true, .bytes = 60,
		};

		tt_hll_position(&src, 4, &p.hll_index, &p.hll_rank);
		tt_counters_add(plain, &p);
		burst[n++] = p;
		if (n == BURST || i + 1 == SENSORS * SOURCES) {
			for (j = 0; j < n; j++)
				last_first[j] = (uint8_t)(n - 1 - j);
			tt_counters_add_burst(steps, burst, last_first, n);
			n = 0;
			if (spread_at == 0 && tt_counters_sets_spread(steps))
				spread_at = i;
		}
		tt_counters_add(early, &p);
		if (early_at == 0 && tt_counters_sets_spread(early))
			early_at = i;
	}
	/*
	 * Each sensor's "all" set is past 32 sources first, and the first 32
	 * such sets go dense (16 KiB; mid sets come after them): the 32nd
	 * makes 512 KiB, and the sets spread. The 16th makes 256 KiB.
	 */
	CU_ASSERT(spread_at > 32 * SENSORS && spread_at < 40 * SENSORS);
	CU_ASSERT(early_at > 32 * SENSORS && early_at < spread_at);
	CU_ASSERT_EQUAL(tt_counters_hll_dropped(steps), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(run_plain, plain, 1, true), 0);
	CU_ASSERT_EQUAL(tt_counters_merge(run_steps, steps, 1, true), 0);
	a = hll_table(run_plain);
	b = hll_table(run_steps);
	CU_ASSERT(cells(a) > SENSORS);     /* each sensor, the all scope, the folds */
	CU_ASSERT_EQUAL(cells_differ(a, b, 0), 0);
	CU_ASSERT_EQUAL(cells_differ(port_table(run_plain), port_table(run_steps), TT_PORT_COLS),
		0);
	CU_ASSERT_EQUAL(cells_differ(country_table(run_plain), country_table(run_steps),
		TT_COUNTRY_COLS), 0);
	for (i = 0; i < SENSORS; i++)
		CU_ASSERT_EQUAL(sum_column(port_table(run_steps), TT_PORT_COL_PKTS, (uint16_t)i),
			SOURCES);
	tt_counters_free(plain);
	tt_counters_free(steps);
	tt_counters_free(early);
	tt_counters_merged_free(run_plain);
	tt_counters_merged_free(run_steps);
}

/*
 * A shard with country planes counts as one without (every country cell in
 * its table), through the burst path: over three minutes an interval (the
 * third has no plane), more countries than the planes have columns, and
 * sensors past their rows; read by minute, and by hour with the all scope;
 * and again after a reset, with other minutes and countries.
 */
static void
test_country_planes_count_as_the_table(void)
{
	enum { ROWS = 6, SENSORS = 9, PACKETS = 6000, BURST = 32 };
	struct tt_counters_conf wc = {
		.port_cells = 4096, .country_cells = 16384, .hll_cells = 4096,
		.hll_sparse = 1024, .hll_dense = 16,
	};
	struct tt_counters_conf pc = wc;
	struct tt_shard *planes, *table;
	struct tt_count_pkt burst[2][BURST];
	uint8_t in_order[BURST];
	uint32_t i, n = 0, round;

	pc.country_rows = ROWS;
	planes = tt_counters_create(&pc);
	table = tt_counters_create(&wc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(planes);
	CU_ASSERT_PTR_NOT_NULL_FATAL(table);
	CU_ASSERT(tt_counters_memory(planes) > tt_counters_memory(table));
	for (i = 0; i < BURST; i++)
		in_order[i] = (uint8_t)i;
	for (round = 0; round < 2; round++) {
		struct tt_merged *by_minute[2], *by_hour[2];
		uint32_t held = 0, plane_pkts = 0, k;

		for (i = 0; i < PACKETS; i++) {
			uint32_t r = (i + round * PACKETS) * 2654435761u, src = r;
			struct tt_count_pkt p = {
				/* even, odd, then even again: the third has no plane */
				.minute = 29000000 + round * 10 + r % 3,
				.sensor = (uint16_t)(r >> 8 & 0xff) % SENSORS,
				/* most from a few countries, every seventh from any */
				.country = (uint16_t)(i % 7 == 0 ? (r >> 16) % TT_COUNTRY_COUNT :
					(r >> 16) % 12 + round * 3),
				.svc = TT_SVC(TT_SVC_TCP, 23),
				.klass = r >> 29 & 1 ? TT_CLASS_MIRAI : TT_CLASS_OTHER,
				.watched = true, .bytes = 60,
			};

			tt_hll_position(&src, 4, &p.hll_index, &p.hll_rank);
			burst[0][n] = p;
			burst[1][n++] = p;
			if (n == BURST || i + 1 == PACKETS) {
				tt_counters_add_burst(planes, burst[0], in_order, n);
				tt_counters_add_burst(table, burst[1], in_order, n);
				n = 0;
			}
		}
		/*
		 * The planes held two minutes of six sensors (4 in 9 packets) and
		 * the table the rest; every column was taken.
		 */
		for (k = 0; k < COUNTRY_PLANES; k++) {
			const struct country_plane *pl = &planes->planes.plane[k];
			uint32_t j;

			held += pl->used;
			for (j = 0; j < pl->used; j++)
				plane_pkts += pl->cells[pl->order[j]].pkts;
		}
		CU_ASSERT(plane_pkts > PACKETS / 3 && plane_pkts < PACKETS / 2);
		CU_ASSERT(planes->country.used > 0);
		CU_ASSERT_EQUAL(planes->planes.columns, COUNTRY_COLUMNS);
		CU_ASSERT_EQUAL(tt_counters_overflowed(planes), 0);
		for (k = 0; k < 2; k++) {
			by_minute[k] = merged_shard(16);
			by_hour[k] = merged_shard(16);
			CU_ASSERT_PTR_NOT_NULL_FATAL(by_minute[k]);
			CU_ASSERT_PTR_NOT_NULL_FATAL(by_hour[k]);
			CU_ASSERT_EQUAL(tt_counters_merge(by_minute[k], k == 0 ? planes : table, 1,
				false), 0);
			CU_ASSERT_EQUAL(tt_counters_merge(by_hour[k], k == 0 ? planes : table, 60,
				true), 0);
		}
		CU_ASSERT(cells(country_table(by_minute[1])) > held);
		CU_ASSERT_EQUAL(cells(country_table(by_minute[0])), cells(country_table(by_minute[1])));
		CU_ASSERT_EQUAL(cells_differ(country_table(by_minute[0]), country_table(by_minute[1]),
			TT_COUNTRY_COLS), 0);
		CU_ASSERT_EQUAL(cells_differ(country_table(by_hour[0]), country_table(by_hour[1]),
			TT_COUNTRY_COLS), 0);
		CU_ASSERT_EQUAL(sum_column(country_table(by_hour[0]), TT_COUNTRY_COL_PKTS,
			TT_SCOPE_ALL), PACKETS);
		CU_ASSERT_EQUAL(cells_differ(port_table(by_minute[0]), port_table(by_minute[1]),
			TT_PORT_COLS), 0);
		for (k = 0; k < 2; k++) {
			tt_counters_merged_free(by_minute[k]);
			tt_counters_merged_free(by_hour[k]);
		}
		tt_counters_reset(planes);
		tt_counters_reset(table);
		CU_ASSERT_EQUAL(planes->planes.columns, 0);
		CU_ASSERT_EQUAL(planes->planes.plane[0].used + planes->planes.plane[1].used, 0);
	}
	tt_counters_free(planes);
	tt_counters_free(table);
}

/*
 * A plane cell whose 32-bit packet count is full sends its next packets to
 * the country table, and a merge adds both: nothing wraps.
 */
static void
test_full_plane_cell_goes_on_in_the_table(void)
{
	struct tt_counters_conf pc = {
		.port_cells = 64, .country_cells = 64, .hll_cells = 64, .hll_sparse = 64,
		.hll_dense = 4, .country_rows = 2,
	};
	struct tt_shard *s = tt_counters_create(&pc);
	struct tt_merged *m = merged_shard(16);
	struct tt_count_pkt p = {
		.minute = 29000001, .sensor = 1, .country = TT_COUNTRY_ZZ,
		.svc = TT_SVC(TT_SVC_TCP, 23), .klass = TT_CLASS_MIRAI, .bytes = 60,
		.hll_index = 1, .hll_rank = 1,
	};
	struct country_count *c;
	struct table ct;
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	tt_counters_add(s, &p);
	CU_ASSERT_EQUAL_FATAL(s->planes.plane[1].used, 1);
	c = &s->planes.plane[1].cells[s->planes.plane[1].order[0]];
	CU_ASSERT_EQUAL(c->pkts, 1);
	c->pkts = UINT32_MAX - 1;
	c->mirai = UINT32_MAX - 1;
	for (i = 0; i < 3; i++)
		tt_counters_add(s, &p);
	CU_ASSERT_EQUAL(c->pkts, UINT32_MAX);
	CU_ASSERT_EQUAL(s->country.used, 1);
	CU_ASSERT_EQUAL(tt_counters_merge(m, s, 1, false), 0);
	ct = country_table(m);
	CU_ASSERT_EQUAL_FATAL(cells(ct), 1);
	CU_ASSERT_EQUAL(key(ct, 0).sensor, 1);
	CU_ASSERT_EQUAL(key(ct, 0).item, TT_COUNTRY_ZZ);
	CU_ASSERT_EQUAL(values(ct, 0)[TT_COUNTRY_COL_PKTS], (uint64_t)UINT32_MAX + 2);
	CU_ASSERT_EQUAL(values(ct, 0)[TT_COUNTRY_COL_MIRAI], (uint64_t)UINT32_MAX + 2);
	tt_counters_free(s);
	tt_counters_merged_free(m);
}

/*
 * Rows of @p a and @p b that differ, taken in their order: the same keys
 * in the same places, the same @p cols counts, the same estimates.
 */
static uint32_t
rows_differ_in_order(struct table a, struct table b, unsigned int cols)
{
	uint32_t i, v, n = cells(a) < cells(b) ? cells(a) : cells(b);
	uint32_t differ = cells(a) > cells(b) ? cells(a) - cells(b) : cells(b) - cells(a);

	for (i = 0; i < n; i++) {
		struct tt_counters_row ra = key(a, i), rb = key(b, i);
		bool same = ra.minute == rb.minute && ra.sensor == rb.sensor && ra.item == rb.item;

		for (v = 0; same && v < cols; v++)
			same = ra.counts[v] == rb.counts[v];
		for (v = 0; same && ra.srcs != NULL && v < TT_HLL_VARIANTS; v++)
			same = tt_hll_estimate(&ra.srcs[v]) == tt_hll_estimate(&rb.srcs[v]);
		differ += !same;
	}
	return differ;
}

/* The same of every table of two merged shards. */
static uint32_t
merges_differ_in_order(const struct tt_merged *a, const struct tt_merged *b)
{
	return rows_differ_in_order(port_table(a), port_table(b), TT_PORT_COLS) +
		rows_differ_in_order(country_table(a), country_table(b), TT_COUNTRY_COLS) +
		rows_differ_in_order(hll_table(a), hll_table(b), 0);
}

/*
 * Flows count as the cells would (counters_internal.h, struct
 * count_flows). Three shards count the same packets, in bursts in the
 * worker's class order: one without flows, one with 4,096 flow slots, and
 * one whose 16 slots fill (12 flows) within a round, drain there and count
 * the rest of that round without them. The packets come in runs of one to
 * five repeats of a flow, over three minutes, six sensors (four with plane
 * rows), 40 countries, two watched and two unwatched services, every class
 * and flag. After the drain the merges have the same rows in the same
 * order, and the same losses: under the overflow key, lost, and HLL
 * updates dropped (group cells and pools), each counted once a packet.
 *
 * With tables of room for every flow (@p small false), the 4,096 slots
 * hold each round whole until the drain. With small tables and pools
 * (@p small), which lose, the flows stop once they hold as many as the
 * tables have room for cells (flows_room(), counters_dp.c).
 */
static void
flows_count_as_the_cells(bool small)
{
	enum { SHARDS = 3, PACKETS = 3000, BURST = 64 };
	struct tt_counters_conf wc = {
		.port_cells = 256, .country_cells = 64, .hll_cells = 64,
		.hll_sparse = 24, .hll_dense = 1, .country_rows = 4,
	};
	static const uint32_t flow_cells[SHARDS] = { 0, 4096, 16 };
	struct tt_shard *w[SHARDS];
	struct tt_count_pkt burst[SHARDS][BURST];
	uint8_t by_class[BURST];
	uint32_t i, k, n = 0, round, flow = 0, repeats = 0;

	if (!small)
		wc = (struct tt_counters_conf){
			.port_cells = 16384, .country_cells = 4096, .hll_cells = 4096,
			.hll_sparse = 4096, .hll_dense = 64, .country_rows = 4,
		};
	for (k = 0; k < SHARDS; k++) {
		struct tt_counters_conf c = wc;

		c.flow_cells = flow_cells[k];
		w[k] = tt_counters_create(&c);
		CU_ASSERT_PTR_NOT_NULL_FATAL(w[k]);
	}
	CU_ASSERT(tt_counters_memory(w[1]) > tt_counters_memory(w[0]));
	for (round = 0; round < 2; round++) {
		struct tt_merged *by_minute[SHARDS], *by_hour[SHARDS];
		struct tt_counters_losses l[SHARDS];

		for (i = 0; i < PACKETS; i++) {
			uint32_t r, src;
			struct tt_count_pkt p;

			if (repeats == 0) {
				flow++;
				repeats = flow % 5 + 1;
			}
			repeats--;
			r = (flow + round * PACKETS) * 2654435761u;
			src = r % 700;         /* sources repeat across flows too */
			p = (struct tt_count_pkt){
				.minute = 29000000 + round * 10 + r % 3,
				.sensor = (uint16_t)(r >> 8 & 0xff) % 6,
				.country = (uint16_t)((r >> 16) % 40 * 16),
				.svc = TT_SVC(r >> 20 & 1 ? TT_SVC_TCP : TT_SVC_UDP, 20 + (r >> 21 & 1)),
				.klass = (uint8_t)((r >> 22) % TT_CLASS_COUNT),
				.home = r >> 25 & 1, .v6 = r >> 26 & 1, .malformed = (r >> 27) % 5 == 0,
				.watched = r >> 28 & 1, .bytes = 40 + i % 1460,
			};
			tt_hll_position(&src, 4, &p.hll_index, &p.hll_rank);
			for (k = 0; k < SHARDS; k++)
				burst[k][n] = p;
			n++;
			if (n == BURST || i + 1 == PACKETS) {
				uint32_t j, m = 0, c;

				/* the worker's order: by class, arrival order within one */
				for (c = 0; c < TT_CLASS_COUNT; c++)
					for (j = 0; j < n; j++)
						if (burst[0][j].klass == c)
							by_class[m++] = (uint8_t)j;
				for (k = 0; k < SHARDS; k++)
					tt_counters_add_burst(w[k], burst[k], by_class, n);
				n = 0;
			}
		}
		/* the 4,096 slots hold a round whole where the tables have room; 16 fill and stop */
		if (small) {
			CU_ASSERT(w[1]->flows.used == 0 && !w[1]->flows.on);
		} else {
			CU_ASSERT(w[1]->flows.used > PACKETS / 5 && w[1]->flows.on);
			CU_ASSERT_EQUAL(w[1]->port.used, 0);
		}
		CU_ASSERT_EQUAL(w[2]->flows.used, 0);
		CU_ASSERT(!w[2]->flows.on);
		for (k = 0; k < SHARDS; k++) {
			tt_counters_drain(w[k]);
			by_minute[k] = merged_shard(16);
			by_hour[k] = merged_shard(16);
			CU_ASSERT_PTR_NOT_NULL_FATAL(by_minute[k]);
			CU_ASSERT_PTR_NOT_NULL_FATAL(by_hour[k]);
			CU_ASSERT_EQUAL(tt_counters_merge(by_minute[k], w[k], 1, false), 0);
			CU_ASSERT_EQUAL(tt_counters_merge(by_hour[k], w[k], 60, true), 0);
			l[k] = losses(by_minute[k]);
		}
		CU_ASSERT_EQUAL(w[1]->flows.used, 0);
		/* the small tables and pools did lose, so the losses are compared */
		if (small) {
			CU_ASSERT(l[0].overflowed > 0 && l[0].lost > 0 && l[0].hll_dropped > 0);
		} else {
			CU_ASSERT(l[0].overflowed == 0 && l[0].lost == 0 && l[0].hll_dropped == 0);
		}
		for (k = 1; k < SHARDS; k++) {
			CU_ASSERT_EQUAL(l[k].overflowed, l[0].overflowed);
			CU_ASSERT_EQUAL(l[k].lost, l[0].lost);
			CU_ASSERT_EQUAL(l[k].hll_dropped, l[0].hll_dropped);
			CU_ASSERT_EQUAL(merges_differ_in_order(by_minute[k], by_minute[0]), 0);
			CU_ASSERT_EQUAL(merges_differ_in_order(by_hour[k], by_hour[0]), 0);
		}
		for (k = 0; k < SHARDS; k++) {
			tt_counters_merged_free(by_minute[k]);
			tt_counters_merged_free(by_hour[k]);
			tt_counters_reset(w[k]);
		}
		CU_ASSERT(w[2]->flows.on);
	}
	for (k = 0; k < SHARDS; k++)
		tt_counters_free(w[k]);
}

static void
test_flows_count_as_the_cells(void)
{
	flows_count_as_the_cells(false);
}

static void
test_flows_stop_at_the_tables_room(void)
{
	flows_count_as_the_cells(true);
}

/*
 * home:mirai and home:nonmirai hold the home sources with a packet of that
 * kind: a source that sent both is in both (so they add up to more than
 * home), abroad sources in neither, and on a watched service the service's
 * sets say the same as the sensor's.
 */
static void
test_home_mirai_and_not(void)
{
	enum { BOTH = 40, MIRAI_ONLY = 30, OTHER_ONLY = 20, ABROAD = 50, SOURCES = 140 };
	struct tt_counters_conf wc = {
		.port_cells = 1024, .country_cells = 1024, .hll_cells = 64, .hll_sparse = 64,
		.hll_dense = 16,
	};
	struct tt_shard *w = tt_counters_create(&wc);
	struct tt_merged *run = merged_shard(16);
	struct tt_hll want[TT_HLL_VARIANTS] = { { 0 } };
	static uint8_t got_regs[TT_HLL_REGISTERS], want_regs[TT_HLL_REGISTERS];
	struct table t;
	uint32_t i, k, v, rows = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(run);
	for (i = 0; i < SOURCES; i++) {
		uint32_t src = (i + 1) * 2654435761u;
		bool home = i < BOTH + MIRAI_ONLY + OTHER_ONLY;
		bool mirai = i < BOTH + MIRAI_ONLY || !home;
		bool other = i < BOTH || (home && i >= BOTH + MIRAI_ONLY);
		/* the sets each source belongs in, by the schema's definition */
		bool in[TT_HLL_VARIANTS] = {
			[TT_HLL_ALL] = true, [TT_HLL_HOME] = home, [TT_HLL_MIRAI] = mirai,
			[TT_HLL_HOME_MIRAI] = home && mirai, [TT_HLL_HOME_NONMIRAI] = home && other,
		};
		uint16_t index;
		uint8_t rank;

		tt_hll_position(&src, 4, &index, &rank);
		for (v = 0; v < TT_HLL_VARIANTS; v++)
			if (in[v])
				CU_ASSERT_EQUAL_FATAL(tt_hll_add(&want[v], index, rank), 0);
		for (k = 0; k < 2; k++) {
			struct tt_count_pkt p = {
				.minute = 28000020, .sensor = 0, .svc = TT_SVC(TT_SVC_TCP, 23),
				.home = home, .watched = true, .bytes = 60,
				.hll_index = index, .hll_rank = rank,
			};

			if (k == 0 ? !mirai : !other)
				continue;
			p.klass = k == 0 ? TT_CLASS_MIRAI : TT_CLASS_OTHER;
			tt_counters_add(w, &p);
		}
	}
	CU_ASSERT_EQUAL(tt_counters_hll_dropped(w), 0);
	CU_ASSERT_EQUAL_FATAL(tt_counters_merge(run, w, 0, false), 0);
	t = hll_table(run);
	for (i = 0; i < cells(t); i++) {
		const struct tt_hll *h = hll_values(t, i);

		for (v = 0; v < TT_HLL_VARIANTS; v++) {
			tt_hll_registers(&h[v], got_regs);
			tt_hll_registers(&want[v], want_regs);
			CU_ASSERT(memcmp(got_regs, want_regs, sizeof(got_regs)) == 0);
		}
		/* 60 home sources sent other packets, 70 Mirai-type ones: 130 of 90 at home */
		CU_ASSERT(tt_hll_estimate(&h[TT_HLL_HOME_NONMIRAI]) > 55 &&
			tt_hll_estimate(&h[TT_HLL_HOME_NONMIRAI]) < 65);
		CU_ASSERT(tt_hll_estimate(&h[TT_HLL_HOME_MIRAI]) +
			tt_hll_estimate(&h[TT_HLL_HOME_NONMIRAI]) >
			tt_hll_estimate(&h[TT_HLL_HOME]) + BOTH / 2);
		rows++;
	}
	/* the sensor's group (folded from the watched one) and tcp/23's */
	CU_ASSERT_EQUAL(rows, 2);
	for (v = 0; v < TT_HLL_VARIANTS; v++)
		tt_hll_fini(&want[v]);
	tt_counters_free(w);
	tt_counters_merged_free(run);
}

/* Exhausted HLL pools are counted, never silent. */
static void
test_hll_exhaustion_counted(void)
{
	struct tt_counters_conf wc = {
		.port_cells = 1024, .country_cells = 1024, .hll_cells = 16, .hll_sparse = 1,
		.hll_dense = 0,
	};
	struct tt_shard *w = tt_counters_create(&wc);
	struct tt_merged *run = merged_shard(16);
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	for (i = 0; i < 100; i++) {
		struct tt_count_pkt p = { .minute = i, .sensor = 0, .svc = 1, .bytes = 1 };

		p.hll_index = (uint16_t)i;
		p.hll_rank = 1;
		tt_counters_add(w, &p);
	}
	/* 12 group cells fit (3/4 of 16); one sparse set of 32 registers */
	CU_ASSERT_EQUAL(tt_counters_merge(run, w, 0, false), 0);
	CU_ASSERT_EQUAL(losses(run).hll_dropped, 100 - 1);
	tt_counters_free(w);
	tt_counters_merged_free(run);
}

/* A group of the seen-lines test: minute 0..3, sensor 0..1. */
enum { SEEN_GROUPS = 8 };

/* Packets add_and_note() counted with the shard's record of registers off. */
static uint64_t record_off_pkts;

/*
 * Count one packet of source @p src into @p w, and its registers into the
 * reference sets @p ref[group][variant] by the rule of DESIGN section 5.
 */
static void
add_and_note(struct tt_shard *w, struct tt_hll ref[][TT_HLL_VARIANTS], uint32_t group,
		uint32_t src, bool home, bool mirai)
{
	static const uint8_t first = 0;
	struct tt_count_pkt p = {
		.minute = 29000000 + group / 2, .sensor = (uint16_t)(group % 2),
		.svc = TT_SVC(TT_SVC_TCP, 23), .klass = mirai ? TT_CLASS_MIRAI : TT_CLASS_OTHER,
		.home = home, .bytes = 60,
	};

	tt_hll_position(&src, 4, &p.hll_index, &p.hll_rank);
	/* the worker's steps for a burst of one, counting what it counts with the record off */
	record_off_pkts += !tt_counters_add_burst(w, &p, &first, 1);
	CU_ASSERT_EQUAL(tt_hll_add(&ref[group][TT_HLL_ALL], p.hll_index, p.hll_rank), 0);
	if (home)
		CU_ASSERT_EQUAL(tt_hll_add(&ref[group][TT_HLL_HOME], p.hll_index, p.hll_rank), 0);
	if (mirai)
		CU_ASSERT_EQUAL(tt_hll_add(&ref[group][TT_HLL_MIRAI], p.hll_index, p.hll_rank), 0);
	if (home && mirai)
		CU_ASSERT_EQUAL(tt_hll_add(&ref[group][TT_HLL_HOME_MIRAI], p.hll_index,
			p.hll_rank), 0);
	if (home && !mirai)
		CU_ASSERT_EQUAL(tt_hll_add(&ref[group][TT_HLL_HOME_NONMIRAI], p.hll_index,
			p.hll_rank), 0);
}

/*
 * The shard skips a register update it has already made this interval
 * (counters_dp.c, count_source()). Whatever it skips, forgets or stops
 * looking for, the registers must be those of every update made: repeats
 * whose later packets set more variants than their first (a source turns
 * Mirai-type), more distinct registers than the record keeps, a flood that
 * turns the record off, and repeats after it.
 */
/* Merge @p w and check every group's registers against @p ref. */
static void
check_seen_registers(const struct tt_shard *w, struct tt_hll ref[][TT_HLL_VARIANTS])
{
	static uint8_t got[TT_HLL_REGISTERS], want[TT_HLL_REGISTERS];
	struct tt_merged *m = merged_shard(64);
	uint32_t i, v, checked = 0;
	struct table t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(tt_counters_merge(m, w, 1, false), 0);
	CU_ASSERT_EQUAL(losses(m).hll_dropped, 0);
	t = hll_table(m);
	for (i = 0; i < cells(t); i++) {
		struct tt_counters_row k = key(t, i);
		uint32_t group = (k.minute - 29000000) * 2 + k.sensor;

		CU_ASSERT_FATAL(group < SEEN_GROUPS && k.item == 0);
		for (v = 0; v < TT_HLL_VARIANTS; v++) {
			tt_hll_registers(&hll_values(t, i)[v], got);
			tt_hll_registers(&ref[group][v], want);
			CU_ASSERT_EQUAL(memcmp(got, want, sizeof(got)), 0);
			checked++;
		}
	}
	CU_ASSERT_EQUAL(checked, SEEN_GROUPS * TT_HLL_VARIANTS);
	tt_counters_merged_free(m);
}

static void
test_seen_registers_exact(void)
{
	struct tt_counters_conf wc = {
		.port_cells = 1024, .country_cells = 1024, .hll_cells = 1024, .hll_sparse = 256,
		.hll_dense = 64,
	};
	struct tt_shard *w = tt_counters_create(&wc);
	static struct tt_hll ref[SEEN_GROUPS][TT_HLL_VARIANTS];
	struct tt_merged *m;
	uint32_t i, round, v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	memset(ref, 0, sizeof(ref));
	record_off_pkts = 0;
	for (round = 0; round < 2; round++) {
		/* 300 sources a group, 10 packets each; some turn Mirai-type on their 4th */
		for (i = 0; i < 300 * 10 * SEEN_GROUPS; i++) {
			uint32_t n = i / SEEN_GROUPS % 300, rep = i / SEEN_GROUPS / 300;

			add_and_note(w, ref, i % SEEN_GROUPS, n * 2654435761u, n % 3 == 0,
				n % 2 == 0 && rep >= 3);
		}
		if (round == 0)                 /* 2,400 sources a round: the record keeps them */
			CU_ASSERT_EQUAL(record_off_pkts, 0);
		check_seen_registers(w, ref);
		/* a flood of new sources: past the record's 32,768 entries, then turned off */
		if (round == 0) {
			for (i = 0; i < 200000; i++)
				add_and_note(w, ref, i % SEEN_GROUPS, 0x80000000u + i * 40503u,
					false, false);
			CU_ASSERT(record_off_pkts > 0);
			check_seen_registers(w, ref);
		}
	}
	CU_ASSERT_EQUAL(tt_counters_hll_dropped(w), 0);
	/* a reset forgets what was seen: the next interval sets its registers again */
	tt_counters_reset(w);
	m = merged_shard(16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	record_off_pkts = 0;               /* and the reset ends a pause: the record is on */
	add_and_note(w, ref, 0, 2654435761u, true, true);
	CU_ASSERT_EQUAL(record_off_pkts, 0);
	CU_ASSERT_EQUAL(tt_counters_merge(m, w, 1, false), 0);
	CU_ASSERT_EQUAL(cells(hll_table(m)), 1);
	CU_ASSERT_EQUAL(tt_hll_estimate(&hll_values(hll_table(m), 0)[TT_HLL_HOME_MIRAI]), 1);
	tt_counters_free(w);
	tt_counters_merged_free(m);
	for (i = 0; i < SEEN_GROUPS; i++)
		for (v = 0; v < TT_HLL_VARIANTS; v++)
			tt_hll_fini(&ref[i][v]);
}

/*
 * An update the pool dropped is not recorded as made: its repeats are
 * tried, and counted, again, as they were before the record.
 */
static void
test_seen_dropped_counted_again(void)
{
	struct tt_counters_conf wc = {
		.port_cells = 1024, .country_cells = 1024, .hll_cells = 16, .hll_sparse = 1,
		.hll_dense = 0,
	};
	struct tt_shard *w = tt_counters_create(&wc);
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	for (i = 0; i < 33 + 5; i++) {
		/* 32 registers fill the one sparse set; the 33rd has nowhere to go, 6 times */
		struct tt_count_pkt p = { .minute = 1, .sensor = 0, .svc = 1, .bytes = 1,
			.hll_index = (uint16_t)(i < 33 ? i : 32), .hll_rank = 1 };

		tt_counters_add(w, &p);
	}
	CU_ASSERT_EQUAL(tt_counters_hll_dropped(w), 0);
	{
		struct tt_merged *run = merged_shard(16);

		CU_ASSERT_PTR_NOT_NULL_FATAL(run);
		CU_ASSERT_EQUAL(tt_counters_merge(run, w, 0, false), 0);
		CU_ASSERT_EQUAL(losses(run).hll_dropped, 6);
		tt_counters_merged_free(run);
	}
	tt_counters_free(w);
}

int
main(void)
{
	static const struct test_case tests[] = {
		{ "invalid capacities", test_create_invalid },
		{ "add, read and reset cells", test_add_and_read },
		{ "a full table counts under overflow", test_overflow_is_counted },
		{ "merge: collapse minutes, add the all scope", test_merge_collapse_and_all },
		{ "a growable shard keeps every cell", test_growable_merge_keeps_everything },
		{ "the earliest bucket of a merged shard", test_merged_oldest_minute },
		{ "unique sources per bucket and scope", test_unique_sources },
		{ "home sources, Mirai-type and not: both sets", test_home_mirai_and_not },
		{ "exhausted HLL pools are counted", test_hll_exhaustion_counted },
		{ "the burst path counts the same; sets spread", test_stepwise_path_and_spread },
		{ "bursts of repeats fill small tables alike", test_bursts_of_repeats_fill_tables_alike },
		{ "country planes count as the table", test_country_planes_count_as_the_table },
		{ "a full plane cell goes on in the table", test_full_plane_cell_goes_on_in_the_table },
		{ "flows count as the cells, in the same order", test_flows_count_as_the_cells },
		{ "flows stop at the tables' room; losses alike", test_flows_stop_at_the_tables_room },
		{ "skipped register updates leave the registers exact", test_seen_registers_exact },
		{ "a dropped register update is counted on every repeat", test_seen_dropped_counted_again },
		{ NULL, NULL },
	};

	return run_suite("counters", tests, NULL, NULL);
}
