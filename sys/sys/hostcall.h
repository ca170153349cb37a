/*
 * The hypercall boundary: the only way the evring kernel reaches the world.
 *
 * Modelled on NetBSD's rumpuser.h.  This header includes nothing and keeps
 * every host type opaque, so that kernel code compiled -ffreestanding
 * -nostdinc can call it.  Every int-returning hypercall returns 0 or a
 * positive errno (the host ABI's numbers).  sys/host implements it for
 * Linux; doc/porting.md says how each call maps onto a BSD kernel.
 *
 * Calls from the host into the kernel ("upcalls") go through the table the
 * kernel hands to hc_init().  The host makes upcalls with none of its own
 * locks held except where a comment below says otherwise, and never from a
 * signal handler.
 */
#ifndef _SYS_HOSTCALL_H_
#define	_SYS_HOSTCALL_H_

/* As rumpuser.h: the kernel calls this and the host implements it. */
#if !defined(_KERNEL) && !defined(_EVRING_HOST)
#error "sys/hostcall.h is the kernel's boundary, not for programs"
#endif

#define	HYPERCALL_VERSION	7

struct timespec;

/* Opaque host objects. */
struct hc_mtx;			/* a non-recursive mutex */
struct hc_sleeper;		/* one thread's sleep/wakeup handle */
struct hc_callout;		/* a one-shot timer running a function */
struct hc_vwatch;		/* a vnode (inotify) watch */
struct hc_pwatch;		/* a process (pidfd) watch */
struct hc_shm;			/* shared memory with more than one view */

/*
 * Upcalls.  Each receives the cookie the kernel gave when it registered
 * the watch.  The table only grows at its end (each addition says in which
 * version it came) and HYPERCALL_VERSION changes with every change to
 * this file, which hc_init() checks.  They run in a host thread or in a thread inside
 * hc_host_poll(), with the host's poll lock held (so at most one upcall runs
 * at a time); they must not call hc_host_poll().
 */
struct hc_upcalls {
	/* A watched descriptor changed readiness; revents are HC_POLL* bits. */
	void	(*hu_fdready)(unsigned long long cookie, unsigned revents);
	/* A watched vnode changed; notes are NOTE_* (EVFILT_VNODE) bits. */
	void	(*hu_vnode)(unsigned long long cookie, unsigned notes);
	/* Signal signo was delivered count times since the last upcall. */
	void	(*hu_signal)(int signo, unsigned count);
	/*
	 * A watched process exited.  status is its wait status when the
	 * host could read it (haswstatus != 0), which it can only for a
	 * child of this process.
	 */
	void	(*hu_procexit)(unsigned long long cookie, int status,
		    int haswstatus);
	/*
	 * Descriptor fd is about to be closed by the program (close, dup2,
	 * dup3, close_range).  Runs in the closing thread, before the host
	 * descriptor is released, with no host lock held.
	 */
	void	(*hu_fdclose)(int fd);
	/*
	 * Around fork(), in the forking thread: hu_forkprepare after the
	 * host has taken its own locks, so the kernel can hold still what
	 * the child will read (kernel locks taken here are leaves below
	 * every host lock); then hu_forkparent in the parent, before the
	 * host releases its locks, or hu_forkchild in the child.
	 */
	void	(*hu_forkprepare)(void);
	void	(*hu_forkparent)(void);
	/*
	 * In the child after fork(), before it returns: the kernel drops
	 * every queue (BSD semantics).  The host has already reset itself.
	 */
	void	(*hu_forkchild)(void);
	/*
	 * The host is about to sample readiness (an epoll_wait() of a
	 * drain): the hu_fdready calls that follow, up to the next
	 * hu_drainstart, report what it sampled.  Called with the host's
	 * drain lock held, as hu_fdready is, so never beside either.
	 */
	void	(*hu_drainstart)(void);
	/*
	 * A thread whose per-thread pointer is set (hc_curthread_set()) is
	 * exiting: td is that pointer.  Runs in the exiting thread, with no
	 * host lock held.  Appended in version 2.
	 */
	void	(*hu_threadexit)(void *td);
	/*
	 * The program's fcntl(F_GETFL or F_SETFL) on fd.  A queue's host
	 * descriptor stays non-blocking for the kernel's sake, so if fd is
	 * one of the kernel's queues the kernel keeps the program's
	 * O_NONBLOCK instead: op -1 asks for it, 0 or 1 sets it.  Returns
	 * it (0 or 1), or -1 if fd is not a queue.  Appended in version 3.
	 */
	int	(*hu_qnonblock)(int fd, int op);
	/*
	 * Descriptor fd has been closed by the program (after hu_fdclose
	 * and the close itself), in the closing thread, with no host lock
	 * held.  Appended in version 7.
	 */
	void	(*hu_fdclosed)(int fd);
	/*
	 * Slots for upcalls to come: a new one takes the first, and the
	 * table keeps its size and every earlier slot its place.  The
	 * kernel leaves them NULL; the host calls none of them.
	 */
	void	(*hu_spare[3])(void);
};

/* Initialization; called once, before any other hypercall. */
int	hc_init(int version, const struct hc_upcalls *);

/*
 * The kernel's per-thread pointer (rumpuser's curlwp): hc_curthread()
 * returns what hc_curthread_set() last stored for the calling thread, NULL
 * before that.  A thread that exits with it set makes the hu_threadexit
 * upcall.  hc_curthread() is cheap enough for every kernel entry.
 */
void	*hc_curthread(void);
int	hc_curthread_set(void *td);

/* Memory.  hc_malloc() with HC_M_ZERO returns zeroed memory. */
#define	HC_M_ZERO	0x0001
void	*hc_malloc(unsigned long size, int flags);
void	hc_free(void *ptr);

/*
 * Mutexes.  name is the mutex's class for lock-order checking under
 * INVARIANTS (doc/design.md section 8), as mtx_init(9)'s name is for
 * witness(4): a string constant, shared by every mutex of one role.
 * Changed in version 6 (name added).
 */
int	hc_mtx_init(struct hc_mtx **mtxp, const char *name);
void	hc_mtx_destroy(struct hc_mtx *mtx);
void	hc_mtx_lock(struct hc_mtx *mtx);
/* Nonzero when the lock was free and is now held; never waits. */
int	hc_mtx_trylock(struct hc_mtx *mtx);
void	hc_mtx_unlock(struct hc_mtx *mtx);
/* Nonzero when the calling thread holds mtx (for INVARIANTS). */
int	hc_mtx_owned(struct hc_mtx *mtx);

/*
 * Sleep and wakeup.  Each thread has one sleeper, created on first use.
 * The protocol: with the kernel lock held, a thread records its sleeper on
 * the object it waits for; it drops the lock and calls hc_sleep(); a waker,
 * with the lock held, calls hc_wakeup() on a recorded sleeper.  A wakeup
 * that comes before hc_sleep() is not lost.  After hc_sleep() returns
 * without a wakeup (timeout, signal) while a wakeup may still have been
 * posted, the kernel calls hc_sleep_reset() with the lock held, so that a
 * stale wakeup does not end the thread's next sleep early.
 *
 * deadline is an absolute hc_clock_monotonic() time in nanoseconds, or -1
 * to sleep until woken.  sigmask, when not NULL, is a host sigset_t applied
 * atomically with the sleep, as ppoll() does.  Returns 0 when woken,
 * ETIMEDOUT when the deadline passed, EINTR when a signal handler ran.
 */
#define	HC_SIGSET_SIZE	128	/* bytes in a host sigset_t */
int	hc_sleeper_get(struct hc_sleeper **sp);
int	hc_sleep(struct hc_sleeper *s, long long deadline,
	    const void *sigmask);
void	hc_wakeup(struct hc_sleeper *s);
void	hc_sleep_reset(struct hc_sleeper *s);

/*
 * Busy polling (EVRING_PROP_BUSYPOLL).  A thread that spins waiting for
 * events is in no host system call, so a signal handler that ran meanwhile
 * would go unnoticed and the wait would not end with EINTR.  Two ways to
 * notice, chosen by hc_spin_begin():
 *
 * Counted (no sigmask given, hs_counted set): the host fronts every signal
 * the program catches (arranged on the first spin), so each handler call
 * on this thread is counted.  Nothing is blocked and no system call is
 * made; hc_spin_signalled() compares the count, cheaply enough for every
 * turn, and hc_sleep() before hc_spin_end() returns EINTR if a handler ran
 * at any time since hc_spin_begin(), even just before its sleep began.
 *
 * Masked (a sigmask given, or counting unavailable, hs_masked set): every
 * signal is blocked, the thread's mask saved in hs_saved;
 * hc_spin_signalled() asks the host whether a signal that sigmask (NULL:
 * the saved mask) leaves unblocked is pending (a system call), and the
 * spinner then stops and lets hc_sleep(), given that mask, deliver it
 * atomically with the sleep.
 *
 * hc_spin_end() undoes either (a spin is active while one of the two is
 * set).  hc_spin_begin() returns an errno and leaves both clear when
 * neither can be arranged.
 */
struct hc_spin {
	unsigned long long	hs_saved[HC_SIGSET_SIZE /
				    sizeof(unsigned long long)];
	int			hs_counted;
	int			hs_masked;
};
int	hc_spin_begin(struct hc_spin *sp, const void *sigmask);
int	hc_spin_signalled(const struct hc_spin *sp, const void *sigmask);
void	hc_spin_end(struct hc_spin *sp);
void	hc_cpu_relax(void);		/* one spin-wait hint to the CPU */
void	hc_thread_yield(void);		/* let another thread run */

/* Clocks, in nanoseconds. */
long long hc_clock_monotonic(void);
long long hc_clock_realtime(void);

/*
 * Callouts: fn(arg) runs once in a host thread, with no lock held, at or
 * after deadline (absolute monotonic ns).  hc_callout_reset() re-arms a
 * pending callout.  hc_callout_stop() cancels it and, unless it is called
 * from fn itself, waits for a running fn to return, so that after it
 * returns fn is neither running nor pending.  It returns 1 if a pending
 * callout was cancelled, 0 otherwise.  In a fork child no callout is
 * pending: all belonged to state the child drops.  hc_callout_init() takes
 * all a callout will need (ENOMEM when it cannot), so that the others
 * cannot fail.
 */
int	hc_callout_init(struct hc_callout **cp, void (*fn)(void *), void *arg);
void	hc_callout_reset(struct hc_callout *c, long long deadline);
int	hc_callout_stop(struct hc_callout *c);
void	hc_callout_destroy(struct hc_callout *c);	/* stops first */

/*
 * Copies between the calling program's memory and the kernel's.  A fault
 * (NULL, unmapped or unwritable memory) returns EFAULT and never crashes.
 */
int	hc_copyin(const void *uaddr, void *kaddr, unsigned long len);
int	hc_copyout(const void *kaddr, void *uaddr, unsigned long len);
/* Bytes of [uaddr, uaddr + len) writable from the start, page by page. */
unsigned long hc_user_writable(void *uaddr, unsigned long len);

/*
 * Host descriptors.
 */
#define	HC_FT_OTHER	0
#define	HC_FT_SOCKET	1	/* stream or datagram socket */
#define	HC_FT_LISTEN	2	/* listening socket */
#define	HC_FT_FIFO	3	/* pipe or named FIFO */
#define	HC_FT_CHR	4	/* character device, tty */
#define	HC_FT_REG	5	/* regular file */
#define	HC_FT_DIR	6	/* directory */
#define	HC_FT_EVENTFD	7	/* eventfd, timerfd, signalfd, other anon */

/*
 * The identity of the open object is (fi_dev, fi_ino): the host folds its
 * device number into 32 bits (a Linux device number has 32), since the
 * kernel keeps one in every struct file.
 */
struct hc_fdinfo {
	int		fi_type;	/* HC_FT_* */
	unsigned	fi_dev;
	unsigned long long fi_ino;
};

/* Readiness bits, the same values as poll()'s. */
#define	HC_POLLIN	0x0001
#define	HC_POLLPRI	0x0002
#define	HC_POLLOUT	0x0004
#define	HC_POLLERR	0x0008
#define	HC_POLLHUP	0x0010
#define	HC_POLLRDHUP	0x2000
/*
 * Set in hu_fdready()'s revents when they are the descriptor's whole
 * readiness sampled as the host reported it (epoll re-polls a ready item
 * as it hands it over), not only the kind of change that woke it (an
 * io_uring poll completion carries the waking mask alone).
 */
#define	HC_POLLSTATE	0x10000000

struct hc_fdstate {
	unsigned	fs_revents;	/* HC_POLL* now */
	long long	fs_nread;	/* bytes or connections readable, -1 unknown */
	long long	fs_nwrite;	/* bytes writable, -1 unknown */
	int		fs_error;	/* pending socket error, 0 if none */
};

/*
 * The type and identity of an open descriptor; EBADF if not open, or if
 * it is one of the host's own (hc_kqfd_create()'s internal ones too).  A
 * regular file with a poll method (procfs, sysfs) is HC_FT_OTHER.
 */
int	hc_fd_stat(int fd, struct hc_fdinfo *fi);
/*
 * Whether the host's readiness interface takes fd: 0, or the error it
 * gives (EPERM for a file without a poll method, EBADF for a descriptor
 * that names no open file, such as Linux's O_PATH ones).
 */
int	hc_fd_canpoll(int fd);
/*
 * Watch fd for readiness, for the HC_POLLIN, HC_POLLOUT and HC_POLLPRI
 * bits in events (HC_POLLIN includes the peer's shutdown, and hangups and
 * errors always count): the host calls hu_fdready(cookie, ...) each time
 * one of them may have changed (edge-triggered, may be spurious).  Called
 * again for a watched fd, it replaces the set.  A backend may watch for
 * more than asked.  The cookie's high 32 bits must be fd (the io_uring
 * backend finds the descriptor of a completion from them).  *reportsp is
 * set to 1 if the host will report fd's readiness for events as it is now
 * at its next drain (hc_host_poll()), as epoll does for a registration
 * made or changed, and to 0 if it may report only later changes.
 * Returns EPERM for descriptors the host cannot watch (regular files,
 * directories, some devices): those are always ready.
 */
int	hc_fd_watch(int fd, unsigned long long cookie, unsigned events,
	    int *reportsp);
/* Stop watching fd; cookie must match the one given to hc_fd_watch(). */
void	hc_fd_unwatch(int fd, unsigned long long cookie);
/*
 * The descriptor's state now, without blocking.  type is fi_type; want
 * says which numbers to find (HC_FDQ_*): each costs host calls, and a
 * number not asked for reads as unknown (-1).
 */
#define	HC_FDQ_NREAD	0x1		/* fs_nread */
#define	HC_FDQ_NWRITE	0x2		/* fs_nwrite */
#define	HC_FDQ_HAVEBITS	0x4		/* fs_revents holds current bits: */
					/* find only the numbers */
int	hc_fd_query(int fd, int type, int want, struct hc_fdstate *fs);
/*
 * Only fs_revents of hc_fd_query(), for callers that need no numbers: one
 * host call where a socket's whole state costs four.
 */
int	hc_fd_revents(int fd, unsigned *reventsp);
/*
 * A socket's send queue: *unsentp the bytes not yet taken by the peer
 * (for TCP, sent but unacknowledged as well; 0 for a listening socket),
 * and, when ackedp is not NULL, *ackedp the bytes the peer has ever
 * acknowledged, which only grows (TCP), or -1 where the host keeps no
 * such count.  EINVAL for a descriptor that is not a socket.
 */
int	hc_fd_sendq(int fd, long long *unsentp, long long *ackedp);
/*
 * Another open descriptor of this process that refers to the same open
 * file description as fd (as after dup()), in *aliasp; ENOENT if none,
 * ENOSYS if the host cannot tell.
 */
int	hc_fd_alias(int fd, int *aliasp);
/*
 * 0 when fd1 and fd2 refer to the same open file description, ESRCH when
 * they do not, EBADF when either is not open, ENOSYS if the host cannot
 * tell.
 */
int	hc_fd_same(int fd1, int fd2);
/* For a regular file: bytes from the current offset to end of file. */
int	hc_fd_remaining(int fd, long long *remainp);
/* Close a descriptor the kernel itself created. */
void	hc_fd_close(int fd);
/* The process's descriptor limit now (soft RLIMIT_NOFILE, OPEN_MAX). */
int	hc_fd_limit(void);

/*
 * Process readiness drain: deliver every readiness change the host has
 * seen or can see now through the upcalls, in the calling thread, without
 * blocking.  The kernel calls it on entry so that a change made before the
 * call is visible to it (a write to a watched pipe, a signal, a file
 * change).  The caller holds no kernel lock.
 */
void	hc_host_poll(void);
/*
 * Report the readiness of the n (at most HC_RESAMPLE_MAX) descriptors
 * named by cookies now, as a drain reports it (hu_drainstart, then
 * hu_fdready with HC_POLLSTATE for each, ready or not, in order with every
 * other drain), in one host call for them all.  A descriptor no longer
 * open is left out.  The caller holds no kernel lock but, possibly, a
 * queue's registration lock, which no upcall takes.
 */
#define	HC_RESAMPLE_MAX	64
void	hc_fd_resample(const unsigned long long *cookies, int n);

/*
 * A queue's own host descriptor, which the host's poll()/epoll see readable
 * exactly while the queue has pending events.  The first also makes what
 * watching descriptors takes (the host's readiness instance), so that no
 * registration needs a descriptor of its own: a program at its descriptor
 * limit gets EMFILE from kqueue() or epoll_create(), as it would anyway,
 * and never from an EV_ADD.  An internal one (a queue of the library's
 * own) is placed with the host's own descriptors, out of the program's
 * way, and is not open as far as the program's calls can tell.
 */
int	hc_kqfd_create(int *fdp, int internal);
void	hc_kqfd_set(int fd, int ready);

/*
 * Vnode watches: hu_vnode(cookie, NOTE_*) on changes to fd's file.  The
 * notes that cost the host an event per system call on the file (open,
 * close, read) are watched only where notes asks for them; hc_vnode_want()
 * adds to a watch's notes, which shrink only when the watch goes.
 */
int	hc_vnode_watch(int fd, unsigned long long cookie, unsigned notes,
	    struct hc_vwatch **wp);
int	hc_vnode_want(struct hc_vwatch *w, unsigned notes);
void	hc_vnode_unwatch(struct hc_vwatch *w);

/* Process watches: hu_procexit(cookie, ...) once when pid exits. */
int	hc_proc_watch(int pid, unsigned long long cookie,
	    struct hc_pwatch **wp);
void	hc_proc_unwatch(struct hc_pwatch *w);

/*
 * A process descriptor (a pidfd): EINVAL if fd is not one; *exitedp once
 * its process has exited, *statusp its wait status when known, else 0.
 */
int	hc_pidfd_state(int fd, int *exitedp, int *statusp);

/*
 * Signal watches, reference counted per signal.  While a signal is
 * watched the host counts every delivery (to the process or any thread,
 * including ignored ones, SIGCHLD excepted when ignored) and passes it on
 * to the program's own disposition unchanged.  EINVAL for signals that
 * cannot be caught.
 */
int	hc_sig_watch(int signo);
void	hc_sig_unwatch(int signo);

/*
 * Send signal signo to the whole process, as kill(getpid(), signo) does:
 * any thread that does not block it may take it.  EINVAL for a bad
 * number.  The kernel calls it with no lock held, since the signal may be
 * handled in the calling thread before the call returns.
 */
int	hc_sig_raise(int signo);

/*
 * Shared memory for the event rings.  hc_shm_alloc() allocates size bytes
 * (a multiple of hc_pagesize()) of zeroed memory and maps the kernel's own
 * view of it at *kvap.  hc_shm_map() makes one more view, for the program,
 * at *uvap: its first rwsize bytes writable, the rest read-only.  Views
 * are separate mappings of the same pages: the program may unmap its views
 * at any time (munmap), which never affects the kernel's view, and
 * hc_shm_free() unmaps the kernel's view and forgets the object while
 * program views stay valid until unmapped.  No view, kernel or program, is
 * inherited by a fork() child, and no descriptor names the memory, so a
 * child can never reach it.
 */
unsigned long hc_pagesize(void);
int	hc_shm_alloc(unsigned long size, struct hc_shm **shmp, void **kvap);
int	hc_shm_map(struct hc_shm *shm, unsigned long rwsize, void **uvap);
void	hc_shm_free(struct hc_shm *shm);

/* Debug counters the tests read through evring_stat(). */
#define	HC_STAT_FDWATCH		0	/* host fd registrations now */
#define	HC_STAT_FDWATCH_TOTAL	1	/* host fd registrations ever (a
					   new set for a watched fd is not
					   one) */
#define	HC_STAT_VWATCH		2	/* host vnode watches now */
#define	HC_STAT_BACKEND		3	/* readiness backend: 0 none yet,
					   1 epoll, 2 io_uring */
#define	HC_STAT_URING_CQES	4	/* io_uring completions taken ever */
#define	HC_STAT_FDQUERY		5	/* hc_fd_revents()/hc_fd_query()
					   readiness polls ever */
#define	HC_STAT_FDREPORTS	6	/* hu_fdready() upcalls ever */
#define	HC_STAT_FDCMP		7	/* descriptors compared with kcmp()
					   by hc_fd_same()/hc_fd_alias() */
#define	HC_NSTATS		8
long long hc_stat(int which);

/* A fatal kernel error: print and abort. */
void	hc_panic(const char *msg) __attribute__((__noreturn__));
/* Print a diagnostic line (no formatting). */
void	hc_log(const char *msg);

#endif /* !_SYS_HOSTCALL_H_ */
