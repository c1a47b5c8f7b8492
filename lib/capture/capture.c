/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture guard (tt_capture.h). The control thread sets it up; the
 * primary's IPC thread, where rte_pdump serves dpdk-dumpcap, runs the
 * interposed rte_eth_remove_rx_callback(); the workers only report to the
 * readers' record.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE                    /* RTLD_NEXT, dlvsym() */
#endif
#include "tt_capture.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_rcu_qsbr.h>

RTE_LOG_REGISTER(tt_logtype_capture, tt.capture, NOTICE);
#define CAPTURE_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, tt_logtype_capture, "capture: " fmt "\n", ##__VA_ARGS__)

/* How long a waiting removal sleeps between looks: the worker it waits for may be preempted. */
enum { WAIT_STEP_US = 10 };

/*
 * The readers' record, in static storage: it is never freed, so a removal
 * that runs while the process shuts down still finds it. Sized for every
 * lcore DPDK can have (about 8.5 KiB).
 */
#define READERS_BYTES (sizeof(struct rte_rcu_qsbr) + \
	__RTE_QSBR_THRID_ARRAY_SIZE(RTE_MAX_LCORE) + \
	sizeof(struct rte_rcu_qsbr_cnt) * RTE_MAX_LCORE)
static uint8_t readers_mem[READERS_BYTES] __rte_cache_aligned;

/* Set once by the control thread (release); read by the IPC thread (acquire). */
static struct rte_rcu_qsbr *readers;

/* What the guard has done: IPC thread writes, any thread reads (relaxed). */
static uint64_t removals, waiting;

int
tt_capture_guard_init(unsigned int n_workers)
{
	struct rte_rcu_qsbr *v = (struct rte_rcu_qsbr *)readers_mem;

	if (n_workers == 0 || n_workers > RTE_MAX_LCORE ||
			rte_rcu_qsbr_get_memsize(n_workers) > sizeof(readers_mem))
		return -EINVAL;
	if (rte_rcu_qsbr_init(v, n_workers) != 0)
		return -rte_errno;
	__atomic_store_n(&readers, v, __ATOMIC_RELEASE);
	return 0;
}

struct rte_rcu_qsbr *
tt_capture_guard_readers(void)
{
	return __atomic_load_n(&readers, __ATOMIC_ACQUIRE);
}

void
tt_capture_guard_stats(struct tt_capture_guard_stats *out)
{
	out->removals = __atomic_load_n(&removals, __ATOMIC_RELAXED);
	out->waiting = __atomic_load_n(&waiting, __ATOMIC_RELAXED);
}

/* Until every worker online now has finished the burst it may be in. */
static void
wait_for_workers(struct rte_rcu_qsbr *v)
{
	uint64_t token = rte_rcu_qsbr_start(v);
	uint64_t t0 = rte_get_timer_cycles(), us;

	__atomic_fetch_add(&waiting, 1, __ATOMIC_RELAXED);
	while (rte_rcu_qsbr_check(v, token, false) == 0)
		rte_delay_us_sleep(WAIT_STEP_US);
	__atomic_fetch_sub(&waiting, 1, __ATOMIC_RELAXED);
	us = (rte_get_timer_cycles() - t0) * 1000000 / rte_get_timer_hz();
	__atomic_fetch_add(&removals, 1, __ATOMIC_RELAXED);
	CAPTURE_LOG(INFO, "an rx callback was removed; the workers left it within %" PRIu64 " us",
		us);
}

typedef int (*remove_rx_callback_fn)(uint16_t, uint16_t, const struct rte_eth_rxtx_callback *);

/*
 * Interposes ethdev's function of the same name and version for every
 * caller in the process (rte_pdump's server; teiten itself calls it
 * nowhere else), and adds the wait the function's documentation leaves to
 * its caller. Runs on the caller's thread, never on a worker: a worker
 * waiting here would wait for itself.
 */
int
rte_eth_remove_rx_callback(uint16_t port_id, uint16_t queue_id,
		const struct rte_eth_rxtx_callback *user_cb)
{
	static remove_rx_callback_fn ethdev_remove;
	remove_rx_callback_fn f = __atomic_load_n(&ethdev_remove, __ATOMIC_ACQUIRE);
	struct rte_rcu_qsbr *v;
	int rc;

	if (f == NULL) {
		f = (remove_rx_callback_fn)dlvsym(RTLD_NEXT, "rte_eth_remove_rx_callback",
			"DPDK_23");
		if (f == NULL)
			f = (remove_rx_callback_fn)dlsym(RTLD_NEXT, "rte_eth_remove_rx_callback");
		if (f == NULL) {
			CAPTURE_LOG(ERR, "ethdev's rte_eth_remove_rx_callback() not found: %s",
				dlerror());
			return -ENOTSUP;
		}
		__atomic_store_n(&ethdev_remove, f, __ATOMIC_RELEASE);
	}
	rc = f(port_id, queue_id, user_cb);
	v = tt_capture_guard_readers();
	if (rc == 0 && v != NULL)
		wait_for_workers(v);
	return rc;
}
