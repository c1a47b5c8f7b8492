/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker life cycle and the control side of the shard hand-off.
 * Control thread only.
 */
#include "tt_worker.h"

#include <errno.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "tt_counters.h"
#include "worker_internal.h"

struct tt_worker *
tt_worker_create(const struct tt_worker_conf *conf)
{
	struct tt_worker *w;
	int socket = (int)rte_lcore_to_socket_id(conf->lcore_id);
	unsigned int i;

	if (conf->n_rxq > TT_WORKER_MAX_RXQ || conf->sensors == NULL) {
		rte_errno = EINVAL;
		return NULL;
	}
	w = rte_zmalloc_socket("tt_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, socket);
	if (w == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	w->conf = *conf;
	w->first_tables.sensors = conf->sensors;
	w->first_tables.geo = conf->geo;
	w->first_tables.home_country = conf->home_country;
	memcpy(w->first_tables.watched, conf->watched, sizeof(conf->watched));
	w->next_tables = &w->first_tables;
	for (i = 0; i < 2; i++) {
		w->interval[i].counts = tt_counters_create(&conf->counters);
		w->interval[i].sources = tt_sources_deltas_create(conf->source_deltas ?
			conf->source_deltas : 64, false);
	}
	w->sources = tt_sources_table_create(&conf->sources);
	if (w->interval[0].counts == NULL || w->interval[1].counts == NULL ||
			w->interval[0].sources == NULL || w->interval[1].sources == NULL ||
			w->sources == NULL) {
		rte_errno = errno != 0 ? errno : ENOMEM;
		tt_worker_free(w);
		return NULL;
	}
	return w;
}

void
tt_worker_free(struct tt_worker *w)
{
	unsigned int i;

	if (w == NULL)
		return;
	for (i = 0; i < 2; i++) {
		tt_counters_free(w->interval[i].counts);
		tt_sources_deltas_free(w->interval[i].sources);
	}
	tt_sources_table_free(w->sources);
	rte_free(w);
}

void
tt_worker_stop(struct tt_worker *w)
{
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
}

const struct tt_worker_interval *
tt_worker_swap(struct tt_worker *w, unsigned int timeout_ms)
{
	uint32_t want = w->swap_request + 1;   /* ctl is the only writer */
	uint64_t deadline = rte_get_timer_cycles() +
		rte_get_timer_hz() * timeout_ms / 1000;

	__atomic_store_n(&w->swap_request, want, __ATOMIC_RELEASE);
	for (;;) {
		if (__atomic_load_n(&w->swap_ack, __ATOMIC_ACQUIRE) == want)
			break;
		if (__atomic_load_n(&w->exited, __ATOMIC_ACQUIRE)) {
			/* The lcore returned: the control plane owns both
			 * shards and takes its own request. */
			uint32_t ack = __atomic_load_n(&w->swap_ack, __ATOMIC_ACQUIRE);

			swap_take_request(w, &ack);
			break;
		}
		if (rte_get_timer_cycles() > deadline) {
			/* Take the request back so the next swap asks again. The
			 * worker only ever moves forward (request ahead of ack),
			 * so once it reads the old value it will not flip. */
			__atomic_store_n(&w->swap_request, want - 1, __ATOMIC_RELEASE);
			if (__atomic_load_n(&w->swap_ack, __ATOMIC_ACQUIRE) != want)
				return NULL;
			__atomic_store_n(&w->swap_request, want, __ATOMIC_RELEASE);
			break;
		}
		rte_pause();
	}
	/* The worker now writes the interval of ack want; the one before is ours. */
	return swap_written(w, want - 1);
}

void
tt_worker_set_tables(struct tt_worker *w, const struct tt_worker_tables *t)
{
	/* No request is pending here (tt_worker_swap() leaves none), so the
	 * worker reads it only after the next request, whose release store
	 * publishes it (and a worker not yet started reads it with acquire). */
	__atomic_store_n(&w->next_tables, t, __ATOMIC_RELEASE);
}

void
tt_worker_interval_reset(const struct tt_worker_interval *i)
{
	tt_counters_reset(i->counts);
	tt_sources_deltas_reset(i->sources);
}

void
tt_worker_read_stats(const struct tt_worker *w, struct tt_worker_stats *out)
{
	const uint64_t *src = (const uint64_t *)&w->stats;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

bool
tt_worker_wants_swap(const struct tt_worker *w)
{
	return __atomic_load_n(&w->wants_swap, __ATOMIC_ACQUIRE) != 0;
}

bool
tt_worker_drained(const struct tt_worker *w)
{
	return __atomic_load_n(&w->drained, __ATOMIC_ACQUIRE) != 0;
}

void
tt_worker_source_stats(const struct tt_worker *w, struct tt_sources_table_stats *out)
{
	tt_sources_table_stats(w->sources, out);
}

const struct tt_worker_conf *
tt_worker_get_conf(const struct tt_worker *w)
{
	return &w->conf;
}
