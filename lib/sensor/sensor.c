/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sensor lookup tables. Built by the control thread; lookups run on every
 * worker concurrently (the FIB data plane structures are read-only then).
 */
#include "tt_sensor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "tt_config.h"

RTE_LOG_REGISTER(tt_logtype_sensor, tt.sensor, NOTICE);
#define SENSOR_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_sensor, "sensor: " fmt "\n", ##__VA_ARGS__)

enum {
	FIB_NH_2B_MAX = (1 << 15) - 1,    /* DIR-24-8 2-byte entries keep a flag bit */
	LOOKUP_CHUNK = 64,
	LEAF_INLINE = 12,                 /* a leaf's runs kept in its own cache line */
};

/* Names FIB objects uniquely; DPDK limits the names to ~20 characters. */
static unsigned int table_serial;

/*
 * The last 8 bits of a /24 that prefixes longer than /24 split.
 *
 * DIR-24-8 gives such a /24 a tbl8 group of 256 next hops (1 KiB with 4-byte
 * entries). 100,000 /27s dealt to 64 sensors fill 12,500 groups (12.5 MiB),
 * and 100,000 single-address sensors scattered over as many /24s would fill
 * 100 MiB: every lookup into them misses the caches. A leaf is one cache line
 * instead: the host bytes where a run of one sensor (or of none) starts, as a
 * 256-bit map, and the runs' sensors. The FIB keeps every prefix up to /24
 * and one /24 route per leaf, so it never needs a tbl8.
 * Flood of 2^20 random sources at 64 sensors (100,000 /27s), busy cycles a
 * packet, interleaved medians: 332 -> 260 (a free lookup: 231).
 */
struct leaf {
	uint64_t starts[4];               /* bit b: a run starts at host byte b */
	uint8_t before[4];                /* runs starting in the words before */
	uint32_t ids_at;                  /* into leaf_ids; UINT32_MAX: runs are in ids */
	uint16_t ids[LEAF_INLINE];        /* runs <= LEAF_INLINE: each run's sensor */
} __rte_cache_aligned;

struct tt_sensor_table {
	struct rte_fib *fib4;              /* NULL when no IPv4 prefix */
	struct rte_fib6 *fib6;             /* NULL when no IPv6 prefix */
	uint32_t n_sensors;
	struct leaf *leaves;               /* next hop n_sensors + 1 + i is leaves[i] */
	uint16_t *leaf_ids;                /* runs of the leaves with more than LEAF_INLINE */
	uint64_t memory;
	uint16_t port[];                   /* [sensor] -> DPDK port id */
};

static inline uint32_t
prefix_v4(const struct tt_prefix *p)
{
	uint32_t ip;

	memcpy(&ip, p->addr, 4);
	return ntohl(ip);
}

/* The /24 a prefix longer than /24 lies in: its leaf's block. */
static inline uint32_t
block_of(const struct tt_prefix *p)
{
	return prefix_v4(p) & ~0xffu;
}

/* By address, so the long prefixes of one /24 (one leaf) are adjacent. */
static int
long_prefix_cmp(const void *a, const void *b)
{
	const struct tt_prefix *x = *(const struct tt_prefix *const *)a;
	const struct tt_prefix *y = *(const struct tt_prefix *const *)b;
	uint32_t ax = prefix_v4(x), ay = prefix_v4(y);

	return ax < ay ? -1 : ax > ay;
}

/* Runs of one sensor in a /24's 256 host bytes: fill the leaf, @return the runs. */
static uint32_t
leaf_fill(struct leaf *l, const uint16_t *by_host, uint16_t *ids)
{
	uint32_t b, n = 0;

	memset(l, 0, sizeof(*l));
	for (b = 0; b < 256; b++) {
		if (b != 0 && by_host[b] == by_host[b - 1])
			continue;
		l->starts[b / 64] |= 1ull << (b % 64);
		ids[n++] = by_host[b];
	}
	for (b = 1; b < 4; b++)
		l->before[b] = (uint8_t)(l->before[b - 1] +
			__builtin_popcountll(l->starts[b - 1]));
	return n;
}

/*
 * The leaves of every /24 that prefixes longer than /24 split. Prefixes are
 * disjoint (tt_config_load() refuses overlaps), so a leaf's host bytes belong
 * to its own prefixes or to none.
 * @param longp   those prefixes, sorted by address
 * @return 0, or -ENOMEM.
 */
static int
build_leaves(struct tt_sensor_table *t, const struct tt_prefix **longp, uint32_t n_long,
		uint32_t *n_leaves, int socket_id)
{
	uint16_t by_host[256], runs[256];
	uint32_t i, j, n = 0, n_ids = 0, ids_max = 0;

	for (i = 0; i < n_long; i = j) {
		for (j = i; j < n_long && block_of(longp[j]) == block_of(longp[i]); j++)
			;
		n++;
		/* k disjoint prefixes make at most 2k + 1 runs */
		if (2 * (j - i) + 1 > LEAF_INLINE)
			ids_max += RTE_MIN(2 * (j - i) + 1, 256u);
	}
	*n_leaves = n;
	if (n == 0)
		return 0;
	t->leaves = rte_zmalloc_socket("tt_sensor_leaf", (size_t)n * sizeof(*t->leaves),
		RTE_CACHE_LINE_SIZE, socket_id);
	t->leaf_ids = rte_malloc_socket("tt_sensor_runs",
		(size_t)RTE_MAX(ids_max, 1u) * sizeof(uint16_t), 0, socket_id);
	if (t->leaves == NULL || t->leaf_ids == NULL)
		return -ENOMEM;
	n = 0;
	for (i = 0; i < n_long; i = j) {
		struct leaf *l = &t->leaves[n++];
		uint32_t block = block_of(longp[i]), runs_n, k;

		for (k = 0; k < 256; k++)
			by_host[k] = TT_SENSOR_NONE;
		for (j = i; j < n_long && block_of(longp[j]) == block; j++) {
			uint32_t first = prefix_v4(longp[j]) & 0xff;
			uint32_t size = 1u << (32 - longp[j]->len);

			for (k = first; k < first + size; k++)
				by_host[k] = longp[j]->sensor;
		}
		runs_n = leaf_fill(l, by_host, runs);
		if (runs_n <= LEAF_INLINE) {
			l->ids_at = UINT32_MAX;
			memcpy(l->ids, runs, runs_n * sizeof(runs[0]));
		} else {
			l->ids_at = n_ids;
			memcpy(&t->leaf_ids[n_ids], runs, runs_n * sizeof(runs[0]));
			n_ids += runs_n;
		}
	}
	t->memory += (uint64_t)n * sizeof(*t->leaves) + (uint64_t)n_ids * sizeof(uint16_t);
	return 0;
}

/* A leaf's sensor of host byte @p host. */
static inline uint16_t
leaf_sensor(const struct tt_sensor_table *t, const struct leaf *l, uint32_t host)
{
	uint32_t w = host / 64;
	uint64_t upto = (2ull << (host % 64)) - 1;    /* host % 64 == 63: all bits */
	uint32_t run = l->before[w] + (uint32_t)__builtin_popcountll(l->starts[w] & upto) - 1;

	return l->ids_at == UINT32_MAX ? l->ids[run] : t->leaf_ids[l->ids_at + run];
}

static struct rte_fib *
build_fib4(struct tt_sensor_table *t, const struct tt_config *cfg, int socket_id)
{
	struct rte_fib_conf conf = {
		.type = RTE_FIB_DIR24_8,
		.default_nh = 0,
	};
	const struct tt_prefix **longp = NULL;
	uint32_t i, n = 0, n_long = 0, n_leaves = 0, leaf;
	struct rte_fib *fib = NULL;
	char name[64];
	int rc;

	for (i = 0; i < cfg->n_prefixes; i++) {
		if (cfg->prefixes[i].family != 4)
			continue;
		n++;
		n_long += cfg->prefixes[i].len > 24;
	}
	if (n == 0)
		return NULL;
	longp = malloc((n_long ? n_long : 1) * sizeof(*longp));
	if (longp == NULL) {
		rc = -ENOMEM;
		goto err;
	}
	n_long = 0;
	for (i = 0; i < cfg->n_prefixes; i++)
		if (cfg->prefixes[i].family == 4 && cfg->prefixes[i].len > 24)
			longp[n_long++] = &cfg->prefixes[i];
	qsort(longp, n_long, sizeof(*longp), long_prefix_cmp);
	rc = build_leaves(t, longp, n_long, &n_leaves, socket_id);
	if (rc != 0)
		goto err;

	conf.max_routes = (int)(n - n_long + n_leaves);
	conf.dir24_8.num_tbl8 = 1;         /* no route is longer than /24 */
	conf.dir24_8.nh_sz = cfg->n_sensors + n_leaves < FIB_NH_2B_MAX ?
		RTE_FIB_DIR24_8_2B : RTE_FIB_DIR24_8_4B;
	snprintf(name, sizeof(name), "tt4_%u", table_serial);
	fib = rte_fib_create(name, socket_id, &conf);
	if (fib == NULL) {
		SENSOR_LOG(ERR, "IPv4 FIB of %u prefixes: %s", n, rte_strerror(rte_errno));
		rc = -rte_errno;
		goto err;
	}
	t->memory += ((uint64_t)1 << 24) * (conf.dir24_8.nh_sz == RTE_FIB_DIR24_8_2B ? 2 : 4) +
		256 * 4;
	for (i = 0; i < cfg->n_prefixes; i++) {
		const struct tt_prefix *p = &cfg->prefixes[i];

		if (p->family != 4 || p->len > 24)
			continue;
		rc = rte_fib_add(fib, prefix_v4(p), p->len, (uint64_t)p->sensor + 1);
		if (rc != 0) {
			SENSOR_LOG(ERR, "sensor %s: add %u.%u.%u.%u/%u: %s",
				cfg->sensors[p->sensor].name, p->addr[0], p->addr[1],
				p->addr[2], p->addr[3], p->len, rte_strerror(-rc));
			goto err;
		}
	}
	for (i = 0, leaf = 0; leaf < n_leaves; leaf++) {
		uint32_t block = block_of(longp[i]);
		uint64_t nh;

		/* A route there already means prefixes overlap: refused, not hidden. */
		rte_fib_lookup_bulk(fib, &block, &nh, 1);
		if (nh != 0) {
			SENSOR_LOG(ERR, "sensor %s: %u.%u.%u.%u/%u overlaps another sensor prefix",
				cfg->sensors[longp[i]->sensor].name, longp[i]->addr[0],
				longp[i]->addr[1], longp[i]->addr[2], longp[i]->addr[3],
				longp[i]->len);
			rc = -EINVAL;
			goto err;
		}
		rc = rte_fib_add(fib, block, 24, (uint64_t)cfg->n_sensors + 1 + leaf);
		if (rc != 0) {
			SENSOR_LOG(ERR, "the /24 of %u.%u.%u.%u/%u: %s", longp[i]->addr[0],
				longp[i]->addr[1], longp[i]->addr[2], longp[i]->addr[3],
				longp[i]->len, rte_strerror(-rc));
			goto err;
		}
		while (i < n_long && block_of(longp[i]) == block)
			i++;
	}
	free(longp);
	return fib;

err:
	free(longp);
	rte_fib_free(fib);
	rte_errno = -rc;
	return NULL;
}

static struct rte_fib6 *
build_fib6(const struct tt_config *cfg, int socket_id, uint64_t *memory)
{
	struct rte_fib6_conf conf = {
		.type = RTE_FIB6_TRIE,
		.default_nh = 0,
	};
	uint32_t i, n = 0, tbl8 = 0;
	struct rte_fib6 *fib;
	char name[64];

	for (i = 0; i < cfg->n_prefixes; i++) {
		const struct tt_prefix *p = &cfg->prefixes[i];

		if (p->family != 6)
			continue;
		n++;
		/* Each byte of depth past the first 24 bits can take one tbl8. */
		tbl8 += p->len > 24 ? (p->len - 24 + 7) / 8 : 0;
	}
	if (n == 0)
		return NULL;
	conf.max_routes = (int)n;
	conf.trie.nh_sz = RTE_FIB6_TRIE_4B;
	/* The trie refuses an add unless reserved + needed < total: one spare. */
	conf.trie.num_tbl8 = tbl8 + 1;
	snprintf(name, sizeof(name), "tt6_%u", table_serial);
	fib = rte_fib6_create(name, socket_id, &conf);
	if (fib == NULL) {
		SENSOR_LOG(ERR, "IPv6 FIB of %u prefixes: %s", n, rte_strerror(rte_errno));
		return NULL;
	}
	*memory += ((uint64_t)1 << 24) * 4 + (uint64_t)conf.trie.num_tbl8 * 256 * 4;
	for (i = 0; i < cfg->n_prefixes; i++) {
		const struct tt_prefix *p = &cfg->prefixes[i];
		int rc;

		if (p->family != 6)
			continue;
		rc = rte_fib6_add(fib, p->addr, p->len, (uint64_t)p->sensor + 1);
		if (rc != 0) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, p->addr, a, sizeof(a));
			SENSOR_LOG(ERR, "sensor %s: add %s/%u: %s",
				cfg->sensors[p->sensor].name, a, p->len, rte_strerror(-rc));
			rte_fib6_free(fib);
			rte_errno = -rc;
			return NULL;
		}
	}
	return fib;
}

struct tt_sensor_table *
tt_sensor_create(const struct tt_config *cfg, int socket_id)
{
	struct tt_sensor_table *t;
	bool has4 = false, has6 = false;
	uint32_t i;

	if (cfg == NULL || cfg->n_sensors == 0 || cfg->n_sensors > TT_MAX_SENSORS) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("tt_sensor", sizeof(*t) + cfg->n_sensors * sizeof(t->port[0]),
		RTE_CACHE_LINE_SIZE, socket_id);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->n_sensors = cfg->n_sensors;
	table_serial++;
	for (i = 0; i < cfg->n_sensors; i++)
		t->port[i] = cfg->sensors[i].port;
	for (i = 0; i < cfg->n_prefixes; i++) {
		has4 |= cfg->prefixes[i].family == 4;
		has6 |= cfg->prefixes[i].family == 6;
	}
	if (has4) {
		t->fib4 = build_fib4(t, cfg, socket_id);
		if (t->fib4 == NULL)
			goto err_free_table;
	}
	if (has6) {
		t->fib6 = build_fib6(cfg, socket_id, &t->memory);
		if (t->fib6 == NULL)
			goto err_free_fib4;
	}
	return t;

err_free_fib4:
	rte_fib_free(t->fib4);
err_free_table:
	rte_free(t->leaves);
	rte_free(t->leaf_ids);
	rte_free(t);
	return NULL;
}

void
tt_sensor_free(struct tt_sensor_table *t)
{
	if (t == NULL)
		return;
	rte_fib_free(t->fib4);
	rte_fib6_free(t->fib6);
	rte_free(t->leaves);
	rte_free(t->leaf_ids);
	rte_free(t);
}

/* Next hop 0 is "no route"; sensor i is stored as i + 1. */
static inline void
next_hops_to_sensors(const uint64_t *nh, uint16_t *sensors, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		sensors[i] = nh[i] == 0 ? TT_SENSOR_NONE : (uint16_t)(nh[i] - 1);
}

/*
 * Next hops of leaves resolve in a second pass, after every leaf of the chunk
 * has been prefetched: their misses overlap instead of following each other.
 */
static inline void
next_hops_to_sensors_v4(const struct tt_sensor_table *t, const uint32_t *dst,
		const uint64_t *nh, uint16_t *sensors, unsigned int n)
{
	uint8_t in_leaf[LOOKUP_CHUNK];
	unsigned int i, n_leaf = 0;

	for (i = 0; i < n; i++) {
		if (nh[i] > t->n_sensors) {
			rte_prefetch0(&t->leaves[nh[i] - t->n_sensors - 1]);
			in_leaf[n_leaf++] = (uint8_t)i;
		}
		sensors[i] = nh[i] == 0 ? TT_SENSOR_NONE : (uint16_t)(nh[i] - 1);
	}
	for (i = 0; i < n_leaf; i++) {
		unsigned int k = in_leaf[i];

		sensors[k] = leaf_sensor(t, &t->leaves[nh[k] - t->n_sensors - 1], dst[k] & 0xff);
	}
}

void
tt_sensor_lookup_v4(const struct tt_sensor_table *t, uint32_t *dst,
		uint16_t *sensors, unsigned int n)
{
	uint64_t nh[LOOKUP_CHUNK];
	unsigned int done, k;

	if (t->fib4 == NULL) {
		for (k = 0; k < n; k++)
			sensors[k] = TT_SENSOR_NONE;
		return;
	}
	for (done = 0; done < n; done += k) {
		k = RTE_MIN(n - done, (unsigned int)LOOKUP_CHUNK);
		rte_fib_lookup_bulk(t->fib4, dst + done, nh, (int)k);
		next_hops_to_sensors_v4(t, dst + done, nh, sensors + done, k);
	}
}

void
tt_sensor_lookup_v6(const struct tt_sensor_table *t, uint8_t (*dst)[16],
		uint16_t *sensors, unsigned int n)
{
	uint64_t nh[LOOKUP_CHUNK];
	unsigned int done, k;

	if (t->fib6 == NULL) {
		for (k = 0; k < n; k++)
			sensors[k] = TT_SENSOR_NONE;
		return;
	}
	for (done = 0; done < n; done += k) {
		k = RTE_MIN(n - done, (unsigned int)LOOKUP_CHUNK);
		rte_fib6_lookup_bulk(t->fib6, dst + done, nh, (int)k);
		next_hops_to_sensors(nh, sensors + done, k);
	}
}

uint16_t
tt_sensor_port(const struct tt_sensor_table *t, uint16_t sensor)
{
	return sensor < t->n_sensors ? t->port[sensor] : UINT16_MAX;
}

uint64_t
tt_sensor_memory(const struct tt_sensor_table *t)
{
	return t->memory;
}
