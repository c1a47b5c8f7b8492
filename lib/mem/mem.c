/* SPDX-License-Identifier: BSD-3-Clause */
#include "tt_mem.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

enum { HUGE_PAGE = 2u << 20 };

void
tt_mem_prefault(void *p, size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)p, end = start + bytes;
	uintptr_t huge_start = (start + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t huge_end = end & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t first, last, a;

	if (p == NULL || bytes == 0)
		return;
	if (huge_end > huge_start)
		(void)madvise((void *)huge_start, huge_end - huge_start, MADV_HUGEPAGE);
	/* Whole pages only: the allocator's own bytes around the block stay as they are. */
	first = (start + page - 1) & ~(uintptr_t)(page - 1);
	last = end & ~(uintptr_t)(page - 1);
	if (last <= first)
		return;
#ifdef MADV_POPULATE_WRITE
	if (madvise((void *)first, last - first, MADV_POPULATE_WRITE) == 0)
		return;
#endif
	/* Older kernels: write each page's first byte back to itself. */
	for (a = first; a < last; a += page) {
		volatile uint8_t *b = (volatile uint8_t *)a;

		*b = *b;
	}
}
