/*
 * Private declarations shared by the Linux host layer (the files in sys/host).
 *
 * Nothing outside sys/host includes this file: the kernel sees only
 * sys/sys/hostcall.h.  host_init.c describes the threads and the locks.
 */
#ifndef _HOST_IMPL_H_
#define	_HOST_IMPL_H_

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#define	_EVRING_HOST	/* the implementation of sys/hostcall.h */
#include "sys/hostcall.h"

/*
 * Everything below is private to the host layer: keep it out of the
 * shared library's dynamic symbol table.
 */
#pragma GCC visibility push(hidden)

/* Built with -fsanitize=thread (GCC says so one way, Clang another). */
#if defined(__SANITIZE_THREAD__)
#define	HOST_TSAN	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define	HOST_TSAN	1
#endif
#endif

/* The upcall table given to hc_init(); NULL before it. */
extern _Atomic(const struct hc_upcalls *) host_upcalls;

/*
 * A host mutex that knows its owner, so that a function may ask whether
 * the calling thread already holds it.  hc_mtx is one of these.
 */
struct host_lock {
	pthread_mutex_t		hl_mtx;
	_Atomic uintptr_t	hl_owner;	/* host_self() of holder, or 0 */
#ifdef INVARIANTS
	/* Lock-order checking (host_witness.c): the lock's class. */
	const char		*hl_name;
	_Atomic int		hl_class;	/* class + 1, or 0 (unknown) */
#endif
};
#ifdef INVARIANTS
#define	HOST_LOCK_INITIALIZER(name)					\
	{ PTHREAD_MUTEX_INITIALIZER, 0, (name), 0 }
#else
#define	HOST_LOCK_INITIALIZER(name)	{ PTHREAD_MUTEX_INITIALIZER, 0 }
#endif

uintptr_t host_self(void);
/* name is the lock's class for lock-order checking (a string constant). */
void	host_lock_init(struct host_lock *hl, const char *name);
void	host_lock_acquire(struct host_lock *hl);
void	host_lock_release(struct host_lock *hl);
int	host_lock_owned(struct host_lock *hl);
/* pthread_cond_(timed)wait() on hl, held; abstime NULL waits forever. */
int	host_lock_cvwait(struct host_lock *hl, pthread_cond_t *cv,
	    const struct timespec *abstime);
/* In a fork child: the forking thread held hl; make it free again. */
void	host_lock_forkchild(struct host_lock *hl);

/*
 * host_witness.c: lock-order checking under INVARIANTS, after FreeBSD's
 * witness(4).  host_witness_check() runs before a blocking acquisition
 * (it panics on a reversal of a recorded or documented order),
 * host_witness_lock() after any successful one (a trylock included),
 * host_witness_unlock() at release.  Without INVARIANTS they are nothing.
 */
#ifdef INVARIANTS
void	host_witness_check(struct host_lock *hl);
void	host_witness_lock(struct host_lock *hl);
void	host_witness_unlock(struct host_lock *hl);
void	host_witness_forkbegin(void);
void	host_witness_forkprepare(void);
void	host_witness_forkparent(void);
void	host_witness_forkchild(void);
void	host_witness_forkend(void);
#else
#define	host_witness_check(hl)		((void)0)
#define	host_witness_lock(hl)		((void)0)
#define	host_witness_unlock(hl)		((void)0)
#define	host_witness_forkbegin()	((void)0)
#define	host_witness_forkprepare()	((void)0)
#define	host_witness_forkparent()	((void)0)
#define	host_witness_forkchild()	((void)0)
#define	host_witness_forkend()		((void)0)
#endif

/*
 * The poll lock: held while readiness events are taken out of the host
 * epoll instance and while the upcalls for them run.
 */
extern struct host_lock host_poll_lock;
/* Guards creation of internal descriptors and of the dispatcher thread. */
extern struct host_lock host_setup_lock;

/*
 * Tags in epoll_event.data.u64.  A kernel cookie has bit 63 clear (the
 * kernel's cookies put a non-negative descriptor number in the high 32
 * bits); internal descriptors set it and say what they are in bits 56-62.
 * A process watch carries its struct hc_pwatch address in the low bits.
 */
#define	HOST_TAG		0x8000000000000000ULL
#define	HOST_TAG_KINDSHIFT	56
#define	HOST_TAG_KINDMASK	0x7fULL
#define	HOST_TAG_PTRMASK	0x00ffffffffffffffULL
#define	HOST_TAG_INOTIFY	1
#define	HOST_TAG_SIGNAL		2
#define	HOST_TAG_PROC		3
#define	HOST_TAG_EPOLL		4	/* io_uring's poll of the epoll fd */
#define	HOST_TAG_PROBE		5	/* host_uring_pollable()'s, ignored */
#define	HOST_MKTAG(kind, low)	(HOST_TAG | \
	    ((unsigned long long)(kind) << HOST_TAG_KINDSHIFT) | \
	    ((unsigned long long)(low) & HOST_TAG_PTRMASK))

/* host_poll.c: the epoll instance, the dispatcher, the drain. */
extern _Atomic int host_epfd;
int	host_epoll_get(int *epfdp);
int	host_watch_hold(void);
void	host_watch_rele(void);
int	host_watching(void);
void	host_drain_locked(void);
void	host_fdtab_note(int fd);
/* Socket errors consumed for EV_EOF, kept for getsockopt(SO_ERROR). */
void	host_soerr_stash(int fd, int err);
int	host_soerr_peek(int fd);
int	host_soerr_take(int fd);
void	host_soerr_forget(unsigned lo, unsigned hi);
int	host_fd_maxfd(void);
int	host_fdtab_set(int fd, int on);
int	host_fdtab_mark(int fd, unsigned mask, int on);
unsigned host_fdtab_get(int fd);
/*
 * host_alias.c: which numbers may share an open file description with
 * another number of this process, so that a close need not look at every
 * descriptor (hc_fd_alias()).  DUPED: made by, or the source of, a dup()
 * the library saw, or open when it started; every number on such a
 * description is marked.  RECEIVED: arrived in SCM_RIGHTS or from
 * pidfd_getfd(); its twin, if this process has one, is not marked.
 */
#define	HOST_FDT_DUPED		0x4
#define	HOST_FDT_RECEIVED	0x8
/*
 * PRISTICKY: a made-up file whose poll method consumes the POLLPRI it
 * reports (the mount tables in /proc: a poll after the one that reported
 * a change says nothing), set by hc_fd_stat().  PRIPEND: a drain reported
 * its change; the next hc_fd_revents() returns POLLPRI|POLLERR once, as
 * the poll that consumed it would have.  PRIINIT: the epoll backend has
 * just added or changed its registration, whose first report is the
 * file's state, not a change (host_fd_reported()).
 */
#define	HOST_FDT_PRISTICKY	0x10
#define	HOST_FDT_PRIPEND	0x20
#define	HOST_FDT_PRIINIT	0x40
#define	HOST_FDT_PRIMARKS	(HOST_FDT_PRISTICKY | HOST_FDT_PRIPEND | \
	    HOST_FDT_PRIINIT)
unsigned host_fd_reported(unsigned long long cookie, unsigned revents,
	    int fromepoll);
void	host_fd_duped(int oldfd, int newfd);
void	host_fd_received(int fd);
void	host_fd_forget(unsigned lo, unsigned hi);
void	host_alias_forkprepare(void);
void	host_alias_forkparent(void);
void	host_alias_forkchild(void);
void	host_close_moved(int fd);
int	host_fd_own(int fd);
void	host_fd_disown(int fd);
int	host_fd_internal(int fd);
int	host_fd_maxinternal(void);
void	host_poll_forkchild(void);
void	host_epoll_drain_locked(void);

/*
 * host_uring.c: the io_uring backend (doc/host-backend.md).  The backend
 * is chosen when the epoll instance is made, which exists in both (io_uring
 * watches it for the host's internal sources).
 */
#define	HOST_BACKEND_NONE	0	/* not chosen yet */
#define	HOST_BACKEND_EPOLL	1
#define	HOST_BACKEND_URING	2
/*
 * Without EVRING_HOST_BACKEND: epoll, which measured faster here on every
 * evbench workload (doc/host-backend.md, "Measurements").
 */
#define	HOST_BACKEND_DEFAULT	HOST_BACKEND_EPOLL
extern _Atomic int host_backend;
extern _Atomic int host_urfd;
void	host_backend_choose(int epfd);
/* The descriptor a kernel cookie names (hc_fd_watch() checks it). */
static inline int
host_cookie_fd(unsigned long long cookie)
{

	return ((int)(cookie >> 32));
}

int	host_uring_active(void);
int	host_uring_pending(void);
void	host_uring_drain_locked(void);
int	host_uring_watch(int fd, unsigned long long cookie, int *newp);
int	host_fd_pollprobe(int fd);
void	host_uring_unwatch(int fd, unsigned long long cookie);
void	host_uring_forkprepare(void);
void	host_uring_forkparent(void);
void	host_uring_forkchild(void);
/* What the dispatcher and sleepers wait on: the ring, or the epoll fd. */
int	host_wait_fd(void);

/* Counters (hc_stat). */
extern _Atomic long long host_stats[HC_NSTATS];

/* Dispatch entry points, called with the poll lock held. */
void	host_vnode_dispatch(void);
void	host_sig_dispatch(void);
void	host_proc_dispatch(struct hc_pwatch *pw);

/* Fork handling (host_fork.c calls these). */
void	host_sig_forkprepare(void);
void	host_sig_forkparent(void);
void	host_sig_forkchild(void);
void	host_vnode_forkprepare(void);
void	host_vnode_forkparent(void);
void	host_vnode_forkchild(void);
void	host_proc_forkprepare(void);
void	host_proc_forkparent(void);
void	host_proc_forkchild(void);
void	host_sleep_forkprepare(void);
void	host_sleep_forkparent(void);
void	host_sleep_forkchild(void);
void	host_callout_forkprepare(void);
void	host_callout_forkparent(void);
void	host_callout_forkchild(void);
void	host_fork_register(void);

/* host_sig.c: the shared signal table, also used for copy faults. */
int	host_fault_install(void);
int	host_real_sigaction(int signo, const struct sigaction *act,
	    struct sigaction *oact);
/*
 * Set by the signal handler of this thread each time it ran for a watched
 * signal without calling a program handler ("absorbed"), and each time it
 * called one ("forwarded"); hc_sleep() tells its EINTRs apart with them.
 */
extern __thread volatile sig_atomic_t host_sig_absorbed
    __attribute__((tls_model("initial-exec")));
extern __thread volatile sig_atomic_t host_sig_forwarded
    __attribute__((tls_model("initial-exec")));
/*
 * Counted busy polling (hc_spin_begin()): host_sig_count_start() makes the
 * host front every signal the program catches, so that host_sig_forwarded
 * counts every handler call; it returns 0 once that holds.  While
 * host_sig_spinning, host_sig_spinmark is the count the spin began with,
 * and hc_sleep() publishes its eventfd in host_sig_wakefd, which the
 * handler writes after a program handler ran: a handler that runs after
 * hc_sleep() looked at the count and before ppoll() began then ends the
 * sleep at once instead of being missed.
 */
int	host_sig_count_start(void);
extern __thread volatile sig_atomic_t host_sig_spinmark
    __attribute__((tls_model("initial-exec")));
extern __thread volatile sig_atomic_t host_sig_spinning
    __attribute__((tls_model("initial-exec")));
extern __thread volatile int host_sig_wakefd
    __attribute__((tls_model("initial-exec")));

/* host_copy.c: the recovery point of a copy in progress on this thread. */
extern __thread sigjmp_buf *volatile host_onfault
    __attribute__((tls_model("initial-exec")));

/* Block every signal in a thread the host creates. */
int	host_thread_create(pthread_t *tp, void *(*fn)(void *), void *arg);

/*
 * host_sys.c: the host's poll(), ppoll(), epoll and fcntl() calls, made so
 * that no definition of those names elsewhere in the process (the
 * preload's, above all) can capture them.  -1 and errno, as the C
 * library's.
 */
struct epoll_event;
struct pollfd;
struct timespec;
int	host_sys_poll(struct pollfd *fds, unsigned long nfds, int timeout);
int	host_sys_ppoll(struct pollfd *fds, unsigned long nfds,
	    const struct timespec *tsp, const sigset_t *sigmask);
int	host_sys_epoll_create1(int flags);
int	host_sys_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int	host_sys_epoll_wait(int epfd, struct epoll_event *ev, int n,
	    int timeout);
int	host_sys_fcntl(int fd, int cmd, long arg);

/* Create an eventfd for internal use; -1 and errno on failure. */
int	host_eventfd(void);
/* Close a descriptor without telling the kernel (no hu_fdclose). */
void	host_close(int fd);

#pragma GCC visibility pop

#endif /* !_HOST_IMPL_H_ */
