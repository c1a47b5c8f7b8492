/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sensor lookup tables. Built by the control thread; lookups run on every
 * worker concurrently (the FIB data plane structures are read-only then).
 */
#include "tt_sensor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "tt_config.h"

RTE_LOG_REGISTER(tt_logtype_sensor, tt.sensor, NOTICE);
#define SENSOR_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_sensor, "sensor: " fmt "\n", ##__VA_ARGS__)

enum {
	FIB_NH_2B_MAX = (1 << 15) - 1,    /* DIR-24-8 2-byte entries keep a flag bit */
	LOOKUP_CHUNK = 64,
};

/* Names FIB objects uniquely; DPDK limits the names to ~20 characters. */
static unsigned int table_serial;

struct tt_sensor_table {
	struct rte_fib *fib4;              /* NULL when no IPv4 prefix */
	struct rte_fib6 *fib6;             /* NULL when no IPv6 prefix */
	uint32_t n_sensors;
	uint64_t memory;
	uint16_t port[];                   /* [sensor] -> DPDK port id */
};

static struct rte_fib *
build_fib4(const struct tt_config *cfg, int socket_id, uint64_t *memory)
{
	struct rte_fib_conf conf = {
		.type = RTE_FIB_DIR24_8,
		.default_nh = 0,
	};
	uint32_t i, n = 0, tbl8 = 0;
	struct rte_fib *fib;
	char name[64];

	for (i = 0; i < cfg->n_prefixes; i++) {
		if (cfg->prefixes[i].family != 4)
			continue;
		n++;
		tbl8 += cfg->prefixes[i].len > 24;
	}
	if (n == 0)
		return NULL;
	conf.max_routes = (int)n;
	/* Each prefix longer than /24 needs at most one tbl8 group of 256 entries. */
	conf.dir24_8.num_tbl8 = RTE_MAX(tbl8, 1u);
	conf.dir24_8.nh_sz = (tbl8 < FIB_NH_2B_MAX && cfg->n_sensors < FIB_NH_2B_MAX) ?
		RTE_FIB_DIR24_8_2B : RTE_FIB_DIR24_8_4B;
	snprintf(name, sizeof(name), "tt4_%u", table_serial);
	fib = rte_fib_create(name, socket_id, &conf);
	if (fib == NULL) {
		SENSOR_LOG(ERR, "IPv4 FIB of %u prefixes: %s", n, rte_strerror(rte_errno));
		return NULL;
	}
	*memory += ((uint64_t)1 << 24) * (conf.dir24_8.nh_sz == RTE_FIB_DIR24_8_2B ? 2 : 4) +
		(uint64_t)conf.dir24_8.num_tbl8 * 256 * 4;
	for (i = 0; i < cfg->n_prefixes; i++) {
		const struct tt_prefix *p = &cfg->prefixes[i];
		uint32_t ip;
		int rc;

		if (p->family != 4)
			continue;
		memcpy(&ip, p->addr, 4);
		rc = rte_fib_add(fib, ntohl(ip), p->len, (uint64_t)p->sensor + 1);
		if (rc != 0) {
			SENSOR_LOG(ERR, "sensor %s: add %u.%u.%u.%u/%u: %s",
				cfg->sensors[p->sensor].name, p->addr[0], p->addr[1],
				p->addr[2], p->addr[3], p->len, rte_strerror(-rc));
			rte_fib_free(fib);
			rte_errno = -rc;
			return NULL;
		}
	}
	return fib;
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
		t->fib4 = build_fib4(cfg, socket_id, &t->memory);
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
		next_hops_to_sensors(nh, sensors + done, k);
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
