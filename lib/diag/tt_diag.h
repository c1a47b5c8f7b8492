/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_DIAG_H
#define TT_DIAG_H

/*
 * Why start-up failed, in the operator's terms: each explanation names the
 * option or config key that fixes it. DPDK reports these failures as a bare
 * errno (a busy --file-prefix even as "Success"); the facts that tell them
 * apart (the runtime folder's lock, the hugepage mounts, the heap) are read
 * here. Backed module; main thread, start-up only.
 */

#include <stddef.h>

/**
 * Explain a failed rte_eal_init() whose rte_errno was @p eal_errno: a
 * --file-prefix held by another process (and its pid), hugepages not
 * reserved or not mounted, too little memory for -m, bad EAL options.
 * @return @p buf, always a complete sentence.
 */
const char *tt_diag_eal_init(int eal_errno, char *buf, size_t len);

/**
 * The DPDK heap on this socket, for an allocation that failed at start:
 * "DPDK memory: 3 of 64 MiB free, largest block 3 MiB: raise -m ...".
 * Call after rte_eal_init(). @return @p buf.
 */
const char *tt_diag_memory(char *buf, size_t len);

#endif /* TT_DIAG_H */
