/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Start-up diagnostics. Nothing here runs once the workers are launched.
 */
#include "tt_diag.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

/*
 * EAL holds a write lock on <runtime dir>/config for as long as a primary
 * process lives (rte_eal_config_create()); F_GETLK names its holder.
 * @return the holder's pid, or 0.
 */
static pid_t
prefix_holder(void)
{
	char path[4096];
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	const char *dir = rte_eal_get_runtime_dir();
	int fd;

	if (dir == NULL || dir[0] == '\0')
		return 0;
	snprintf(path, sizeof(path), "%s/config", dir);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return 0;
	if (fcntl(fd, F_GETLK, &lk) != 0 || lk.l_type == F_UNLCK)
		lk.l_pid = 0;
	close(fd);
	return lk.l_pid;
}

/* Reserved hugepages of the default size (/proc/meminfo), or -1. */
static long
hugepages_total(void)
{
	char line[256];
	long n = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "HugePages_Total: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static bool
hugetlbfs_mounted(void)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "r");

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, " hugetlbfs ") != NULL;
	fclose(f);
	return found;
}

const char *
tt_diag_eal_init(int eal_errno, char *buf, size_t len)
{
	const char *dir = rte_eal_get_runtime_dir();
	const char *prefix = dir != NULL ? strrchr(dir, '/') : NULL;
	pid_t holder = prefix_holder();
	long pages;

	prefix = prefix != NULL ? prefix + 1 : "rte";
	if (holder > 0) {
		snprintf(buf, len, "--file-prefix=%s is in use by process %ld (another teiten "
			"or DPDK primary process on %s): stop it, or give this run another "
			"--file-prefix", prefix, (long)holder, dir);
		return buf;
	}
	switch (eal_errno) {
	case EACCES:
		pages = hugepages_total();
		if (pages == 0)
			snprintf(buf, len, "no hugepages: none are reserved; reserve them "
				"(echo 1024 > /proc/sys/vm/nr_hugepages) and mount hugetlbfs "
				"(mount -t hugetlbfs nodev /dev/hugepages), or run with --no-huge "
				"(no dpdk-dumpcap then)");
		else if (!hugetlbfs_mounted())
			snprintf(buf, len, "no hugepages: %ld are reserved but hugetlbfs is not "
				"mounted; mount it (mount -t hugetlbfs nodev /dev/hugepages), or run "
				"with --no-huge", pages);
		else
			snprintf(buf, len, "no usable hugepages: check that --huge-dir (if given) "
				"is on a hugetlbfs mount this user may write, and that hugepages "
				"of its size are reserved (%ld of the default size); or run with "
				"--no-huge", pages);
		break;
	case ENOMEM:
		snprintf(buf, len, "not enough memory for the EAL: lower -m, or reserve more "
			"hugepages (%ld of the default size reserved)", hugepages_total());
		break;
	case EINVAL:
		snprintf(buf, len, "invalid EAL options: the EAL lines above say which "
			"(teiten [EAL options] -- --config FILE)");
		break;
	case ENODEV:
		snprintf(buf, len, "a device failed to probe (the EAL lines above name it): "
			"check -a and --vdev, and the files a --vdev names");
		break;
	default:
		snprintf(buf, len, "%s (the EAL lines above say more; check lcores (-l), "
			"memory (-m, hugepages), -a and --vdev)",
			eal_errno != 0 ? rte_strerror(eal_errno) : "unknown reason");
		break;
	}
	return buf;
}

const char *
tt_diag_memory(char *buf, size_t len)
{
	struct rte_malloc_socket_stats s;
	int socket = (int)rte_socket_id();

	if (rte_malloc_get_socket_stats(socket < 0 ? 0 : socket, &s) != 0) {
		snprintf(buf, len, "raise -m (EAL memory) or reserve more hugepages");
		return buf;
	}
	snprintf(buf, len, "DPDK memory: %zu of %zu MiB free, largest block %zu MiB: raise -m "
		"(EAL memory, MiB) or reserve more hugepages", s.heap_freesz_bytes >> 20,
		s.heap_totalsz_bytes >> 20, s.greatest_free_size >> 20);
	return buf;
}
