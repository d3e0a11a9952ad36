/* fileops: the system calls a program makes on files, run in one directory and written as a
 * transcript that does not depend on the file system (no inode numbers, times it did not set,
 * block counts or directory sizes), so that the same run on a host mount of an lkm file system
 * and on tmpfs can be compared line for line (Tests/ToolTests/HostMountTests.swift).
 *
 *	fileops DIR			the transcript
 *	fileops ioctl FILE CMD [VALUE]	ioctl(2) with an int argument; prints it afterwards
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static char dir[4096];

static const char *path(const char *name) {
	static char buf[2][8192];
	static int which;
	which ^= 1;
	snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
	return buf[which];
}

/* "ok", or the errno's name. */
static const char *result(int r) {
	if (r >= 0)
		return "ok";
	const char *name = strerrorname_np(errno);
	return name ? name : "E?";
}

#define SAY(...) printf(__VA_ARGS__)

static unsigned long checksum(const unsigned char *p, size_t n, unsigned long h) {
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211UL;
	return h;
}

static int cmpstr(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted, without . and .. */
static void list(const char *name) {
	DIR *d = opendir(path(name));
	if (d == NULL) {
		SAY("opendir %s: %s\n", name, result(-1));
		return;
	}
	char *names[256];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 256) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char entry[300];
		snprintf(entry, sizeof entry, "%s%s", e->d_name,
		    e->d_type == DT_DIR ? "/" : e->d_type == DT_LNK ? "@" : "");
		names[n++] = strdup(entry);
	}
	closedir(d);
	qsort(names, n, sizeof names[0], cmpstr);
	SAY("readdir %s: %d:", name, n);
	for (int i = 0; i < n; i++) {
		SAY(" %s", names[i]);
		free(names[i]);
	}
	SAY("\n");
}

static void content(const char *name) {
	char buf[256];
	int fd = open(path(name), O_RDONLY);
	if (fd < 0) {
		SAY("content %s: %s\n", name, result(-1));
		return;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	SAY("content %s: '%s'\n", name, buf);
}

static int transcript(void) {
	static char buf[100000];
	struct stat st;
	int fd, r;

	/* create, write, exclusive create */
	fd = open(path("f1"), O_CREAT | O_WRONLY | O_EXCL, 0644);
	SAY("create f1: %s\n", result(fd));
	for (int i = 0; i < 1000; i++)
		if (write(fd, "hello, world\n", 13) != 13)
			SAY("write: %s\n", result(-1));
	close(fd);
	SAY("create f1 again: %s\n", result(open(path("f1"), O_CREAT | O_WRONLY | O_EXCL, 0644)));

	/* read it all, pread */
	fd = open(path("f1"), O_RDONLY);
	size_t total = 0;
	unsigned long h = 14695981039346656037UL;
	ssize_t n;
	while ((n = read(fd, buf, 4096)) > 0) {
		total += (size_t)n;
		h = checksum((unsigned char *)buf, (size_t)n, h);
	}
	SAY("read f1: %zu bytes, checksum %lx\n", total, h);
	n = pread(fd, buf, 5, 7);
	buf[n < 0 ? 0 : n] = 0;
	SAY("pread 5 at 7: '%s'\n", buf);
	close(fd);

	/* pwrite, lseek, ftruncate, fstat, O_APPEND */
	fd = open(path("f1"), O_RDWR);
	SAY("pwrite: %zd\n", pwrite(fd, "HELLO", 5, 0));
	SAY("lseek end: %lld\n", (long long)lseek(fd, 0, SEEK_END));
	SAY("ftruncate 5: %s\n", result(ftruncate(fd, 5)));
	fstat(fd, &st);
	SAY("fstat: size %lld, regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
	close(fd);
	fd = open(path("f1"), O_WRONLY | O_APPEND);
	SAY("append: %zd\n", write(fd, "!", 1));
	close(fd);
	content("f1");

	/* directories, rename, readdir */
	SAY("mkdir d: %s\n", result(mkdir(path("d"), 0755)));
	SAY("mkdir d again: %s\n", result(mkdir(path("d"), 0755)));
	SAY("rename f1 d/f2: %s\n", result(rename(path("f1"), path("d/f2"))));
	SAY("stat f1: %s\n", result(stat(path("f1"), &st)));
	for (int i = 0; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof name, "d/n%02d", i);
		close(open(path(name), O_CREAT | O_WRONLY, 0600));
	}
	list("d");
	SAY("rename d/n00 over d/n01: %s\n", result(rename(path("d/n00"), path("d/n01"))));
	list("d");
	SAY("rename d d/sub: %s\n", result(rename(path("d"), path("d/sub"))));
	SAY("rename d/nosuch d/x: %s\n", result(rename(path("d/nosuch"), path("d/x"))));

	/* a file unlinked while open stays readable until closed */
	fd = open(path("d/f2"), O_RDONLY);
	SAY("unlink d/f2 while open: %s\n", result(unlink(path("d/f2"))));
	n = read(fd, buf, sizeof buf - 1);
	buf[n < 0 ? 0 : n] = 0;
	SAY("read after unlink: '%s'\n", buf);
	close(fd);
	SAY("stat d/f2: %s\n", result(stat(path("d/f2"), &st)));

	/* errors */
	SAY("rmdir d (not empty): %s\n", result(rmdir(path("d"))));
	SAY("unlink d (a directory): %s\n", result(unlink(path("d"))));
	SAY("rmdir nosuch: %s\n", result(rmdir(path("nosuch"))));
	SAY("open nosuch: %s\n", result(open(path("nosuch"), O_RDONLY)));
	SAY("open d/n05/x: %s\n", result(open(path("d/n05/x"), O_RDONLY)));
	for (int i = 1; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof name, "d/n%02d", i);
		if ((r = unlink(path(name))) != 0)
			SAY("unlink %s: %s\n", name, result(r));
	}
	SAY("rmdir d: %s\n", result(rmdir(path("d"))));

	/* a large file in pieces, read back */
	fd = open(path("large"), O_CREAT | O_RDWR | O_TRUNC, 0644);
	h = 14695981039346656037UL;
	for (int i = 0; i < 30; i++) {
		for (size_t j = 0; j < 100000; j++)
			buf[j] = (char)(i * 31 + j * 7);
		h = checksum((unsigned char *)buf, 100000, h);
		if (write(fd, buf, 100000) != 100000)
			SAY("write large: %s\n", result(-1));
	}
	unsigned long back = 14695981039346656037UL;
	total = 0;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf, 65536)) > 0) {
		total += (size_t)n;
		back = checksum((unsigned char *)buf, (size_t)n, back);
	}
	SAY("large: %zu bytes, %s\n", total, back == h ? "read back the same" : "DIFFERENT");
	close(fd);

	/* a hole reads as zeros */
	fd = open(path("sparse"), O_CREAT | O_RDWR, 0644);
	pwrite(fd, "x", 1, 1 << 20);
	fstat(fd, &st);
	n = pread(fd, buf, 4096, 4096);
	int zeros = n == 4096;
	for (ssize_t i = 0; i < n; i++)
		zeros &= buf[i] == 0;
	SAY("sparse: size %lld, hole reads zeros %d\n", (long long)st.st_size, zeros);
	close(fd);

	/* attributes */
	SAY("chmod 600: %s\n", result(chmod(path("sparse"), 0600)));
	struct timeval times[2] = {{1000000000, 0}, {1234567890, 0}};
	SAY("utimes: %s\n", result(utimes(path("sparse"), times)));
	stat(path("sparse"), &st);
	SAY("stat sparse: mode %o, mtime %lld, atime %lld\n", st.st_mode & 07777,
	    (long long)st.st_mtime, (long long)st.st_atime);
	SAY("truncate large to 10: %s\n", result(truncate(path("large"), 10)));
	stat(path("large"), &st);
	SAY("stat large: size %lld\n", (long long)st.st_size);
	SAY("symlink: %s\n", result(symlink("large", path("link"))));
	n = readlink(path("link"), buf, sizeof buf - 1);
	buf[n < 0 ? 0 : n] = 0;
	SAY("readlink: '%s'\n", buf);
	list(".");
	SAY("unlink all: %s %s %s\n", result(unlink(path("large"))), result(unlink(path("sparse"))),
	    result(unlink(path("link"))));
	list(".");
	return 0;
}

int main(int argc, char **argv) {
	if (argc >= 4 && strcmp(argv[1], "ioctl") == 0) {
		int fd = open(argv[2], O_RDWR);
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
		int value = argc > 4 ? atoi(argv[4]) : 0;
		unsigned long cmd = strtoul(argv[3], NULL, 0);
		if (ioctl(fd, cmd, &value) != 0) {
			perror("ioctl");
			return 1;
		}
		printf("%d\n", value);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: fileops DIR | fileops ioctl FILE CMD [VALUE]\n");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return transcript();
}
