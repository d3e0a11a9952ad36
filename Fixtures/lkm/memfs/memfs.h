/*
 * memfs: a memory file system as a loadable VFS module, written the way an OpenBSD 5.2 file
 * system is (after mfs and tmpfs): vfsops in memfs_vfsops.c, a vnode operations table built
 * with vfs_opv_init_explicit/vfs_opv_init_default in memfs_vnops.c, one vnode per node made
 * on lookup with getnewvnode and given back through VOP_INACTIVE/VOP_RECLAIM.
 *
 * Nodes and file data are malloc(9) memory: a node per file, directory or symbolic link
 * (the name kept in the node, the children of a directory in a list), and a file's data in
 * MEMFS_BSIZE blocks, a NULL block being a hole that reads as zeros.
 */
#ifndef _MEMFS_H_
#define _MEMFS_H_

#include <sys/queue.h>
#include <sys/dirent.h>

#define MEMFS_BSIZE 16384		/* bytes in a data block */
#define MEMFS_MAXNODES 200000		/* nodes in one mount */
#define MEMFS_MAXBYTES (512ULL << 20)	/* data bytes in one mount */

struct memfs_mount;

struct memfs_node {
	TAILQ_ENTRY(memfs_node) mn_sibling;	/* in the parent's list */
	TAILQ_HEAD(, memfs_node) mn_children;	/* a directory's, oldest first */
	struct memfs_node *mn_parent;		/* itself for the root, and once unlinked */
	struct memfs_mount *mn_mount;
	struct vnode *mn_vnode;			/* the vnode while it has one */
	enum vtype mn_type;			/* VREG, VDIR, VLNK */
	mode_t mn_mode;
	uid_t mn_uid;
	gid_t mn_gid;
	ino_t mn_ino;
	nlink_t mn_nlink;			/* 0 once unlinked */
	int mn_nchildren;
	u_int64_t mn_size;			/* file or link bytes */
	char **mn_blocks;			/* MEMFS_BSIZE each; NULL is a hole */
	size_t mn_nblocks;			/* slots in mn_blocks */
	struct timespec mn_atime, mn_mtime, mn_ctime;
	size_t mn_namelen;
	char mn_name[MAXNAMLEN + 1];
};

struct memfs_mount {
	struct mount *mm_mount;
	struct memfs_node *mm_root;
	ino_t mm_nextino;
	long mm_nodes;			/* nodes allocated */
	u_int64_t mm_bytes;		/* data blocks allocated, in bytes */
};

#define VFSTOMEMFS(mp) ((struct memfs_mount *)((mp)->mnt_data))
#define VTOMN(vp) ((struct memfs_node *)(vp)->v_data)

extern int (**memfs_vnodeop_p)(void *);
extern struct vnodeopv_desc memfs_vnodeop_opv_desc;

/* memfs_vnops.c */
struct memfs_node *memfs_node_alloc(struct memfs_mount *, struct memfs_node *,
    const char *, size_t, enum vtype, mode_t, uid_t);
void memfs_node_free(struct memfs_node *);
int memfs_node_vget(struct memfs_node *, struct vnode **);
void memfs_tree_free(struct memfs_node *);

#endif /* !_MEMFS_H_ */
