/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker-side HLL sets, from pools allocated at start (hll.c): setting a
 * register costs a short scan of a sparse set (32 registers, two cache
 * lines) or one byte compare in a dense one. No allocation, no atomics; one
 * owner, the pool's shard's worker.
 */
#include "tt_hll.h"

#include "tt_data_path.h"
#include "hll_internal.h"

TT_DATA_PATH static uint32_t
take_dense(struct tt_hll_pool *p)
{
	return p->used_dense < p->n_dense ? (p->used_dense++ | DENSE_BIT) : 0;
}

TT_DATA_PATH void
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

TT_DATA_PATH void
tt_hll_pool_prefetch(const struct tt_hll_pool *p, uint32_t handle, uint16_t index)
{
	const uint8_t *s;

	if (handle == 0)
		return;
	if (handle & DENSE_BIT) {
		tt_prefetch_write(dense_of(p, handle) + index);
		return;
	}
	s = (const uint8_t *)&p->sparse[handle - 1];
	tt_prefetch_write(s);
	tt_prefetch_write(s + sizeof(p->sparse[0]) - 1);
}

TT_DATA_PATH void
tt_hll_pool_free_sets(const struct tt_hll_pool *p, uint32_t *sparse, uint32_t *dense)
{
	*sparse = p->n_sparse - p->used_sparse;
	*dense = p->n_dense - p->used_dense;
}

TT_DATA_PATH uint32_t
tt_hll_pool_capacity_sparse(const struct tt_hll_pool *p)
{
	return p->n_sparse;
}

TT_DATA_PATH uint32_t
tt_hll_pool_capacity_dense(const struct tt_hll_pool *p)
{
	return p->n_dense;
}
