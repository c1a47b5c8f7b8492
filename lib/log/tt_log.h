/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_LOG_H
#define TT_LOG_H

/*
 * The process's log stream: every rte_log() line (EAL, PMDs, every tt.*
 * type) marked with its level, and with the time unless journald stamps it.
 * Under journald (JOURNAL_STREAM names our stderr) a line starts with the
 * sd-daemon priority prefix "<3>" .. "<7>", which journald turns into the
 * entry's priority; elsewhere with "2026-04-01T09:00:00.123Z NOTICE ".
 * DPDK's own default stream also copies each line to syslog, which under
 * systemd put every line in the journal twice; this one writes stderr only.
 * Backed module (rte_log); main thread, before rte_eal_init().
 */

#include <stdbool.h>
#include <stdio.h>

enum tt_log_style {
	TT_LOG_TIMESTAMP,              /* "2026-04-01T09:00:00.123Z NOTICE " */
	TT_LOG_JOURNAL,                /* "<5>" */
};

/**
 * Send DPDK's log through a marked stream on stderr, its style chosen by
 * tt_log_under_journald(). Call once, before rte_eal_init().
 * @return 0, or -errno (the log then stays DPDK's default).
 */
int tt_log_init(void);

/** Does JOURNAL_STREAM ("device:inode") name the file open on @p fd? */
bool tt_log_under_journald(int fd);

/**
 * An unbuffered stream that writes to @p out, each line marked in @p style
 * with the level of the rte_log() message being written.
 * @return the stream, or NULL with errno set.
 */
FILE *tt_log_stream_open(FILE *out, enum tt_log_style style);

#endif /* TT_LOG_H */
