/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shard life cycle, merge and reading. Control plane only.
 */
#include "tt_counters.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counters_internal.h"
#include "tt_data_path.h"
#include "tt_mem.h"

/* The first cache line boundary at or after @p p: where tables, planes, flows, seen lines start. */
static void *
line_aligned(void *p)
{
	return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/*
 * Memory a worker writes per packet (tt_mem.h): @p bytes, a line for the
 * alignment among them, zeroed and mapped now. @return its first line, and
 * in @p mem what to free; NULL when out of memory.
 */
static void *
worker_lines(size_t bytes, void **mem)
{
	*mem = calloc(bytes, 1);
	if (*mem == NULL)
		return NULL;
	tt_mem_prefault(*mem, bytes);
	return line_aligned(*mem);
}

static int
table_init(struct tt_table *t, uint32_t capacity, uint32_t width, bool growable)
{
	if (capacity < 16 || (capacity & (capacity - 1)) != 0 || CELL_BYTES(width) > MAX_CELL_BYTES)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->mask = capacity - 1;
	t->limit = capacity / 4 * 3;
	t->reserve_limit = t->limit + capacity / 8;
	t->width = width;
	t->growable = growable;
	t->stride_shift = STRIDE_SHIFT(width);
	t->order = malloc(capacity * sizeof(*t->order));
	/*
	 * The pointer is aligned by hand. A merged (growable) table's untouched
	 * capacity stays unmapped; a worker's is mapped below (tt_mem.h).
	 */
	t->cells_mem = calloc(((size_t)capacity << t->stride_shift) + 64, 1);
	if (t->order == NULL || t->cells_mem == NULL) {
		free(t->order);
		free(t->cells_mem);
		return -ENOMEM;
	}
	t->cells = line_aligned(t->cells_mem);
	if (!growable) {
		/* a worker's: its cells and slot list are written per packet */
		tt_mem_prefault(t->cells_mem, ((size_t)capacity << t->stride_shift) + 64);
		tt_mem_prefault(t->order, capacity * sizeof(*t->order));
	}
	return 0;
}

static void
table_fini(struct tt_table *t)
{
	free(t->order);
	free(t->cells_mem);
	memset(t, 0, sizeof(*t));
}

static void
table_reset(struct tt_table *t)
{
	uint32_t i;

	for (i = 0; i < t->used; i++)
		memset(cell_key(t, t->order[i]), 0, (size_t)1 << t->stride_shift);
	t->used = 0;
}

/* What planes of @p rows take: both planes' cells and lists, and a line to align them. */
static size_t
planes_bytes(uint32_t rows)
{
	return COUNTRY_PLANES * (size_t)COUNTRY_COLUMNS * rows *
		(sizeof(struct country_count) + sizeof(uint32_t)) + 64;
}

static int
planes_init(struct country_planes *cp, uint32_t rows)
{
	struct country_count *cells;
	uint32_t *order;
	size_t n;
	unsigned int i;

	memset(cp, 0, sizeof(*cp));
	for (i = 0; i < COUNTRY_PLANES; i++)
		cp->plane[i].minute = PLANE_FREE;
	if (rows == 0)
		return 0;
	if (rows > TT_COUNTERS_PLANE_ROWS_MAX)
		rows = TT_COUNTERS_PLANE_ROWS_MAX;
	n = (size_t)COUNTRY_COLUMNS * rows;        /* cells a plane */
	cells = worker_lines(planes_bytes(rows), &cp->mem);
	if (cells == NULL)
		return -ENOMEM;
	order = (uint32_t *)(cells + COUNTRY_PLANES * n);
	for (i = 0; i < COUNTRY_PLANES; i++) {
		cp->plane[i].cells = cells + i * n;
		cp->plane[i].order = order + i * n;
	}
	cp->rows = rows;
	return 0;
}

static void
planes_fini(struct country_planes *cp)
{
	free(cp->mem);
	memset(cp, 0, sizeof(*cp));
}

/* Cost: the cells counted, not the capacity, as table_reset(). */
static void
planes_reset(struct country_planes *cp)
{
	unsigned int i;
	uint32_t j;

	for (i = 0; i < COUNTRY_PLANES; i++) {
		struct country_plane *pl = &cp->plane[i];

		for (j = 0; j < pl->used; j++)
			pl->cells[pl->order[j]] = (struct country_count){ 0, 0 };
		pl->used = 0;
		pl->minute = PLANE_FREE;
	}
	memset(cp->column_of, 0, sizeof(cp->column_of));
	cp->columns = 0;
}

static uint64_t
planes_memory(const struct country_planes *cp)
{
	return cp->rows == 0 ? 0 : planes_bytes(cp->rows);
}

/* What flows of @p capacity slots take: the slots, their list, and a line to align them. */
static size_t
flows_bytes(uint32_t capacity)
{
	return (size_t)capacity * (sizeof(struct count_flow) + sizeof(uint32_t)) + 64;
}

static int
flows_init(struct count_flows *f, uint32_t capacity)
{
	memset(f, 0, sizeof(*f));
	if (capacity == 0)
		return 0;
	if (capacity < 16 || (capacity & (capacity - 1)) != 0)
		return -EINVAL;
	f->slots = worker_lines(flows_bytes(capacity), &f->mem);
	if (f->slots == NULL)
		return -ENOMEM;
	f->order = (uint32_t *)(f->slots + capacity);
	f->mask = capacity - 1;
	f->limit = capacity / 4 * 3;
	f->on = true;
	return 0;
}

static void
flows_fini(struct count_flows *f)
{
	free(f->mem);
	memset(f, 0, sizeof(*f));
}

/*
 * The worker drained them before the hand-over (tt_counters_drain()), so
 * this clears nothing but the state; flows it had not would be stale here.
 */
static void
flows_reset(struct count_flows *f)
{
	uint32_t i;

	for (i = 0; i < f->used; i++)
		memset(&f->slots[f->order[i]], 0, sizeof(struct count_flow));
	f->used = 0;
	f->on = f->mem != NULL;
}

static uint64_t
flows_memory(const struct count_flows *f)
{
	return f->mem == NULL ? 0 : flows_bytes(f->mask + 1);
}

/* Double the capacity, re-inserting in the old insertion order. */
int
counters_table_grow(struct tt_table *t)
{
	struct tt_table n;
	uint32_t i;
	int rc;

	rc = table_init(&n, (t->mask + 1) * 2, t->width, t->growable);
	if (rc != 0)
		return rc;
	for (i = 0; i < t->used; i++) {
		uint32_t slot = t->order[i];
		uint64_t *v = counters_table_find_or_add(&n, cell_key(t, slot), false);

		memcpy(v, cell_values(t, slot), t->width * sizeof(*v));
	}
	table_fini(t);
	*t = n;
	return 0;
}

/*
 * tt_counters_conf.spread_register_bytes of 0: half this CPU's L2.
 *
 * Below the gate the registers mostly hit, and the prefetch's extra read
 * of the group cell costs more than it saves: ungated, the flood at one
 * sensor went 175 -> 185 busy cycles a packet and the mixed 2,000-frame
 * loop 346 -> 368. Above it the registers miss, and the prefetch is what
 * hides that: a 512 KiB gate against none, flood of 2^20 sources at 64
 * sensors 357 -> 257, at 4,096 sensors 613 -> 496. Half the L2, because
 * the packets and the other tables share it.
 *
 * That gate was 512 KiB on every machine. On a 2 MiB L2 (Intel Xeon,
 * KVM), interleaved medians of 3, gate 512 KiB against 1 MiB: mixed
 * 20,000-frame loop (538 KiB of registers) 271.5 -> 251.4 (scripts/bench,
 * 278.2 -> 250.8); flood at 64 sensors (1.4 MiB) 147.6 -> 146.8 and at
 * 4,096 sensors (8.4 MiB) prefetching as before; one sensor (48 KiB) and
 * mixed 2k (208 KiB) below both.
 */
static uint64_t
spread_register_bytes(void)
{
	long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);

	return l2 > 0 ? (uint64_t)l2 / 2 : TT_COUNTERS_SPREAD_UNKNOWN_L2;
}

struct tt_shard *
tt_counters_create(const struct tt_counters_conf *conf)
{
	struct tt_shard *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return NULL;
	rc = table_init(&s->port, conf->port_cells, TT_PORT_COLS, false);
	if (rc != 0)
		goto err_free_shard;
	rc = table_init(&s->country, conf->country_cells, TT_COUNTRY_COLS, false);
	if (rc != 0)
		goto err_fini_port;
	rc = planes_init(&s->planes, conf->country_rows);
	if (rc != 0)
		goto err_fini_country;
	rc = flows_init(&s->flows, conf->flow_cells);
	if (rc != 0)
		goto err_fini_planes;
	rc = table_init(&s->hll, conf->hll_cells, HLL_SLOT_WORDS, false);
	if (rc != 0)
		goto err_fini_flows;
	s->pool = tt_hll_pool_create(conf->hll_sparse, conf->hll_dense);
	if (s->pool == NULL) {
		rc = -errno;
		goto err_fini_hll;
	}
	s->seen = worker_lines(SEEN_BYTES + 64, &s->seen_mem);
	if (s->seen == NULL) {
		rc = -ENOMEM;
		goto err_free_pool;
	}
	s->spread_register_bytes = conf->spread_register_bytes != 0 ?
		conf->spread_register_bytes : spread_register_bytes();
	return s;

err_free_pool:
	tt_hll_pool_free(s->pool);
err_fini_hll:
	table_fini(&s->hll);
err_fini_flows:
	flows_fini(&s->flows);
err_fini_planes:
	planes_fini(&s->planes);
err_fini_country:
	table_fini(&s->country);
err_fini_port:
	table_fini(&s->port);
err_free_shard:
	free(s);
	errno = -rc;
	return NULL;
}

void
tt_counters_free(struct tt_shard *s)
{
	if (s == NULL)
		return;
	table_fini(&s->port);
	table_fini(&s->country);
	planes_fini(&s->planes);
	flows_fini(&s->flows);
	table_fini(&s->hll);
	tt_hll_pool_free(s->pool);
	free(s->seen_mem);
	free(s);
}

void
tt_counters_reset(struct tt_shard *s)
{
	table_reset(&s->port);
	table_reset(&s->country);
	planes_reset(&s->planes);
	flows_reset(&s->flows);
	table_reset(&s->hll);
	tt_hll_pool_reset(s->pool);
	memset(s->seen, 0, SEEN_BYTES);    /* 256 KiB an interval, control thread */
	s->seen_victim = 0;
	s->seen_looks = 0;
	s->seen_evicted = 0;
	s->seen_off = 0;
	s->seen_on = false;
	s->overflowed = 0;
	s->lost = 0;
	s->hll_dropped = 0;
}

/*
 * Every merged shard starts with the same proportions: a port cell for
 * each service seen, a quarter as many country and srcs cells (measured
 * on the mixed scenario: ~4 services a country). They grow from there, so
 * the first size only decides how soon.
 */
struct tt_merged *
tt_counters_merged_create(uint32_t port_cells)
{
	struct tt_merged *m = calloc(1, sizeof(*m));
	uint32_t quarter = port_cells / 4 < 16 ? 16 : port_cells / 4;
	int rc;

	if (m == NULL)
		return NULL;
	rc = table_init(&m->port, port_cells, TT_PORT_COLS, true);
	if (rc != 0)
		goto err_free;
	rc = table_init(&m->country, quarter, TT_COUNTRY_COLS, true);
	if (rc != 0)
		goto err_fini_port;
	rc = table_init(&m->hll, quarter, HLL_SET_WORDS, true);
	if (rc != 0)
		goto err_fini_country;
	return m;

err_fini_country:
	table_fini(&m->country);
err_fini_port:
	table_fini(&m->port);
err_free:
	free(m);
	errno = -rc;
	return NULL;
}

/* A merged shard's HLL cells own memory: release it before forgetting them. */
static void
hll_cells_fini(struct tt_merged *m)
{
	uint32_t i, v;

	for (i = 0; i < m->hll.used; i++) {
		struct tt_hll *h = (struct tt_hll *)cell_values(&m->hll, m->hll.order[i]);

		for (v = 0; v < TT_HLL_VARIANTS; v++)
			tt_hll_fini(&h[v]);
	}
}

void
tt_counters_merged_free(struct tt_merged *m)
{
	if (m == NULL)
		return;
	hll_cells_fini(m);
	table_fini(&m->port);
	table_fini(&m->country);
	table_fini(&m->hll);
	free(m);
}

void
tt_counters_merged_reset(struct tt_merged *m)
{
	hll_cells_fini(m);
	table_reset(&m->port);
	table_reset(&m->country);
	table_reset(&m->hll);
	memset(&m->losses, 0, sizeof(m->losses));
}

/* A cell of dst for key k, growing dst as needed. */
static uint64_t *
dst_cell(struct tt_table *dst, const struct tt_cell_key *k)
{
	uint64_t *d;

	for (;;) {
		d = counters_table_find_or_add(dst, k, !dst->growable);
		if (d != NULL || !dst->growable || counters_table_grow(dst) != 0)
			return d;
	}
}

static uint32_t
bucket_of(uint32_t minute, uint32_t bucket_minutes)
{
	return bucket_minutes == 0 ? 0 : minute / bucket_minutes * bucket_minutes;
}

/* Add values @p v of cell @p key into dst's cell of its bucket, and its "all" scope's. */
static int
merge_cell(struct tt_table *dst, const struct tt_cell_key *key, const uint64_t *v,
		uint32_t bucket_minutes, bool with_all)
{
	struct tt_cell_key k = *key;
	uint32_t j, pass;

	k.minute = bucket_of(k.minute, bucket_minutes);
	for (pass = 0; pass < (with_all && k.sensor != TT_SCOPE_ALL ? 2u : 1u); pass++) {
		uint64_t *d;

		if (pass == 1)
			k.sensor = TT_SCOPE_ALL;
		d = dst_cell(dst, &k);
		if (d == NULL)
			return -ENOMEM;
		for (j = 0; j < dst->width; j++)
			d[j] += v[j];
	}
	return 0;
}

/*
 * Cells ahead of the one a merge adds whose lines it starts loading: the
 * next cells of the source, and their first slots in the target. Both
 * are in no order a cache follows, and a second of a spoofed flood at
 * 4,096 sensors makes some 770,000 country cells. scripts/bench-merge,
 * the seven merges the control thread makes of such a shard: 1,485 -> 822
 * ms of CPU time (medians of 5, run by run beside the code without).
 */
enum { MERGE_AHEAD = 8 };

/* Start loading the target's first slot for the source's key @p k. */
static inline void
prefetch_target(const struct tt_table *dst, const struct tt_cell_key *k,
		uint32_t bucket_minutes)
{
	struct tt_cell_key at = *k;

	at.minute = bucket_of(at.minute, bucket_minutes);
	counters_table_prefetch(dst, &at);
}

static int
merge_table(struct tt_table *dst, const struct tt_table *src, uint32_t bucket_minutes,
		bool with_all, uint32_t from_minute)
{
	uint32_t i;
	int rc;

	for (i = 0; i < src->used; i++) {
		uint32_t slot = src->order[i];
		const struct tt_cell_key *k = cell_key(src, slot);

		if (i + 2 * MERGE_AHEAD < src->used)
			tt_prefetch(cell_key(src, src->order[i + 2 * MERGE_AHEAD]));
		if (i + MERGE_AHEAD < src->used)
			prefetch_target(dst, cell_key(src, src->order[i + MERGE_AHEAD]),
				bucket_minutes);

		if (k->minute < from_minute)
			continue;
		rc = merge_cell(dst, k, cell_values(src, slot), bucket_minutes, with_all);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The key of a plane's cell @p at: its minute, sensor and country. */
static inline struct tt_cell_key
plane_key(const struct country_planes *cp, const struct country_plane *pl, uint32_t at)
{
	return (struct tt_cell_key){
		.minute = pl->minute, .sensor = (uint16_t)(at % cp->rows),
		.item = cp->country_of[at / cp->rows],
	};
}

/*
 * A worker shard's country planes, the earlier minute first, each in the
 * order its cells were first counted: for one minute and sensor, the
 * order the country table would have had.
 */
static int
merge_planes(struct tt_table *dst, const struct country_planes *cp, uint32_t bucket_minutes,
		bool with_all)
{
	const struct country_plane *pl[COUNTRY_PLANES] = { &cp->plane[0], &cp->plane[1] };
	unsigned int p;
	uint32_t i;
	int rc;

	_Static_assert(COUNTRY_PLANES == 2, "two planes, the earlier first");
	if (pl[1]->minute < pl[0]->minute) {
		pl[0] = &cp->plane[1];
		pl[1] = &cp->plane[0];
	}
	for (p = 0; p < COUNTRY_PLANES; p++) {
		for (i = 0; i < pl[p]->used; i++) {
			uint32_t at = pl[p]->order[i];
			const struct country_count *c = &pl[p]->cells[at];
			struct tt_cell_key k = plane_key(cp, pl[p], at);
			uint64_t v[TT_COUNTRY_COLS] = {
				[TT_COUNTRY_COL_PKTS] = c->pkts, [TT_COUNTRY_COL_MIRAI] = c->mirai,
			};

			if (i + 2 * MERGE_AHEAD < pl[p]->used)
				tt_prefetch(&pl[p]->cells[pl[p]->order[i + 2 * MERGE_AHEAD]]);
			if (i + MERGE_AHEAD < pl[p]->used) {
				struct tt_cell_key ahead = plane_key(cp, pl[p],
					pl[p]->order[i + MERGE_AHEAD]);

				prefetch_target(dst, &ahead, bucket_minutes);
			}

			rc = merge_cell(dst, &k, v, bucket_minutes, with_all);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/*
 * Room for @p n more cells in a growable table, so that pointers to its
 * cells stay valid while that many are added.
 */
static int
reserve_cells(struct tt_table *t, uint32_t n)
{
	while (t->growable && t->used + n > t->limit)
		if (counters_table_grow(t) != 0)
			return -ENOMEM;
	return 0;
}

enum { MERGE_HLL_DSTS = 4 };   /* a set's: two items, each in its scope and the all scope */

/*
 * HLL cells: a union of registers, from a worker's pool (@p pool) or a
 * merged shard's sets (@p pool NULL). A worker shard's watched group also
 * goes into its sensor's group 0, which there holds only the unwatched
 * services (tt_counters.h).
 */
static int
merge_hll(struct tt_merged *dst, const struct tt_table *t, const struct tt_hll_pool *pool,
		uint32_t bucket_minutes, bool with_all, uint32_t from_minute)
{
	uint32_t i, n_items, n_sensors, n_dst, a, b, j, v;
	int rc = 0;

	for (i = 0; i < t->used && rc == 0; i++) {
		uint32_t slot = t->order[i];
		const struct tt_cell_key *sk = cell_key(t, slot);
		const uint64_t *sv = cell_values(t, slot);
		uint32_t items[2] = { sk->item, 0 };
		uint16_t sensors[2] = { sk->sensor, TT_SCOPE_ALL };
		struct tt_hll *d[MERGE_HLL_DSTS], *dv[MERGE_HLL_DSTS];
		struct tt_cell_key k = *sk;

		if (k.minute < from_minute)
			continue;
		k.minute = bucket_of(k.minute, bucket_minutes);
		n_items = pool != NULL && sk->item != 0 ? 2 : 1;
		n_sensors = with_all && sk->sensor != TT_SCOPE_ALL ? 2 : 1;
		if (reserve_cells(&dst->hll, MERGE_HLL_DSTS) != 0)
			return -ENOMEM;
		n_dst = 0;
		for (a = 0; a < n_items; a++) {
			for (b = 0; b < n_sensors; b++) {
				k.item = items[a];
				k.sensor = sensors[b];
				d[n_dst] = (struct tt_hll *)dst_cell(&dst->hll, &k);
				if (d[n_dst++] == NULL)
					return -ENOMEM;
			}
		}
		for (v = 0; rc == 0 && v < TT_HLL_VARIANTS; v++) {
			if (pool == NULL) {
				for (j = 0; rc == 0 && j < n_dst; j++)
					rc = tt_hll_merge(&d[j][v], &((const struct tt_hll *)sv)[v]);
				continue;
			}
			for (j = 0; j < n_dst; j++)
				dv[j] = &d[j][v];
			rc = tt_hll_pool_merge_into_each(pool,
				((const struct tt_hll_slots *)sv)->h[v], dv, n_dst);
		}
	}
	return rc;
}

int
tt_counters_merge(struct tt_merged *dst, const struct tt_shard *src,
		uint32_t bucket_minutes, bool with_all)
{
	int rc;

	rc = merge_table(&dst->port, &src->port, bucket_minutes, with_all, 0);
	if (rc == 0)
		rc = merge_table(&dst->country, &src->country, bucket_minutes, with_all, 0);
	if (rc == 0)
		rc = merge_planes(&dst->country, &src->planes, bucket_minutes, with_all);
	if (rc == 0)
		rc = merge_hll(dst, &src->hll, src->pool, bucket_minutes, with_all, 0);
	dst->losses.overflowed += src->overflowed;
	dst->losses.lost += src->lost;
	dst->losses.hll_dropped += src->hll_dropped + tt_hll_pool_dropped(src->pool);
	return rc;
}

int
tt_counters_merge_merged(struct tt_merged *dst, const struct tt_merged *src,
		uint32_t bucket_minutes, bool with_all, uint32_t from_minute)
{
	int rc;

	rc = merge_table(&dst->port, &src->port, bucket_minutes, with_all, from_minute);
	if (rc == 0)
		rc = merge_table(&dst->country, &src->country, bucket_minutes, with_all,
			from_minute);
	if (rc == 0)
		rc = merge_hll(dst, &src->hll, NULL, bucket_minutes, with_all, from_minute);
	dst->losses.overflowed += src->losses.overflowed;
	dst->losses.lost += src->losses.lost;
	dst->losses.hll_dropped += src->losses.hll_dropped;
	return rc;
}

uint64_t
tt_counters_hll_dropped(const struct tt_shard *s)
{
	return s->hll_dropped;
}

uint64_t
tt_counters_overflowed(const struct tt_shard *s)
{
	return s->overflowed;
}

uint64_t
tt_counters_lost(const struct tt_shard *s)
{
	return s->lost;
}

void
tt_counters_merged_losses(const struct tt_merged *m, struct tt_counters_losses *out)
{
	*out = m->losses;
}

static uint64_t
table_memory(const struct tt_table *t)
{
	uint64_t cap = (uint64_t)t->mask + 1;

	return cap * (sizeof(*t->order) + ((uint64_t)1 << t->stride_shift));
}

uint64_t
tt_counters_memory(const struct tt_shard *s)
{
	return sizeof(*s) + table_memory(&s->port) + table_memory(&s->country) +
		planes_memory(&s->planes) + flows_memory(&s->flows) + table_memory(&s->hll) +
		tt_hll_pool_memory(s->pool) + SEEN_BYTES + 64;
}

uint64_t
tt_counters_merged_memory(const struct tt_merged *m)
{
	uint64_t n = sizeof(*m) + table_memory(&m->port) + table_memory(&m->country) +
		table_memory(&m->hll);
	uint32_t i, v;

	for (i = 0; i < m->hll.used; i++) {
		const struct tt_hll *h = (const struct tt_hll *)cell_values(&m->hll,
			m->hll.order[i]);

		for (v = 0; v < TT_HLL_VARIANTS; v++)
			n += tt_hll_memory(&h[v]);
	}
	return n;
}

/* A port cell into a totals array, by the schema's rule for each field. */
void
tt_counters_totals_add(uint64_t *t, uint32_t svc, const uint64_t *v)
{
	enum tt_svc_kind kind = TT_SVC_KIND(svc);
	bool tcp = kind == TT_SVC_TCP || kind == TT_SVC_TCP_BARE;
	bool udp = kind == TT_SVC_UDP || kind == TT_SVC_UDP_BARE;
	bool icmp = kind == TT_SVC_ICMP || kind == TT_SVC_ICMP6;
	unsigned int f;

	for (f = 0; f < TT_T_COUNT; f++) {
		uint64_t n = v[tt_schema_total_col(f)];

		switch (tt_schema_total_rule(f)) {
		case TT_TOTAL_SUM:
			break;
		case TT_TOTAL_TCP:
			n = tcp ? n : 0;
			break;
		case TT_TOTAL_UDP:
			n = udp ? n : 0;
			break;
		case TT_TOTAL_ICMP:
			n = icmp ? n : 0;
			break;
		case TT_TOTAL_OTHER_PROTO:
			n = tcp || udp || icmp ? 0 : n;
			break;
		case TT_TOTAL_ABROAD:
			n -= v[TT_PORT_COL_HOME];
			break;
		}
		t[f] += n;
	}
}

/* --- reading: rows --- */

static const struct tt_table *
table_of(const struct tt_merged *m, enum tt_counters_table t)
{
	return t == TT_COUNTERS_PORT ? &m->port : t == TT_COUNTERS_COUNTRY ? &m->country : &m->hll;
}

uint32_t
tt_counters_rows(const struct tt_merged *m, enum tt_counters_table t)
{
	return table_of(m, t)->used;
}

static uint32_t
table_oldest_minute(const struct tt_table *t)
{
	uint32_t i, oldest = UINT32_MAX;

	for (i = 0; i < t->used; i++) {
		uint32_t minute = cell_key(t, t->order[i])->minute;

		oldest = minute < oldest ? minute : oldest;
	}
	return oldest;
}

uint32_t
tt_counters_merged_oldest_minute(const struct tt_merged *m)
{
	uint32_t oldest = UINT32_MAX;
	unsigned int j;

	for (j = 0; j < TT_COUNTERS_TABLES; j++) {
		uint32_t t = table_oldest_minute(table_of(m, j));

		oldest = t < oldest ? t : oldest;
	}
	return oldest;
}

static void
row_of(const struct tt_table *tab, enum tt_counters_table t, uint32_t i,
		struct tt_counters_row *out)
{
	const struct tt_cell_key *k = cell_key(tab, tab->order[i]);
	const uint64_t *v = cell_values(tab, tab->order[i]);

	out->minute = k->minute;
	out->sensor = k->sensor;
	out->item = k->item;
	out->order = i;
	out->counts = t == TT_COUNTERS_SRCS ? NULL : v;
	out->srcs = t == TT_COUNTERS_SRCS ? (const struct tt_hll *)v : NULL;
}

void
tt_counters_row(const struct tt_merged *m, enum tt_counters_table t, uint32_t i,
		struct tt_counters_row *out)
{
	row_of(table_of(m, t), t, i, out);
}

uint32_t
tt_counters_shard_rows(const struct tt_shard *s, enum tt_counters_table t)
{
	return t == TT_COUNTERS_PORT ? s->port.used : 0;
}

void
tt_counters_shard_row(const struct tt_shard *s, enum tt_counters_table t, uint32_t i,
		struct tt_counters_row *out)
{
	(void)t;
	row_of(&s->port, TT_COUNTERS_PORT, i, out);
}

static int
by_scope(const void *a, const void *b)
{
	const struct tt_counters_row *x = a, *y = b;

	if (x->sensor != y->sensor)
		return x->sensor < y->sensor ? -1 : 1;
	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	return x->item < y->item ? -1 : x->item > y->item;
}

static int
by_sensor(const void *a, const void *b)
{
	const struct tt_counters_row *x = a, *y = b;

	if (x->sensor != y->sensor)
		return x->sensor < y->sensor ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
by_minute(const void *a, const void *b)
{
	const struct tt_counters_row *x = a, *y = b;

	if (x->minute != y->minute)
		return x->minute < y->minute ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int
tt_counters_sorted(const struct tt_merged *m, enum tt_counters_table t,
		enum tt_counters_order o, uint32_t from_minute, uint32_t end_minute,
		struct tt_counters_rows *out)
{
	static int (*const cmp[])(const void *, const void *) = {
		[TT_COUNTERS_BY_SCOPE] = by_scope,
		[TT_COUNTERS_BY_SENSOR] = by_sensor,
		[TT_COUNTERS_BY_MINUTE] = by_minute,
	};
	const struct tt_table *tab = table_of(m, t);
	uint32_t i;

	out->n = 0;
	out->row = malloc((tab->used ? tab->used : 1) * sizeof(*out->row));
	if (out->row == NULL)
		return -ENOMEM;
	for (i = 0; i < tab->used; i++) {
		uint32_t m = cell_key(tab, tab->order[i])->minute;

		if (m >= from_minute && m < end_minute)
			row_of(tab, t, i, &out->row[out->n++]);
	}
	/* Every order ends in a unique key, so an unstable sort gives one result. */
	qsort(out->row, out->n, sizeof(*out->row), cmp[o]);
	return 0;
}

void
tt_counters_rows_free(struct tt_counters_rows *r)
{
	free(r->row);
	r->row = NULL;
	r->n = 0;
}

uint64_t
tt_counters_scope_pkts(const struct tt_merged *m, uint16_t sensor)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < m->port.used; i++) {
		uint32_t slot = m->port.order[i];

		if (cell_key(&m->port, slot)->sensor == sensor)
			n += cell_values(&m->port, slot)[TT_PORT_COL_PKTS];
	}
	return n;
}

uint32_t
tt_counters_cells(const struct tt_merged *m)
{
	return m->port.used + m->country.used + m->hll.used;
}
