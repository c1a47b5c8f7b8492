/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef TT_PCAPFILE_H
#define TT_PCAPFILE_H

/*
 * A check of a classic pcap file before it is replayed: walks the record
 * headers (either byte order, micro- or nanosecond magic) without reading a
 * payload, and finds the first record libpcap would stop at. net_pcap ends a
 * replay quietly at such a record, so without this check the rest of the
 * file would be lost without a word.
 *
 * Pure module: libc only, no logging (the result carries a sentence).
 * Any thread; it only reads the file.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* libpcap refuses a record longer than this whatever the file's snaplen. */
#define TT_PCAPFILE_MAX_SNAPLEN 262144u

enum tt_pcapfile_state {
	TT_PCAPFILE_OK,                /* every record whole */
	TT_PCAPFILE_TRUNCATED,         /* the file ends inside its last record */
	TT_PCAPFILE_CORRUPT,           /* a record libpcap refuses: the replay stops */
};

struct tt_pcapfile_check {
	enum tt_pcapfile_state state;
	uint64_t file_size;
	uint64_t records;              /* whole records before the bad one (all when OK) */
	uint32_t snaplen;              /* as the header says */
	bool swapped;                  /* written in the other byte order */
	bool nano;                     /* nanosecond time stamps */
	/* The bad record, when state is not OK. */
	uint64_t bad_record;           /* 1-based, as Wireshark numbers frames */
	uint64_t bad_offset;           /* byte offset of its header */
	uint32_t bad_caplen;           /* its captured length (0: the header is cut) */
	uint64_t unread;               /* bytes from its header to the end of the file */
	/*
	 * Records longer than the snaplen (up to libpcap's maximum): libpcap
	 * replays them cut to the snaplen. A corrupt length often starts
	 * here, and the records after it are then misread.
	 */
	uint64_t over_snaplen;
	uint64_t first_over_record;    /* 1-based */
	uint64_t first_over_offset;
};

/**
 * Check the pcap file at @p path. Its size is taken once, at the start.
 * @param err  filled with one sentence saying what is wrong and what a
 *   replay loses, when the state is not OK (may be NULL).
 * @return 0 with @p res filled (res->state says), -EPROTONOSUPPORT when it
 *   is not a classic pcap file (pcapng, say: not checked), -EINVAL when it
 *   is not a regular file or shorter than a pcap header, -errno when it
 *   cannot be read.
 */
int tt_pcapfile_check(const char *path, struct tt_pcapfile_check *res,
		char *err, size_t errlen);

#endif /* TT_PCAPFILE_H */
