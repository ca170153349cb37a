/*
 * The descriptor filters: EVFILT_READ, EVFILT_WRITE, EVFILT_EXCEPT,
 * EVFILT_VNODE and EVFILT_PROCDESC on host descriptors and on our own
 * queues.
 *
 * They share one knote per (queue, descriptor) and one host registration
 * per descriptor (kern_descrip.c).  Activation trusts the host's readiness
 * hint and makes no system call; the condition and the numbers reported
 * (bytes readable, space writable, EOF, the socket error) are read from the
 * host when the event is delivered (f_event with hint 0), so what a program
 * receives is never older than its kevent() call.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/eventpoll.h>
#include <sys/file.h>

static int
file_is_vnode(struct file *fp)
{

	return (fp->f_type == DTYPE_HOST && (fp->f_hosttype == HC_FT_REG ||
	    fp->f_hosttype == HC_FT_DIR));
}

/* A descriptor the host cannot watch (a regular file, /dev/null). */
static int
file_always_ready(struct file *fp)
{

	return (__atomic_load_n(&fp->f_watched, __ATOMIC_RELAXED) < 0 ||
	    file_is_vnode(fp));
}

static void
filt_noop_detach(struct knote *kn __unused, struct knslot *ks __unused)
{
}

/*
 * Whether the host bits stamped on fp (upcall_fdready()) are as current
 * as a host call would be for a front end's re-check on kq: sampled by a
 * drain that kq's own wait numbered (kq_drainseq), once it began.
 * Acquire: pairs with upcall_fdready()'s release of f_hseq after f_hbits.
 */
static int
filt_hbits(struct file *fp, struct kqueue *kq, unsigned *reventsp)
{
	uint32_t seq;

	seq = __atomic_load_n(&fp->f_hseq, __ATOMIC_ACQUIRE);
	if (seq == 0 ||
	    seq != __atomic_load_n(&kq->kq_drainseq, __ATOMIC_RELAXED))
		return (0);
	*reventsp = __atomic_load_n(&fp->f_hbits, __ATOMIC_RELAXED);
	return (1);
}

/*
 * The host's state of the descriptor for a re-check.  kevent() uses the
 * bits its own drain stamped (filt_hbits()) and asks the host only for
 * the numbers it reports (none for an eventfd).  A front end's queue
 * without a ring (epoll_wait(), poll(), select(), /dev/poll) reports poll
 * bits, never the numbers in ks_data, so there only the bits are read:
 * one host call instead of the four a socket's whole state costs, which
 * is most of what an event costs an epoll program.  The numbers then read
 * as unknown (-1) and the socket error as none.  While the knote is being
 * collected the bits are kept (kq_recheck_kn): its other slots' re-checks and
 * the bits the front end reports use them instead of asking again, as
 * do bits the wait's own drain stamped (filt_hbits()).
 *
 * A ring's post re-checks with the host (knote_deliver()) because bits
 * the host sampled before the program read the descriptor must not reach
 * the ring after it: the program would be told of data it already read.
 * A post made
 * by the upcall that delivers the bits, with no reap of the ring since the
 * host sampled them (kern_upcall_fresh()), can use them all the same: the
 * program reads a descriptor before it consumes the record that told it
 * to (evring(3)), and a reap after that consumption is what lets a new
 * record of the descriptor be posted.  Then only the numbers are asked
 * for: none for an eventfd, so its post costs no host call.
 * Called with the queue lock held.
 */
static int
filt_query(struct knote *kn, int want, struct hc_fdstate *fs)
{
	struct file *fp = kn->kn_fp;
	struct kqueue *kq = kn->kn_kq;
	int error;

	if (kq->kq_ring != NULL) {
		if (kern_upcall_fresh(fp, kq)) {
			fs->fs_revents = __atomic_load_n(&fp->f_hbits,
			    __ATOMIC_RELAXED);
			want |= HC_FDQ_HAVEBITS;
		}
		return (hc_fd_query(fp->f_fd, fp->f_hosttype, want, fs));
	}
	if (kq->kq_pers == NULL) {
		/* kevent(): fresh bits save the poll, not the numbers. */
		if (filt_hbits(fp, kq, &fs->fs_revents))
			want |= HC_FDQ_HAVEBITS;
		return (hc_fd_query(fp->f_fd, fp->f_hosttype, want, fs));
	}
	fs->fs_nread = -1;
	fs->fs_nwrite = -1;
	fs->fs_error = 0;
	if (kq->kq_recheck_kn == kn && kq->kq_recheck_have) {
		fs->fs_revents = kq->kq_recheck_bits;
		return (0);
	}
	if (filt_hbits(fp, kq, &fs->fs_revents))
		error = 0;
	else
		error = hc_fd_revents(fp->f_fd, &fs->fs_revents);
	if (error == 0 && kq->kq_recheck_kn == kn) {
		kq->kq_recheck_bits = fs->fs_revents;
		kq->kq_recheck_have = 1;
	}
	return (error);
}

/*
 * EVFILT_READ.  A regular file is readable while its offset is before its
 * end, with data the bytes remaining, and a vnode watch makes it fire again
 * when the file grows.  A queue is readable while it has pending events,
 * with data their count.
 */
static int
filt_readattach(struct knote *kn, struct knslot *ks __unused)
{

	if (file_is_vnode(kn->kn_fp))
		return (file_vnode_hold(kn->kn_fp, 0));
	return (0);
}

static void
filt_readdetach(struct knote *kn, struct knslot *ks __unused)
{

	if (file_is_vnode(kn->kn_fp))
		file_vnode_release(kn->kn_fp);
}

static void
filt_seteof(struct knslot *ks, int eof, int error)
{

	if (eof) {
		ks->ks_flags |= EV_EOF;
		ks->ks_fflags = (uint32_t)error;
	} else {
		ks->ks_flags &= ~EV_EOF;
		ks->ks_fflags = 0;
	}
}

static int filt_read_state(struct knote *kn, struct knslot *ks,
    const struct hc_fdstate *fs);

static int
filt_read(struct knote *kn, struct knslot *ks, long long hint)
{
	struct file *fp = kn->kn_fp;
	struct hc_fdstate fs;
	long long remain;

	if (fp->f_type == DTYPE_KQUEUE) {
		ks->ks_data = kqueue_pending(fp->f_kq);
		return (ks->ks_data > 0);
	}
	if (hint & KNH_POLL)
		return ((KNH_DETAIL(hint) & (HC_POLLIN | HC_POLLHUP |
		    HC_POLLERR | HC_POLLRDHUP)) != 0);
	if (hint & KNH_VNODE)
		return ((KNH_DETAIL(hint) & (NOTE_WRITE | NOTE_EXTEND)) != 0);
	if (hint != 0)
		return (0);

	if (file_is_vnode(fp)) {
		if (hc_fd_remaining(fp->f_fd, &remain) != 0)
			remain = 0;
		ks->ks_data = remain;
		return (remain != 0 || (ks->ks_sfflags & NOTE_FILE_POLL));
	}
	if (file_always_ready(fp)) {
		ks->ks_data = 0;
		return (1);
	}
	if (filt_query(kn, HC_FDQ_NREAD, &fs) != 0)
		return (0);
	return (filt_read_state(kn, ks, &fs));
}

/* EVFILT_READ's verdict and numbers from a descriptor's state. */
static int
filt_read_state(struct knote *kn, struct knslot *ks,
    const struct hc_fdstate *fs)
{
	long long lowat;
	int eof;

	eof = (fs->fs_revents & (HC_POLLHUP | HC_POLLRDHUP | HC_POLLERR)) != 0;
	/* Data still buffered before a peer's close is not EOF yet. */
	if (kn->kn_fp->f_hosttype == HC_FT_LISTEN)
		eof = (fs->fs_revents & HC_POLLERR) != 0;
	ks->ks_data = fs->fs_nread >= 0 ? fs->fs_nread :
	    ((fs->fs_revents & HC_POLLIN) != 0);
	filt_seteof(ks, eof, fs->fs_error);
	if (eof)
		return (1);
	lowat = (ks->ks_sfflags & NOTE_LOWAT) && ks->ks_sdata > 0 ?
	    ks->ks_sdata : 1;
	if ((fs->fs_revents & HC_POLLIN) == 0)
		return (0);
	/* An unknown count is enough, except for a front end's "never". */
	if (fs->fs_nread < 0)
		return (lowat != FE_LOWAT_NEVER);
	return (ks->ks_data >= lowat);
}

/*
 * EVFILT_WRITE.  Regular files are always writable (data 0), as on BSD.
 */
static int
filt_writeattach(struct knote *kn, struct knslot *ks __unused)
{

	if (kn->kn_fp->f_type == DTYPE_KQUEUE)
		return (EINVAL);
	return (0);
}

static int filt_write_state(struct knslot *ks, const struct hc_fdstate *fs);

static int
filt_write(struct knote *kn, struct knslot *ks, long long hint)
{
	struct file *fp = kn->kn_fp;
	struct hc_fdstate fs;

	if (hint & KNH_POLL)
		return ((KNH_DETAIL(hint) & (HC_POLLOUT | HC_POLLHUP |
		    HC_POLLERR)) != 0);
	if (hint != 0)
		return (0);
	if (file_always_ready(fp)) {
		ks->ks_data = 0;
		return (1);
	}
	if (filt_query(kn, HC_FDQ_NWRITE, &fs) != 0)
		return (0);
	return (filt_write_state(ks, &fs));
}

/* EVFILT_WRITE's verdict and numbers from a descriptor's state. */
static int
filt_write_state(struct knslot *ks, const struct hc_fdstate *fs)
{
	long long lowat;
	int eof;

	eof = (fs->fs_revents & (HC_POLLHUP | HC_POLLERR)) != 0;
	ks->ks_data = fs->fs_nwrite >= 0 ? fs->fs_nwrite :
	    ((fs->fs_revents & HC_POLLOUT) != 0);
	filt_seteof(ks, eof, fs->fs_error);
	if (eof)
		return (1);
	if ((fs->fs_revents & HC_POLLOUT) == 0)
		return (0);
	lowat = (ks->ks_sfflags & NOTE_LOWAT) && ks->ks_sdata > 0 ?
	    ks->ks_sdata : 1;
	return (fs->fs_nwrite < 0 || ks->ks_data >= lowat);
}

/*
 * EVFILT_EXCEPT: out-of-band data (POLLPRI), reported as NOTE_OOB.
 */
static int
filt_exceptattach(struct knote *kn, struct knslot *ks __unused)
{

	if (kn->kn_fp->f_type == DTYPE_KQUEUE)
		return (EINVAL);
	return (0);
}

static int
filt_except(struct knote *kn, struct knslot *ks, long long hint)
{
	struct file *fp = kn->kn_fp;
	unsigned revents;

	if (hint & KNH_POLL)
		return ((KNH_DETAIL(hint) & (HC_POLLPRI | HC_POLLHUP)) != 0);
	if (hint != 0 || file_always_ready(fp))
		return (0);
	/* Only the bits count here, for every queue. */
	if (hc_fd_revents(fp->f_fd, &revents) != 0)
		return (0);
	if (revents & HC_POLLHUP)
		ks->ks_flags |= EV_EOF;
	if ((revents & HC_POLLPRI) && (ks->ks_sfflags & NOTE_OOB)) {
		ks->ks_fflags = NOTE_OOB;
		ks->ks_data = 1;
		return (1);
	}
	ks->ks_fflags = 0;
	ks->ks_data = 0;
	return ((ks->ks_flags & EV_EOF) != 0);
}

/*
 * EVFILT_VNODE: changes to a file or directory, accumulated in fflags.  As
 * on FreeBSD, a change reports every note it carries once one of them is
 * subscribed (an extending write subscribed for NOTE_WRITE reports
 * NOTE_WRITE|NOTE_EXTEND), and without EV_CLEAR the notes stay, so the
 * event is reported again by every call until it is cleared or deleted.
 * FreeBSD's file systems report a write and its extension together and
 * every other note on its own; the host reports what one inotify event
 * meant at once, so the notes are grouped here the way FreeBSD's are.
 */
static int
filt_vnodeattach(struct knote *kn, struct knslot *ks)
{

	if (!file_is_vnode(kn->kn_fp))
		return (EINVAL);
	return (file_vnode_hold(kn->kn_fp, ks->ks_sfflags));
}

/*
 * A modify may subscribe to notes the host watch does not report yet: the
 * watch learns of them before the subscription changes.
 */
static int
filt_vnodemodify(struct knote *kn, struct knslot *ks,
    const struct kevent *kev)
{
	struct kqueue *kq = kn->kn_kq;
	int error;

	if ((error = file_vnode_want(kn->kn_fp, kev->fflags)) != 0)
		return (error);
	KQ_LOCK(kq);
	ks->ks_sfflags = kev->fflags;
	ks->ks_sdata = kev->data;
	KQ_UNLOCK(kq);
	return (0);
}

static int
filt_vnode(struct knote *kn __unused, struct knslot *ks, long long hint)
{
	uint32_t notes, group;

	if (hint & KNH_VNODE) {
		notes = (uint32_t)KNH_DETAIL(hint);
		while (notes != 0) {
			group = notes & -notes;
			if (group & (NOTE_WRITE | NOTE_EXTEND))
				group = notes & (NOTE_WRITE | NOTE_EXTEND);
			notes &= ~group;
			if (group & ks->ks_sfflags)
				ks->ks_fflags |= group;
		}
		/* A revoked file reports EOF, subscribed or not. */
		if (KNH_DETAIL(hint) & NOTE_REVOKE)
			ks->ks_flags |= EV_EOF;
	}
	return (ks->ks_fflags != 0 || (ks->ks_flags & EV_EOF) != 0);
}

/*
 * EVFILT_PROCDESC: NOTE_EXIT on a process descriptor, which on Linux is a
 * pidfd (pidfd_open(), clone3() with CLONE_PIDFD).  As FreeBSD's
 * procdesc_kqops, the event is EV_CLEAR and reports NOTE_EXIT once, with
 * EV_EOF|EV_ONESHOT and data the wait status.  A pidfd polls readable when
 * its process exits, so the host's readiness report is the activation and
 * the exit and status are read at delivery, as for every descriptor filter.
 */
static int
filt_procdescattach(struct knote *kn, struct knslot *ks __unused)
{
	struct file *fp = kn->kn_fp;
	int exited, status;

	if (fp->f_type != DTYPE_HOST || fp->f_hosttype != HC_FT_EVENTFD ||
	    hc_pidfd_state(fp->f_fd, &exited, &status) != 0)
		return (EINVAL);
	return (0);
}

static int
filt_procdesc(struct knote *kn, struct knslot *ks, long long hint)
{
	int exited, status;

	if (hint & KNH_POLL)
		return ((KNH_DETAIL(hint) & (HC_POLLIN | HC_POLLHUP)) != 0);
	if (hint != 0)
		return (0);
	if (hc_pidfd_state(kn->kn_fp->f_fd, &exited, &status) != 0 ||
	    !exited || (ks->ks_sfflags & NOTE_EXIT) == 0)
		return (0);
	ks->ks_fflags |= NOTE_EXIT;
	ks->ks_data = status;
	ks->ks_flags |= EV_EOF | EV_ONESHOT;
	return (1);
}

const struct filterops file_filtops[KN_FD_NFILT] = {
	[KN_FD_READ] = {
		.f_class = KNC_FD,
		.f_slot = KN_FD_READ,
		.f_hostevents = HC_POLLIN,
		.f_attach = filt_readattach,
		.f_detach = filt_readdetach,
		.f_event = filt_read,
	},
	[KN_FD_WRITE] = {
		.f_class = KNC_FD,
		.f_slot = KN_FD_WRITE,
		.f_hostevents = HC_POLLOUT,
		.f_attach = filt_writeattach,
		.f_detach = filt_noop_detach,
		.f_event = filt_write,
	},
	[KN_FD_EXCEPT] = {
		.f_class = KNC_FD,
		.f_slot = KN_FD_EXCEPT,
		.f_hostevents = HC_POLLPRI,
		.f_attach = filt_exceptattach,
		.f_detach = filt_noop_detach,
		.f_event = filt_except,
	},
	[KN_FD_VNODE] = {
		.f_class = KNC_FD,
		.f_slot = KN_FD_VNODE,
		.f_attach = filt_vnodeattach,
		.f_detach = filt_readdetach,
		.f_event = filt_vnode,
		.f_modify = filt_vnodemodify,
	},
	[KN_FD_PROCDESC] = {
		.f_class = KNC_FD,
		.f_slot = KN_FD_PROCDESC,
		.f_flags = EV_CLEAR,	/* as FreeBSD's procdesc_kqfilter() */
		.f_hostevents = HC_POLLIN,
		.f_attach = filt_procdescattach,
		.f_detach = filt_noop_detach,
		.f_event = filt_procdesc,
	},
	[KN_FD_EMPTY] = {
		.f_class = KNC_FD,
		.f_slot = KN_FD_EMPTY,
		.f_hostevents = HC_POLLOUT,
		.f_attach = filt_emptyattach,
		.f_detach = filt_emptydetach,
		.f_event = filt_empty,
		.f_modify = filt_emptymodify,
		.f_prepare = kqueue_timers_init,
	},
};
