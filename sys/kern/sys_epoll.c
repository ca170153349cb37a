/*
 * epoll(7) as a personality of the kqueue core.
 *
 * An epoll instance is a struct kqueue (so it is a pollable, nestable
 * descriptor, and can attach an event ring as a kqueue does) whose knotes
 * follow epoll's conventions: one knote per registered descriptor, with a
 * read slot always (EPOLLERR and EPOLLHUP are never optional; without
 * EPOLLIN the slot fires only at end of file or error), a write slot for
 * EPOLLOUT and an except slot for EPOLLPRI, all carrying the epoll data as
 * udata.  EPOLLET is EV_CLEAR on every slot; EPOLLONESHOT is EV_DISPATCH on
 * every slot plus KN_DISPATCHALL, so that one report disables them all
 * until EPOLL_CTL_MOD re-arms; EPOLLEXCLUSIVE is KN_EXCL, which makes an
 * activation wake one sleeper.  epoll_wait() collects whole knotes
 * (kqueue_collect_knotes()) and reports one epoll_event per descriptor,
 * with the bits the host reports for it now, masked by what was asked.
 *
 * Registrations follow the open file description across dup() as far as
 * the hosted kernel can see it: when a registered descriptor is closed while
 * another descriptor still refers to the same open file description (the
 * host's kcmp() says which), the registration moves to that descriptor.
 * doc/frontends.md has the details and the differences from Linux.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/file.h>
#include <sys/eventpoll.h>

#define	EP_NRECS	64

/* Bits epoll_ctl() accepts; others are ignored, as Linux ignores them. */
#define	EP_POLLBITS	(EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | \
			    EPOLLRDNORM | EPOLLRDBAND | EPOLLWRNORM | \
			    EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP)
/* What may accompany EPOLLEXCLUSIVE (Linux's EPOLLEXCLUSIVE_OK_BITS). */
#define	EP_EXCL_OK	(EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM | \
			    EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | \
			    EPOLLEXCLUSIVE)

/* A registration whose descriptor is being closed, kept for the move. */
struct ep_moving {
	struct ep_moving	*em_next;
	int			em_fd;
	unsigned		em_events;
	unsigned short		em_evflags;
	uint8_t			em_status;	/* KN_EXCL, KN_DISPATCHALL */
	uint8_t			em_disarmed;	/* EPOLLONESHOT fired */
	void			*em_udata;
	int			em_hosttype;
	unsigned		em_dev;
	unsigned long long	em_ino;
};

struct epoll {
	struct hc_mtx		*ep_mtx;	/* serialises epoll_ctl() */
	struct ep_moving	*ep_moving;	/* under kq_lock */
};

static void ep_fdclosing(struct kqueue *kq, struct knote *kn);
static void ep_fdclose(struct kqueue *kq, int fd);
static void ep_free(struct kqueue *kq);

static const struct kq_personality epoll_personality = {
	.kp_fdclosing = ep_fdclosing,
	.kp_fdclose = ep_fdclose,
	.kp_free = ep_free,
};

/* Serialises changes to the graph of nested instances (ELOOP checks). */
static struct hc_mtx *ep_nest_mtx;

static int
ep_nest_lock(void)
{
	struct hc_mtx *m, *expect = NULL;
	int error;

	if ((m = __atomic_load_n(&ep_nest_mtx, __ATOMIC_ACQUIRE)) == NULL) {
		if ((error = hc_mtx_init(&m, "ep_nest_mtx")) != 0)
			return (error);
		if (!__atomic_compare_exchange_n(&ep_nest_mtx, &expect, m, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			hc_mtx_destroy(m);
			m = expect;
		}
	}
	hc_mtx_lock(m);
	return (0);
}

/*
 * The child of fork() has no epoll instances (they are queues, closed in
 * the child), but may inherit the nesting lock held by a thread that does
 * not exist there: start with a fresh one, abandoning the old.
 */
void
epoll_forkchild(void)
{

	ep_nest_mtx = NULL;
}

static int
ep_is_epoll(struct kqueue *kq)
{

	return (kq != NULL && kq->kq_pers == &epoll_personality);
}

int
kern_epoll_create(int flags, int *fdp)
{
	struct epoll *ep;
	int error;

	if ((flags & ~EPOLL_CLOEXEC) != 0)
		return (EINVAL);
	ep = kmalloc(sizeof(*ep), M_KQUEUE, HC_M_ZERO);
	if (ep == NULL)
		return (ENOMEM);
	if ((error = hc_mtx_init(&ep->ep_mtx, "ep_mtx")) != 0) {
		kfree(ep, sizeof(*ep), M_KQUEUE);
		return (error);
	}
	if ((error = kqueue_create(&epoll_personality, ep, fdp)) != 0) {
		hc_mtx_destroy(ep->ep_mtx);
		kfree(ep, sizeof(*ep), M_KQUEUE);
	}
	return (error);
}

static void
ep_free(struct kqueue *kq)
{
	struct epoll *ep = kq->kq_pdata;
	struct ep_moving *em;

	while ((em = ep->ep_moving) != NULL) {
		ep->ep_moving = em->em_next;
		kfree(em, sizeof(*em), M_TEMP);
	}
	hc_mtx_destroy(ep->ep_mtx);
	kfree(ep, sizeof(*ep), M_KQUEUE);
	kq->kq_pdata = NULL;
}

/*
 * Find an epoll instance by descriptor: EBADF when fd is not open, EINVAL
 * when it is open but not an epoll instance.
 */
static int
ep_lookup(int fd, struct file **fpp)
{
	struct hc_fdinfo fi;
	struct file *fp;

	if (fd_lookup_kqueue(fd, &fp) != 0)
		return (fd >= 0 && hc_fd_stat(fd, &fi) == 0 ? EINVAL : EBADF);
	if (!ep_is_epoll(fp->f_kq)) {
		fdrop(fp);
		return (EINVAL);
	}
	*fpp = fp;
	return (0);
}

/*
 * Nesting.  The queues of every kind (kqueues, epoll and /dev/poll
 * instances) a queue watches (down) or that watch it (up), each held.  *np
 * is how many and *capp the array's size; the array is the caller's to
 * free with ep_release().
 */
static int
ep_children(struct kqueue *kq, struct file ***arrp, int *np, int *capp)
{
	struct file **arr = NULL;
	struct knote *kn;
	unsigned long b;
	int n, cap = 0, error = 0;

	for (;;) {
		n = 0;
		KQ_REG_LOCK(kq);
		for (b = 0; b <= kq->kq_hashmask; b++)
			SLIST_FOREACH(kn, &kq->kq_hash[b], kn_link) {
				if (kn->kn_class != KNC_FD ||
				    kn->kn_fp->f_type != DTYPE_KQUEUE)
					continue;
				if (n < cap) {
					fhold(kn->kn_fp);
					arr[n] = kn->kn_fp;
				}
				n++;
			}
		KQ_REG_UNLOCK(kq);
		if (n <= cap)
			break;
		/* Counted more than fit: release, grow and count again. */
		for (b = 0; b < (unsigned long)cap; b++)
			fdrop(arr[b]);
		if (arr != NULL)
			kfree(arr, sizeof(*arr) * (unsigned long)cap, M_TEMP);
		cap = n + 4;
		arr = kmalloc(sizeof(*arr) * (unsigned long)cap, M_TEMP, 0);
		if (arr == NULL) {
			error = ENOMEM;
			cap = 0;
			n = 0;
			break;
		}
	}
	*arrp = arr;
	*np = n;
	*capp = cap;
	return (error);
}

static int
ep_parents(struct kqueue *kq, struct file ***arrp, int *np, int *capp)
{
	struct knlist *kl = &kq->kq_fp->f_knlist;
	struct file **arr = NULL;
	struct knote *kn;
	int i, n, cap = 0;

	for (;;) {
		n = 0;
		hc_mtx_lock(kl->kl_lock);
		SLIST_FOREACH(kn, &kl->kl_list, kn_selnext) {
			if (n < cap) {
				fhold(kn->kn_kq->kq_fp);
				arr[n] = kn->kn_kq->kq_fp;
			}
			n++;
		}
		hc_mtx_unlock(kl->kl_lock);
		if (n <= cap)
			break;
		for (i = 0; i < cap; i++)
			fdrop(arr[i]);
		if (arr != NULL)
			kfree(arr, sizeof(*arr) * (unsigned long)cap, M_TEMP);
		cap = n + 4;
		arr = kmalloc(sizeof(*arr) * (unsigned long)cap, M_TEMP, 0);
		if (arr == NULL) {
			*arrp = NULL;
			*np = 0;
			*capp = 0;
			return (ENOMEM);
		}
	}
	*arrp = arr;
	*np = n;
	*capp = cap;
	return (0);
}

static void
ep_release(struct file **arr, int n, int cap)
{
	int i;

	for (i = 0; i < n; i++)
		fdrop(arr[i]);
	if (arr != NULL)
		kfree(arr, sizeof(*arr) * (unsigned long)cap, M_TEMP);
}

/*
 * The most epoll instances along a chain of queues from kq downwards or
 * upwards, kq included.  Queues of other kinds are walked through but not
 * counted: the limit is Linux's, on nested epoll instances, and a kqueue
 * between two of them does not lift it.  A walk longer than EP_MAX_HOPS
 * queues (a chain of kqueues, or a cycle of them, which kevent() allows)
 * is ELOOP.  Going down, meeting target means the addition would close a
 * cycle: ELOOP.  Under ep_nest_mtx; kq_nestgen marks a queue this walk has
 * been through, so that a queue reached twice is walked once.
 */
static int
ep_depth(struct kqueue *kq, struct kqueue *target, int up, int hops,
    uint32_t gen, int *depthp)
{
	struct file **arr;
	int cap, d, error, i, max = 0, n, self = ep_is_epoll(kq);

	*depthp = self;
	if (hops > EP_MAX_HOPS)
		return (ELOOP);
	if (kq->kq_nestgen == gen)
		return (0);
	kq->kq_nestgen = gen;
	error = up ? ep_parents(kq, &arr, &n, &cap) :
	    ep_children(kq, &arr, &n, &cap);
	if (error != 0)
		return (error);
	for (i = 0; i < n && error == 0; i++) {
		if (!up && arr[i]->f_kq == target)
			error = ELOOP;
		else if ((error = ep_depth(arr[i]->f_kq, target, up, hops + 1,
		    gen, &d)) == 0 && d > max)
			max = d;
	}
	ep_release(arr, n, cap);
	*depthp = self + max;
	return (error);
}

static uint32_t ep_nestgen;	/* a new one per walk; under ep_nest_mtx */

/*
 * Adding child (a queue of any kind) to parent (an epoll instance):
 * Linux's ELOOP rules, with kqueues walked through.
 */
static int
ep_loop_check(struct kqueue *parent, struct kqueue *child)
{
	int down, up, error;

	if ((error = ep_depth(child, parent, 0, 1, ++ep_nestgen, &down)) != 0)
		return (error);
	if ((error = ep_depth(parent, NULL, 1, 1, ++ep_nestgen, &up)) != 0)
		return (error);
	return (up + down > EP_MAX_NESTS ? ELOOP : 0);
}

/*
 * Whether target is reachable from kq going down through a path with an
 * epoll instance on it (kq included): 1 if so, 0 if not, -1 if there was
 * no memory to look (which must not pass for "not").  Under ep_nest_mtx.
 */
static int
ep_reaches_via_epoll(struct kqueue *kq, struct kqueue *target, int seen,
    int hops, uint32_t gen)
{
	struct file **arr;
	int cap, found = 0, i, n;

	seen |= ep_is_epoll(kq);
	if (hops > EP_MAX_HOPS || kq->kq_nestgen == gen)
		return (0);
	kq->kq_nestgen = gen;
	if (ep_children(kq, &arr, &n, &cap) != 0)
		return (-1);
	for (i = 0; i < n && found == 0; i++)
		found = arr[i]->f_kq == target && seen ? 1 :
		    ep_reaches_via_epoll(arr[i]->f_kq, target, seen, hops + 1,
		    gen);
	ep_release(arr, n, cap);
	return (found);
}

/*
 * kevent() is adding child (a queue of any kind) to kq (a kqueue).
 * kqueues may watch one another in a cycle, as on FreeBSD, but a cycle
 * through an epoll instance is ELOOP, as epoll_ctl() would say.  The
 * nesting lock is held on success, for the caller to release with
 * ep_nest_done() once the registration is made, so that no epoll_ctl()
 * changes the graph between the look and the change.
 */
int
ep_kevent_nest(struct kqueue *kq, struct kqueue *child)
{
	int error;

	if ((error = ep_nest_lock()) != 0)
		return (error);
	/*
	 * The hops bound does not apply to the kqueues-only graph kevent()
	 * may build: a path too long to follow is not called a cycle.
	 */
	if ((error = ep_reaches_via_epoll(child, kq, 0, 1,
	    ++ep_nestgen)) != 0) {
		hc_mtx_unlock(ep_nest_mtx);
		return (error < 0 ? ENOMEM : ELOOP);
	}
	return (0);
}

void
ep_nest_done(void)
{

	hc_mtx_unlock(ep_nest_mtx);
}

/* fd's knote on kq, if it watches the object fp names now. */
static struct knote *
ep_find(struct kqueue *kq, int fd, struct file *fp)
{
	struct knote *kn;

	KQ_REG_OWNED(kq);
	kn = knote_lookup(kq, (uintptr_t)fd, KNC_FD);
	return (kn != NULL && kn->kn_fp == fp ? kn : NULL);
}

/* Set the knote-wide epoll flags, and disarm it if asked. */
static void
ep_setstatus(struct kqueue *kq, int fd, uint8_t status, int disarm)
{
	struct knote *kn;
	int i;

	KQ_REG_LOCK(kq);
	kn = knote_lookup(kq, (uintptr_t)fd, KNC_FD);
	if (kn != NULL) {
		KQ_LOCK(kq);
		kn->kn_status = (uint8_t)((kn->kn_status &
		    ~(KN_EXCL | KN_DISPATCHALL)) | status);
		if (disarm)
			for (i = 0; i < kn->kn_nslots; i++)
				if (kn->kn_slot[i].ks_filter != 0)
					kn->kn_slot[i].ks_status |= KS_DISABLED;
		KQ_UNLOCK(kq);
	}
	KQ_REG_UNLOCK(kq);
}

static void
ep_flags(unsigned events, unsigned short *evflagsp, uint8_t *statusp)
{

	*evflagsp = 0;
	*statusp = 0;
	if (events & EPOLLET)
		*evflagsp |= EV_CLEAR;
	if (events & EPOLLONESHOT) {
		*evflagsp |= EV_DISPATCH;
		*statusp |= KN_DISPATCHALL;
	}
	if (events & EPOLLEXCLUSIVE)
		*statusp |= KN_EXCL;
}

/*
 * epoll_ctl()'s checks of its descriptors, in Linux's order.  Linux
 * refuses what it cannot poll: regular files and directories (EPERM), and
 * an O_PATH descriptor, which names no open file to it (EBADF); the host
 * says which.
 */
static int
ep_ctl_check(int epfd, struct file *epfp, int fd, struct file *tfp, int op,
    unsigned events)
{
	int error, iskq;

	iskq = tfp->f_type == DTYPE_KQUEUE;
	if (!iskq && (tfp->f_hosttype == HC_FT_REG ||
	    tfp->f_hosttype == HC_FT_DIR)) {
		error = hc_fd_canpoll(fd);
		return (error != 0 ? error : EPERM);
	}
	if (epfp == NULL || !ep_is_epoll(epfp->f_kq) || epfd == fd)
		return (EINVAL);
	if (op != EPOLL_CTL_DEL && (events & EPOLLEXCLUSIVE) &&
	    (op == EPOLL_CTL_MOD || (iskq && ep_is_epoll(tfp->f_kq)) ||
	    (events & ~EP_EXCL_OK) != 0))
		return (EINVAL);
	return (0);
}

/*
 * epoll_ctl()'s operation on instance kq, whose registration for fd (the
 * file tfp) is kn, or NULL; excl if it was made with EPOLLEXCLUSIVE.
 */
static int
ep_ctl_apply(struct kqueue *kq, int fd, struct file *tfp, int op,
    const struct epoll_event *ev, struct knote *kn, int excl)
{
	unsigned short evflags;
	unsigned events;
	uint8_t status;
	int error;

	events = op == EPOLL_CTL_DEL ? 0 : ev->events;
	ep_flags(events, &evflags, &status);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (kn != NULL)
			return (EEXIST);
		error = fe_register(kq, fd, events & EP_POLLBITS, evflags,
		    (void *)(uintptr_t)ev->data);
		if (error == 0 && tfp->f_type != DTYPE_KQUEUE &&
		    __atomic_load_n(&tfp->f_watched, __ATOMIC_RELAXED) < 0)
			error = EPERM;	/* a device the host cannot poll */
		if (error != 0) {
			(void)fe_unregister(kq, fd);
			return (error);
		}
		ep_setstatus(kq, fd, status, 0);
		return (0);
	case EPOLL_CTL_MOD:
		if (kn == NULL)
			return (ENOENT);
		if (excl)
			return (EINVAL);
		/* Re-arms an EPOLLONESHOT registration (EV_ENABLE). */
		ep_setstatus(kq, fd, status, 0);
		return (fe_register(kq, fd, events & EP_POLLBITS, evflags,
		    (void *)(uintptr_t)ev->data));
	case EPOLL_CTL_DEL:
		return (kn == NULL ? ENOENT : fe_unregister(kq, fd));
	default:
		return (EINVAL);
	}
}

int
kern_epoll_ctl(int epfd, int op, int fd, const struct epoll_event *uevent)
{
	struct epoll_event ev;
	struct file *epfp, *tfp = NULL;
	struct kqueue *kq;
	struct epoll *ep;
	struct knote *kn;
	unsigned events = 0;
	int error, nested = 0, iskq, excl = 0;

	if (op != EPOLL_CTL_DEL) {
		if ((error = hc_copyin(uevent, &ev, sizeof(ev))) != 0)
			return (error);
		events = ev.events;
	}
	if (fd_lookup_kqueue(epfd, &epfp) != 0) {
		struct hc_fdinfo fi;

		if (epfd < 0 || hc_fd_stat(epfd, &fi) != 0)
			return (EBADF);
		epfp = NULL;		/* open, not an epoll instance */
	}
	if ((error = fd_lookup_host(fd, &tfp)) != 0) {
		tfp = NULL;
		goto out;
	}
	iskq = tfp->f_type == DTYPE_KQUEUE;
	if ((error = ep_ctl_check(epfd, epfp, fd, tfp, op, events)) != 0)
		goto out;
	kq = epfp->f_kq;
	ep = kq->kq_pdata;
	hc_mtx_lock(ep->ep_mtx);
	if (op == EPOLL_CTL_ADD && iskq) {
		if ((error = ep_nest_lock()) != 0)
			goto unlock;
		nested = 1;
		if ((error = ep_loop_check(kq, tfp->f_kq)) != 0)
			goto unlock;
	}
	KQ_REG_LOCK(kq);
	kn = ep_find(kq, fd, tfp);
	if (kn != NULL) {
		/* kn_status also holds KN_QUEUED, changed under kq_lock. */
		KQ_LOCK(kq);
		excl = (kn->kn_status & KN_EXCL) != 0;
		KQ_UNLOCK(kq);
	}
	KQ_REG_UNLOCK(kq);
	error = ep_ctl_apply(kq, fd, tfp, op, &ev, kn, excl);
unlock:
	if (nested)
		hc_mtx_unlock(ep_nest_mtx);
	hc_mtx_unlock(ep->ep_mtx);
out:
	if (tfp != NULL)
		fdrop(tfp);
	if (epfp != NULL)
		fdrop(epfp);
	return (error);
}

/*
 * The registration on a descriptor being closed is about to go: remember
 * it, so that ep_fdclose() can move it to another descriptor of the same
 * open file description.  kq_reglock is held.
 */
static void
ep_fdclosing(struct kqueue *kq, struct knote *kn)
{
	struct epoll *ep = kq->kq_pdata;
	struct ep_moving *em;
	struct knslot *ks;
	int i;

	KQ_REG_OWNED(kq);
	if (kn->kn_class != KNC_FD || kn->kn_fp->f_type != DTYPE_HOST ||
	    (i = knote_slotidx(kn, KN_FD_READ)) == 0)
		return;
	ks = &kn->kn_slot[i - 1];
	em = kmalloc(sizeof(*em), M_TEMP, HC_M_ZERO);
	if (em == NULL)
		return;
	em->em_fd = (int)kn->kn_ident;
	em->em_hosttype = kn->kn_fp->f_hosttype;
	em->em_dev = kn->kn_fp->f_dev;
	em->em_ino = kn->kn_fp->f_ino;
	/* Filters change ks_flags and kn_status under kq_lock. */
	KQ_LOCK(kq);
	em->em_events = FE_SF_EVENTS(ks->ks_sfflags);
	em->em_evflags = ks->ks_flags & (EV_CLEAR | EV_DISPATCH);
	em->em_status = kn->kn_status & (KN_EXCL | KN_DISPATCHALL);
	em->em_udata = ks->ks_udata;
	em->em_disarmed = (kn->kn_status & KN_DISPATCHALL) &&
	    (ks->ks_status & KS_DISABLED);
	em->em_next = ep->ep_moving;
	ep->ep_moving = em;
	KQ_UNLOCK(kq);
}

/*
 * fd's registration was dropped because fd is being closed (the host
 * descriptor is still open).  If another descriptor refers to the same
 * open file description, as after dup(), the registration moves there,
 * with its events and data: Linux removes a registration only when the
 * open file description is closed.
 */
static void
ep_fdclose(struct kqueue *kq, int fd)
{
	struct epoll *ep = kq->kq_pdata;
	struct ep_moving *em, **emp;
	struct hc_fdinfo fi;
	struct knote *kn;
	int alias;

	KQ_LOCK(kq);
	for (emp = &ep->ep_moving; (em = *emp) != NULL; emp = &em->em_next)
		if (em->em_fd == fd) {
			*emp = em->em_next;
			break;
		}
	KQ_UNLOCK(kq);
	if (em == NULL)
		return;
	/*
	 * The search first: it usually finds nothing without a host call
	 * (hc_fd_alias()).  Then, a number closed behind our back names
	 * something else now, whose duplicate is not the registration's.
	 */
	if (hc_fd_alias(fd, &alias) != 0)
		goto done;
	if (hc_fd_stat(fd, &fi) != 0 || fi.fi_type != em->em_hosttype ||
	    fi.fi_dev != em->em_dev || fi.fi_ino != em->em_ino)
		goto done;
	KQ_REG_LOCK(kq);
	kn = knote_lookup(kq, (uintptr_t)alias, KNC_FD);
	KQ_REG_UNLOCK(kq);
	if (kn != NULL)
		goto done;	/* the alias has a registration of its own */
	if (fe_register(kq, alias, em->em_events, em->em_evflags,
	    em->em_udata) != 0) {
		(void)fe_unregister(kq, alias);
		goto done;
	}
	ep_setstatus(kq, alias, em->em_status, em->em_disarmed);
done:
	kfree(em, sizeof(*em), M_TEMP);
}

/* The bits a collected knote reports: the host's, as asked. */
static unsigned
ep_bits(const struct kq_knrec *kr)
{
	unsigned asked, bits;

	asked = FE_SF_EVENTS(kr->kr_sfflags) | EPOLLERR | EPOLLHUP;
	bits = fe_record_bits(kr);
	if (bits & EPOLLIN)
		bits |= EPOLLRDNORM;
	if (bits & EPOLLOUT)
		bits |= EPOLLWRNORM;
	return (bits & asked);
}

/*
 * epoll_wait(), epoll_pwait(), epoll_pwait2(): uts NULL waits forever,
 * usigmask (when not NULL) is applied atomically with the sleep.
 */
/*
 * How many events epoll_wait() may take into ubuf, of at most left: no
 * more than the program's buffer can hold, so that what cannot be copied
 * out stays queued, EPOLLONESHOT and EPOLLET events too, as Linux keeps
 * them.  Asked only when there is something to take, since Linux faults
 * only then; with nothing, 0: look without taking.  EFAULT when not one
 * entry can be written.
 */
static int
ep_want(struct kqueue *kq, struct epoll_event *ubuf, int left, int *wantp)
{
	int want = left > EP_NRECS ? EP_NRECS : left;

	*wantp = 0;
	if (__atomic_load_n(&kq->kq_count, __ATOMIC_RELAXED) == 0)
		return (0);
	want = (int)(hc_user_writable(ubuf, (unsigned long)want *
	    sizeof(*ubuf)) / sizeof(*ubuf));
	if (want == 0)
		return (EFAULT);
	*wantp = want;
	return (0);
}

/*
 * The events of n delivered knotes, into kev (returns how many), and
 * their EPOLLONESHOT drops.  kq_reglock held.
 */
static int
ep_records(struct kqueue *kq, struct kq_knrec *recs, int n,
    struct epoll_event *kev)
{
	int i, k;

	for (i = 0, k = 0; i < n; i++) {
		if (recs[i].kr_detached)
			continue;	/* a nested instance closed */
		kev[k].events = ep_bits(&recs[i]);
		kev[k].data = (uint64_t)(uintptr_t)recs[i].kr_udata;
		if (kev[k].events != 0)
			k++;
	}
	for (i = 0; i < n; i++)
		if (recs[i].kr_drops != 0)
			knote_drop_slots(kq, recs[i].kr_kn, recs[i].kr_drops);
	return (k);
}

/*
 * Sleep until an activation on this instance wakes us: the host wakes
 * every sleeper when it has readiness to drain, and a thread an
 * EPOLLEXCLUSIVE activation did not choose must not go and collect it.
 * kq_lock held before and after.
 */
static int
ep_sleep(struct kqueue *kq, struct hc_sleeper **hsp, long long deadline,
    const void *maskp)
{
	int error, woken;

	do
		error = kqueue_sleep_woken(kq, hsp, deadline, maskp, &woken);
	while (error == 0 && !woken && (kq->kq_state & KQ_CLOSING) == 0);
	if (error != 0 && kq->kq_count > 0)
		kqueue_wakeup_one(kq);	/* hand over what woke us */
	return (error);
}

int
kern_epoll_wait(int epfd, struct epoll_event *uevents, int maxevents,
    const struct timespec *uts, const void *usigmask, int *retval)
{
	uint64_t kmask[HC_SIGSET_SIZE / sizeof(uint64_t)];
	struct epoll_event kev[EP_NRECS];
	struct kq_knrec recs[EP_NRECS];
	struct hc_sleeper *hs = NULL;
	const void *maskp = NULL;
	struct knote marker;
	struct timespec ts;
	struct file *fp;
	struct kqueue *kq;
	long long deadline;
	int error = 0, k, n, count, total = 0, want, timedout = 0;

	*retval = 0;
	if (uts != NULL) {
		if ((error = hc_copyin(uts, &ts, sizeof(ts))) != 0)
			return (error);
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 ||
		    ts.tv_nsec >= 1000000000L)
			return (EINVAL);
		deadline = kern_deadline(&ts);
	} else
		deadline = -1;
	if (usigmask != NULL) {
		if ((error = hc_copyin(usigmask, kmask, sizeof(kmask))) != 0)
			return (error);
		maskp = kmask;
	}
	if (maxevents <= 0 ||
	    (unsigned)maxevents > INT_MAX / sizeof(struct epoll_event))
		return (EINVAL);
	if ((error = ep_lookup(epfd, &fp)) != 0)
		return (error);
	kq = fp->f_kq;

	/* Let changes made before this call be seen by it. */
	__atomic_store_n(&kq->kq_drainseq, kern_host_poll(), __ATOMIC_RELAXED);
	ktask_run_pending();
	evring_enter(kq);

	memset(&marker, 0, sizeof(marker));
	marker.kn_class = KNC_MARKER;
	for (;;) {
		if ((error = ep_want(kq, &uevents[total], maxevents - total,
		    &want)) != 0)
			break;
		KQ_REG_LOCK(kq);
		KQ_LOCK(kq);
		if (kq->kq_state & KQ_CLOSING) {
			error = EBADF;
			KQ_UNLOCK(kq);
			KQ_REG_UNLOCK(kq);
			break;
		}
		if (kq->kq_ring != NULL) {
			/* Its events go to the ring (see kevent_wait()). */
			KQ_UNLOCK(kq);
			KQ_REG_UNLOCK(kq);
			break;
		}
		n = want > 0 ? kqueue_collect_knotes(kq, &marker, recs, want) :
		    0;
		count = kq->kq_count;
		KQ_UNLOCK(kq);
		k = ep_records(kq, recs, n, kev);
		KQ_REG_UNLOCK(kq);
		if (k > 0 && (error = hc_copyout(kev, &uevents[total],
		    (unsigned long)k * sizeof(kev[0]))) != 0)
			break;
		total += k;
		if (want > 0 && n == want && total < maxevents)
			continue;	/* the pass goes on */
		if (want == 0 && count > 0)
			continue;	/* came meanwhile: ask and take */
		if (total > 0 || deadline == 0 || timedout)
			break;
		/* Nothing: sleep, unless something came in meanwhile. */
		KQ_LOCK(kq);
		kqueue_marker_done(kq, &marker);
		if (kq->kq_count != count || (kq->kq_state & KQ_CLOSING)) {
			KQ_UNLOCK(kq);
			continue;
		}
		error = ep_sleep(kq, &hs, deadline, maskp);
		KQ_UNLOCK(kq);
		if (error == ETIMEDOUT)
			timedout = 1;	/* one last look */
		else if (error != 0)
			break;
		error = 0;
	}
	KQ_LOCK(kq);
	kqueue_marker_done(kq, &marker);
	KQ_UNLOCK(kq);
	fdrop(fp);
	*retval = total;
	return (total > 0 && error == EFAULT ? 0 : error);
}
