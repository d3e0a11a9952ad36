/* Path name lookup (OpenBSD 5.2's vfs_lookup.c): namei() copies the path into a kernel
 * buffer and walks it from the root, one component at a time through VOP_LOOKUP, crossing into
 * a file system mounted on a directory and out of one at ".." of its root, following symbolic
 * links (up to MAXSYMLINKS). Written against the module headers (kern_local.h).
 *
 * References: ni_vp and ni_dvp come back referenced (the caller vrele's or vput's them); a
 * CREATE or RENAME lookup whose last name does not exist returns ni_vp NULL with ni_dvp, and
 * keeps the buffer (HASBUF) for VOP_CREATE and friends, which free it through VOP_ABORTOP or
 * namei_free_buffer. Locks are counted, never waited for: the kernel runs under one lock. Every
 * vnode a file system returns is checked to be a live one before the kernel follows it. */
#include "kern_local.h"

struct kvnode;
struct kvnode *vnode_record(const struct vnode *vp);
struct mount *vfs_mounted_on(struct vnode *vp);
struct vnode *vfs_covered(struct mount *mp);
struct mount *vnode_mount(struct vnode *vp);
int vfs_root(struct mount *mp, struct vnode **vpp);
extern struct vnode *rootvnode;

#define MAXSYMLINKS 32

static char *kbuf(void) {
  int saved = clkm_current_module;
  clkm_current_module = -1;
  char *p = malloc(MAXPATHLEN, M_TEMP, M_NOWAIT);
  clkm_current_module = saved;
  return p;
}

void namei_free_buffer(struct componentname *cnp);

/* Drops what a lookup holds of its directory. */
static void release_dir(struct nameidata *ndp) {
  if (ndp->ni_dvp != NULL) {
    if (ndp->ni_cnd.cn_flags & PDIRUNLOCK) vrele(ndp->ni_dvp);
    else vput(ndp->ni_dvp);
    ndp->ni_dvp = NULL;
  }
}

/* A vnode a file system handed back: it must be live. */
static int checked_result(struct vnode *vp, struct vnode *dvp) {
  if (vnode_record(vp) != NULL) return 0;
  const char *type = "?";
  struct mount *mp = vnode_mount(dvp);
  if (mp != NULL) type = mp->mnt_stat.f_fstypename;
  clkm_logf("lkm: vop_lookup of '%s' returned %p, not a vnode getnewvnode gave the mount\n", type,
            (void *)vp);
  return EFAULT;
}

int vfs_lookup(struct nameidata *ndp) {
  struct componentname *cnp = &ndp->ni_cnd;
  int wantparent = cnp->cn_flags & (LOCKPARENT | WANTPARENT);
  int docache = (cnp->cn_flags & NOCACHE) ^ NOCACHE;
  int rdonly = cnp->cn_flags & RDONLY;
  (void)docache;
  (void)rdonly;
  int error = 0;
  struct vnode *dp = ndp->ni_startdir;
  ndp->ni_startdir = NULL;
  ndp->ni_dvp = NULL;
  ndp->ni_vp = NULL;
  cnp->cn_flags &= ~(ISSYMLINK | PDIRUNLOCK);
  vn_lock(dp, LK_EXCLUSIVE | LK_RETRY, cnp->cn_proc);

dirloop:
  /* The next component: from cn_nameptr to the next slash. */
  {
    char *cp = cnp->cn_nameptr;
    while (*cp != 0 && *cp != '/') cp++;
    cnp->cn_namelen = cp - cnp->cn_nameptr;
    if (cnp->cn_namelen > MAXNAMLEN) {
      error = ENAMETOOLONG;
      goto bad;
    }
    ndp->ni_pathlen -= (size_t)cnp->cn_namelen;
    ndp->ni_next = cp;
    /* Trailing slashes: the last name must then be a directory. */
    if (*cp == '/') {
      char *end = cp;
      while (*end == '/') end++;
      if (*end == 0) {
        cnp->cn_flags |= REQUIREDIR;
        ndp->ni_pathlen -= (size_t)(end - cp);
        ndp->ni_next = end;
      }
    }
    cnp->cn_flags |= MAKEENTRY;
    if (*ndp->ni_next == 0) cnp->cn_flags |= ISLASTCN;
    else cnp->cn_flags &= ~ISLASTCN;
    if (cnp->cn_namelen == 2 && cnp->cn_nameptr[0] == '.' && cnp->cn_nameptr[1] == '.')
      cnp->cn_flags |= ISDOTDOT;
    else
      cnp->cn_flags &= ~ISDOTDOT;
  }

  /* "/" itself: the start directory is the result. */
  if (cnp->cn_nameptr[0] == 0) {
    if (cnp->cn_nameiop != LOOKUP) {
      error = EISDIR;
      goto bad;
    }
    if (dp->v_type != VDIR) {
      error = ENOTDIR;
      goto bad;
    }
    if (wantparent) {
      ndp->ni_dvp = dp;
      vref(dp);
    }
    ndp->ni_vp = dp;
    if (!(cnp->cn_flags & LOCKLEAF)) VOP_UNLOCK(dp, 0, cnp->cn_proc);
    return 0;
  }

  /* ".." of a file system's root is ".." of the directory it is mounted on. */
  if (cnp->cn_flags & ISDOTDOT) {
    for (;;) {
      if (dp == rootvnode) {
        ndp->ni_dvp = dp;
        ndp->ni_vp = dp;
        vref(dp);
        goto nextname;
      }
      if (!(dp->v_flag & VROOT)) break;
      struct vnode *covered = vfs_covered(vnode_mount(dp));
      if (covered == NULL) break;
      struct vnode *tdp = dp;
      dp = covered;
      vput(tdp);
      vref(dp);
      vn_lock(dp, LK_EXCLUSIVE | LK_RETRY, cnp->cn_proc);
    }
  }

  ndp->ni_dvp = dp;
  ndp->ni_vp = NULL;
  cnp->cn_flags &= ~PDIRUNLOCK;
  if (dp->v_type != VDIR) {
    error = ENOTDIR;
    goto bad;
  }
  if ((error = VOP_LOOKUP(dp, &ndp->ni_vp, cnp)) != 0) {
    ndp->ni_vp = NULL;
    if (error != EJUSTRETURN) goto bad;
    /* The last name is free, for a CREATE or RENAME. */
    if (*ndp->ni_next != 0) {
      error = ENOENT;
      goto bad;
    }
    if (cnp->cn_flags & REQUIREDIR && cnp->cn_nameiop != CREATE) {
      error = ENOENT;
      goto bad;
    }
    if (!(cnp->cn_flags & LOCKPARENT) && !(cnp->cn_flags & PDIRUNLOCK)) {
      VOP_UNLOCK(dp, 0, cnp->cn_proc);
      cnp->cn_flags |= PDIRUNLOCK;
    }
    cnp->cn_flags |= SAVENAME;
    return 0;
  }
  if ((error = checked_result(ndp->ni_vp, dp)) != 0) {
    ndp->ni_vp = NULL;
    goto bad;
  }
  dp = ndp->ni_vp;

  /* A directory something is mounted on: the root of what is mounted. */
  while (dp->v_type == VDIR && !(cnp->cn_flags & NOCROSSMOUNT)) {
    struct mount *mp = vfs_mounted_on(dp);
    if (mp == NULL) break;
    struct vnode *tdp;
    if ((error = vfs_root(mp, &tdp)) != 0) {
      vput(dp);
      ndp->ni_vp = NULL;
      goto bad;
    }
    vput(dp);
    ndp->ni_vp = dp = tdp;
  }

  /* A symbolic link to follow: namei reads it and starts again. */
  if (dp->v_type == VLNK && ((cnp->cn_flags & FOLLOW) || *ndp->ni_next == '/')) {
    cnp->cn_flags |= ISSYMLINK;
    return 0;
  }

  if ((cnp->cn_flags & REQUIREDIR) && dp->v_type != VDIR) {
    error = ENOTDIR;
    vput(dp);
    ndp->ni_vp = NULL;
    goto bad;
  }

nextname:
  if (*ndp->ni_next != 0) {
    /* More to go: the result is the next directory. */
    cnp->cn_nameptr = ndp->ni_next;
    while (*cnp->cn_nameptr == '/') {
      cnp->cn_nameptr++;
      ndp->ni_pathlen--;
    }
    release_dir(ndp);
    goto dirloop;
  }
  /* The last name. */
  if (!wantparent) release_dir(ndp);
  else if ((cnp->cn_flags & WANTPARENT) && !(cnp->cn_flags & LOCKPARENT) &&
           !(cnp->cn_flags & PDIRUNLOCK) && ndp->ni_dvp != ndp->ni_vp) {
    VOP_UNLOCK(ndp->ni_dvp, 0, cnp->cn_proc);
    cnp->cn_flags |= PDIRUNLOCK;
  }
  if (!(cnp->cn_flags & LOCKLEAF)) VOP_UNLOCK(dp, 0, cnp->cn_proc);
  return 0;

bad:
  release_dir(ndp);
  return error;
}

int namei(struct nameidata *ndp) {
  struct componentname *cnp = &ndp->ni_cnd;
  if (cnp->cn_proc == NULL) cnp->cn_proc = clkm_current_proc();
  char *buf = kbuf();
  if (buf == NULL) return ENOMEM;
  int error;
  size_t len = 0;
  if (ndp->ni_segflg == UIO_SYSSPACE) {
    len = strlcpy(buf, ndp->ni_dirp, MAXPATHLEN) + 1;
    error = len > MAXPATHLEN ? ENAMETOOLONG : 0;
  } else {
    error = copyinstr(ndp->ni_dirp, buf, MAXPATHLEN, &len);
  }
  if (error == 0 && len <= 1) error = ENOENT;
  if (error) {
    free(buf, M_TEMP);
    ndp->ni_vp = NULL;
    ndp->ni_dvp = NULL;
    return error;
  }
  cnp->cn_pnbuf = buf;
  cnp->cn_flags |= HASBUF;
  ndp->ni_pathlen = len;
  ndp->ni_loopcnt = 0;
  /* Every path starts at the root (this kernel's processes have no current directory: a
   * relative path is taken from "/"). dp holds a reference, which vfs_lookup takes. */
  struct vnode *dp = rootvnode;
  vref(dp);
  for (;;) {
    cnp->cn_nameptr = cnp->cn_pnbuf;
    while (*cnp->cn_nameptr == '/') {
      cnp->cn_nameptr++;
      ndp->ni_pathlen--;
    }
    ndp->ni_startdir = dp;
    if ((error = vfs_lookup(ndp)) != 0) break;
    if (!(cnp->cn_flags & ISSYMLINK)) {
      if (!(cnp->cn_flags & (SAVENAME | SAVESTART))) namei_free_buffer(cnp);
      return 0;
    }
    /* Read the link; what is left of the path follows it. */
    if (ndp->ni_loopcnt++ >= MAXSYMLINKS) error = ELOOP;
    char *cp = error ? NULL : kbuf();
    if (error == 0 && cp == NULL) error = ENOMEM;
    size_t linklen = 0;
    if (error == 0) {
      struct iovec iov = {cp, MAXPATHLEN};
      struct uio uio = {&iov, 1, 0, MAXPATHLEN, UIO_SYSSPACE, UIO_READ, cnp->cn_proc};
      error = VOP_READLINK(ndp->ni_vp, &uio, cnp->cn_cred);
      linklen = MAXPATHLEN - uio.uio_resid;
      if (error == 0 && linklen == 0) error = ENOENT;
      if (error == 0 && linklen + ndp->ni_pathlen >= MAXPATHLEN) error = ENAMETOOLONG;
    }
    vput(ndp->ni_vp);
    ndp->ni_vp = NULL;
    if (error) {
      if (cp != NULL) free(cp, M_TEMP);
      release_dir(ndp);
      break;
    }
    if (ndp->ni_pathlen > 1) {
      cp[linklen] = '/';
      memcpy(cp + linklen + 1, ndp->ni_next, ndp->ni_pathlen);
      linklen++;
    } else {
      cp[linklen] = 0;
    }
    free(cnp->cn_pnbuf, M_TEMP);
    cnp->cn_pnbuf = cp;
    ndp->ni_pathlen += linklen;
    /* A relative link goes on from the link's directory, an absolute one from the root. */
    dp = cp[0] != '/' && ndp->ni_dvp != NULL ? ndp->ni_dvp : rootvnode;
    vref(dp);
    release_dir(ndp);
  }
  namei_free_buffer(cnp);
  ndp->ni_vp = NULL;
  return error;
}

size_t clkm_lookup_exports(clkm_export_t *table, size_t room) {
  CLKM_EXPORTS(table, room, CLKM_FUNC("namei", namei), CLKM_FUNC("vfs_lookup", vfs_lookup));
}
