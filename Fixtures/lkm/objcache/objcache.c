/*
 * objcache: a cache of named objects in a pool(9) with a hard limit, as a system call
 * (automatic slot, 210 on a fresh kernel):
 *
 *	objcache(op, name, flags)
 *	  op 1, take NAME [1]	an object named NAME from the pool: PR_WAITOK, so at the limit
 *				the call sleeps until another client gives one back; with flags 1
 *				PR_NOWAIT (EAGAIN at the limit, the pool's warning in the log)
 *	  op 2, give NAME	gives the object named NAME back (pool_put); ENOENT if none
 *	  op 3, stat		prints the pool's statistics (what the kernel writes in the
 *				struct pool); returns the items out
 *	  op 4, bad KIND	puts back what is not an item: KIND 0 a stack address, 1 an item
 *				twice, 2 a pointer inside an item, 3 an item to the wrong pool;
 *				KIND 4 takes from a struct pool that pool_init never saw
 *	  op 5, abandon		unload without giving the objects back or destroying the pool
 *				(the kernel reports and frees them)
 *	  op 6, limit N		pool_sethardlimit(N); returns its error
 *	  op 7, scribble	overwrites the struct pool, then takes and gives back an object:
 *				the kernel's state is its own, so both work
 *	  op 8, stale		writes to an object after giving it back, then takes one again
 *				(the kernel finds the write: a panic)
 *
 * Compiled with -DOBJCACHE_FAIL_LOAD, the load takes an object and fails (EIO): the kernel
 * reports and frees the pool.
 *
 *	modload objcache.o
 *	lkmctl syscall 210 1 apple	# took 'apple' (1 of 3 out)
 *	lkmctl syscall 210 2 apple	# gave back 'apple' (0 of 3 out)
 */
#include <sys/param.h>
#include <sys/systm.h>
#include <sys/kernel.h>
#include <sys/proc.h>
#include <sys/pool.h>
#include <sys/lkm.h>

#define OBJCACHE_LIMIT 3
#define OBJCACHE_NAME 24

struct obj {
	char o_name[OBJCACHE_NAME];
	pid_t o_pid;		/* who took it */
	struct obj *o_next;
};

struct objcache_args {
	syscallarg(long) op;
	syscallarg(const char *) name;
	syscallarg(long) flags;
};

static int objcache_call(struct proc *p, void *v, register_t *retval);

static struct sysent objcache_sysent = {
	3, sizeof(struct objcache_args), 0, objcache_call
};

MOD_SYSCALL("objcache", -1, &objcache_sysent)

static struct pool obj_pool;
static struct pool other_pool;	/* for op 4, kind 3 */
static struct pool never_pool;	/* for op 4, kind 4: never initialised */
static struct obj *objects;
static int abandoned;

static struct obj **
find(const char *name)
{
	struct obj **op;

	for (op = &objects; *op != NULL; op = &(*op)->o_next)
		if (strcmp((*op)->o_name, name) == 0)
			return (op);
	return (NULL);
}

static int
take(struct proc *p, const char *name, long flags)
{
	struct obj *o;

	o = pool_get(&obj_pool, (flags & 1) ? PR_NOWAIT : (PR_WAITOK | PR_ZERO));
	if (o == NULL)
		return (EAGAIN);
	strlcpy(o->o_name, name, sizeof o->o_name);
	o->o_pid = p->p_pid;
	o->o_next = objects;
	objects = o;
	uprintf("took '%s' (%u of %u out)\n", name, obj_pool.pr_nout, obj_pool.pr_hardlimit);
	return (0);
}

static int
give(const char *name)
{
	struct obj **op, *o;

	if ((op = find(name)) == NULL)
		return (ENOENT);
	o = *op;
	*op = o->o_next;
	pool_put(&obj_pool, o);
	uprintf("gave back '%s' (%u of %u out)\n", name, obj_pool.pr_nout, obj_pool.pr_hardlimit);
	return (0);
}

static int
bad(long kind)
{
	char on_stack[64];
	char *item;

	switch (kind) {
	case 0:
		pool_put(&obj_pool, on_stack);
		break;
	case 1:
		item = pool_get(&obj_pool, PR_NOWAIT);
		if (item == NULL)
			return (EAGAIN);
		pool_put(&obj_pool, item);
		pool_put(&obj_pool, item);
		break;
	case 2:
		item = pool_get(&obj_pool, PR_NOWAIT);
		if (item == NULL)
			return (EAGAIN);
		pool_put(&obj_pool, item + 8);
		break;
	case 3:
		item = pool_get(&other_pool, PR_NOWAIT);
		pool_put(&obj_pool, item);
		break;
	case 4:
		item = pool_get(&never_pool, PR_NOWAIT);
		break;
	}
	return (EINVAL);
}

static int
stale(void)
{
	char *item;

	if ((item = pool_get(&obj_pool, PR_NOWAIT)) == NULL)
		return (EAGAIN);
	pool_put(&obj_pool, item);
	item[0] = 'X';
	item = pool_get(&obj_pool, PR_NOWAIT);
	return (item == NULL ? EAGAIN : 0);
}

static int
objcache_call(struct proc *p, void *v, register_t *retval)
{
	struct objcache_args *uap = v;
	char name[OBJCACHE_NAME];
	size_t done;
	int error;

	switch (SCARG(uap, op)) {
	case 1:
	case 2:
		error = copyinstr(SCARG(uap, name), name, sizeof name, &done);
		if (error)
			return (error);
		return (SCARG(uap, op) == 1 ? take(p, name, SCARG(uap, flags)) : give(name));
	case 3:
		uprintf("pool %s: size %u, %u per page, %u out, %u available, limit %u, "
		    "gets %lu, puts %lu, fails %lu, pages %u%s\n", obj_pool.pr_wchan,
		    obj_pool.pr_size, obj_pool.pr_itemsperpage, obj_pool.pr_nout,
		    obj_pool.pr_nitems, obj_pool.pr_hardlimit, obj_pool.pr_nget,
		    obj_pool.pr_nput, obj_pool.pr_nfail, obj_pool.pr_npages,
		    (obj_pool.pr_flags & PR_WANTED) ? ", a take waits" : "");
		*retval = obj_pool.pr_nout;
		return (0);
	case 4:
		return (bad((long)SCARG(uap, name)));
	case 5:
		abandoned = 1;
		return (0);
	case 6:
		return (pool_sethardlimit(&obj_pool, (u_int)(long)SCARG(uap, name),
		    "objcache: the object pool is full", 60));
	case 7:
		memset(&obj_pool, 0xa5, sizeof obj_pool);
		obj_pool.pr_size = 1;
		obj_pool.pr_nout = 1000;
		if ((error = take(p, "scribbled", 1)) != 0)
			return (error);
		return (give("scribbled"));
	case 8:
		return (stale());
	}
	return (EINVAL);
}

static int
objcache_load(struct lkm_table *lkmtp, int cmd)
{
	pool_init(&obj_pool, sizeof(struct obj), 0, 0, 0, "objpl", NULL);
	pool_init(&other_pool, 32, 0, 0, 0, "otherpl", &pool_allocator_nointr);
#ifdef OBJCACHE_FAIL_LOAD
	objects = pool_get(&obj_pool, PR_WAITOK | PR_ZERO);
	return (EIO);
#endif
	return (pool_sethardlimit(&obj_pool, OBJCACHE_LIMIT, "objcache: the object pool is full", 60));
}

static int
objcache_unload(struct lkm_table *lkmtp, int cmd)
{
	struct obj *o;

	if (abandoned)
		return (0);
	while ((o = objects) != NULL) {
		objects = o->o_next;
		pool_put(&obj_pool, o);
	}
	pool_destroy(&obj_pool);
	pool_destroy(&other_pool);
	return (0);
}

int objcache_lkmentry(struct lkm_table *lkmtp, int cmd, int ver);

int
objcache_lkmentry(struct lkm_table *lkmtp, int cmd, int ver)
{
	DISPATCH(lkmtp, cmd, ver, objcache_load, objcache_unload, lkm_nofunc)
}
