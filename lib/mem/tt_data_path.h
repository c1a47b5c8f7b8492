/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_DATA_PATH_H
#define TT_DATA_PATH_H

/*
 * TT_DATA_PATH marks a function a worker runs per packet (the *_dp.c
 * files). GCC's `hot` attribute puts it in .text.hot, which the linker lays
 * out ahead of the rest of the program's code, so the per-packet code sits
 * together (~14 KiB) and changes to the control plane's code do not move
 * it. app/teiten/main.c starts the section on a page of its own, so even
 * the little code placed before it (error paths GCC moves out of line,
 * main) moves it only by whole pages.
 *
 * Why: a core's branch predictors and caches index code by its address,
 * and the same data path at another address measured several percent
 * apart. A commit that changed only the order of the run summary's lines
 * (lib/scope) moved the one-sensor flood from 100.8 to 105.9 busy cycles a
 * packet and the mixed capture from 254.8 to 262.4, in one interleaved
 * run. With the data path in .text.hot, a function added to the control
 * plane changed nothing (flood 105.2 and 106.0, mixed 256.9 and 256.9,
 * Mirai-type flood 238.4 and 238.3). It makes no code faster by itself; it
 * makes a measurement of a data-path change mean what it says.
 */
#define TT_DATA_PATH __attribute__((hot))

/*
 * Prefetch the line at @p p, to read or to write it: a hint, never a fault.
 *
 * The DPDK-free libraries' data-path prefetches go through these (the
 * worker, sensor and geo code use DPDK's rte_prefetch0(), an asm statement
 * of its own that is kept for the same reason). GCC takes __builtin_prefetch
 * for free of side effects, so it finds a function whose body is only
 * prefetches "const" and deletes the calls to it as dead code: at -O2,
 * GCC 12 compiled the counters' cell prefetch, then a function of its own,
 * to a bare `ret` (its prefetch_cell() calls went in the first dead-code
 * pass), so the counting stage's cell prefetches had never been issued,
 * and with -flto the HLL registers' would have gone the same way. The
 * empty asm statement is a side effect the compiler must keep, and with it
 * the prefetch beside it. It costs
 * nothing: no instruction, no clobber.
 */
static inline __attribute__((always_inline)) void
tt_prefetch(const void *p)
{
	__builtin_prefetch(p, 0);
	__asm__ volatile("" : : "r"(p));
}

static inline __attribute__((always_inline)) void
tt_prefetch_write(const void *p)
{
	__builtin_prefetch(p, 1);
	__asm__ volatile("" : : "r"(p));
}

#endif /* TT_DATA_PATH_H */
