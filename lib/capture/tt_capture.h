/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_CAPTURE_H
#define TT_CAPTURE_H
/*
 * Live capture (dpdk-dumpcap through rte_pdump) without crashing the
 * workers when a capture ends.
 *
 * rte_pdump copies each packet in an rx callback, which runs on the worker
 * inside rte_eth_rx_burst(), into a ring and an mbuf pool that dpdk-dumpcap
 * (a secondary process) owns. When a capture ends, rte_pdump's server, in
 * the primary's IPC thread, unlinks the callback with
 * rte_eth_remove_rx_callback() and at once tells dpdk-dumpcap, which frees
 * the pool and the ring. DPDK 22.11 does not wait for a worker that is
 * still inside the callback (rte_ethdev.h asks the caller to), so that
 * worker goes on copying into freed memory. Seen here: with the worker's
 * core shared with other load, the appliance died in rte_pktmbuf_copy()
 * under rte_pcapng_copy() in 3 of 8 runs of the capture test.
 *
 * The guard adds the wait. teiten defines rte_eth_remove_rx_callback()
 * itself and exports it (app/teiten/meson.build), so rte_pdump's call
 * binds to it: it calls ethdev's, then waits until every running worker
 * has reported a quiescent state (DPDK's RCU library, rte_rcu_qsbr), that
 * is, has finished the burst it was in, before it returns and rte_pdump
 * answers dpdk-dumpcap. A worker reports once every few polls, outside any
 * burst (tt_worker_main()), so the wait is a few microseconds on a
 * dedicated core, or until the scheduler runs a preempted worker again.
 * Nothing changes per packet.
 */
#include <stdint.h>

struct rte_rcu_qsbr;

/**
 * Set the guard up for @p n_workers workers (thread ids 0 .. n_workers - 1,
 * each worker's index). Control thread, once, before rte_pdump_init() and
 * before any worker runs. @return 0, or -EINVAL past RTE_MAX_LCORE workers.
 */
int tt_capture_guard_init(unsigned int n_workers);

/** The readers' record the workers report to (tt_worker_conf.readers), or NULL before init. */
struct rte_rcu_qsbr *tt_capture_guard_readers(void);

/* What the guard has done; any thread. */
struct tt_capture_guard_stats {
	uint64_t removals;             /* callbacks removed through the guard */
	uint64_t waiting;              /* removals waiting for the workers now */
};

void tt_capture_guard_stats(struct tt_capture_guard_stats *out);

#endif /* TT_CAPTURE_H */
