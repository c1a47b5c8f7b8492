/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap record-header walk (pcap-savefile(5)): a 24-byte file header, then
 * records of a 16-byte header (seconds, micro- or nanoseconds, captured
 * length, original length) and the captured bytes. Reads through a 64 KiB
 * window and seeks over payloads that do not fit it, so a file costs about
 * one read per 64 KiB of small frames, and no more for large ones.
 */
#include "tt_pcapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

enum {
	FILE_HEADER = 24,
	RECORD_HEADER = 16,
	WINDOW = 1 << 16,
};

enum {
	MAGIC_MICRO = 0xa1b2c3d4,
	MAGIC_NANO = 0xa1b23c4d,
};

struct reader {
	int fd;
	uint64_t size;
	uint64_t start;                /* file offset of buf[0] */
	size_t len;                    /* valid bytes in buf */
	uint8_t buf[WINDOW];
};

static uint32_t
get_u32(const uint8_t *p, bool swapped)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

/* @return n bytes at off (n <= WINDOW, off + n <= size), or NULL with errno set. */
static const uint8_t *
at(struct reader *r, uint64_t off, size_t n)
{
	ssize_t got;

	if (off >= r->start && off + n <= r->start + r->len)
		return r->buf + (off - r->start);
	r->start = off;
	r->len = 0;
	while (r->len < n) {
		got = pread(r->fd, r->buf + r->len, WINDOW - r->len, (off_t)(off + r->len));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			if (got == 0)
				errno = EIO;   /* shrank since it was measured */
			return NULL;
		}
		r->len += (size_t)got;
	}
	return r->buf;
}

static void
say(char *err, size_t errlen, const struct tt_pcapfile_check *c)
{
	int n = 0;

	if (err == NULL || errlen == 0)
		return;
	err[0] = '\0';
	if (c->state == TT_PCAPFILE_CORRUPT)
		n = snprintf(err, errlen, "record %llu at byte %llu: captured length %u is over "
			"the snapshot length %u and the %u bytes libpcap accepts: the replay would stop there and never read "
			"the %llu bytes from it to the end of the file",
			(unsigned long long)c->bad_record, (unsigned long long)c->bad_offset,
			c->bad_caplen, c->snaplen, TT_PCAPFILE_MAX_SNAPLEN,
			(unsigned long long)c->unread);
	else if (c->state == TT_PCAPFILE_TRUNCATED && c->bad_caplen == 0)
		n = snprintf(err, errlen, "record %llu at byte %llu: the file ends inside its "
			"header (%llu of %d bytes): the capture was cut off; one frame is lost",
			(unsigned long long)c->bad_record, (unsigned long long)c->bad_offset,
			(unsigned long long)c->unread, RECORD_HEADER);
	else if (c->state == TT_PCAPFILE_TRUNCATED)
		n = snprintf(err, errlen, "record %llu at byte %llu: the file ends inside it "
			"(%llu of %u captured bytes): the capture was cut off; that one frame is "
			"lost", (unsigned long long)c->bad_record, (unsigned long long)c->bad_offset,
			(unsigned long long)(c->unread - RECORD_HEADER), c->bad_caplen);
	if (c->over_snaplen != 0 && n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, "%s%llu records over the snapshot length "
			"%u, the first record %llu at byte %llu (libpcap cuts them to it; a "
			"corrupt length there would misalign what follows)", n > 0 ? "; " : "",
			(unsigned long long)c->over_snaplen, c->snaplen,
			(unsigned long long)c->first_over_record,
			(unsigned long long)c->first_over_offset);
}

int
tt_pcapfile_check(const char *path, struct tt_pcapfile_check *res, char *err, size_t errlen)
{
	struct reader *r = malloc(sizeof(*r));   /* 64 KiB: not on the stack */
	const uint8_t *h;
	uint64_t off, snaplen;
	struct stat st;
	uint32_t magic;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (r == NULL)
		return -ENOMEM;
	r->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (r->fd < 0) {
		rc = -errno;
		free(r);
		return rc;
	}
	if (fstat(r->fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < FILE_HEADER) {
		rc = -EINVAL;
		goto out;
	}
	r->size = (uint64_t)st.st_size;
	r->start = 0;
	r->len = 0;
	res->file_size = r->size;
	h = at(r, 0, FILE_HEADER);
	if (h == NULL) {
		rc = -errno;
		goto out;
	}
	memcpy(&magic, h, sizeof(magic));
	if (magic == MAGIC_MICRO || magic == MAGIC_NANO) {
		res->nano = magic == MAGIC_NANO;
	} else if (__builtin_bswap32(magic) == MAGIC_MICRO ||
			__builtin_bswap32(magic) == MAGIC_NANO) {
		res->swapped = true;
		res->nano = __builtin_bswap32(magic) == MAGIC_NANO;
	} else {
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	res->snaplen = get_u32(h + 16, res->swapped);
	/* as libpcap: a snaplen of 0 or past its maximum means its maximum */
	snaplen = res->snaplen == 0 || res->snaplen > TT_PCAPFILE_MAX_SNAPLEN ?
		TT_PCAPFILE_MAX_SNAPLEN : res->snaplen;

	for (off = FILE_HEADER; off < r->size; res->records++) {
		uint32_t caplen;

		if (r->size - off < RECORD_HEADER) {
			res->state = TT_PCAPFILE_TRUNCATED;
			break;
		}
		h = at(r, off, RECORD_HEADER);
		if (h == NULL) {
			rc = -errno;
			goto out;
		}
		caplen = get_u32(h + 8, res->swapped);
		if (caplen > TT_PCAPFILE_MAX_SNAPLEN) {
			res->state = TT_PCAPFILE_CORRUPT;
			res->bad_caplen = caplen;
			break;
		}
		if (caplen > snaplen && res->over_snaplen++ == 0) {
			res->first_over_record = res->records + 1;
			res->first_over_offset = off;
		}
		if (caplen > r->size - off - RECORD_HEADER) {
			res->state = TT_PCAPFILE_TRUNCATED;
			res->bad_caplen = caplen;
			break;
		}
		off += RECORD_HEADER + caplen;
	}
	if (res->state != TT_PCAPFILE_OK) {
		res->bad_record = res->records + 1;
		res->bad_offset = off;
		res->unread = r->size - off;
	}
	say(err, errlen, res);
out:
	close(r->fd);
	free(r);
	return rc;
}
