/*
 * The descriptor table: the kernel's struct file for each host descriptor
 * it knows about, and the close hook that keeps knotes honest.
 *
 * Lock order (see also kern_event.c):
 *	kq_reglock -> file_watch_lock -> host poll lock
 *	kq_reglock -> f_knlist lock -> kq_lock
 *	fdt_lock is a leaf: nothing else is taken while it is held.
 *
 * Lookups take no lock (fdt_acquire()): the table and the files in it are
 * read in an epoch section (sys/sys/epoch.h), a reference is taken only if
 * the file still has one, and the slot is read again after it, as
 * FreeBSD's fget_unlocked() does.  fdt_lock serializes the writers, which
 * publish slots and grown tables with release stores; a replaced table and
 * a file whose last reference is gone are freed when the grace period
 * after them has passed, so a reader still looking at either is safe.
 * The knlist locks of files come from a small pool of mutexes chosen by
 * descriptor number, so a watched descriptor costs no mutex of its own.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/file.h>
#include <sys/epoch.h>

#define	FILE_LOCKPOOL	64

static void fd_drop_knotes(struct file *fp);
static void fd_close_file(int fd, struct file *expect);

/* The table: one allocation, so a reader sees a size and its slots. */
struct fdtab {
	epoch_context_t	ft_epoch;
	int		ft_nfiles;
	struct file	*ft_files[];	/* atomic */
};

static struct hc_mtx *fdt_lock;
static struct fdtab *fdt;		/* atomic; replaced under fdt_lock */
static int fdt_count;
static uint32_t fdt_gen;
static struct hc_mtx *file_lockpool[FILE_LOCKPOOL];
/* Serializes host watch changes so that watch and unwatch never cross. */
static struct hc_mtx *file_watch_lock;

int
fd_sysinit(void)
{
	int error, i;

	/* Again after a start that failed: keep the locks it made. */
	if ((fdt_lock == NULL &&
	    (error = hc_mtx_init(&fdt_lock, "fdt_lock")) != 0) ||
	    (file_watch_lock == NULL && (error = hc_mtx_init(&file_watch_lock,
	    "file_watch_lock")) != 0))
		return (error);
	for (i = 0; i < FILE_LOCKPOOL; i++)
		if (file_lockpool[i] == NULL &&
		    (error = hc_mtx_init(&file_lockpool[i], "knlist")) != 0)
			return (error);
	return (0);
}

long long
fd_count(void)
{

	return (__atomic_load_n(&fdt_count, __ATOMIC_RELAXED));
}

static unsigned long
fdtab_size(int nfiles)
{

	return (sizeof(struct fdtab) + sizeof(struct file *) *
	    (unsigned long)nfiles);
}

static void
fdtab_free(epoch_context_t *ctx)
{
	struct fdtab *t = epoch_container(ctx, struct fdtab, ft_epoch);

	kfree(t, fdtab_size(t->ft_nfiles), M_FILE);
}

static int
fdt_nfiles(void)
{
	struct fdtab *t = fdt;

	return (t != NULL ? t->ft_nfiles : 0);
}

/* Grow the table to hold fd; called with fdt_lock held. */
static int
fdt_grow(int fd)
{
	struct fdtab *nt, *ot = fdt;
	int n, on = fdt_nfiles();

	for (n = on ? on : 64; n <= fd; n *= 2)
		;
	nt = kmalloc(fdtab_size(n), M_FILE, HC_M_ZERO);
	if (nt == NULL)
		return (ENOMEM);
	nt->ft_nfiles = n;
	if (ot != NULL)
		memcpy(nt->ft_files, ot->ft_files,
		    sizeof(struct file *) * (unsigned long)on);
	/* Slots, then the table: pairs with the load fence in fdt_load(). */
	ck_pr_fence_store();
	ck_pr_store_ptr(&fdt, nt);
	if (ot != NULL)
		epoch_call(&ot->ft_epoch, fdtab_free);
	return (0);
}

/* Set a slot; fdt_lock held, the table big enough. */
static void
fdt_set(int fd, struct file *fp)
{

	/* The file, then the slot: pairs with the fence in fdt_load(). */
	ck_pr_fence_store();
	ck_pr_store_ptr(&fdt->ft_files[fd], fp);
}

static struct file *
falloc(int fd, int type)
{
	struct file *fp;

	fp = kmalloc(sizeof(*fp), M_FILE, HC_M_ZERO);
	if (fp == NULL)
		return (NULL);
	fp->f_fd = fd;
	fp->f_type = type;
	fp->f_refs = 1;		/* the table's */
	knlist_init(&fp->f_knlist, file_lockpool[fd % FILE_LOCKPOOL]);
	return (fp);
}

/* Enter fp in the table at its number; fdt_lock held, slot empty. */
static int
fdt_install(struct file *fp)
{
	int error;

	if (fp->f_fd >= fdt_nfiles() && (error = fdt_grow(fp->f_fd)) != 0)
		return (error);
	KASSERT(fdt->ft_files[fp->f_fd] == NULL, ("fdt_install: slot in use"));
	fp->f_gen = ++fdt_gen;
	fdt_set(fp->f_fd, fp);
	/* fd_count() reads it without fdt_lock (evring_stat()). */
	__atomic_add_fetch(&fdt_count, 1, __ATOMIC_RELAXED);
	return (0);
}

void
fhold(struct file *fp)
{

	__atomic_add_fetch(&fp->f_refs, 1, __ATOMIC_RELAXED);
}

/* A reference, unless the last one is gone (the file is being freed). */
static int
fhold_live(struct file *fp)
{
	int refs;

	refs = ck_pr_load_int(&fp->f_refs);
	do {
		if (refs <= 0)
			return (0);
	} while (!ck_pr_cas_int_value(&fp->f_refs, refs, refs + 1, &refs));
	return (1);
}

static void
file_free(epoch_context_t *ctx)
{
	struct file *fp = epoch_container(ctx, struct file, f_epoch);

	if (fp->f_type == DTYPE_KQUEUE)
		kqueue_free(fp->f_kq);
	kfree(fp, sizeof(*fp), M_FILE);
}

void
fdrop(struct file *fp)
{

	if (__atomic_sub_fetch(&fp->f_refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	KASSERT(SLIST_EMPTY(&fp->f_knlist.kl_list), ("fdrop: knotes left"));
	/* A lock-free lookup may still be looking at it, or at its queue. */
	epoch_call(&fp->f_epoch, file_free);
}

/* fdt_lock held. */
static struct file *
fdt_get(int fd)
{

	if (fd < 0 || fd >= fdt_nfiles())
		return (NULL);
	return (fdt->ft_files[fd]);
}

/* A slot of the table t found by ck_pr_load_ptr(&fdt), in a section. */
static struct file *
fdt_load(const struct fdtab *t, int fd)
{
	struct file *fp;

	/* Pairs with the store fence in fdt_grow(): t is filled in. */
	ck_pr_fence_load();
	if (t == NULL || fd < 0 || fd >= t->ft_nfiles)
		return (NULL);
	fp = ck_pr_load_ptr(&t->ft_files[fd]);
	/* Pairs with the store fence in fdt_set(): *fp is filled in. */
	ck_pr_fence_load();
	return (fp);
}

/*
 * The file at fd with a reference, without fdt_lock; NULL if there is
 * none.  A thread that cannot have an epoch section looks under the lock.
 */
static struct file *
fdt_acquire(int fd)
{
	struct epoch_tracker et;
	struct fdtab *t;
	struct file *fp;

	if (epoch_enter(&et) != 0) {
		hc_mtx_lock(fdt_lock);
		if ((fp = fdt_get(fd)) != NULL)
			fhold(fp);
		hc_mtx_unlock(fdt_lock);
		return (fp);
	}
	for (;;) {
		t = ck_pr_load_ptr(&fdt);
		if ((fp = fdt_load(t, fd)) == NULL)
			break;
		if (!fhold_live(fp))
			continue;	/* going: the slot is changing */
		/* Still there after the reference: not closed meanwhile. */
		if (fdt_load(ck_pr_load_ptr(&fdt), fd) == fp)
			break;
		epoch_exit(&et);
		fdrop(fp);
		if (epoch_enter(&et) != 0)
			return (fdt_acquire(fd));
	}
	epoch_exit(&et);
	return (fp);
}

/*
 * Find the file for a host descriptor a knote is about to watch, creating
 * it on first use.  The host's identity of the open object is compared
 * with the recorded one, so a number that was closed behind our back and
 * reused is treated as a new object: the old knotes on that number go.
 */
int
fd_lookup_host(int fd, struct file **fpp)
{
	struct hc_fdinfo fi;
	struct file *fp, *nfp;
	int error;

	if (fd < 0)
		return (EBADF);
	if ((error = hc_fd_stat(fd, &fi)) != 0)
		return (error);
	nfp = NULL;
	for (;;) {
		hc_mtx_lock(fdt_lock);
		fp = fdt_get(fd);
		if (fp != NULL && (fp->f_type == DTYPE_KQUEUE ||
		    (fp->f_hosttype == fi.fi_type && fp->f_dev == fi.fi_dev &&
		    fp->f_ino == fi.fi_ino))) {
			fhold(fp);
			hc_mtx_unlock(fdt_lock);
			if (nfp != NULL)
				fdrop(nfp);
			*fpp = fp;
			return (0);
		}
		if (fp == NULL && nfp != NULL) {
			if ((error = fdt_install(nfp)) != 0) {
				hc_mtx_unlock(fdt_lock);
				fdrop(nfp);
				return (error);
			}
			fhold(nfp);
			hc_mtx_unlock(fdt_lock);
			*fpp = nfp;
			return (0);
		}
		hc_mtx_unlock(fdt_lock);
		if (fp != NULL) {
			/* A stale object at this number: forget it. */
			fd_close_hook(fd);
			continue;
		}
		nfp = falloc(fd, DTYPE_HOST);
		if (nfp == NULL)
			return (ENOMEM);
		nfp->f_hosttype = fi.fi_type;
		nfp->f_dev = fi.fi_dev;
		nfp->f_ino = fi.fi_ino;
	}
}

/*
 * Find the file for a descriptor whose knotes are being changed (not
 * added).  A number the kernel does not know is EBADF if it is not open on
 * the host, and otherwise a descriptor with no knotes (*fpp is NULL).
 */
int
fd_lookup(int fd, struct file **fpp)
{
	struct hc_fdinfo fi;
	struct file *fp;

	if (fd < 0)
		return (EBADF);
	fp = fdt_acquire(fd);
	*fpp = fp;
	if (fp == NULL)
		return (hc_fd_stat(fd, &fi));
	return (0);
}

/*
 * The table knows a queue by one number, the descriptor it was made with
 * (or moved to: fd_close_upcall()).  A program may dup() that descriptor
 * and use the copy, as it can a Linux epoll instance: a number the table
 * does not know as a queue is asked about, and if it is a duplicate of a
 * queue's descriptor, that is the queue.  Only the miss pays.
 */
int
fd_lookup_kqueue(int fd, struct file **fpp)
{
	struct hc_fdinfo fi;
	struct file *fp;
	int i;

	if ((fp = fdt_acquire(fd)) != NULL) {
		if (fp->f_type == DTYPE_KQUEUE) {
			*fpp = fp;
			return (0);
		}
		fdrop(fp);
	}
	/* A queue's host descriptor is an eventfd; nothing else can be one. */
	if (fd < 0 || hc_fd_stat(fd, &fi) != 0 || fi.fi_type != HC_FT_EVENTFD)
		return (EBADF);
	hc_mtx_lock(fdt_lock);
	for (i = 0; i < fdt_nfiles(); i++) {
		fp = fdt_get(i);
		if (fp != NULL && fp->f_type == DTYPE_KQUEUE && i != fd &&
		    hc_fd_same(fd, i) == 0) {
			fhold(fp);
			hc_mtx_unlock(fdt_lock);
			*fpp = fp;
			return (0);
		}
	}
	hc_mtx_unlock(fdt_lock);
	return (EBADF);
}

/*
 * The program's O_NONBLOCK on a queue's descriptor (hu_qnonblock): the
 * host descriptor is always non-blocking, which Linux's epoll descriptor
 * is not, so fcntl(F_GETFL) shows the program's bit, as on Linux.  Only
 * the number the table knows the queue by: a dup() of it shows the host's
 * flags.  -1 if fd is not a queue.
 */
int
fd_queue_nonblock(int fd, int op)
{
	struct file *fp;
	int nb = -1;

	if ((fp = fdt_acquire(fd)) == NULL)
		return (-1);
	if (fp->f_type == DTYPE_KQUEUE) {
		if (op >= 0)
			__atomic_store_n(&fp->f_kq->kq_nonblock, op != 0,
			    __ATOMIC_RELAXED);
		nb = __atomic_load_n(&fp->f_kq->kq_nonblock,
		    __ATOMIC_RELAXED);
	}
	fdrop(fp);
	return (nb);
}

/* Resolve an upcall's cookie; NULL when the object is gone. */
struct file *
fd_lookup_cookie(unsigned long long cookie)
{
	struct file *fp;

	fp = fdt_acquire((int)(cookie >> 32));
	if (fp != NULL && fp->f_gen != (uint32_t)cookie) {
		fdrop(fp);
		fp = NULL;
	}
	return (fp);
}

int
fd_install_kqueue(int fd, struct kqueue *kq, struct file **fpp)
{
	struct file *fp;
	int error;

	fp = falloc(fd, DTYPE_KQUEUE);
	if (fp == NULL)
		return (ENOMEM);
	fp->f_kq = kq;
	fp->f_hosttype = HC_FT_EVENTFD;
	for (;;) {
		hc_mtx_lock(fdt_lock);
		if (fdt_get(fd) == NULL)
			break;
		hc_mtx_unlock(fdt_lock);
		/* The number was closed behind our back; drop what was there. */
		fd_close_hook(fd);
	}
	error = fdt_install(fp);
	hc_mtx_unlock(fdt_lock);
	if (error != 0) {
		fp->f_kq = NULL;
		fp->f_type = DTYPE_HOST;
		fdrop(fp);
		return (error);
	}
	*fpp = fp;
	return (0);
}

/*
 * The descriptor fd is being closed: take it out of the table and remove
 * every knote on it from every queue, so nothing survives onto whatever the
 * number names next.  Runs before the host descriptor is released.
 */
void
fd_close_hook(int fd)
{

	fd_close_file(fd, NULL);
}

/* fd_close_hook(), only while the table holds expect for fd (if given). */
static void
fd_close_file(int fd, struct file *expect)
{
	struct file *fp;

	hc_mtx_lock(fdt_lock);
	fp = fdt_get(fd);
	if (fp == NULL || (expect != NULL && fp != expect)) {
		hc_mtx_unlock(fdt_lock);
		return;
	}
	fdt_set(fd, NULL);
	__atomic_sub_fetch(&fdt_count, 1, __ATOMIC_RELAXED);
	hc_mtx_unlock(fdt_lock);

	/*
	 * A registration that found fp in the table before it left adds no
	 * knote and no host watch from now on (file_knote_attach(),
	 * file_watch()): one made after the close would watch whatever the
	 * number names next under this file's cookie, which no upcall finds.
	 * Those it added before are dropped below.
	 */
	hc_mtx_lock(file_watch_lock);
	fp->f_hwant |= F_CLOSED;
	hc_mtx_unlock(file_watch_lock);

	/*
	 * Other queues' registrations on the number go with it, a queue's
	 * as well as any descriptor's, as FreeBSD's knote_fdclose() and
	 * Linux's eventpoll_release() remove them; only then is the queue
	 * itself closed.
	 */
	fd_drop_knotes(fp);
	if (fp->f_type == DTYPE_KQUEUE)
		kqueue_close(fp->f_kq);
	fdrop(fp);
}

/* Remove every knote on fp, which names fp->f_fd, from every queue. */
static void
fd_drop_knotes(struct file *fp)
{
	struct file *kqfp;
	struct knote *kn;

	for (;;) {
		hc_mtx_lock(fp->f_knlist.kl_lock);
		kn = SLIST_FIRST(&fp->f_knlist.kl_list);
		if (kn == NULL) {
			hc_mtx_unlock(fp->f_knlist.kl_lock);
			break;
		}
		kqfp = kn->kn_kq->kq_fp;
		fhold(kqfp);
		hc_mtx_unlock(fp->f_knlist.kl_lock);
		knote_fdclose(kqfp->f_kq, fp);
		fdrop(kqfp);
	}
}

/*
 * Move the queue at number fd to number alias, another descriptor of the
 * same open file description.  Knotes in other queues that watch it under
 * fd go first, as knotes on any closed number do.  Whatever the table
 * held for alias was stale: that number names the queue's file now.
 * Nonzero if the queue is not at fd any more or alias was taken meanwhile.
 */
static int
fd_move_kqueue(int fd, int alias)
{
	struct kqueue *kq;
	struct file *fp;
	int error;

	fd_close_hook(alias);
	hc_mtx_lock(fdt_lock);
	fp = fdt_get(fd);
	if (fp == NULL || fp->f_type != DTYPE_KQUEUE) {
		hc_mtx_unlock(fdt_lock);
		return (ENOENT);
	}
	fhold(fp);
	hc_mtx_unlock(fdt_lock);
	fd_drop_knotes(fp);
	hc_mtx_lock(fdt_lock);
	if (fdt_get(fd) != fp || fdt_get(alias) != NULL) {
		hc_mtx_unlock(fdt_lock);
		fdrop(fp);
		return (EBUSY);
	}
	/* The table's reference moves with the entry. */
	fdt_set(fd, NULL);
	__atomic_sub_fetch(&fdt_count, 1, __ATOMIC_RELAXED);
	fp->f_fd = alias;
	if ((error = fdt_install(fp)) != 0) {
		fp->f_fd = fd;
		fdt_set(fd, fp);
		__atomic_add_fetch(&fdt_count, 1, __ATOMIC_RELAXED);
		hc_mtx_unlock(fdt_lock);
		fdrop(fp);
		return (error);
	}
	hc_mtx_unlock(fdt_lock);
	kq = fp->f_kq;
	KQ_LOCK(kq);
	kq->kq_fd = alias;
	KQ_UNLOCK(kq);
	fdrop(fp);
	return (0);
}

/*
 * The program closes fd (the hu_fdclose upcall).  A queue whose open file
 * description lives on in another descriptor, because the program dup()ed
 * it, is not closed: it moves to that descriptor, as a Linux epoll
 * instance lives until the last descriptor of its file is closed.  The
 * search asks only the numbers that can be duplicates (hc_fd_alias()),
 * none for a queue never duplicated.  Two threads closing two duplicates of one queue
 * at once may each see the other's as the survivor and leave the queue
 * at a closed number; close them one at a time.
 */
void
fd_close_upcall(int fd)
{
	struct file *fp;
	int alias, isq;

	hc_mtx_lock(fdt_lock);
	fp = fdt_get(fd);
	isq = fp != NULL && fp->f_type == DTYPE_KQUEUE;
	hc_mtx_unlock(fdt_lock);
	if (isq && hc_fd_alias(fd, &alias) == 0 &&
	    fd_move_kqueue(fd, alias) == 0)
		return;
	fd_close_hook(fd);
}

/*
 * The program has closed fd (the hu_fdclosed upcall, after the close).
 * Another thread's registration that looked fd up between hu_fdclose and
 * the close itself found the table empty and filled it with the file
 * being closed, whose host registration went with it: no event of what
 * fd names next would ever come.  So what the table holds for fd now must
 * be what fd names now, or it goes.  (Eventfds share one identity, so a
 * stale one is not told from a new one: kqueue.2 CAVEATS.)
 */
void
fd_closed_upcall(int fd)
{
	struct hc_fdinfo fi;
	struct file *fp;
	int stale;

	if ((fp = fdt_acquire(fd)) == NULL)
		return;
	stale = fp->f_type == DTYPE_HOST && (hc_fd_stat(fd, &fi) != 0 ||
	    fi.fi_type != fp->f_hosttype || fi.fi_dev != fp->f_dev ||
	    fi.fi_ino != fp->f_ino);
	if (stale)
		fd_close_file(fd, fp);
	fdrop(fp);
}

/*
 * fork() holds the table still (fdt_lock is a leaf, taken after every
 * host lock), so that the child reads a whole table, not one that another
 * thread was growing.  The child releases it once it has read the table;
 * fd_sysinit() then gives it fresh locks, since other threads' locks may
 * have been held at the fork.
 */
void
fd_forkprepare(void)
{

	hc_mtx_lock(fdt_lock);
}

void
fd_forkparent(void)
{

	hc_mtx_unlock(fdt_lock);
}

/*
 * In a fork child: the child has no queues (BSD semantics) and must not
 * touch the parent's objects, whose locks may have been held by threads
 * that do not exist here.  Close the queues' host descriptors and start
 * over with an empty table; the parent's memory is abandoned, not freed.
 */
void
fd_forkchild(void)
{
	int fd;

	for (fd = 0; fd < fdt_nfiles(); fd++)
		if (fdt_get(fd) != NULL && fdt_get(fd)->f_type == DTYPE_KQUEUE)
			hc_fd_close(fd);
	hc_mtx_unlock(fdt_lock);	/* taken by fd_forkprepare() */
	fdt = NULL;
	fdt_count = 0;
	(void)fd_sysinit();
}

/*
 * A knote starts or stops watching fp.  The filters register the
 * descriptor with the host (file_watch()) and the last knote's detach
 * unregisters it: one host registration per descriptor however many
 * queues and filters watch it.  The count changes under file_watch_lock,
 * so a detach that unregisters and an attach that registers again are
 * ordered.  Called with the knote's queue registration lock held, no
 * other.
 */
int
file_knote_attach(struct file *fp, struct knote *kn)
{
	int error;

	/* A watched queue tells its watchers through its task. */
	if (fp->f_type == DTYPE_KQUEUE && (error = ktask_prepare()) != 0)
		return (error);
	hc_mtx_lock(file_watch_lock);
	if (fp->f_hwant & F_CLOSED) {
		hc_mtx_unlock(file_watch_lock);
		return (EBADF);
	}
	knlist_add(&fp->f_knlist, kn);
	__atomic_add_fetch(&fp->f_nknotes, 1, __ATOMIC_RELAXED);
	hc_mtx_unlock(file_watch_lock);
	return (0);
}

void
file_knote_detach(struct file *fp, struct knote *kn)
{

	if (fp->f_type == DTYPE_HOST) {
		hc_mtx_lock(file_watch_lock);
		knlist_remove(&fp->f_knlist, kn);
		if (__atomic_sub_fetch(&fp->f_nknotes, 1,
		    __ATOMIC_RELAXED) == 0 && fp->f_watched == 1) {
			hc_fd_unwatch(fp->f_fd, FILE_COOKIE(fp));
			__atomic_store_n(&fp->f_watched, 0,
			    __ATOMIC_RELAXED);
			fp->f_hwant &= F_CLOSED;
		}
		hc_mtx_unlock(file_watch_lock);
	} else {
		knlist_remove(&fp->f_knlist, kn);
		__atomic_sub_fetch(&fp->f_nknotes, 1, __ATOMIC_RELAXED);
	}
}

/*
 * The host watches a descriptor for what its filters want (events, in
 * HC_POLL* bits, their f_hostevents), the union over every queue.  Asking
 * for less than everything matters on an edge-triggered host
 * registration: EPOLLOUT fires when a writable descriptor is
 * registered and at every ACK that frees space in a socket's send buffer,
 * each a host thread wakeup and an upcall, which a descriptor watched
 * only for reading wants none of.  The set grows while knotes remain and
 * is dropped with the last one (file_knote_detach()).  A descriptor the
 * host cannot watch (EPERM) is always ready, and so are regular files and
 * directories, which are not asked about.  *reportsp is set when the host
 * will report the descriptor's current readiness for events at its next
 * drain, as it does when a registration is made or widened, so that the
 * caller need not ask for it.  Called with the knote's queue registration
 * lock held, no other.
 */
int
file_watch(struct file *fp, unsigned events, int *reportsp)
{
	int error = 0;

	*reportsp = 0;
	if (fp->f_type != DTYPE_HOST || events == 0 ||
	    fp->f_hosttype == HC_FT_REG || fp->f_hosttype == HC_FT_DIR)
		return (0);
	hc_mtx_lock(file_watch_lock);
	if (fp->f_hwant & F_CLOSED)
		error = EBADF;		/* closed meanwhile (fd_close_file()) */
	else if (fp->f_watched >= 0 && (fp->f_hwant & events) != events) {
		error = hc_fd_watch(fp->f_fd, FILE_COOKIE(fp),
		    fp->f_hwant | events, reportsp);
		if (error == EPERM && fp->f_watched == 0) {
			/* Always ready; read without the lock. */
			__atomic_store_n(&fp->f_watched, -1,
			    __ATOMIC_RELAXED);
			error = 0;
		} else if (error == 0) {
			__atomic_store_n(&fp->f_watched, 1, __ATOMIC_RELAXED);
			fp->f_hwant |= events;
			/*
			 * Bits a drain stamped before are for the old set:
			 * a re-check must not take them for the new one.
			 * The host changed the set under its drain lock, so
			 * every drain from now on samples the new set.
			 */
			__atomic_store_n(&fp->f_hseq, 0, __ATOMIC_RELEASE);
		}
	}
	hc_mtx_unlock(file_watch_lock);
	return (error);
}

/* The vnode watch, shared by the vnode and regular-file read filters. */
int
file_vnode_hold(struct file *fp, unsigned notes)
{
	int error = 0;

	hc_mtx_lock(file_watch_lock);
	if (fp->f_nvnode == UINT16_MAX)
		error = ENOMEM;		/* 65,535 queues watching one file */
	else if (fp->f_nvnode == 0)
		error = hc_vnode_watch(fp->f_fd, FILE_COOKIE(fp), notes,
		    &fp->f_vwatch);
	else if (notes != 0)
		error = hc_vnode_want(fp->f_vwatch, notes);
	if (error == 0)
		fp->f_nvnode++;
	hc_mtx_unlock(file_watch_lock);
	return (error);
}

/* A held vnode watch also reports notes from now on. */
int
file_vnode_want(struct file *fp, unsigned notes)
{
	int error;

	hc_mtx_lock(file_watch_lock);
	KASSERT(fp->f_nvnode > 0, ("file_vnode_want: not held"));
	error = hc_vnode_want(fp->f_vwatch, notes);
	hc_mtx_unlock(file_watch_lock);
	return (error);
}

void
file_vnode_release(struct file *fp)
{

	hc_mtx_lock(file_watch_lock);
	KASSERT(fp->f_nvnode > 0, ("file_vnode_release: not held"));
	if (--fp->f_nvnode == 0) {
		hc_vnode_unwatch(fp->f_vwatch);
		fp->f_vwatch = NULL;
	}
	hc_mtx_unlock(file_watch_lock);
}
