/*
 * /dev/poll (Solaris, illumos): a front end on the kqueue core.
 *
 * A /dev/poll instance is a queue with the devpoll personality: the same
 * struct kqueue, the same per-descriptor knotes, the same one host
 * registration per descriptor, and an event ring can be attached to it as
 * to any queue.  What the front end adds is the set of descriptors the
 * program wrote, with the events it asked for, because /dev/poll remembers
 * a descriptor after it is closed (DP_POLL then reports POLLNVAL for it,
 * and polls whatever the number names next).
 *
 * A set entry (struct dpent) maps onto one knote with these slots:
 *	EVFILT_READ	always; with NOTE_LOWAT at the maximum when no
 *			POLLIN/POLLRDNORM is asked for, so that it fires
 *			only for hangup and errors (reported whatever the
 *			events, as poll() does)
 *	EVFILT_WRITE	POLLOUT, POLLWRNORM, POLLWRBAND
 *	EVFILT_EXCEPT	POLLPRI, POLLRDBAND (NOTE_OOB)
 * Each slot's udata is the entry's events, so a scan needs no lookup and a
 * ring record says what was asked for.  The slots are level-triggered.
 *
 * DP_POLL scans the active list itself rather than through kevent()'s
 * collection: it asks the host once per descriptor for its poll() bits and
 * reports them masked with the events (plus POLLERR and POLLHUP).  A knote
 * found ready goes back behind the call's marker, so it is reported again
 * by the next call (level-triggered) but once per call; one found not
 * ready leaves the active list until the host reports a change.  Entries
 * whose descriptor is gone sit on dp_nval and are reported first.
 *
 * Locks: dp_wlock serialises writers (write(), and the re-validation of
 * closed entries at the start of DP_POLL) and is held across
 * kqueue_register(), so it comes before kq_reglock.  dp_lock protects the
 * table and is a leaf, taken under kq_lock by the scan; the close hook
 * takes it with nothing held, and kq_lock only after dropping it.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/file.h>
#include <sys/devpoll.h>

/* poll() bits as the host (Linux, and illumos for the first six) has them. */
#define	DPOLLIN		0x0001
#define	DPOLLPRI	0x0002
#define	DPOLLOUT	0x0004
#define	DPOLLERR	0x0008
#define	DPOLLHUP	0x0010
#define	DPOLLNVAL	0x0020
#define	DPOLLRDNORM	0x0040
#define	DPOLLRDBAND	0x0080
#define	DPOLLWRNORM	0x0100
#define	DPOLLWRBAND	0x0200
#define	DPOLLRDHUP	0x2000

#define	DP_IN_EVENTS	(DPOLLIN | DPOLLRDNORM)
#define	DP_OUT_EVENTS	(DPOLLOUT | DPOLLWRNORM | DPOLLWRBAND)
#define	DP_PRI_EVENTS	(DPOLLPRI | DPOLLRDBAND)
/* Reported whether asked for or not. */
#define	DP_ALWAYS	(DPOLLERR | DPOLLHUP | DPOLLNVAL)

#define	DP_BATCH	64	/* pollfds handled per lock hold */
#define	DP_HASHSIZE	64	/* initial hash buckets */

struct dpent {
	LIST_ENTRY(dpent)	de_hash;
	TAILQ_ENTRY(dpent)	de_nvlink;	/* on dp_nval while DE_NVAL */
	int			de_fd;
	short			de_events;	/* OR of what was written */
	short			de_flags;	/* DE_* */
	uint32_t		de_gen;		/* bumped by each close */
};

#define	DE_NVAL		0x0001	/* no knote: the descriptor is gone */

struct devpoll {
	struct hc_mtx		*dp_wlock;	/* writers */
	struct hc_mtx		*dp_lock;	/* the table; a leaf */
	LIST_HEAD(, dpent)	*dp_hash;
	unsigned long		dp_hashmask;
	int			dp_count;
	TAILQ_HEAD(, dpent)	dp_nval;	/* entries to report POLLNVAL */
	int			dp_nnval;
};

static void devpoll_fdclose(struct kqueue *kq, int fd);
static void devpoll_free(struct kqueue *kq);

static const struct kq_personality devpoll_pers = {
	.kp_fdclose = devpoll_fdclose,
	.kp_free = devpoll_free,
};

static unsigned long
dp_hash(int fd)
{

	return ((unsigned long)(((uint32_t)fd * 0x9e3779b9U) >> 8));
}

static struct dpent *
dp_lookup(struct devpoll *dp, int fd)
{
	struct dpent *de;

	MTX_ASSERT_OWNED(dp->dp_lock);
	LIST_FOREACH(de, &dp->dp_hash[dp_hash(fd) & dp->dp_hashmask], de_hash)
		if (de->de_fd == fd)
			return (de);
	return (NULL);
}

static void
dp_hash_grow(struct devpoll *dp)
{
	LIST_HEAD(, dpent) *nh;
	struct dpent *de;
	unsigned long i, n, omask = dp->dp_hashmask;

	MTX_ASSERT_OWNED(dp->dp_lock);
	n = (omask + 1) * 2;
	nh = kmalloc(sizeof(*nh) * n, M_KQUEUE, HC_M_ZERO);
	if (nh == NULL)
		return;		/* longer chains, still correct */
	for (i = 0; i <= omask; i++)
		while ((de = LIST_FIRST(&dp->dp_hash[i])) != NULL) {
			LIST_REMOVE(de, de_hash);
			LIST_INSERT_HEAD(&nh[dp_hash(de->de_fd) & (n - 1)], de,
			    de_hash);
		}
	kfree(dp->dp_hash, sizeof(*nh) * (omask + 1), M_KQUEUE);
	dp->dp_hash = (void *)nh;
	dp->dp_hashmask = n - 1;
}

static void
dp_nval_set(struct devpoll *dp, struct dpent *de, int nval)
{

	MTX_ASSERT_OWNED(dp->dp_lock);
	if (nval && (de->de_flags & DE_NVAL) == 0) {
		de->de_flags |= DE_NVAL;
		TAILQ_INSERT_TAIL(&dp->dp_nval, de, de_nvlink);
		dp->dp_nnval++;
	} else if (!nval && (de->de_flags & DE_NVAL)) {
		de->de_flags &= ~DE_NVAL;
		TAILQ_REMOVE(&dp->dp_nval, de, de_nvlink);
		dp->dp_nnval--;
	}
}

static void
dp_remove(struct devpoll *dp, struct dpent *de)
{

	MTX_ASSERT_OWNED(dp->dp_lock);
	dp_nval_set(dp, de, 0);
	LIST_REMOVE(de, de_hash);
	dp->dp_count--;
	kfree(de, sizeof(*de), M_KQUEUE);
}

/* Wake DP_POLL sleepers: the set changed in a way no knote reports. */
static void
dp_wakeup(struct kqueue *kq)
{

	KQ_LOCK(kq);
	kqueue_wakeup(kq);
	KQ_UNLOCK(kq);
}

/*
 * Register the knote slots for fd with the entry's events.  Returns 0, or
 * EBADF when fd is not open (the entry reports POLLNVAL), or another
 * errno.  dp_wlock held, nothing else.
 */
static int
dp_register(struct kqueue *kq, int fd, short events)
{
	struct kevent kev;
	void *udata = (void *)(uintptr_t)(unsigned short)events;
	int error;

	kev.ident = (uintptr_t)fd;
	kev.flags = EV_ADD;
	kev.udata = udata;
	kev.filter = EVFILT_READ;
	if (events & DP_IN_EVENTS) {
		kev.fflags = 0;
		kev.data = 0;
	} else {
		/* Hangup and errors only. */
		kev.fflags = NOTE_LOWAT;
		kev.data = (intptr_t)INT64_MAX;
	}
	if ((error = kqueue_register(kq, &kev, NULL)) != 0)
		return (error);
	/* A queue descriptor has no write or except side: EINVAL there. */
	if (events & DP_OUT_EVENTS) {
		kev.filter = EVFILT_WRITE;
		kev.fflags = 0;
		kev.data = 0;
		error = kqueue_register(kq, &kev, NULL);
		if (error != 0 && error != EINVAL)
			return (error);
	}
	if (events & DP_PRI_EVENTS) {
		kev.filter = EVFILT_EXCEPT;
		kev.fflags = NOTE_OOB;
		kev.data = 0;
		error = kqueue_register(kq, &kev, NULL);
		if (error != 0 && error != EINVAL)
			return (error);
	}
	return (0);
}

static void
dp_unregister(struct kqueue *kq, int fd)
{
	static const short filters[] = {
		EVFILT_READ, EVFILT_WRITE, EVFILT_EXCEPT
	};
	struct kevent kev;
	unsigned i;

	for (i = 0; i < nitems(filters); i++) {
		kev.ident = (uintptr_t)fd;
		kev.filter = filters[i];
		kev.flags = EV_DELETE;
		kev.fflags = 0;
		kev.data = 0;
		kev.udata = NULL;
		(void)kqueue_register(kq, &kev, NULL);	/* ENOENT: not there */
	}
}

/*
 * Add fd with events, or OR events into its entry, and (re)attach its
 * knote.  dp_wlock held.
 */
static int
dp_add(struct kqueue *kq, struct devpoll *dp, int fd, short events)
{
	struct dpent *de;
	uint32_t gen;
	short nevents;
	int error, fresh = 0;

	hc_mtx_lock(dp->dp_lock);
	if ((de = dp_lookup(dp, fd)) == NULL) {
		de = kmalloc(sizeof(*de), M_KQUEUE, HC_M_ZERO);
		if (de == NULL) {
			hc_mtx_unlock(dp->dp_lock);
			return (ENOMEM);
		}
		de->de_fd = fd;
		if (dp->dp_count >= (int)dp->dp_hashmask * 2)
			dp_hash_grow(dp);
		LIST_INSERT_HEAD(&dp->dp_hash[dp_hash(fd) & dp->dp_hashmask],
		    de, de_hash);
		dp->dp_count++;
		fresh = 1;
	}
	nevents = (short)(de->de_events | events);
	/* Already watched for exactly these: nothing to do (as illumos). */
	if (!fresh && nevents == de->de_events &&
	    (de->de_flags & DE_NVAL) == 0) {
		hc_mtx_unlock(dp->dp_lock);
		return (0);
	}
	de->de_events = nevents;
	gen = de->de_gen;
	hc_mtx_unlock(dp->dp_lock);

	error = dp_register(kq, fd, nevents);

	hc_mtx_lock(dp->dp_lock);
	/* Only writers free entries, and we are the writer: de is alive. */
	if (error == 0 && de->de_gen == gen)
		dp_nval_set(dp, de, 0);
	else if (error == 0 || error == EBADF) {
		/* Not open (or closed meanwhile): POLLNVAL until it is. */
		dp_nval_set(dp, de, 1);
		error = 0;
	} else if (fresh) {
		dp_remove(dp, de);
		hc_mtx_unlock(dp->dp_lock);
		dp_unregister(kq, fd);
		return (error);
	}
	hc_mtx_unlock(dp->dp_lock);
	return (error);
}

static void
dp_del(struct kqueue *kq, struct devpoll *dp, int fd)
{
	struct dpent *de;

	hc_mtx_lock(dp->dp_lock);
	if ((de = dp_lookup(dp, fd)) == NULL) {
		hc_mtx_unlock(dp->dp_lock);
		return;
	}
	dp_remove(dp, de);
	hc_mtx_unlock(dp->dp_lock);
	dp_unregister(kq, fd);
}

/*
 * A watched descriptor was closed and its knote dropped: the entry stays,
 * reporting POLLNVAL, and a DP_POLL sleeper wakes to report it.
 */
static void
devpoll_fdclose(struct kqueue *kq, int fd)
{
	struct devpoll *dp = kq->kq_pdata;
	struct dpent *de;
	int changed = 0;

	hc_mtx_lock(dp->dp_lock);
	if ((de = dp_lookup(dp, fd)) != NULL) {
		de->de_gen++;
		changed = (de->de_flags & DE_NVAL) == 0;
		dp_nval_set(dp, de, 1);
	}
	hc_mtx_unlock(dp->dp_lock);
	if (changed)
		dp_wakeup(kq);
}

static void
devpoll_free(struct kqueue *kq)
{
	struct devpoll *dp = kq->kq_pdata;
	struct dpent *de;
	unsigned long i;

	if (dp == NULL)
		return;
	for (i = 0; dp->dp_hash != NULL && i <= dp->dp_hashmask; i++)
		while ((de = LIST_FIRST(&dp->dp_hash[i])) != NULL) {
			LIST_REMOVE(de, de_hash);
			kfree(de, sizeof(*de), M_KQUEUE);
		}
	if (dp->dp_hash != NULL)
		kfree(dp->dp_hash, sizeof(*dp->dp_hash) *
		    (dp->dp_hashmask + 1), M_KQUEUE);
	if (dp->dp_lock != NULL)
		hc_mtx_destroy(dp->dp_lock);
	if (dp->dp_wlock != NULL)
		hc_mtx_destroy(dp->dp_wlock);
	kfree(dp, sizeof(*dp), M_KQUEUE);
	kq->kq_pdata = NULL;
}

/* The /dev/poll instance fd names, held; EBADF if it is none. */
static int
dp_lookup_fd(int fd, struct file **fpp)
{
	struct file *fp;
	int error;

	if ((error = fd_lookup_kqueue(fd, &fp)) != 0)
		return (error);
	if (fp->f_kq->kq_pers != &devpoll_pers) {
		fdrop(fp);
		return (EBADF);
	}
	*fpp = fp;
	return (0);
}

int
kern_devpoll_open(int flags, int *fdp)
{
	struct devpoll *dp;
	int error;

	if (flags != 0)
		return (EINVAL);
	dp = kmalloc(sizeof(*dp), M_KQUEUE, HC_M_ZERO);
	if (dp == NULL)
		return (ENOMEM);
	TAILQ_INIT(&dp->dp_nval);
	dp->dp_hashmask = DP_HASHSIZE - 1;
	dp->dp_hash = kmalloc(sizeof(*dp->dp_hash) * DP_HASHSIZE, M_KQUEUE,
	    HC_M_ZERO);
	if (dp->dp_hash == NULL ||
	    hc_mtx_init(&dp->dp_lock, "dp_lock") != 0 ||
	    hc_mtx_init(&dp->dp_wlock, "dp_wlock") != 0) {
		error = ENOMEM;
		goto fail;
	}
	if ((error = kqueue_create(&devpoll_pers, dp, fdp)) != 0)
		goto fail;
	return (0);
fail:
	{
		struct kqueue kq;

		kq.kq_pdata = dp;
		devpoll_free(&kq);
	}
	return (error);
}

int
kern_devpoll_check(int fd)
{
	struct file *fp;
	int error;

	if ((error = dp_lookup_fd(fd, &fp)) != 0)
		return (error);
	fdrop(fp);
	return (0);
}

/*
 * write(): an array of struct pollfd.  Each entry adds its descriptor with
 * its events, ORs the events into an entry already there, or, with
 * POLLREMOVE, removes the descriptor.  Descriptors outside [0, OPEN_MAX)
 * are skipped, and ones not open are kept and reported POLLNVAL, as on
 * illumos.
 */
int
kern_devpoll_write(int fd, const void *ubuf, unsigned long len, long *retval)
{
	struct pollfd *kfds = NULL;
	struct devpoll *dp;
	struct kqueue *kq;
	struct file *fp;
	unsigned long n, i;
	int error, limit;

	*retval = 0;
	if ((error = dp_lookup_fd(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	dp = kq->kq_pdata;
	limit = hc_fd_limit();
	n = len / sizeof(struct pollfd);
	if (len % sizeof(struct pollfd) != 0 || n > (unsigned long)limit) {
		error = EINVAL;
		goto out;
	}
	if (n == 0)
		goto out;
	/* All of it first, as illumos: a bad buffer changes nothing. */
	if ((kfds = kmalloc(len, M_TEMP, 0)) == NULL) {
		error = ENOMEM;
		goto out;
	}
	if ((error = hc_copyin(ubuf, kfds, len)) != 0)
		goto out;
	hc_mtx_lock(dp->dp_wlock);
	for (i = 0; i < n && error == 0; i++) {
		if (kfds[i].fd < 0 || kfds[i].fd >= limit)
			continue;
		if (kfds[i].events & POLLREMOVE)
			dp_del(kq, dp, kfds[i].fd);
		else
			error = dp_add(kq, dp, kfds[i].fd, kfds[i].events);
	}
	hc_mtx_unlock(dp->dp_wlock);
	/* A sleeping DP_POLL re-scans: a new entry may be POLLNVAL. */
	dp_wakeup(kq);
	if (error == 0)
		*retval = (long)len;
out:
	if (kfds != NULL)
		kfree(kfds, len, M_TEMP);
	fdrop(fp);
	return (error);
}

/*
 * Entries reporting POLLNVAL whose number is open again are attached to
 * what it names now, as illumos polls a reused descriptor.
 */
static void
dp_revalidate(struct kqueue *kq, struct devpoll *dp)
{
	struct hc_fdinfo fi;
	struct dpent *de;
	int fds[DP_BATCH];
	short evs[DP_BATCH];
	int i, n = 0;

	if (__atomic_load_n(&dp->dp_nnval, __ATOMIC_RELAXED) == 0)
		return;
	hc_mtx_lock(dp->dp_wlock);
	hc_mtx_lock(dp->dp_lock);
	TAILQ_FOREACH(de, &dp->dp_nval, de_nvlink) {
		if (n == DP_BATCH)
			break;
		fds[n] = de->de_fd;
		evs[n] = de->de_events;
		n++;
	}
	hc_mtx_unlock(dp->dp_lock);
	for (i = 0; i < n; i++)
		if (hc_fd_stat(fds[i], &fi) == 0)
			(void)dp_add(kq, dp, fds[i], evs[i]);
	hc_mtx_unlock(dp->dp_wlock);
}

/* A descriptor's poll() bits now, for an active knote.  kq_lock held. */
static short
dp_revents(struct knote *kn, short *eventsp)
{
	struct file *fp = kn->kn_fp;
	unsigned st;
	short events = 0, rev = 0;
	int i;

	for (i = 0; i < kn->kn_nslots; i++)
		if (kn->kn_slot[i].ks_filter != 0) {
			events = (short)(uintptr_t)kn->kn_slot[i].ks_udata;
			break;
		}
	*eventsp = events;
	if (kn->kn_status & KN_DETACHED)
		return (DPOLLNVAL);	/* a watched queue was closed */
	if (fp->f_type == DTYPE_KQUEUE)
		st = kqueue_pending(fp->f_kq) > 0 ? HC_POLLIN : 0;
	else if (__atomic_load_n(&fp->f_watched, __ATOMIC_RELAXED) < 0 ||
	    fp->f_hosttype == HC_FT_REG || fp->f_hosttype == HC_FT_DIR)
		st = HC_POLLIN | HC_POLLOUT;	/* poll() says so, always */
	else if (hc_fd_revents(fp->f_fd, &st) != 0)
		return (DPOLLNVAL);	/* closed behind our back */
	if (st & HC_POLLIN)
		rev |= DPOLLIN | DPOLLRDNORM;
	if (st & HC_POLLPRI)
		rev |= DPOLLPRI;
	if (st & HC_POLLOUT)
		rev |= DPOLLOUT | DPOLLWRNORM | DPOLLWRBAND;
	if (st & HC_POLLERR)
		rev |= DPOLLERR;
	if (st & HC_POLLHUP)
		rev |= DPOLLHUP;
	if (st & HC_POLLRDHUP)
		rev |= DPOLLRDHUP;
	return ((short)(rev & (events | DP_ALWAYS)));
}

static void
dp_marker_remove(struct kqueue *kq, struct knote *marker)
{

	KQ_OWNED(kq);
	if (marker->kn_status & KN_QUEUED) {
		TAILQ_REMOVE(&kq->kq_head, marker, kn_tqe);
		marker->kn_status &= ~KN_QUEUED;
	}
}

/*
 * Up to want ready descriptors into kbuf: first the entries whose
 * descriptor is gone (*nvaldone of them were reported by earlier batches
 * of this call), then the active knotes up to the call's marker.
 */
static int
dp_collect(struct kqueue *kq, struct devpoll *dp, struct knote *marker,
    struct pollfd *kbuf, int want, int *nvaldone)
{
	struct dpent *de;
	struct knote *kn;
	short events, rev;
	int n = 0, i = 0, j;

	KQ_REG_OWNED(kq);
	KQ_OWNED(kq);
	hc_mtx_lock(dp->dp_lock);
	TAILQ_FOREACH(de, &dp->dp_nval, de_nvlink) {
		if (n == want)
			break;
		if (i++ < *nvaldone)
			continue;
		kbuf[n].fd = de->de_fd;
		kbuf[n].events = de->de_events;
		kbuf[n].revents = DPOLLNVAL;
		n++;
	}
	*nvaldone += n;
	hc_mtx_unlock(dp->dp_lock);
	if (kq->kq_count == 0)
		return (n);
	if ((marker->kn_status & KN_QUEUED) == 0) {
		TAILQ_INSERT_TAIL(&kq->kq_head, marker, kn_tqe);
		marker->kn_status |= KN_QUEUED;
	}
	while (n < want) {
		/* Other calls' markers stay where they are. */
		kn = TAILQ_FIRST(&kq->kq_head);
		while (kn->kn_class == KNC_MARKER && kn != marker)
			kn = TAILQ_NEXT(kn, kn_tqe);
		if (kn == marker) {
			dp_marker_remove(kq, marker);
			break;
		}
		TAILQ_REMOVE(&kq->kq_head, kn, kn_tqe);
		rev = dp_revents(kn, &events);
		if (rev != 0) {
			kbuf[n].fd = (int)kn->kn_ident;
			kbuf[n].events = events;
			kbuf[n].revents = rev;
			n++;
			/* Level-triggered: again next call, not this one. */
			TAILQ_INSERT_TAIL(&kq->kq_head, kn, kn_tqe);
			continue;
		}
		/* Not ready: off the list until the host reports a change. */
		kn->kn_status &= ~KN_QUEUED;
		KQ_COUNT_ADD(kq, -1);
		for (j = 0; j < kn->kn_nslots; j++)
			kn->kn_slot[j].ks_status &= ~KS_ACTIVE;
		kn->kn_active = 0;
	}
	kqueue_set_hostready(kq);
	return (n);
}

static long long
dp_deadline(int ms)
{

	if (ms < 0)
		return (-1);
	if (ms == 0)
		return (0);
	return (hc_clock_monotonic() + (long long)ms * 1000000LL);
}

/* DP_POLL with dp_nfds 0: a sleep, as on illumos. */
static int
dp_sleep(struct kqueue *kq, long long deadline)
{
	struct hc_sleeper *hs = NULL;
	int error = 0;

	if (deadline == 0)
		return (0);
	KQ_LOCK(kq);
	for (;;) {
		if (kq->kq_state & KQ_CLOSING) {
			error = EBADF;
			break;
		}
		error = kqueue_sleep(kq, &hs, deadline, NULL);
		if (error == ETIMEDOUT) {
			error = 0;
			break;
		}
		if (error != 0)
			break;
	}
	KQ_UNLOCK(kq);
	return (error);
}

static int
dp_poll(struct kqueue *kq, struct devpoll *dp, void *uarg, int *retval)
{
	struct pollfd kbuf[DP_BATCH], probe;
	struct hc_sleeper *hs = NULL;
	struct dvpoll dvp;
	struct knote marker;
	struct pollfd *ufds;
	long long deadline;
	int error, n, total = 0, want, nvaldone = 0;
	unsigned long nfds;

	if ((error = hc_copyin(uarg, &dvp, sizeof(dvp))) != 0)
		return (error);
	/* illumos: EINVAL for dp_nfds at or over OPEN_MAX. */
	if (dvp.dp_nfds >= (nfds_t)hc_fd_limit())
		return (EINVAL);
	nfds = dvp.dp_nfds;
	ufds = dvp.dp_fds;
	deadline = dp_deadline(dvp.dp_timeout);
	if (nfds == 0)
		return (dp_sleep(kq, deadline));
	/* Prove the array writable before waiting for anything. */
	if ((error = hc_copyin(ufds, &probe, sizeof(probe))) != 0 ||
	    (error = hc_copyout(&probe, ufds, sizeof(probe))) != 0 ||
	    (error = hc_copyin(&ufds[nfds - 1], &probe,
	    sizeof(probe))) != 0 ||
	    (error = hc_copyout(&probe, &ufds[nfds - 1],
	    sizeof(probe))) != 0)
		return (error);

	/* Let changes made before this call be seen by it. */
	__atomic_store_n(&kq->kq_drainseq, kern_host_poll(), __ATOMIC_RELAXED);
	ktask_run_pending();
	dp_revalidate(kq, dp);

	memset(&marker, 0, sizeof(marker));
	marker.kn_class = KNC_MARKER;
	for (;;) {
		KQ_REG_LOCK(kq);
		KQ_LOCK(kq);
		if (kq->kq_state & KQ_CLOSING) {
			KQ_UNLOCK(kq);
			KQ_REG_UNLOCK(kq);
			error = EBADF;
			break;
		}
		if (kq->kq_ring != NULL) {
			/* Its events go to the ring, as for kevent(). */
			KQ_UNLOCK(kq);
			KQ_REG_UNLOCK(kq);
			break;
		}
		want = nfds - (unsigned long)total > DP_BATCH ? DP_BATCH :
		    (int)(nfds - (unsigned long)total);
		n = dp_collect(kq, dp, &marker, kbuf, want, &nvaldone);
		if (n == 0 && total == 0 && deadline != 0) {
			KQ_REG_UNLOCK(kq);
			error = kqueue_sleep(kq, &hs, deadline, NULL);
			KQ_UNLOCK(kq);
			if (error == ETIMEDOUT) {
				error = 0;
				break;
			}
			if (error != 0)
				break;
			continue;
		}
		KQ_UNLOCK(kq);
		KQ_REG_UNLOCK(kq);
		if (n > 0 && (error = hc_copyout(kbuf, &ufds[total],
		    (unsigned long)n * sizeof(struct pollfd))) != 0)
			break;
		total += n;
		if (n < want || (unsigned long)total == nfds)
			break;
	}
	/* Only this thread changes marker, so its state can be read here. */
	if (marker.kn_status & KN_QUEUED) {
		KQ_LOCK(kq);
		dp_marker_remove(kq, &marker);
		KQ_UNLOCK(kq);
	}
	*retval = error == 0 ? total : 0;
	return (error);
}

static int
dp_ispolled(struct devpoll *dp, void *uarg, int *retval)
{
	struct pollfd pfd;
	struct dpent *de;
	int error, found = 0;

	if ((error = hc_copyin(uarg, &pfd, sizeof(pfd))) != 0)
		return (error);
	if (pfd.fd < 0)
		return (0);
	hc_mtx_lock(dp->dp_lock);
	de = dp_lookup(dp, pfd.fd);
	/* As illumos: an entry whose descriptor is gone is not polled. */
	if (de != NULL && (de->de_flags & DE_NVAL) == 0) {
		pfd.revents = de->de_events;
		found = 1;
	}
	hc_mtx_unlock(dp->dp_lock);
	if (found && (error = hc_copyout(&pfd, uarg, sizeof(pfd))) != 0)
		return (error);
	*retval = found;
	return (0);
}

int
kern_devpoll_ioctl(int fd, unsigned long request, void *uarg, int *retval)
{
	struct kqueue *kq;
	struct file *fp;
	int error;

	*retval = 0;
	if ((error = dp_lookup_fd(fd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;
	switch (request) {
	case DP_POLL:
		error = dp_poll(kq, kq->kq_pdata, uarg, retval);
		break;
	case DP_ISPOLLED:
		error = dp_ispolled(kq->kq_pdata, uarg, retval);
		break;
	default:
		error = EINVAL;
		break;
	}
	fdrop(fp);
	return (error);
}
