/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker-side HLL sets, from pools allocated at start: setting a register
 * costs a short scan of a sparse set (32 registers, two cache lines) or one
 * byte compare in a dense one. No allocation, no atomics; one owner.
 */
#include "tt_hll.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

struct tt_hll_pool *
tt_hll_pool_create(uint32_t n_sparse, uint32_t n_dense)
{
	struct tt_hll_pool *p;

	if (n_sparse == 0 || n_sparse >= DENSE_BIT || n_dense >= DENSE_BIT) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->n_sparse = n_sparse;
	p->n_dense = n_dense;
	p->sparse = calloc(n_sparse, sizeof(*p->sparse));
	p->dense = n_dense ? calloc(n_dense, TT_HLL_REGISTERS) : NULL;
	if (p->sparse == NULL || (n_dense != 0 && p->dense == NULL)) {
		tt_hll_pool_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void
tt_hll_pool_free(struct tt_hll_pool *p)
{
	if (p == NULL)
		return;
	free(p->sparse);
	free(p->dense);
	free(p);
}

void
tt_hll_pool_reset(struct tt_hll_pool *p)
{
	uint32_t i;

	for (i = 0; i < p->used_sparse; i++)
		p->sparse[i].n = 0;
	memset(p->dense, 0, (size_t)p->used_dense * TT_HLL_REGISTERS);
	p->used_sparse = 0;
	p->used_dense = 0;
	p->dropped = 0;
}

static uint8_t *
dense_of(const struct tt_hll_pool *p, uint32_t handle)
{
	return p->dense + (size_t)(handle & ~DENSE_BIT) * TT_HLL_REGISTERS;
}

static uint32_t
take_dense(struct tt_hll_pool *p)
{
	return p->used_dense < p->n_dense ? (p->used_dense++ | DENSE_BIT) : 0;
}

void
tt_hll_pool_add(struct tt_hll_pool *p, uint32_t *handle, uint16_t index, uint8_t rank)
{
	struct sparse_set *s;
	uint8_t *d;
	uint32_t i;

	if (*handle == 0) {
		if (p->used_sparse < p->n_sparse)
			*handle = ++p->used_sparse;        /* sparse i is handle i + 1 */
		else
			*handle = take_dense(p);
		if (*handle == 0) {
			p->dropped++;
			return;
		}
	}
	if (*handle & DENSE_BIT) {
		d = dense_of(p, *handle);
		if (rank > d[index])
			d[index] = rank;
		return;
	}
	s = &p->sparse[*handle - 1];
	for (i = 0; i < s->n; i++) {
		if (s->index[i] == index) {
			if (rank > s->rank[i])
				s->rank[i] = rank;
			return;
		}
	}
	if (s->n < TT_HLL_POOL_SPARSE_MAX) {
		s->index[s->n] = index;
		s->rank[s->n++] = rank;
		return;
	}
	/* Full: move to a dense set; the sparse one stays taken until reset. */
	i = take_dense(p);
	if (i == 0) {
		p->dropped++;
		return;
	}
	d = dense_of(p, i);
	for (uint32_t k = 0; k < s->n; k++)
		d[s->index[k]] = s->rank[k];
	if (rank > d[index])
		d[index] = rank;
	*handle = i;
}

void
tt_hll_pool_prefetch(const struct tt_hll_pool *p, uint32_t handle, uint16_t index)
{
	const uint8_t *s;

	if (handle == 0)
		return;
	if (handle & DENSE_BIT) {
		__builtin_prefetch(dense_of(p, handle) + index, 1);
		return;
	}
	s = (const uint8_t *)&p->sparse[handle - 1];
	__builtin_prefetch(s, 1);
	__builtin_prefetch(s + sizeof(p->sparse[0]) - 1, 1);
}

int
tt_hll_pool_merge_into(const struct tt_hll_pool *p, uint32_t handle, struct tt_hll *dst)
{
	uint32_t sorted[TT_HLL_POOL_SPARSE_MAX];
	struct tt_hll view = { 0 };
	const struct sparse_set *s;
	uint32_t i;

	if (handle == 0)
		return 0;
	if (handle & DENSE_BIT) {
		view.dense = dense_of(p, handle);
		return tt_hll_merge(dst, &view);
	}
	/* In index order, for one linear merge into dst. */
	s = &p->sparse[handle - 1];
	for (i = 0; i < s->n; i++) {
		uint32_t e = (uint32_t)s->index[i] << 8 | s->rank[i], k = i;

		for (; k > 0 && (sorted[k - 1] >> 8) > s->index[i]; k--)
			sorted[k] = sorted[k - 1];
		sorted[k] = e;
	}
	view.sparse = sorted;
	view.n = s->n;
	return tt_hll_merge(dst, &view);
}

uint64_t
tt_hll_pool_dropped(const struct tt_hll_pool *p)
{
	return p->dropped;
}

void
tt_hll_pool_free_sets(const struct tt_hll_pool *p, uint32_t *sparse, uint32_t *dense)
{
	*sparse = p->n_sparse - p->used_sparse;
	*dense = p->n_dense - p->used_dense;
}

uint32_t
tt_hll_pool_capacity_sparse(const struct tt_hll_pool *p)
{
	return p->n_sparse;
}

uint32_t
tt_hll_pool_capacity_dense(const struct tt_hll_pool *p)
{
	return p->n_dense;
}

uint64_t
tt_hll_pool_memory(const struct tt_hll_pool *p)
{
	return sizeof(*p) + (uint64_t)p->n_sparse * sizeof(*p->sparse) +
		(uint64_t)p->n_dense * TT_HLL_REGISTERS;
}
