/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_SENSOR_H
#define TT_SENSOR_H

/*
 * Destination address -> sensor (DESIGN.md section 4), on DPDK's FIB
 * libraries: DIR-24-8 for IPv4, a trie for IPv6. Built once by the control
 * plane, then read-only and shared by every worker without locks.
 * Backed module: needs EAL (FIB tables live in rte_malloc memory).
 */

#include <stdint.h>

struct tt_config;
struct tt_sensor_table;

/* Next hop of an address in no sensor prefix. */
#define TT_SENSOR_NONE UINT16_MAX

/**
 * Build the tables from every sensor's prefixes. Control thread.
 * @return the table, or NULL with rte_errno set (EINVAL, ENOMEM, ENOSPC).
 */
struct tt_sensor_table *tt_sensor_create(const struct tt_config *cfg, int socket_id);

/** Free; NULL is a no-op. Control thread, after every worker has stopped. */
void tt_sensor_free(struct tt_sensor_table *t);

/**
 * Look up IPv4 destinations (host order) that arrived on @p port. Any
 * worker; read-only.
 * @param sensors  out: the sensor whose prefix holds the destination, if it
 *                 receives on @p port; else TT_SENSOR_NONE (no sensor's
 *                 prefix, or a packet to a sensor's prefix that arrived on
 *                 another port, which is not that sensor's)
 */
void tt_sensor_lookup_v4(const struct tt_sensor_table *t, uint16_t port, uint32_t *dst,
		uint16_t *sensors, unsigned int n);

/** The same for IPv6 destinations. */
void tt_sensor_lookup_v6(const struct tt_sensor_table *t, uint16_t port, uint8_t (*dst)[16],
		uint16_t *sensors, unsigned int n);

/** Bytes of memory the lookup tables hold. */
uint64_t tt_sensor_memory(const struct tt_sensor_table *t);

#endif /* TT_SENSOR_H */
