/* passthrough: the FUSE floor of scripts/bench-hostmount. A libfuse 3 file system (high-level
 * API, multi-threaded loop, the same configuration as lkm's host mounts: inode numbers, 1 s
 * attribute and entry timeouts, hard remove) whose every operation is the host's system call on
 * a backing directory. What a host mount costs beyond it is lkm's: the sessions with lkmd, the
 * kernel's system calls, its VFS and the module.
 *
 *	passthrough BACKING MOUNTPOINT [FUSE options]	(foreground: -f)
 */
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int backing = -1;

/* The path relative to the backing directory ("." for the root). */
static const char *rel(const char *path) {
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

#define CHECK(x) ((x) == -1 ? -errno : 0)

static int pt_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
	if (fi != NULL)
		return CHECK(fstat((int)fi->fh, st));
	return CHECK(fstatat(backing, rel(path), st, AT_SYMLINK_NOFOLLOW));
}

static int pt_mkdir(const char *path, mode_t mode) { return CHECK(mkdirat(backing, rel(path), mode)); }
static int pt_unlink(const char *path) { return CHECK(unlinkat(backing, rel(path), 0)); }
static int pt_rmdir(const char *path) { return CHECK(unlinkat(backing, rel(path), AT_REMOVEDIR)); }

static int pt_rename(const char *from, const char *to, unsigned int flags) {
	return CHECK(renameat2(backing, rel(from), backing, rel(to), flags));
}

static int pt_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
	(void)fi;
	return CHECK(fchmodat(backing, rel(path), mode, 0));
}

static int pt_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
	if (fi != NULL)
		return CHECK(ftruncate((int)fi->fh, size));
	int fd = openat(backing, rel(path), O_WRONLY);
	if (fd < 0)
		return -errno;
	int r = CHECK(ftruncate(fd, size));
	close(fd);
	return r;
}

static int pt_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
	(void)fi;
	return CHECK(utimensat(backing, rel(path), tv, AT_SYMLINK_NOFOLLOW));
}

static int pt_open(const char *path, struct fuse_file_info *fi) {
	int fd = openat(backing, rel(path), fi->flags & ~(O_CREAT | O_EXCL | O_NOCTTY));
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int pt_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
	int fd = openat(backing, rel(path), fi->flags, mode);
	if (fd < 0)
		return -errno;
	fi->fh = (uint64_t)fd;
	return 0;
}

static int pt_read(const char *path, char *buf, size_t size, off_t offset,
    struct fuse_file_info *fi) {
	(void)path;
	ssize_t n = pread((int)fi->fh, buf, size, offset);
	return n < 0 ? -errno : (int)n;
}

static int pt_write(const char *path, const char *buf, size_t size, off_t offset,
    struct fuse_file_info *fi) {
	(void)path;
	ssize_t n = pwrite((int)fi->fh, buf, size, offset);
	return n < 0 ? -errno : (int)n;
}

static int pt_release(const char *path, struct fuse_file_info *fi) {
	(void)path;
	close((int)fi->fh);
	return 0;
}

static int pt_statfs(const char *path, struct statvfs *sv) {
	(void)path;
	return CHECK(fstatvfs(backing, sv));
}

static int pt_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
    struct fuse_file_info *fi, enum fuse_readdir_flags flags) {
	(void)offset;
	(void)fi;
	(void)flags;
	int fd = openat(backing, rel(path), O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -errno;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat st = {.st_ino = e->d_ino, .st_mode = (mode_t)DTTOIF(e->d_type)};
		if (filler(buf, e->d_name, &st, 0, 0))
			break;
	}
	closedir(d);
	return 0;
}

static void *pt_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
	(void)conn;
	cfg->use_ino = 1;
	cfg->hard_remove = 1;
	cfg->entry_timeout = 1.0;
	cfg->attr_timeout = 1.0;
	cfg->negative_timeout = 0;
	return NULL;
}

static const struct fuse_operations operations = {
	.getattr = pt_getattr, .mkdir = pt_mkdir, .unlink = pt_unlink, .rmdir = pt_rmdir,
	.rename = pt_rename, .chmod = pt_chmod, .truncate = pt_truncate, .open = pt_open,
	.read = pt_read, .write = pt_write, .statfs = pt_statfs, .release = pt_release,
	.readdir = pt_readdir, .init = pt_init, .create = pt_create, .utimens = pt_utimens,
};

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: passthrough BACKING MOUNTPOINT [FUSE options]\n");
		return 2;
	}
	backing = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (backing < 0) {
		perror(argv[1]);
		return 1;
	}
	umask(0);
	/* fuse_main gets argv without BACKING. */
	argv[1] = argv[0];
	return fuse_main(argc - 1, argv + 1, &operations, NULL);
}
