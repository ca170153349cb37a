/*
 * Kernel start-up, the upcalls the host makes into the kernel, and the
 * introspection counters.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/file.h>
#include <sys/evring.h>
#include <sys/eventpoll.h>
#include <sys/epoch.h>

static void
upcall_fdready(unsigned long long cookie, unsigned revents)
{
	struct file *fp;

	if ((fp = fd_lookup_cookie(cookie)) == NULL)
		return;		/* a stale registration: the object is gone */
	if (revents & HC_POLLSTATE) {
		/* Bits, then the drain they belong to (filt_hbits()). */
		__atomic_store_n(&fp->f_hbits, (uint16_t)revents,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&fp->f_hseq, (uint32_t)kern_drain_stamp(),
		    __ATOMIC_RELEASE);
		revents &= ~HC_POLLSTATE;
		kern_upcall_set(fp);	/* its posts may use them */
	}
	knote(&fp->f_knlist, KNH_POLL | revents);
	kern_upcall_set(NULL);
	fdrop(fp);
}

static void
upcall_vnode(unsigned long long cookie, unsigned notes)
{
	struct file *fp;

	if ((fp = fd_lookup_cookie(cookie)) == NULL)
		return;
	knote(&fp->f_knlist, KNH_VNODE | notes);
	fdrop(fp);
}

static void
upcall_forkchild(void)
{

	epoch_forkchild();
	fd_forkchild();
	ktask_forkchild();
	kern_sig_forkchild();
	kern_event_forkchild();
	evring_forkchild();
	epoll_forkchild();
	poll_forkchild();
}

static const struct hc_upcalls kern_upcalls = {
	.hu_fdready = upcall_fdready,
	.hu_vnode = upcall_vnode,
	.hu_signal = sig_deliver,
	.hu_procexit = proc_exit_upcall,
	.hu_fdclose = fd_close_upcall,
	.hu_fdclosed = fd_closed_upcall,
	.hu_forkprepare = fd_forkprepare,
	.hu_forkparent = fd_forkparent,
	.hu_forkchild = upcall_forkchild,
	.hu_drainstart = kern_drain_start,
	.hu_threadexit = epoch_threadexit,
	.hu_qnonblock = fd_queue_nonblock,
};

int
kern_init(void)
{
	int error;

	if ((error = epoch_sysinit()) != 0 || (error = fd_sysinit()) != 0 ||
	    (error = ktask_sysinit()) != 0 ||
	    (error = kern_sig_init()) != 0)
		return (error);
	return (hc_init(HYPERCALL_VERSION, &kern_upcalls));
}

long long
kern_stat(int which)
{

	switch (which) {
	case EVRING_STAT_HOSTREG:
		return (hc_stat(HC_STAT_FDWATCH));
	case EVRING_STAT_HOSTREG_TOTAL:
		return (hc_stat(HC_STAT_FDWATCH_TOTAL));
	case EVRING_STAT_VNODEWATCH:
		return (hc_stat(HC_STAT_VWATCH));
	case EVRING_STAT_HOST_BACKEND:
		return (hc_stat(HC_STAT_BACKEND));
	case EVRING_STAT_HOST_CQES:
		return (hc_stat(HC_STAT_URING_CQES));
	case EVRING_STAT_HOST_QUERIES:
		return (hc_stat(HC_STAT_FDQUERY));
	case EVRING_STAT_HOST_REPORTS:
		return (hc_stat(HC_STAT_FDREPORTS));
	case EVRING_STAT_HOST_FDCMP:
		return (hc_stat(HC_STAT_FDCMP));
	case EVRING_STAT_KQUEUES:
		return (kqueue_stat_kqueues());
	case EVRING_STAT_KNOTES:
		return (kqueue_stat_knotes());
	case EVRING_STAT_FILES:
		return (fd_count());
	case EVRING_STAT_KMEM:
		/* What this thread freed counts as freed once no reader
		   can see it: wait for that (sys/sys/epoch.h). */
		epoch_drain();
		return (kmalloc_inuse(-1));
	case EVRING_STAT_KMEM_KNOTE:
		epoch_drain();
		return (kmalloc_inuse(M_KNOTE));
	case EVRING_STAT_KMEM_FILE:
		epoch_drain();
		return (kmalloc_inuse(M_FILE));
	case EVRING_STAT_KMEM_KQUEUE:
		epoch_drain();
		return (kmalloc_inuse(M_KQUEUE));
	case EVRING_STAT_KMEM_EVRING:
		epoch_drain();
		return (kmalloc_inuse(M_EVRING));
	case EVRING_STAT_RINGS:
		return (evring_stat_rings());
	case EVRING_STAT_RING_WAKEUPS:
		return (evring_stat_wakeups());
	case EVRING_STAT_RING_POSTS:
		return (evring_stat_posts());
	default:
		return (-1);
	}
}
