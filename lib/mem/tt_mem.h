/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_MEM_H
#define TT_MEM_H
/*
 * Memory a worker writes per packet: its shards' tables, HLL pools and
 * source memory. The control thread allocates it (calloc or malloc, so the
 * sanitizers still see its bounds) and hands it to tt_mem_prefault() before
 * any worker runs, so that the data path never takes a page fault.
 *
 * Why: untouched calloc'd memory maps the zero page on its first read (a
 * prefetch is enough) and faults again on its first write, and that second
 * fault flushes the TLB of every core running the process: an IPI the
 * worker waits for. In a 3 s flood at 4096 sensors, 5% of the worker's
 * samples were that fault path (counters_table_find_or_add ->
 * do_wp_page -> flush_tlb_mm_range). The cost moves to start-up, and the
 * resident size is the configured capacity from the first second, which
 * is what an operator sizes the box for anyway.
 *
 * Large regions also ask for transparent huge pages (where the kernel is
 * set to "madvise" or "always"): random reads over tens of MiB of cells,
 * HLL registers and source entries then miss the TLB far less.
 */
#include <stddef.h>

/**
 * Map every page of [p, p + bytes) writable now, keeping its contents, and
 * ask for huge pages over its 2 MiB-aligned part. Control thread, before the
 * worker that will use it starts. Best effort: a kernel that refuses either
 * leaves the memory as it was (the data path then faults in as before).
 */
void tt_mem_prefault(void *p, size_t bytes);

#endif /* TT_MEM_H */
