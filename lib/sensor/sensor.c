/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building the sensor lookup tables. Control thread only; the lookups, run
 * by every worker on the finished tables, are in sensor_dp.c.
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

#include "tt_config.h"
#include "sensor_internal.h"

RTE_LOG_REGISTER(tt_logtype_sensor, tt.sensor, NOTICE);
#define SENSOR_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_sensor, "sensor: " fmt "\n", ##__VA_ARGS__)

enum {
	FIB_NH_2B_MAX = (1 << 15) - 1,    /* DIR-24-8 2-byte entries keep a flag bit */
};

/* Names FIB objects uniquely; DPDK limits the names to ~20 characters. */
static unsigned int table_serial;

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
	t = rte_zmalloc_socket("tt_sensor", sizeof(*t) + (cfg->n_sensors + 1) * sizeof(t->port[0]),
		RTE_CACHE_LINE_SIZE, socket_id);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	t->n_sensors = cfg->n_sensors;
	table_serial++;
	for (i = 0; i < cfg->n_sensors; i++)
		t->port[i] = cfg->sensors[i].port;
	t->port[cfg->n_sensors] = NO_PORT;
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

uint64_t
tt_sensor_memory(const struct tt_sensor_table *t)
{
	return t->memory;
}
