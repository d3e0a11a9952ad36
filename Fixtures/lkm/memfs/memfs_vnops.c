/*
 * memfs: nodes and the vnode operations. The protocol is OpenBSD 5.2's (see <sys/vnode.h>):
 * lookup returns the vnode referenced and locked (EJUSTRETURN for a free last name of a CREATE
 * or RENAME); create, mkdir and symlink vput the directory and return the new vnode locked;
 * remove and rmdir vput both; rename vrele's the source pair and vput's the target pair;
 * inactive unlocks, and takes an unlinked node's vnode out of use at once (vgone), so that
 * reclaim frees the node and its data.
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/malloc.h>
#include <sys/mount.h>
#include <sys/vnode.h>
#include <sys/namei.h>
#include <sys/uio.h>
#include <sys/dirent.h>
#include <sys/stat.h>
#include <sys/poll.h>
#include <sys/proc.h>
#include <sys/time.h>

#include "memfs.h"

/* Holes read as these. */
static const char memfs_zeros[MEMFS_BSIZE];

/* ---- Nodes ---- */

static void
memfs_touch(struct memfs_node *n, int what)
{
	struct timespec now;

	nanotime(&now);
	if (what & 1)
		n->mn_atime = now;
	if (what & 2)
		n->mn_mtime = now;
	if (what & 4)
		n->mn_ctime = now;
}
#define ATIME 1
#define MTIME 2
#define CTIME 4

/* Puts n into dir's list under its current name. */
static void
memfs_dir_attach(struct memfs_node *dir, struct memfs_node *n)
{
	n->mn_parent = dir;
	TAILQ_INSERT_TAIL(&dir->mn_children, n, mn_sibling);
	dir->mn_nchildren++;
	if (n->mn_type == VDIR)
		dir->mn_nlink++;
	memfs_touch(dir, MTIME | CTIME);
}

/* Takes n out of its directory's list. */
static void
memfs_dir_detach(struct memfs_node *n)
{
	struct memfs_node *dir = n->mn_parent;

	TAILQ_REMOVE(&dir->mn_children, n, mn_sibling);
	dir->mn_nchildren--;
	if (n->mn_type == VDIR)
		dir->mn_nlink--;
	memfs_touch(dir, MTIME | CTIME);
	n->mn_parent = n;
}

struct memfs_node *
memfs_node_alloc(struct memfs_mount *mm, struct memfs_node *dir, const char *name,
    size_t namelen, enum vtype type, mode_t mode, uid_t uid)
{
	struct memfs_node *n;

	if (mm->mm_nodes >= MEMFS_MAXNODES || namelen > MAXNAMLEN)
		return (NULL);
	n = malloc(sizeof(*n), M_TEMP, M_WAITOK | M_CANFAIL | M_ZERO);
	if (n == NULL)
		return (NULL);
	mm->mm_nodes++;
	TAILQ_INIT(&n->mn_children);
	n->mn_mount = mm;
	n->mn_type = type;
	n->mn_mode = mode & ALLPERMS;
	n->mn_uid = uid;
	n->mn_gid = dir != NULL ? dir->mn_gid : 0;
	n->mn_ino = mm->mm_nextino++;
	n->mn_nlink = type == VDIR ? 2 : 1;
	memcpy(n->mn_name, name, namelen);
	n->mn_name[namelen] = '\0';
	n->mn_namelen = namelen;
	memfs_touch(n, ATIME | MTIME | CTIME);
	n->mn_parent = n;
	if (dir != NULL)
		memfs_dir_attach(dir, n);
	return (n);
}

/* Frees the data blocks from block index `from` on. */
static void
memfs_blocks_free(struct memfs_node *n, size_t from)
{
	size_t i;

	for (i = from; i < n->mn_nblocks; i++) {
		if (n->mn_blocks[i] != NULL) {
			free(n->mn_blocks[i], M_TEMP);
			n->mn_blocks[i] = NULL;
			n->mn_mount->mm_bytes -= MEMFS_BSIZE;
		}
	}
}

void
memfs_node_free(struct memfs_node *n)
{
	memfs_blocks_free(n, 0);
	if (n->mn_blocks != NULL)
		free(n->mn_blocks, M_TEMP);
	n->mn_mount->mm_nodes--;
	free(n, M_TEMP);
}

/* Frees a whole tree, children first, without recursion. */
void
memfs_tree_free(struct memfs_node *root)
{
	struct memfs_node *n = root, *parent;

	while (n != NULL) {
		if (!TAILQ_EMPTY(&n->mn_children)) {
			n = TAILQ_FIRST(&n->mn_children);
			continue;
		}
		parent = n == root ? NULL : n->mn_parent;
		if (parent != NULL) {
			TAILQ_REMOVE(&parent->mn_children, n, mn_sibling);
			parent->mn_nchildren--;
		}
		if (n->mn_vnode != NULL)
			n->mn_vnode->v_data = NULL;
		memfs_node_free(n);
		n = parent;
	}
}

/* The vnode of n, referenced and locked; made if n has none. */
int
memfs_node_vget(struct memfs_node *n, struct vnode **vpp)
{
	struct vnode *vp;
	int error;

	if (n->mn_vnode != NULL &&
	    vget(n->mn_vnode, LK_EXCLUSIVE, NULL) == 0) {
		*vpp = n->mn_vnode;
		return (0);
	}
	error = getnewvnode(VT_MFS, n->mn_mount->mm_mount, memfs_vnodeop_p, &vp);
	if (error)
		return (error);
	vp->v_type = n->mn_type;
	vp->v_data = n;
	if (n == n->mn_mount->mm_root)
		vp->v_flag |= VROOT;
	vn_lock(vp, LK_EXCLUSIVE | LK_RETRY, NULL);
	n->mn_vnode = vp;
	*vpp = vp;
	return (0);
}

static struct memfs_node *
memfs_dir_find(struct memfs_node *dir, const char *name, size_t len)
{
	struct memfs_node *n;

	TAILQ_FOREACH(n, &dir->mn_children, mn_sibling) {
		if (n->mn_namelen == len && memcmp(n->mn_name, name, len) == 0)
			return (n);
	}
	return (NULL);
}

/* Makes room for block index `index` in the block list. */
static int
memfs_blocks_grow(struct memfs_node *n, size_t index)
{
	size_t count;
	char **blocks;

	if (index < n->mn_nblocks)
		return (0);
	for (count = n->mn_nblocks ? n->mn_nblocks : 4; count <= index; count *= 2)
		;
	blocks = malloc(count * sizeof(char *), M_TEMP, M_WAITOK | M_CANFAIL | M_ZERO);
	if (blocks == NULL)
		return (ENOSPC);
	if (n->mn_blocks != NULL) {
		memcpy(blocks, n->mn_blocks, n->mn_nblocks * sizeof(char *));
		free(n->mn_blocks, M_TEMP);
	}
	n->mn_blocks = blocks;
	n->mn_nblocks = count;
	return (0);
}

/* The block at index, allocated (zeroed) if it is a hole. */
static char *
memfs_block(struct memfs_node *n, size_t index)
{
	struct memfs_mount *mm = n->mn_mount;

	if (memfs_blocks_grow(n, index) != 0)
		return (NULL);
	if (n->mn_blocks[index] == NULL) {
		if (mm->mm_bytes + MEMFS_BSIZE > MEMFS_MAXBYTES)
			return (NULL);
		n->mn_blocks[index] = malloc(MEMFS_BSIZE, M_TEMP,
		    M_WAITOK | M_CANFAIL | M_ZERO);
		if (n->mn_blocks[index] == NULL)
			return (NULL);
		mm->mm_bytes += MEMFS_BSIZE;
	}
	return (n->mn_blocks[index]);
}

/* Sets a file's size: blocks past the end go, and the end of the last one is zeroed. */
static void
memfs_truncate(struct memfs_node *n, u_int64_t size)
{
	size_t keep = (size + MEMFS_BSIZE - 1) / MEMFS_BSIZE;
	size_t within = size % MEMFS_BSIZE;

	if (size < n->mn_size) {
		memfs_blocks_free(n, keep);
		if (within != 0 && keep - 1 < n->mn_nblocks && n->mn_blocks[keep - 1] != NULL)
			memset(n->mn_blocks[keep - 1] + within, 0, MEMFS_BSIZE - within);
	}
	n->mn_size = size;
}

/* ---- Names ---- */

int
memfs_lookup(void *v)
{
	struct vop_lookup_args *ap = v;
	struct componentname *cnp = ap->a_cnp;
	struct vnode *dvp = ap->a_dvp;
	struct memfs_node *dir = VTOMN(dvp), *n;
	int last = (cnp->cn_flags & ISLASTCN) != 0;
	u_long op = cnp->cn_nameiop;

	*ap->a_vpp = NULL;
	if (dir->mn_type != VDIR)
		return (ENOTDIR);
	if (cnp->cn_namelen == 1 && cnp->cn_nameptr[0] == '.') {
		vref(dvp);
		*ap->a_vpp = dvp;
		return (0);
	}
	if (cnp->cn_flags & ISDOTDOT)
		return (memfs_node_vget(dir->mn_parent, ap->a_vpp));
	n = memfs_dir_find(dir, cnp->cn_nameptr, (size_t)cnp->cn_namelen);
	if (n == NULL) {
		if (last && (op == CREATE || op == RENAME)) {
			cnp->cn_flags |= SAVENAME;
			return (EJUSTRETURN);
		}
		return (ENOENT);
	}
	return (memfs_node_vget(n, ap->a_vpp));
}

/* A new node named by cnp in the directory dvp (which is vput), its vnode in *vpp. */
static int
memfs_makenode(struct vnode *dvp, struct vnode **vpp, struct componentname *cnp,
    enum vtype type, mode_t mode, const char *target)
{
	struct memfs_node *dir = VTOMN(dvp), *n;
	uid_t uid = cnp->cn_proc != NULL ? cnp->cn_proc->p_uid : 0;
	size_t len;
	int error = 0;

	*vpp = NULL;
	if (dir->mn_nlink == 0)
		error = ENOENT;		/* the directory was removed */
	else if (cnp->cn_namelen > MAXNAMLEN)
		error = ENAMETOOLONG;
	else if ((n = memfs_node_alloc(dir->mn_mount, dir, cnp->cn_nameptr,
	    (size_t)cnp->cn_namelen, type, mode, uid)) == NULL)
		error = ENOSPC;
	if (error == 0 && target != NULL) {
		len = strlen(target);
		if (len >= MEMFS_BSIZE || memfs_block(n, 0) == NULL) {
			memfs_dir_detach(n);
			memfs_node_free(n);
			error = len >= MEMFS_BSIZE ? ENAMETOOLONG : ENOSPC;
		} else {
			memcpy(n->mn_blocks[0], target, len);
			n->mn_size = len;
		}
	}
	vput(dvp);
	if (error)
		return (error);
	return (memfs_node_vget(n, vpp));
}

int
memfs_create(void *v)
{
	struct vop_create_args *ap = v;

	return (memfs_makenode(ap->a_dvp, ap->a_vpp, ap->a_cnp, VREG, ap->a_vap->va_mode, NULL));
}

int
memfs_mkdir(void *v)
{
	struct vop_mkdir_args *ap = v;

	return (memfs_makenode(ap->a_dvp, ap->a_vpp, ap->a_cnp, VDIR, ap->a_vap->va_mode, NULL));
}

int
memfs_symlink(void *v)
{
	struct vop_symlink_args *ap = v;

	return (memfs_makenode(ap->a_dvp, ap->a_vpp, ap->a_cnp, VLNK, ap->a_vap->va_mode,
	    ap->a_target));
}

int
memfs_mknod(void *v)
{
	struct vop_mknod_args *ap = v;

	*ap->a_vpp = NULL;
	vput(ap->a_dvp);
	return (EOPNOTSUPP);
}

int
memfs_link(void *v)
{
	struct vop_link_args *ap = v;

	vput(ap->a_dvp);
	return (EOPNOTSUPP);
}

int
memfs_remove(void *v)
{
	struct vop_remove_args *ap = v;
	struct memfs_node *n = VTOMN(ap->a_vp);
	int error = 0;

	if (n->mn_type == VDIR)
		error = EPERM;
	else {
		memfs_dir_detach(n);
		n->mn_nlink = 0;
		memfs_touch(n, CTIME);
	}
	if (ap->a_dvp == ap->a_vp)
		vrele(ap->a_vp);
	else
		vput(ap->a_vp);
	vput(ap->a_dvp);
	return (error);
}

int
memfs_rmdir(void *v)
{
	struct vop_rmdir_args *ap = v;
	struct memfs_node *n = VTOMN(ap->a_vp);
	int error = 0;

	if (n->mn_type != VDIR)
		error = ENOTDIR;
	else if (n->mn_nchildren != 0)
		error = ENOTEMPTY;
	else if (n == n->mn_mount->mm_root)
		error = EBUSY;
	else {
		memfs_dir_detach(n);
		n->mn_nlink = 0;
	}
	vput(ap->a_vp);
	vput(ap->a_dvp);
	return (error);
}

/*
 * A name moves (within this mount: the kernel refuses others with EXDEV). A target that
 * exists goes first: a directory only if empty, replaced only by a directory.
 */
int
memfs_rename(void *v)
{
	struct vop_rename_args *ap = v;
	struct memfs_node *from = VTOMN(ap->a_fvp);
	struct memfs_node *todir = VTOMN(ap->a_tdvp), *to, *d;
	struct componentname *tcnp = ap->a_tcnp;
	int error = 0;

	if (from->mn_nlink == 0 || todir->mn_nlink == 0)
		error = ENOENT;
	else if (tcnp->cn_namelen > MAXNAMLEN)
		error = ENAMETOOLONG;
	/* A directory moved under itself would leave the tree. */
	for (d = todir; error == 0; d = d->mn_parent) {
		if (d == from) {
			error = EINVAL;
			break;
		}
		if (d == d->mn_parent)
			break;
	}
	if (error == 0 && ap->a_tvp != NULL) {
		to = VTOMN(ap->a_tvp);
		if (to->mn_type == VDIR && from->mn_type != VDIR)
			error = EISDIR;
		else if (to->mn_type != VDIR && from->mn_type == VDIR)
			error = ENOTDIR;
		else if (to->mn_type == VDIR && to->mn_nchildren != 0)
			error = ENOTEMPTY;
		else {
			memfs_dir_detach(to);
			to->mn_nlink = 0;
		}
	}
	if (error == 0) {
		memfs_dir_detach(from);
		memcpy(from->mn_name, tcnp->cn_nameptr, (size_t)tcnp->cn_namelen);
		from->mn_name[tcnp->cn_namelen] = '\0';
		from->mn_namelen = (size_t)tcnp->cn_namelen;
		memfs_dir_attach(todir, from);
		memfs_touch(from, CTIME);
	}
	vrele(ap->a_fdvp);
	vrele(ap->a_fvp);
	if (ap->a_tvp != NULL) {
		if (ap->a_tvp == ap->a_tdvp)
			vrele(ap->a_tvp);
		else
			vput(ap->a_tvp);
	}
	vput(ap->a_tdvp);
	return (error);
}

/* ---- Attributes ---- */

int
memfs_getattr(void *v)
{
	struct vop_getattr_args *ap = v;
	struct memfs_node *n = VTOMN(ap->a_vp);
	struct vattr *vap = ap->a_vap;
	u_int64_t blocks = 0;
	size_t i;

	for (i = 0; i < n->mn_nblocks; i++)
		if (n->mn_blocks[i] != NULL)
			blocks++;
	vattr_null(vap);
	vap->va_type = n->mn_type;
	vap->va_mode = n->mn_mode;
	vap->va_nlink = n->mn_nlink;
	vap->va_uid = n->mn_uid;
	vap->va_gid = n->mn_gid;
	vap->va_fsid = (long)(((u_long)n->mn_mount >> 4) & 0x7fffffff);
	vap->va_fileid = n->mn_ino;
	vap->va_size = n->mn_type == VDIR ?
	    (u_int64_t)(n->mn_nchildren + 2) * 32 : n->mn_size;
	vap->va_blocksize = MEMFS_BSIZE;
	vap->va_atime = n->mn_atime;
	vap->va_mtime = n->mn_mtime;
	vap->va_ctime = n->mn_ctime;
	vap->va_gen = 0;
	vap->va_flags = 0;
	vap->va_rdev = NODEV;
	vap->va_bytes = blocks * MEMFS_BSIZE;
	return (0);
}

/* truncate(2), chmod(2), chown(2), utimes(2): the fields that are not VNOVAL. */
int
memfs_setattr(void *v)
{
	struct vop_setattr_args *ap = v;
	struct memfs_node *n = VTOMN(ap->a_vp);
	struct vattr *vap = ap->a_vap;

	if (vap->va_type != VNON || vap->va_nlink != (nlink_t)VNOVAL ||
	    vap->va_fsid != VNOVAL || vap->va_fileid != (ino_t)VNOVAL ||
	    vap->va_blocksize != VNOVAL || vap->va_rdev != (dev_t)VNOVAL ||
	    vap->va_bytes != (u_int64_t)VNOVAL || vap->va_gen != (u_long)VNOVAL)
		return (EINVAL);
	if (vap->va_size != (u_int64_t)VNOVAL) {
		if (n->mn_type == VDIR)
			return (EISDIR);
		if (n->mn_type != VREG)
			return (EINVAL);
		if (vap->va_size > MEMFS_MAXBYTES)
			return (EFBIG);
		if (vap->va_size != n->mn_size) {
			memfs_truncate(n, vap->va_size);
			memfs_touch(n, MTIME | CTIME);
		}
	}
	if (vap->va_mode != (mode_t)VNOVAL) {
		n->mn_mode = vap->va_mode & ALLPERMS;
		memfs_touch(n, CTIME);
	}
	if (vap->va_uid != (uid_t)VNOVAL || vap->va_gid != (gid_t)VNOVAL) {
		if (vap->va_uid != (uid_t)VNOVAL)
			n->mn_uid = vap->va_uid;
		if (vap->va_gid != (gid_t)VNOVAL)
			n->mn_gid = vap->va_gid;
		memfs_touch(n, CTIME);
	}
	if (vap->va_atime.tv_sec != VNOVAL || vap->va_mtime.tv_sec != VNOVAL) {
		if (vap->va_atime.tv_sec != VNOVAL)
			n->mn_atime = vap->va_atime;
		if (vap->va_mtime.tv_sec != VNOVAL)
			n->mn_mtime = vap->va_mtime;
		memfs_touch(n, CTIME);
	}
	return (0);
}

int
memfs_access(void *v)
{
	struct vop_access_args *ap = v;
	struct memfs_node *n = VTOMN(ap->a_vp);

	return (vaccess(n->mn_type, n->mn_mode, n->mn_uid, n->mn_gid, ap->a_mode, ap->a_cred));
}

/* ---- Data ---- */

int
memfs_open(void *v)
{
	return (0);
}

int
memfs_close(void *v)
{
	return (0);
}

int
memfs_read(void *v)
{
	struct vop_read_args *ap = v;
	struct memfs_node *n = VTOMN(ap->a_vp);
	struct uio *uio = ap->a_uio;
	size_t index, within, len;
	const char *block;
	int error = 0;

	if (n->mn_type == VDIR)
		return (EISDIR);
	if (n->mn_type != VREG)
		return (EINVAL);
	if (uio->uio_offset < 0)
		return (EINVAL);
	while (uio->uio_resid > 0 && (u_int64_t)uio->uio_offset < n->mn_size) {
		index = (size_t)uio->uio_offset / MEMFS_BSIZE;
		within = (size_t)uio->uio_offset % MEMFS_BSIZE;
		len = MIN(MEMFS_BSIZE - within, uio->uio_resid);
		len = MIN(len, n->mn_size - (u_int64_t)uio->uio_offset);
		block = index < n->mn_nblocks && n->mn_blocks[index] != NULL ?
		    n->mn_blocks[index] : memfs_zeros;
		if ((error = uiomove((void *)(block + within), len, uio)) != 0)
			break;
	}
	memfs_touch(n, ATIME);
	return (error);
}

int
memfs_write(void *v)
{
	struct vop_write_args *ap = v;
	struct memfs_node *n = VTOMN(ap->a_vp);
	struct uio *uio = ap->a_uio;
	size_t index, within, len, start = uio->uio_resid;
	char *block;
	int error = 0;

	if (n->mn_type != VREG)
		return (EINVAL);
	if (ap->a_ioflag & IO_APPEND)
		uio->uio_offset = (off_t)n->mn_size;
	if (uio->uio_offset < 0)
		return (EINVAL);
	if ((u_int64_t)uio->uio_offset + uio->uio_resid > MEMFS_MAXBYTES)
		return (EFBIG);
	while (uio->uio_resid > 0) {
		index = (size_t)uio->uio_offset / MEMFS_BSIZE;
		within = (size_t)uio->uio_offset % MEMFS_BSIZE;
		len = MIN(MEMFS_BSIZE - within, uio->uio_resid);
		if ((block = memfs_block(n, index)) == NULL) {
			error = ENOSPC;
			break;
		}
		if ((error = uiomove(block + within, len, uio)) != 0)
			break;
		if ((u_int64_t)uio->uio_offset > n->mn_size)
			n->mn_size = (u_int64_t)uio->uio_offset;
	}
	/* A short write is a success; nothing written is the error. */
	if (error == ENOSPC && uio->uio_resid < start)
		error = 0;
	memfs_touch(n, MTIME | CTIME);
	return (error);
}

int
memfs_readlink(void *v)
{
	struct vop_readlink_args *ap = v;
	struct memfs_node *n = VTOMN(ap->a_vp);

	if (n->mn_type != VLNK)
		return (EINVAL);
	if (n->mn_size == 0)
		return (0);
	return (uiomove(n->mn_blocks[0], MIN(n->mn_size, ap->a_uio->uio_resid), ap->a_uio));
}

/*
 * struct dirent records: ".", "..", then the children in the order they were made; the offset
 * counts entries.
 */
int
memfs_readdir(void *v)
{
	struct vop_readdir_args *ap = v;
	struct memfs_node *dir = VTOMN(ap->a_vp), *n;
	struct uio *uio = ap->a_uio;
	struct dirent d;
	off_t index, start = uio->uio_offset;
	int error = 0;

	if (dir->mn_type != VDIR)
		return (ENOTDIR);
	if (start < 0)
		return (EINVAL);
	n = TAILQ_FIRST(&dir->mn_children);
	for (index = 2; index < start && n != NULL; index++)
		n = TAILQ_NEXT(n, mn_sibling);
	for (index = start; index < dir->mn_nchildren + 2; index++) {
		memset(&d, 0, __builtin_offsetof(struct dirent, d_name));
		if (index == 0 || index == 1) {
			d.d_fileno = index == 0 ? dir->mn_ino : dir->mn_parent->mn_ino;
			d.d_type = DT_DIR;
			strlcpy(d.d_name, index == 0 ? "." : "..", sizeof(d.d_name));
			d.d_namlen = (u_int8_t)(index + 1);
		} else {
			d.d_fileno = n->mn_ino;
			d.d_type = n->mn_type == VDIR ? DT_DIR :
			    n->mn_type == VLNK ? DT_LNK : DT_REG;
			memcpy(d.d_name, n->mn_name, n->mn_namelen + 1);
			d.d_namlen = (u_int8_t)n->mn_namelen;
		}
		d.d_reclen = (u_int16_t)DIRENT_RECSIZE(d.d_namlen);
		d.d_off = index + 1;
		if (uio->uio_resid < d.d_reclen)
			break;
		if ((error = uiomove(&d, d.d_reclen, uio)) != 0)
			break;
		uio->uio_offset = index + 1;
		if (index >= 2)
			n = TAILQ_NEXT(n, mn_sibling);
	}
	if (ap->a_eofflag != NULL)
		*ap->a_eofflag = index >= dir->mn_nchildren + 2;
	return (error);
}

int
memfs_ioctl(void *v)
{
	return (ENOTTY);
}

int
memfs_poll(void *v)
{
	struct vop_poll_args *ap = v;

	return (ap->a_events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM));
}

int
memfs_fsync(void *v)
{
	return (0);
}

int
memfs_pathconf(void *v)
{
	struct vop_pathconf_args *ap = v;

	*ap->a_retval = 0;
	return (EINVAL);
}

/* ---- Vnode life ---- */

int
memfs_inactive(void *v)
{
	struct vop_inactive_args *ap = v;
	struct vnode *vp = ap->a_vp;
	struct memfs_node *n = VTOMN(vp);

	VOP_UNLOCK(vp, 0, ap->a_p);
	/* An unlinked node's vnode goes at once, and the node with it. */
	if (n == NULL || n->mn_nlink == 0)
		vgone(vp);
	return (0);
}

int
memfs_reclaim(void *v)
{
	struct vop_reclaim_args *ap = v;
	struct memfs_node *n = VTOMN(ap->a_vp);

	ap->a_vp->v_data = NULL;
	if (n == NULL)
		return (0);
	n->mn_vnode = NULL;
	if (n->mn_nlink == 0)
		memfs_node_free(n);
	return (0);
}

int (**memfs_vnodeop_p)(void *);
struct vnodeopv_entry_desc memfs_vnodeop_entries[] = {
	{ &vop_default_desc, vn_default_error },
	{ &vop_lookup_desc, memfs_lookup },
	{ &vop_create_desc, memfs_create },
	{ &vop_mknod_desc, memfs_mknod },
	{ &vop_open_desc, memfs_open },
	{ &vop_close_desc, memfs_close },
	{ &vop_access_desc, memfs_access },
	{ &vop_getattr_desc, memfs_getattr },
	{ &vop_setattr_desc, memfs_setattr },
	{ &vop_read_desc, memfs_read },
	{ &vop_write_desc, memfs_write },
	{ &vop_ioctl_desc, memfs_ioctl },
	{ &vop_poll_desc, memfs_poll },
	{ &vop_revoke_desc, vop_generic_revoke },
	{ &vop_fsync_desc, memfs_fsync },
	{ &vop_remove_desc, memfs_remove },
	{ &vop_link_desc, memfs_link },
	{ &vop_rename_desc, memfs_rename },
	{ &vop_mkdir_desc, memfs_mkdir },
	{ &vop_rmdir_desc, memfs_rmdir },
	{ &vop_symlink_desc, memfs_symlink },
	{ &vop_readdir_desc, memfs_readdir },
	{ &vop_readlink_desc, memfs_readlink },
	{ &vop_abortop_desc, vop_generic_abortop },
	{ &vop_inactive_desc, memfs_inactive },
	{ &vop_reclaim_desc, memfs_reclaim },
	{ &vop_lock_desc, vop_generic_lock },
	{ &vop_unlock_desc, vop_generic_unlock },
	{ &vop_islocked_desc, vop_generic_islocked },
	{ &vop_pathconf_desc, memfs_pathconf },
	{ &vop_kqfilter_desc, vop_generic_kqfilter },
	{ NULL, NULL }
};
struct vnodeopv_desc memfs_vnodeop_opv_desc =
	{ &memfs_vnodeop_p, memfs_vnodeop_entries };
