/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_HLL_INTERNAL_H
#define TT_HLL_INTERNAL_H

/*
 * A worker's pools of HLL sets, shared by their control side (hll.c:
 * create, reset, merge, free) and their per-packet side (hll_dp.c).
 */

#include <stddef.h>
#include <stdint.h>

#include "tt_hll.h"

/* A set's handle: 0 none yet, i + 1 sparse set i, DENSE_BIT | i dense set i. */
#define DENSE_BIT 0x80000000u

struct sparse_set {
	uint16_t index[TT_HLL_POOL_SPARSE_MAX];
	uint8_t rank[TT_HLL_POOL_SPARSE_MAX];
	uint8_t n;
};

struct tt_hll_pool {
	uint32_t n_sparse;
	uint32_t n_dense;
	uint32_t used_sparse;          /* bump allocation; reset returns all */
	uint32_t used_dense;
	uint64_t dropped;
	struct sparse_set *sparse;
	uint8_t *dense;                /* n_dense * TT_HLL_REGISTERS */
};

static inline uint8_t *
dense_of(const struct tt_hll_pool *p, uint32_t handle)
{
	return p->dense + (size_t)(handle & ~DENSE_BIT) * TT_HLL_REGISTERS;
}

#endif /* TT_HLL_INTERNAL_H */
