/*
 * poll(2)/ppoll(2) and select(2)/pselect(2), with Linux semantics, on the
 * kqueue core's knotes; and the descriptor registration that they share
 * with epoll (sys_epoll.c).
 *
 * A call registers each descriptor it is asked about on a queue it has to
 * itself (one knote per descriptor, slots for read, write and except: the
 * same knotes and the same single host registration per descriptor that
 * kevent() and epoll use), collects whole knotes with
 * kqueue_collect_knotes(), and sleeps on the queue until one activates.
 * The queues are pooled and their registrations reused by the next call,
 * stale ones purged: doc/frontends.md gives the measurement behind that.
 *
 * Which bits a ready descriptor reports is read from the host when the
 * knote is collected (fe_readiness()), so the answer is never older than
 * the call, and POLLHUP, POLLERR, POLLRDHUP are told apart exactly as the
 * host's poll() tells them.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/file.h>
#include <sys/eventpoll.h>

#define	FE_NRECS	64	/* knotes collected per lock hold */

/* No hooks: the personality marks the queue as poll()'s own. */
static const struct kq_personality poll_personality = {
	.kp_internal = 1,
};

/*
 * Whether a queue has an event to report now.  Its active list may hold
 * level-triggered knotes whose condition has gone since they were last
 * collected, so each is re-checked (f_event with hint 0, as a collection
 * would), without changing the list: what Linux's poll of a nested epoll
 * instance does.  A queue with a ring counts its unread records.
 */
static int
kqueue_peek(struct kqueue *kq)
{
	const struct filterops *fops;
	struct knslot *ks;
	struct knote *kn;
	int i, ready = 0;

	KQ_LOCK(kq);
	if (kq->kq_ring != NULL) {
		ready = kqueue_pending(kq) > 0;
		goto out;
	}
	TAILQ_FOREACH(kn, &kq->kq_head, kn_tqe) {
		if (kn->kn_class == KNC_MARKER)
			continue;
		for (i = 0; i < kn->kn_nslots; i++) {
			ks = &kn->kn_slot[i];
			if ((kn->kn_active & (1u << i)) == 0 ||
			    ks->ks_filter == 0 ||
			    (ks->ks_status & (KS_DISABLED | KS_DROPPING)))
				continue;
			fops = kqueue_fops(ks->ks_filter);
			if ((kn->kn_status & KN_DETACHED) ||
			    (ks->ks_flags & EV_ONESHOT) ||
			    fops->f_event(kn, ks, 0)) {
				ready = 1;
				goto out;
			}
		}
	}
out:
	KQ_UNLOCK(kq);
	return (ready);
}

/*
 * Shared with sys_epoll.c.
 */
unsigned
fe_readiness(struct file *fp)
{
	unsigned revents;

	if (fp == NULL)
		return (0);
	if (fp->f_type == DTYPE_KQUEUE)
		return (kqueue_peek(fp->f_kq) ? POLLIN : 0);
	if (hc_fd_revents(fp->f_fd, &revents) != 0)
		return (0);
	return (revents);
}

/*
 * The bits of a collected knote: those its delivery re-checks read, when
 * they read them (sys_file.c), else the host's now.
 */
unsigned
fe_record_bits(const struct kq_knrec *kr)
{

	if (kr->kr_hasbits)
		return (kr->kr_hostbits);
	return (fe_readiness(kr->kr_fp));
}

static int
fe_is_queue(int fd)
{
	struct file *fp;
	int q;

	if (fd_lookup(fd, &fp) != 0 || fp == NULL)
		return (0);
	q = fp->f_type == DTYPE_KQUEUE;
	fdrop(fp);
	return (q);
}

/*
 * Register interest in fd's poll bits events on kq, or change it: the read
 * slot always (EOF and errors are never optional), write for POLLOUT,
 * except for POLLPRI; slots no longer wanted go.  evflags (EV_CLEAR,
 * EV_DISPATCH) apply to every slot.  A queue descriptor can only be read,
 * and has no end of file, so without POLLIN its read slot is kept
 * disabled: the registration exists but never fires.
 */
int
fe_register(struct kqueue *kq, int fd, unsigned events,
    unsigned short evflags, void *udata)
{
	struct kevent kev;
	int error, iskq;

	iskq = fe_is_queue(fd);
	memset(&kev, 0, sizeof(kev));
	kev.ident = (uintptr_t)fd;
	kev.udata = udata;
	kev.filter = EVFILT_READ;
	kev.fflags = (events & 0xffffu) << FE_SF_SHIFT;
	/* EV_FE_SETFLAGS: a change replaces evflags (eventvar.h). */
	evflags |= EV_FE_SETFLAGS;
	if (events & (POLLIN | POLLRDNORM)) {
		kev.flags = EV_ADD | EV_ENABLE | evflags;
		kev.data = 0;
	} else {
		kev.flags = EV_ADD | evflags | (iskq ? EV_DISABLE : EV_ENABLE);
		kev.fflags |= NOTE_LOWAT;
		kev.data = FE_LOWAT_NEVER;
	}
	if ((error = kqueue_register(kq, &kev, NULL)) != 0)
		return (error);
	kev.fflags = 0;
	kev.data = 0;
	kev.filter = EVFILT_WRITE;
	if ((events & (POLLOUT | POLLWRNORM)) && !iskq)
		kev.flags = EV_ADD | EV_ENABLE | evflags;
	else
		kev.flags = EV_DELETE;
	error = kqueue_register(kq, &kev, NULL);
	if (error != 0 && !(error == ENOENT && kev.flags == EV_DELETE))
		return (error);
	kev.filter = EVFILT_EXCEPT;
	if ((events & POLLPRI) && !iskq) {
		kev.flags = EV_ADD | EV_ENABLE | evflags;
		kev.fflags = NOTE_OOB;
	} else
		kev.flags = EV_DELETE;
	error = kqueue_register(kq, &kev, NULL);
	if (error != 0 && !(error == ENOENT && kev.flags == EV_DELETE))
		return (error);
	return (0);
}

int
fe_unregister(struct kqueue *kq, int fd)
{
	static const short filters[] = { EVFILT_READ, EVFILT_WRITE,
	    EVFILT_EXCEPT };
	struct kevent kev;
	int error, found = 0;
	unsigned i;

	memset(&kev, 0, sizeof(kev));
	kev.ident = (uintptr_t)fd;
	kev.flags = EV_DELETE;
	for (i = 0; i < nitems(filters); i++) {
		kev.filter = filters[i];
		error = kqueue_register(kq, &kev, NULL);
		if (error == 0)
			found = 1;
		else if (error != ENOENT)
			return (error);
	}
	return (found ? 0 : ENOENT);
}

/*
 * The poll engine, for poll() and select() alike: ents holds each
 * descriptor once, with the bits asked for; on return each has the bits
 * it reports (POLLNVAL for a descriptor that is not open).
 */
struct pent {
	int		pe_fd;
	unsigned	pe_events;
	unsigned	pe_revents;
};

static struct pent *
pent_find(struct pent *ents, int nents, int fd)
{
	int lo = 0, hi = nents - 1, mid;

	/* ents is sorted by descriptor. */
	while (lo <= hi) {
		mid = (lo + hi) / 2;
		if (ents[mid].pe_fd == fd)
			return (&ents[mid]);
		if (ents[mid].pe_fd < fd)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return (NULL);
}

/* The bits a poll() caller sees: Linux adds RDNORM/WRNORM to IN/OUT. */
static unsigned
poll_bits(unsigned host, unsigned asked)
{
	unsigned bits = host;

	if (bits & POLLIN)
		bits |= POLLRDNORM;
	if (bits & POLLOUT)
		bits |= POLLWRNORM;
	if (bits & POLLPRI)
		bits |= POLLRDBAND;
	return (bits & (asked | POLLERR | POLLHUP));
}

/*
 * The queues poll() and select() run on.  A call takes an idle queue from
 * a small pool (or makes one), brings its registrations in line with the
 * call's descriptors -- registering new or changed ones, removing those the
 * call does not name (stale registrations are purged, never reported) --
 * and gives it back: registrations, and the host registrations under them,
 * are reused across calls instead of being made and torn down each time
 * (doc/frontends.md has the measurement).  A queue in use belongs to one
 * call, so a signal handler's poll() takes another.  A queue whose
 * descriptor the program closed (closefrom()) is found closing and thrown
 * away.
 */
#define	POLLQ_IDLE	4	/* idle queues kept */

struct pollq {
	struct pollq	*pq_next;
	struct file	*pq_fp;		/* the queue's file, held */
	int		pq_fd;
	int		pq_nregs;	/* registered: (fd, events), sorted */
	int		pq_cap;
	struct pent	*pq_regs;
};

static struct hc_mtx *pollq_mtx;
static struct pollq *pollq_idle;
static int pollq_nidle;

static struct hc_mtx *
pollq_lock(void)
{
	struct hc_mtx *m, *expect = NULL;

	if ((m = __atomic_load_n(&pollq_mtx, __ATOMIC_ACQUIRE)) == NULL) {
		if (hc_mtx_init(&m, "pollq_mtx") != 0)
			return (NULL);
		if (!__atomic_compare_exchange_n(&pollq_mtx, &expect, m, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			hc_mtx_destroy(m);
			m = expect;
		}
	}
	hc_mtx_lock(m);
	return (m);
}

/* In a fork child: the pool holds the parent's queues; forget them. */
void
poll_forkchild(void)
{

	pollq_mtx = NULL;
	pollq_idle = NULL;
	pollq_nidle = 0;
}

static int
pollq_closing(struct pollq *pq)
{
	struct kqueue *kq = pq->pq_fp->f_kq;
	int closing;

	KQ_LOCK(kq);
	closing = (kq->kq_state & KQ_CLOSING) != 0;
	KQ_UNLOCK(kq);
	return (closing);
}

/* Free a queue; its descriptor is closed unless the program closed it. */
static void
pollq_destroy(struct pollq *pq)
{

	if (!pollq_closing(pq)) {
		fd_close_hook(pq->pq_fd);
		hc_fd_close(pq->pq_fd);
	}
	fdrop(pq->pq_fp);
	if (pq->pq_regs != NULL)
		kfree(pq->pq_regs, (unsigned long)pq->pq_cap *
		    sizeof(struct pent), M_TEMP);
	kfree(pq, sizeof(*pq), M_TEMP);
}

static int
pollq_get(struct pollq **pqp)
{
	struct hc_mtx *m;
	struct pollq *pq;
	int error;

	for (;;) {
		pq = NULL;
		if ((m = pollq_lock()) != NULL) {
			if ((pq = pollq_idle) != NULL) {
				pollq_idle = pq->pq_next;
				pollq_nidle--;
			}
			hc_mtx_unlock(m);
		}
		if (pq == NULL)
			break;
		if (!pollq_closing(pq)) {
			*pqp = pq;
			return (0);
		}
		pollq_destroy(pq);
	}
	pq = kmalloc(sizeof(*pq), M_TEMP, HC_M_ZERO);
	if (pq == NULL)
		return (ENOMEM);
	if ((error = kqueue_create(&poll_personality, NULL, &pq->pq_fd)) != 0) {
		kfree(pq, sizeof(*pq), M_TEMP);
		return (error);
	}
	if ((error = fd_lookup_kqueue(pq->pq_fd, &pq->pq_fp)) != 0) {
		fd_close_hook(pq->pq_fd);
		hc_fd_close(pq->pq_fd);
		kfree(pq, sizeof(*pq), M_TEMP);
		return (error);
	}
	*pqp = pq;
	return (0);
}

static void
pollq_put(struct pollq *pq)
{
	struct hc_mtx *m;

	if (!pollq_closing(pq) && (m = pollq_lock()) != NULL) {
		if (pollq_nidle < POLLQ_IDLE) {
			pq->pq_next = pollq_idle;
			pollq_idle = pq;
			pollq_nidle++;
			hc_mtx_unlock(m);
			return;
		}
		hc_mtx_unlock(m);
	}
	pollq_destroy(pq);
}

/* Whether fd's knote on kq watches what fd names in the table now. */
static int
pollq_has(struct kqueue *kq, int fd)
{
	struct file *fp;
	struct knote *kn;
	int has;

	if (fd_lookup(fd, &fp) != 0 || fp == NULL)
		return (0);
	KQ_REG_LOCK(kq);
	kn = knote_lookup(kq, (uintptr_t)fd, KNC_FD);
	has = kn != NULL && kn->kn_fp == fp &&
	    (kn->kn_status & KN_DETACHED) == 0;
	KQ_REG_UNLOCK(kq);
	fdrop(fp);
	return (has);
}

/*
 * Make pq's registrations those of ents (both sorted by descriptor).  A
 * descriptor that is not open gets POLLNVAL (counted in *nreadyp), or
 * fails the call with EBADF for select().  On error the queue's state is
 * unknown and the caller destroys it.
 */
static int
pollq_sync(struct pollq *pq, struct pent *ents, int nents, int isselect,
    int *nreadyp)
{
	struct kqueue *kq = pq->pq_fp->f_kq;
	struct pent *regs = pq->pq_regs, *nregs = NULL;
	int error, i = 0, j = 0, k = 0, same;

	/* A new list: merging in place could overwrite unread entries. */
	if (nents > 0 && (nregs = kmalloc((unsigned long)nents *
	    sizeof(*nregs), M_TEMP, 0)) == NULL)
		return (ENOMEM);
	while (i < pq->pq_nregs || j < nents) {
		if (j == nents || (i < pq->pq_nregs &&
		    regs[i].pe_fd < ents[j].pe_fd)) {
			/* Stale: the call does not name it. */
			(void)fe_unregister(kq, regs[i].pe_fd);
			i++;
			continue;
		}
		same = i < pq->pq_nregs && regs[i].pe_fd == ents[j].pe_fd &&
		    regs[i].pe_events == ents[j].pe_events &&
		    pollq_has(kq, ents[j].pe_fd);
		if (i < pq->pq_nregs && regs[i].pe_fd == ents[j].pe_fd)
			i++;
		error = same ? 0 : fe_register(kq, ents[j].pe_fd,
		    ents[j].pe_events, 0, NULL);
		if (error == EBADF && !isselect) {
			ents[j].pe_revents = POLLNVAL;
			(*nreadyp)++;
		} else if (error != 0) {
			if (nregs != NULL)
				kfree(nregs, (unsigned long)nents *
				    sizeof(*nregs), M_TEMP);
			return (error);
		} else
			nregs[k++] = ents[j];
		j++;
	}
	if (regs != NULL)
		kfree(regs, (unsigned long)pq->pq_cap * sizeof(*regs), M_TEMP);
	pq->pq_regs = nregs;
	pq->pq_cap = nents;
	pq->pq_nregs = k;
	return (0);
}

/*
 * One pass of poll_engine() over its queue: every descriptor's readiness
 * into ents (nready counts those that became ready).  Called and returns
 * with kq_reglock and kq_lock held; returns kq_count as of the last batch.
 */
static int
poll_collect(struct kqueue *kq, struct knote *marker, struct pent *ents,
    int nents, int *nreadyp)
{
	struct kq_knrec recs[FE_NRECS];
	struct pent *pe;
	int count, i, n;

	do {
		n = kqueue_collect_knotes(kq, marker, recs, FE_NRECS);
		count = kq->kq_count;
		KQ_UNLOCK(kq);
		for (i = 0; i < n; i++) {
			pe = pent_find(ents, nents, (int)recs[i].kr_ident);
			if (pe == NULL || recs[i].kr_detached ||
			    pe->pe_revents != 0)
				continue;
			pe->pe_revents = poll_bits(fe_record_bits(&recs[i]),
			    pe->pe_events);
			if (pe->pe_revents != 0)
				(*nreadyp)++;
		}
		for (i = 0; i < n; i++)
			if (recs[i].kr_drops != 0)
				knote_drop_slots(kq, recs[i].kr_kn,
				    recs[i].kr_drops);
		KQ_LOCK(kq);
	} while (n == FE_NRECS);
	return (count);
}

static int
poll_engine(struct pent *ents, int nents, long long deadline,
    const void *sigmask, int isselect, int *nreadyp)
{
	struct hc_sleeper *hs = NULL;
	struct knote marker;
	struct pollq *pq;
	struct kqueue *kq;
	int count, error, i, nready, timedout;

again:
	*nreadyp = 0;
	nready = 0;
	timedout = 0;
	for (i = 0; i < nents; i++)
		ents[i].pe_revents = 0;
	if ((error = pollq_get(&pq)) != 0)
		return (error);
	kq = pq->pq_fp->f_kq;

	/* Let changes made before this call be seen by it. */
	__atomic_store_n(&kq->kq_drainseq, kern_host_poll(), __ATOMIC_RELAXED);
	ktask_run_pending();
	if ((error = pollq_sync(pq, ents, nents, isselect, &nready)) != 0) {
		pollq_destroy(pq);
		return (error);
	}
	memset(&marker, 0, sizeof(marker));
	marker.kn_class = KNC_MARKER;
	for (;;) {
		KQ_REG_LOCK(kq);
		KQ_LOCK(kq);
		if (kq->kq_state & KQ_CLOSING) {
			/* The program closed our queue's descriptor. */
			kqueue_marker_done(kq, &marker);
			KQ_UNLOCK(kq);
			KQ_REG_UNLOCK(kq);
			pollq_destroy(pq);
			goto again;
		}
		count = poll_collect(kq, &marker, ents, nents, &nready);
		kqueue_marker_done(kq, &marker);
		KQ_REG_UNLOCK(kq);
		/*
		 * A zero timeout still applies the mask, as Linux's does:
		 * with nothing ready, a zero sleep under it delivers a
		 * pending signal it unblocks (EINTR).
		 */
		if (nready > 0 || timedout ||
		    (deadline == 0 && sigmask == NULL)) {
			KQ_UNLOCK(kq);
			break;
		}
		/* Something activated while the lock was dropped: look. */
		if (kq->kq_count != count) {
			KQ_UNLOCK(kq);
			continue;
		}
		error = kqueue_sleep(kq, &hs, deadline, sigmask);
		KQ_UNLOCK(kq);
		if (error == ETIMEDOUT || (error == 0 && deadline == 0))
			timedout = 1;	/* one last look */
		else if (error != 0)
			break;
		error = 0;
	}
	*nreadyp = nready;
	pollq_put(pq);
	return (error);
}

static int
fe_copyin_timeout(const struct timespec *uts, long long *deadlinep)
{
	struct timespec ts;
	int error;

	if (uts == NULL) {
		*deadlinep = -1;
		return (0);
	}
	if ((error = hc_copyin(uts, &ts, sizeof(ts))) != 0)
		return (error);
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
		return (EINVAL);
	*deadlinep = kern_deadline(&ts);
	return (0);
}

/*
 * poll(2), ppoll(2).  uts NULL waits forever; usigmask, when not NULL, is
 * applied atomically with the sleep.
 */
int
kern_poll(struct pollfd *ufds, unsigned long nfds,
    const struct timespec *uts, const void *usigmask, int *retval)
{
	uint64_t kmask[HC_SIGSET_SIZE / sizeof(uint64_t)];
	const void *maskp = NULL;
	struct pollfd *kfds = NULL;
	struct pent *ents = NULL, *pe, t;
	long long deadline;
	unsigned long i;
	int error, j, nents = 0, nready;

	*retval = 0;
	if (nfds > (unsigned long)hc_fd_limit())
		return (EINVAL);
	if ((error = fe_copyin_timeout(uts, &deadline)) != 0)
		return (error);
	if (usigmask != NULL) {
		if ((error = hc_copyin(usigmask, kmask, sizeof(kmask))) != 0)
			return (error);
		maskp = kmask;
	}
	if (nfds > 0) {
		kfds = kmalloc(nfds * sizeof(*kfds), M_TEMP, 0);
		ents = kmalloc(nfds * sizeof(*ents), M_TEMP, 0);
		if (kfds == NULL || ents == NULL) {
			error = ENOMEM;
			goto out;
		}
		if ((error = hc_copyin(ufds, kfds, nfds * sizeof(*kfds))) != 0)
			goto out;
	}
	/*
	 * One entry per descriptor, sorted (insertion into a sorted array:
	 * duplicates merge their bits, and each pollfd is answered from its
	 * descriptor's entry with its own mask).
	 */
	for (i = 0; i < nfds; i++) {
		if (kfds[i].fd < 0)
			continue;
		t.pe_fd = kfds[i].fd;
		t.pe_events = (unsigned short)kfds[i].events;
		if ((pe = pent_find(ents, nents, t.pe_fd)) != NULL) {
			pe->pe_events |= t.pe_events;
			continue;
		}
		for (j = nents; j > 0 && ents[j - 1].pe_fd > t.pe_fd; j--)
			ents[j] = ents[j - 1];
		ents[j] = t;
		nents++;
	}
	error = poll_engine(ents, nents, deadline, maskp, 0, &nready);
	if (error != 0)
		goto out;
	nready = 0;
	for (i = 0; i < nfds; i++) {
		kfds[i].revents = 0;
		if (kfds[i].fd < 0)
			continue;
		pe = pent_find(ents, nents, kfds[i].fd);
		if (pe->pe_revents & POLLNVAL)
			kfds[i].revents = POLLNVAL;
		else
			kfds[i].revents = (short)(pe->pe_revents &
			    ((unsigned short)kfds[i].events | POLLERR |
			    POLLHUP));
		if (kfds[i].revents != 0)
			nready++;
	}
	if (nfds > 0 &&
	    (error = hc_copyout(kfds, ufds, nfds * sizeof(*kfds))) != 0)
		goto out;
	*retval = nready;
out:
	if (kfds != NULL)
		kfree(kfds, nfds * sizeof(*kfds), M_TEMP);
	if (ents != NULL)
		kfree(ents, nfds * sizeof(*ents), M_TEMP);
	return (error);
}

/*
 * select(2), pselect(2).  The sets are arrays of unsigned long bitmaps of
 * nfds bits, as Linux reads them; a descriptor that is not open is EBADF.
 * Readable means POLLIN, POLLHUP or POLLERR; writable POLLOUT or POLLERR;
 * exceptional POLLPRI (Linux's POLLIN_SET, POLLOUT_SET, POLLEX_SET).
 */
#define	LBITS	(sizeof(unsigned long) * 8)

/* select()'s timeout: Linux normalises tv_usec, refuses negatives. */
struct ktimeval {
	int64_t	tv_sec;
	long	tv_usec;
};

/* select()'s sets (read, write, except; NULL if not given) as ents. */
static int
select_to_ents(unsigned long *const sets[3], int nfds, struct pent *ents)
{
	unsigned long w;
	unsigned ev;
	int fd, nents = 0;

	for (fd = 0; fd < nfds; fd++) {
		ev = 0;
		w = 1UL << ((unsigned)fd % LBITS);
		if (sets[0] != NULL && (sets[0][fd / LBITS] & w))
			ev |= POLLIN;
		if (sets[1] != NULL && (sets[1][fd / LBITS] & w))
			ev |= POLLOUT;
		if (sets[2] != NULL && (sets[2][fd / LBITS] & w))
			ev |= POLLPRI;
		if (ev == 0)
			continue;
		ents[nents].pe_fd = fd;
		ents[nents].pe_events = ev;
		nents++;
	}
	return (nents);
}

/*
 * The sets come back holding only the descriptors that are ready; the
 * count of bits set, which select() returns.
 */
static int
select_from_ents(unsigned long *const sets[3], unsigned long bytes,
    const struct pent *ents, int nents)
{
	unsigned long w;
	unsigned ev;
	int fd, i, total = 0;

	for (i = 0; i < 3; i++)
		if (sets[i] != NULL)
			memset(sets[i], 0, bytes);
	for (i = 0; i < nents; i++) {
		fd = ents[i].pe_fd;
		w = 1UL << ((unsigned)fd % LBITS);
		ev = ents[i].pe_revents;
		if ((ents[i].pe_events & POLLIN) &&
		    (ev & (POLLIN | POLLHUP | POLLERR))) {
			sets[0][fd / LBITS] |= w;
			total++;
		}
		if ((ents[i].pe_events & POLLOUT) && (ev & (POLLOUT | POLLERR))) {
			sets[1][fd / LBITS] |= w;
			total++;
		}
		if ((ents[i].pe_events & POLLPRI) && (ev & POLLPRI)) {
			sets[2][fd / LBITS] |= w;
			total++;
		}
	}
	return (total);
}

/*
 * Linux's select() leaves the time not slept in its struct timeval; a
 * timeout it cannot write back is not an error (as Linux).
 */
static void
select_timeleft(void *uts, long long deadline, int error)
{
	struct ktimeval tv;
	long long now;

	if (deadline > 0 && (error == 0 || error == EINTR)) {
		now = hc_clock_monotonic();
		now = deadline > now ? deadline - now : 0;
		tv.tv_sec = now / 1000000000LL;
		tv.tv_usec = (long)(now % 1000000000LL) / 1000;
	} else if (deadline == 0 && error == 0) {
		tv.tv_sec = 0;
		tv.tv_usec = 0;
	} else
		return;
	(void)hc_copyout(&tv, uts, sizeof(tv));
}

int
kern_select(int nfds, void *urfds, void *uwfds, void *uefds, void *uts,
    int istimeval, const void *usigmask, int *retval)
{
	struct ktimeval tv;
	struct timespec ts;
	uint64_t kmask[HC_SIGSET_SIZE / sizeof(uint64_t)];
	const void *maskp = NULL;
	unsigned long *sets[3] = { NULL, NULL, NULL }, *kbuf = NULL;
	void *usets[3] = { urfds, uwfds, uefds };
	struct pent *ents = NULL;
	long long deadline;
	unsigned long nwords = 0, bytes = 0;
	int error, i, nents, nready, total;

	*retval = 0;
	if (nfds < 0 || nfds > hc_fd_limit())
		return (EINVAL);
	if (uts != NULL && istimeval) {
		if ((error = hc_copyin(uts, &tv, sizeof(tv))) != 0)
			return (error);
		if (tv.tv_sec < 0 || tv.tv_usec < 0)
			return (EINVAL);
		ts.tv_sec = tv.tv_sec + tv.tv_usec / 1000000;
		ts.tv_nsec = (tv.tv_usec % 1000000) * 1000;
		deadline = kern_deadline(&ts);
	} else if ((error = fe_copyin_timeout(uts, &deadline)) != 0)
		return (error);
	if (usigmask != NULL) {
		if ((error = hc_copyin(usigmask, kmask, sizeof(kmask))) != 0)
			return (error);
		maskp = kmask;
	}
	if (nfds > 0) {
		nwords = ((unsigned long)nfds + LBITS - 1) / LBITS;
		bytes = nwords * sizeof(unsigned long);
		kbuf = kmalloc(bytes * 3, M_TEMP, HC_M_ZERO);
		ents = kmalloc((unsigned long)nfds * sizeof(*ents), M_TEMP, 0);
		if (kbuf == NULL || ents == NULL) {
			error = ENOMEM;
			goto out;
		}
		for (i = 0; i < 3; i++) {
			if (usets[i] == NULL)
				continue;
			sets[i] = kbuf + nwords * (unsigned long)i;
			if ((error = hc_copyin(usets[i], sets[i], bytes)) != 0)
				goto out;
		}
	}
	nents = select_to_ents(sets, nfds, ents);
	error = poll_engine(ents, nents, deadline, maskp, 1, &nready);
	if (uts != NULL && istimeval)
		select_timeleft(uts, deadline, error);
	if (error != 0)
		goto out;
	total = select_from_ents(sets, bytes, ents, nents);
	for (i = 0; i < 3; i++)
		if (sets[i] != NULL &&
		    (error = hc_copyout(sets[i], usets[i], bytes)) != 0)
			goto out;
	*retval = total;
out:
	if (kbuf != NULL)
		kfree(kbuf, bytes * 3, M_TEMP);
	if (ents != NULL)
		kfree(ents, (unsigned long)nfds * sizeof(*ents), M_TEMP);
	return (error);
}
