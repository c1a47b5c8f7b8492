/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker pools sized from the sensors. Control thread only; the loader
 * (config.c) calls it once, last, on a config with no problem. A pool whose
 * key was given keeps that value; the others grow to so much a sensor
 * (tt_config.h, TT_*_PER_SENSOR) when that is more than the default.
 *
 * Why: with 4096 sensors a flood made the 512 dense HLL sets run out and
 * drop 31M register updates in 5 s, and its country cells overflow
 * (counted, but the figures then undercount).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "config_internal.h"

/* The larger of a pool's default and @p each a sensor (a power of two for cells). */
static uint32_t
per_sensor(uint32_t fallback, uint32_t n_sensors, uint32_t each, bool power_of_two)
{
	uint64_t want = (uint64_t)n_sensors * each;

	if (power_of_two)
		want = rte_align64pow2(want);
	if (want > TT_CONFIG_MAX_CELLS)
		want = TT_CONFIG_MAX_CELLS;
	return want > fallback ? (uint32_t)want : fallback;
}

void
tt_config_size_pools(const struct tt_config_loader *ld, struct tt_config *cfg)
{
	static const struct {
		size_t off;                /* a uint32_t of struct tt_config */
		uint32_t each;
		bool power_of_two;         /* a table's capacity */
	} grow[] = {
		{ offsetof(struct tt_config, hll_dense_sets), TT_HLL_DENSE_PER_SENSOR, false },
		{ offsetof(struct tt_config, hll_sparse_sets), TT_HLL_SPARSE_PER_SENSOR, false },
		{ offsetof(struct tt_config, hll_cells), TT_HLL_CELLS_PER_SENSOR, true },
		{ offsetof(struct tt_config, country_cells), TT_COUNTRY_CELLS_PER_SENSOR, true },
	};
	unsigned int g;

	for (g = 0; g < RTE_DIM(grow); g++) {
		uint32_t *pool = (uint32_t *)((char *)cfg + grow[g].off);

		if (!tt_config_field_given(ld, grow[g].off))
			*pool = per_sensor(*pool, cfg->n_sensors, grow[g].each,
				grow[g].power_of_two);
	}
}
