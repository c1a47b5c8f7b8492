/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sensor lookups, per burst on every worker concurrently: the tables
 * (sensor.c builds them) are read-only by then. No allocation, no log.
 */
#include "tt_sensor.h"

#include <rte_common.h>
#include <rte_fib.h>
#include <rte_fib6.h>
#include <rte_prefetch.h>

#include "tt_data_path.h"
#include "sensor_internal.h"

enum {
	LOOKUP_CHUNK = 64,                /* addresses a bulk FIB lookup is given at once */
};

/* A leaf's sensor of host byte @p host. */
TT_DATA_PATH static inline uint16_t
leaf_sensor(const struct tt_sensor_table *t, const struct leaf *l, uint32_t host)
{
	uint32_t w = host / 64;
	uint64_t upto = (2ull << (host % 64)) - 1;    /* host % 64 == 63: all bits */
	uint32_t run = l->before[w] + (uint32_t)__builtin_popcountll(l->starts[w] & upto) - 1;

	return l->ids_at == UINT32_MAX ? l->ids[run] : t->leaf_ids[l->ids_at + run];
}

/*
 * Sensor @p s if it receives on @p port, else TT_SENSOR_NONE: a packet to
 * a sensor's prefix that arrived on another port is not that sensor's.
 * Without a branch: any index past the table's (no route's next hop 0
 * less one, a leaf's gap, TT_SENSOR_NONE) reads the port past the last
 * sensor's, NO_PORT. As a branch it mispredicted where dark and other
 * packets mix (flood at one sensor, a quarter of its packets in no
 * prefix, medians of 5 interleaved runs: 101.6 -> 96.6 busy cycles a
 * packet without it).
 *
 * Asked where each lookup writes its sensor. A pass of its own over the
 * burst after the lookups (which had replaced a call a packet) cost ~11
 * instructions a packet; callgrind of the worker, flood at one sensor
 * 514.6 -> 506.7, mixed 2,000-frame loop 888.1 -> 879.9.
 */
TT_DATA_PATH static inline uint16_t
on_port(const struct tt_sensor_table *t, uint16_t port, uint32_t s)
{
	return t->port[RTE_MIN(s, t->n_sensors)] == port ? (uint16_t)s : TT_SENSOR_NONE;
}

/* Next hop 0 is "no route" (0 - 1 is past the table); sensor i is stored as i + 1. */
TT_DATA_PATH static inline void
next_hops_to_sensors(const struct tt_sensor_table *t, uint16_t port, const uint64_t *nh,
		uint16_t *sensors, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		sensors[i] = on_port(t, port, (uint32_t)nh[i] - 1);
}

/*
 * Next hops of leaves resolve in a second pass, after every leaf of the chunk
 * has been prefetched: their misses overlap instead of following each other.
 */
TT_DATA_PATH static inline void
next_hops_to_sensors_v4(const struct tt_sensor_table *t, uint16_t port, const uint32_t *dst,
		const uint64_t *nh, uint16_t *sensors, unsigned int n)
{
	uint8_t in_leaf[LOOKUP_CHUNK];
	unsigned int i, n_leaf = 0;

	for (i = 0; i < n; i++) {
		if (nh[i] > t->n_sensors) {
			rte_prefetch0(&t->leaves[nh[i] - t->n_sensors - 1]);
			in_leaf[n_leaf++] = (uint8_t)i;
		} else {
			sensors[i] = on_port(t, port, (uint32_t)nh[i] - 1);
		}
	}
	for (i = 0; i < n_leaf; i++) {
		unsigned int k = in_leaf[i];

		sensors[k] = on_port(t, port,
			leaf_sensor(t, &t->leaves[nh[k] - t->n_sensors - 1], dst[k] & 0xff));
	}
}

TT_DATA_PATH void
tt_sensor_lookup_v4(const struct tt_sensor_table *t, uint16_t port, uint32_t *dst,
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
		next_hops_to_sensors_v4(t, port, dst + done, nh, sensors + done, k);
	}
}

TT_DATA_PATH void
tt_sensor_lookup_v6(const struct tt_sensor_table *t, uint16_t port, uint8_t (*dst)[16],
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
		next_hops_to_sensors(t, port, nh, sensors + done, k);
	}
}
