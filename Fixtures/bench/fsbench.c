/* fsbench: the host-mount workload of scripts/bench-hostmount, in one directory: a 64 MiB file
 * written and read sequentially in 1 MiB calls (the read after reopening, so that a FUSE mount
 * reads through its file system, not the page cache a write left), then 10,000 empty files
 * created, stat'ed and removed. Prints one JSON object of milliseconds (wall clock,
 * CLOCK_MONOTONIC), the best of ROUNDS rounds for each step.
 *
 *	fsbench DIR [ROUNDS] [FILES] [MIB]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fail(const char *what, const char *path) {
	fprintf(stderr, "fsbench: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static double best(double a, double b) { return a < 0 || b < a ? b : a; }

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: fsbench DIR [ROUNDS] [FILES] [MIB]\n");
		return 2;
	}
	const char *dir = argv[1];
	int rounds = argc > 2 ? atoi(argv[2]) : 3;
	int files = argc > 3 ? atoi(argv[3]) : 10000;
	int mib = argc > 4 ? atoi(argv[4]) : 64;
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	for (size_t i = 0; i < chunk; i++)
		buf[i] = (char)(i * 131 + 7);
	char path[4096];
	double write_ms = -1, read_ms = -1, create_ms = -1, stat_ms = -1, remove_ms = -1;

	for (int round = 0; round < rounds; round++) {
		snprintf(path, sizeof path, "%s/big", dir);
		double t = now_ms();
		int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0)
			fail("open", path);
		for (int i = 0; i < mib; i++)
			if (write(fd, buf, chunk) != (ssize_t)chunk)
				fail("write", path);
		if (close(fd) != 0)
			fail("close", path);
		write_ms = best(write_ms, now_ms() - t);

		t = now_ms();
		fd = open(path, O_RDONLY);
		if (fd < 0)
			fail("open", path);
		size_t total = 0;
		ssize_t n;
		while ((n = read(fd, buf, chunk)) > 0)
			total += (size_t)n;
		close(fd);
		read_ms = best(read_ms, now_ms() - t);
		if (total != (size_t)mib * chunk) {
			fprintf(stderr, "fsbench: read %zu bytes of %zu\n", total, (size_t)mib * chunk);
			return 1;
		}
		unlink(path);

		snprintf(path, sizeof path, "%s/files", dir);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			fail("mkdir", path);
		t = now_ms();
		for (int i = 0; i < files; i++) {
			snprintf(path, sizeof path, "%s/files/f%05d", dir, i);
			fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0644);
			if (fd < 0)
				fail("create", path);
			close(fd);
		}
		create_ms = best(create_ms, now_ms() - t);

		t = now_ms();
		struct stat st;
		for (int i = 0; i < files; i++) {
			snprintf(path, sizeof path, "%s/files/f%05d", dir, i);
			if (stat(path, &st) != 0)
				fail("stat", path);
		}
		stat_ms = best(stat_ms, now_ms() - t);

		t = now_ms();
		for (int i = 0; i < files; i++) {
			snprintf(path, sizeof path, "%s/files/f%05d", dir, i);
			if (unlink(path) != 0)
				fail("unlink", path);
		}
		remove_ms = best(remove_ms, now_ms() - t);
		snprintf(path, sizeof path, "%s/files", dir);
		rmdir(path);
	}
	printf("{\"write_ms\": %.3f, \"read_ms\": %.3f, \"create_ms\": %.3f, \"stat_ms\": %.3f, "
	    "\"remove_ms\": %.3f, \"mib\": %d, \"files\": %d, \"rounds\": %d}\n",
	    write_ms, read_ms, create_ms, stat_ms, remove_ms, mib, files, rounds);
	return 0;
}
