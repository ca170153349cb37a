/*
 * Signals: watches (EVFILT_SIGNAL), the copy-fault handler, and the
 * interposed sigaction()/signal() that keep both working when the program
 * changes a disposition after we installed ours.
 *
 * A "managed" signal is one whose host disposition is ours: it is watched
 * (hc_sig_watch), it is SIGSEGV/SIGBUS once copies have begun, or the
 * program catches it and some thread has busy polled (host_sig_counting:
 * the spin counts handler calls instead of blocking signals).  For a
 * managed signal the table below holds the program's own disposition, which
 * our handler passes each delivery on to, and which the interposed
 * sigaction() reads and writes instead of the host's.  When the last
 * reason to manage a signal goes, the program's disposition is put back.
 *
 * Our handler only does async-signal-safe things: atomic increments, a
 * write() to an eventfd, a call to the program's handler, sigaction by
 * system call, raise().  The eventfd is in the host epoll instance, so the
 * dispatcher, hc_host_poll() and sleeping threads deliver hu_signal().
 */
#include <sys/syscall.h>

#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "host_impl.h"
#include "sys/fail.h"

#define	HOST_EXPORT	__attribute__((__visibility__("default")))

struct host_sig {
	/* Under host_sig_lock. */
	int			hs_nwatch;	/* hc_sig_watch() references */
	int			hs_fault;	/* SIGSEGV/SIGBUS copy recovery */
	int			hs_installed;	/* our handler is the host's */
	struct sigaction	hs_prog;	/* program's; see hs_phandler */
	/* Read by the handler. */
	_Atomic int		hs_managed;
	_Atomic int		hs_watched;
	_Atomic uintptr_t	hs_phandler;	/* program's handler */
	_Atomic int		hs_pflags;	/* program's sa_flags */
	_Atomic unsigned	hs_count;	/* deliveries not yet reported */
};

static struct host_sig host_sigtab[NSIG];
static struct host_lock host_sig_lock =
    HOST_LOCK_INITIALIZER("host sig lock");
static _Atomic int host_sig_efd = -1;

__thread volatile sig_atomic_t host_sig_absorbed
    __attribute__((tls_model("initial-exec")));
__thread volatile sig_atomic_t host_sig_forwarded
    __attribute__((tls_model("initial-exec")));
__thread volatile sig_atomic_t host_sig_spinmark
    __attribute__((tls_model("initial-exec")));
__thread volatile sig_atomic_t host_sig_spinning
    __attribute__((tls_model("initial-exec")));
__thread volatile int host_sig_wakefd
    __attribute__((tls_model("initial-exec"))) = -1;

/*
 * Counting (host_sig_count_start()): once host_sig_adopting is set, every
 * signal given a handler is managed; once host_sig_counting is, every
 * signal that had one before is too.  Neither is ever cleared.
 */
static _Atomic int host_sig_adopting;
static _Atomic int host_sig_counting;

typedef int (*host_sigaction_fn)(int, const struct sigaction *,
    struct sigaction *);
static _Atomic(host_sigaction_fn) host_real_sa;
extern int __sigaction(int, const struct sigaction *, struct sigaction *);

/*
 * The sigaction() we interpose on: the next definition after ours (a
 * sanitizer's interceptor or the C library's), else glibc's alias.
 */
int
host_real_sigaction(int signo, const struct sigaction *act,
    struct sigaction *oact)
{
	host_sigaction_fn fn;

	fn = atomic_load_explicit(&host_real_sa, memory_order_acquire);
	if (fn == NULL) {
		fn = (host_sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
		if (fn == NULL || fn == sigaction)
			fn = __sigaction;
		atomic_store_explicit(&host_real_sa, fn, memory_order_release);
	}
	return (fn(signo, act, oact));
}

static int
host_sig_isfn(uintptr_t h)
{

	return (h != (uintptr_t)SIG_DFL && h != (uintptr_t)SIG_IGN);
}

/* Put SIG_DFL back by system call: usable in a handler, no restorer. */
static void
host_sig_setdfl_raw(int signo)
{
	struct {
		void		*k_handler;
		unsigned long	k_flags;
		void		*k_restorer;
		uint64_t	k_mask;
	} k;

	memset(&k, 0, sizeof(k));
	k.k_handler = (void *)SIG_DFL;
	(void)syscall(SYS_rt_sigaction, signo, &k, NULL, sizeof(k.k_mask));
}

/*
 * Stop as the default action of a job-control signal would, with that
 * signal, so that the parent's waitpid() sees WSTOPSIG() == signo: put
 * SIG_DFL in place, let the (blocked, since we run in its handler) signal
 * through, and once continued put our handler back exactly as it was.
 * All by system call: this runs in a signal handler.
 */
static void
host_sig_stop(int signo)
{
	struct {
		void		*k_handler;
		unsigned long	k_flags;
		void		*k_restorer;
		uint64_t	k_mask;
	} ours;
	uint64_t set, old;

	if (syscall(SYS_rt_sigaction, signo, NULL, &ours,
	    sizeof(ours.k_mask)) != 0) {
		raise(SIGSTOP);
		return;
	}
	host_sig_setdfl_raw(signo);
	(void)syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid),
	    signo);
	set = 1ULL << (signo - 1);
	/* The stop happens here; SIGCONT lets this call return. */
	(void)syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, &old,
	    sizeof(set));
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL,
	    sizeof(old));
	(void)syscall(SYS_rt_sigaction, signo, &ours, NULL,
	    sizeof(ours.k_mask));
}

/* What the default action of signo would have done. */
static void
host_sig_default(int signo)
{

	switch (signo) {
	case SIGCHLD:
	case SIGURG:
	case SIGWINCH:
	case SIGCONT:
		host_sig_absorbed++;
		return;
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		host_sig_stop(signo);
		host_sig_absorbed++;
		return;
	default:
		/*
		 * Terminate (or dump core) with the signal itself, so that
		 * the parent sees the status it would have seen.  The
		 * signal is blocked while we run unless SA_NODEFER, so it
		 * is delivered when we return, or at once.
		 */
		host_sig_setdfl_raw(signo);
		raise(signo);
		return;
	}
}

static void
host_sighandler(int signo, siginfo_t *si, void *uc)
{
	struct host_sig *hs;
	sigjmp_buf *jb;
	uintptr_t ph;
	uint64_t one = 1;
	int efd, pf, saved;

	if ((signo == SIGSEGV || signo == SIGBUS) && si != NULL &&
	    si->si_code > 0 && (jb = host_onfault) != NULL) {
		host_onfault = NULL;
		siglongjmp(*jb, 1);
	}
	saved = errno;
	hs = &host_sigtab[signo];
	ph = atomic_load(&hs->hs_phandler);
	pf = atomic_load(&hs->hs_pflags);
	/* FreeBSD does not count an ignored SIGCHLD. */
	if (atomic_load(&hs->hs_watched) &&
	    !(signo == SIGCHLD && ph == (uintptr_t)SIG_IGN)) {
		atomic_fetch_add(&hs->hs_count, 1);
		efd = atomic_load(&host_sig_efd);
		if (efd >= 0 && write(efd, &one, sizeof(one)) < 0) {
			/* Full counter: already readable. */
		}
	}
	if (ph == (uintptr_t)SIG_IGN) {
		host_sig_absorbed++;
	} else if (ph == (uintptr_t)SIG_DFL) {
		host_sig_default(signo);
	} else {
		if ((pf & SA_RESETHAND) &&
		    atomic_compare_exchange_strong(&hs->hs_phandler, &ph,
		    (uintptr_t)SIG_DFL))
			atomic_store(&hs->hs_pflags, 0);
		host_sig_forwarded++;
		if (pf & SA_SIGINFO)
			((void (*)(int, siginfo_t *, void *))ph)(signo, si, uc);
		else
			((void (*)(int))ph)(signo);
		/* A counted spin's sleep is about to begin: end it. */
		if ((efd = host_sig_wakefd) >= 0 &&
		    write(efd, &one, sizeof(one)) < 0) {
			/* Full counter: already readable. */
		}
	}
	errno = saved;
}

/* The program's disposition as it stands now.  Sig lock held. */
static void
host_sig_getprog(int signo, struct sigaction *sa)
{
	struct host_sig *hs = &host_sigtab[signo];

	*sa = hs->hs_prog;
	sa->sa_handler = (void (*)(int))atomic_load(&hs->hs_phandler);
	sa->sa_flags = atomic_load(&hs->hs_pflags);
}

static void
host_sig_setprog(int signo, const struct sigaction *sa)
{
	struct host_sig *hs = &host_sigtab[signo];

	hs->hs_prog = *sa;
	atomic_store(&hs->hs_pflags, sa->sa_flags);
	atomic_store(&hs->hs_phandler, (uintptr_t)sa->sa_handler);
}

/*
 * Whether signo must stay managed: watched, recovering copy faults, or
 * caught by the program while handler calls are counted.  Sig lock held.
 */
static int
host_sig_needed(int signo)
{
	struct host_sig *hs = &host_sigtab[signo];

	return (hs->hs_nwatch > 0 || hs->hs_fault ||
	    (atomic_load(&host_sig_adopting) &&
	    host_sig_isfn(atomic_load(&hs->hs_phandler))));
}

/*
 * Make the host disposition of a managed signal ours, shaped after the
 * program's (its mask and restart behaviour).  Sig lock held.
 */
static int
host_sig_install(int signo)
{
	struct host_sig *hs = &host_sigtab[signo];
	struct sigaction sa, prog;
	uintptr_t ph;

	host_sig_getprog(signo, &prog);
	ph = (uintptr_t)prog.sa_handler;
	/*
	 * An ignored SIGCHLD is not counted, and ignoring it also means
	 * "reap my children": leave the program's SIG_IGN in place.
	 */
	if (!hs->hs_fault && signo == SIGCHLD && ph == (uintptr_t)SIG_IGN) {
		if (hs->hs_installed) {
			if (host_real_sigaction(signo, &prog, NULL) < 0)
				return (errno);
			hs->hs_installed = 0;
		}
		return (0);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = host_sighandler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK |
	    (prog.sa_flags & (SA_NOCLDSTOP | SA_NOCLDWAIT));
	sigemptyset(&sa.sa_mask);
	if (host_sig_isfn(ph)) {
		sa.sa_flags |= prog.sa_flags & (SA_RESTART | SA_NODEFER);
		/*
		 * A copy fault jumps out of the handler without restoring
		 * the mask, so the fault signals keep an empty sa_mask.
		 */
		if (!hs->hs_fault)
			sa.sa_mask = prog.sa_mask;
	} else
		sa.sa_flags |= SA_RESTART;
	if (hs->hs_fault)
		sa.sa_flags |= SA_NODEFER;
	if (host_real_sigaction(signo, &sa, NULL) < 0)
		return (errno);
	hs->hs_installed = 1;
	return (0);
}

/* Stop managing signo: give the program its disposition back. */
static void
host_sig_release(int signo)
{
	struct host_sig *hs = &host_sigtab[signo];
	struct sigaction prog;

	host_sig_getprog(signo, &prog);
	if (hs->hs_installed)
		(void)host_real_sigaction(signo, &prog, NULL);
	hs->hs_installed = 0;
	atomic_store(&hs->hs_managed, 0);
}

/* Start managing signo: remember the program's disposition.  */
static int
host_sig_manage(int signo)
{
	struct host_sig *hs = &host_sigtab[signo];
	struct sigaction cur;

	if (atomic_load(&hs->hs_managed))
		return (0);
	if (host_real_sigaction(signo, NULL, &cur) < 0)
		return (errno);
	host_sig_setprog(signo, &cur);
	atomic_store(&hs->hs_managed, 1);
	return (0);
}

static int
host_sig_efd_get(void)
{
	struct epoll_event ev;
	int efd, epfd, error;

	if (atomic_load(&host_sig_efd) >= 0)
		return (0);
	error = host_epoll_get(&epfd);
	if (error != 0)
		return (error);
	host_lock_acquire(&host_setup_lock);
	if (atomic_load(&host_sig_efd) < 0) {
		efd = FAIL_POINT_CALL("host:eventfd:signal", EMFILE, -1,
		    host_eventfd());
		if (efd < 0) {
			error = errno;
			goto out;
		}
		efd = host_fd_own(efd);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLET;
		ev.data.u64 = HOST_MKTAG(HOST_TAG_SIGNAL, 0);
		if (host_sys_epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &ev) < 0) {
			error = errno;
			host_close(efd);
			goto out;
		}
		atomic_store(&host_sig_efd, efd);
	}
out:
	host_lock_release(&host_setup_lock);
	return (error);
}

int
hc_sig_watch(int signo)
{
	struct host_sig *hs;
	int error;

	if (signo < 1 || signo >= NSIG || signo == SIGKILL ||
	    signo == SIGSTOP || (signo >= 32 && signo < SIGRTMIN))
		return (EINVAL);
	error = host_sig_efd_get();
	if (error != 0)
		return (error);
	hs = &host_sigtab[signo];
	host_lock_acquire(&host_sig_lock);
	if (hs->hs_nwatch > 0) {
		hs->hs_nwatch++;
		host_lock_release(&host_sig_lock);
		return (0);
	}
	error = host_watch_hold();
	if (error != 0)
		goto out;
	error = host_sig_manage(signo);
	if (error != 0) {
		host_watch_rele();
		goto out;
	}
	atomic_store(&hs->hs_count, 0);
	atomic_store(&hs->hs_watched, 1);
	error = host_sig_install(signo);
	if (error != 0) {
		atomic_store(&hs->hs_watched, 0);
		if (!host_sig_needed(signo))
			host_sig_release(signo);
		host_watch_rele();
		goto out;
	}
	hs->hs_nwatch = 1;
out:
	host_lock_release(&host_sig_lock);
	return (error);
}

void
hc_sig_unwatch(int signo)
{
	struct host_sig *hs;

	if (signo < 1 || signo >= NSIG)
		return;
	hs = &host_sigtab[signo];
	host_lock_acquire(&host_sig_lock);
	if (hs->hs_nwatch > 0 && --hs->hs_nwatch == 0) {
		atomic_store(&hs->hs_watched, 0);
		atomic_store(&hs->hs_count, 0);
		if (!host_sig_needed(signo))
			host_sig_release(signo);
		host_watch_rele();
	}
	host_lock_release(&host_sig_lock);
}

void
host_sig_dispatch(void)
{
	const struct hc_upcalls *up;
	struct host_sig *hs;
	uint64_t v;
	unsigned c;
	int efd, signo;

	/* Reset the eventfd first: a later signal makes it readable again. */
	efd = atomic_load(&host_sig_efd);
	if (efd >= 0)
		(void)read(efd, &v, sizeof(v));
	up = atomic_load(&host_upcalls);
	for (signo = 1; signo < NSIG; signo++) {
		hs = &host_sigtab[signo];
		if (!atomic_load_explicit(&hs->hs_watched,
		    memory_order_relaxed))
			continue;
		c = atomic_exchange(&hs->hs_count, 0);
		if (c != 0 && up != NULL && up->hu_signal != NULL)
			up->hu_signal(signo, c);
	}
}

int
host_fault_install(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS };
	struct host_sig *hs;
	unsigned i;
	int error = 0;

	host_lock_acquire(&host_sig_lock);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		hs = &host_sigtab[sigs[i]];
		if (hs->hs_fault)
			continue;
		error = host_sig_manage(sigs[i]);
		if (error != 0)
			break;
		hs->hs_fault = 1;
		error = host_sig_install(sigs[i]);
		if (error != 0) {
			hs->hs_fault = 0;
			if (!host_sig_needed(sigs[i]))
				host_sig_release(sigs[i]);
			break;
		}
	}
	host_lock_release(&host_sig_lock);
	return (error);
}

/*
 * Manage signo if it needs it now: the program just gave it a handler, or
 * had one when counting began.  Sig lock held.
 */
static int
host_sig_adopt(int signo)
{
	int error;

	if (atomic_load(&host_sigtab[signo].hs_managed))
		return (0);
	if ((error = host_sig_manage(signo)) != 0)
		return (error);
	if (!host_sig_needed(signo)) {
		host_sig_release(signo);
		return (0);
	}
	if ((error = host_sig_install(signo)) != 0)
		host_sig_release(signo);
	return (error);
}

/*
 * Front every signal the program catches, now and from now on, so that
 * host_sig_forwarded counts every handler call on a thread.
 *
 * host_sig_adopting is set first, then the dispositions are read: a
 * sigaction() racing with us either installed its handler before our read
 * of that signal (and we adopt it), or reads host_sig_adopting after its
 * install and adopts it itself (sigaction() below); both loads and stores
 * are sequentially consistent, so one of the two sees the other.
 */
int
host_sig_count_start(void)
{
	struct sigaction cur;
	int error = 0, signo;

	if (atomic_load_explicit(&host_sig_counting, memory_order_acquire))
		return (0);
	host_lock_acquire(&host_sig_lock);
	if (atomic_load(&host_sig_counting))
		goto out;
	atomic_store(&host_sig_adopting, 1);
	for (signo = 1; signo < NSIG; signo++) {
		if (signo == SIGKILL || signo == SIGSTOP ||
		    (signo >= 32 && signo < SIGRTMIN))
			continue;
		if (atomic_load(&host_sigtab[signo].hs_managed))
			continue;
		if (host_real_sigaction(signo, NULL, &cur) < 0 ||
		    !host_sig_isfn((uintptr_t)cur.sa_handler))
			continue;
		if ((error = host_sig_adopt(signo)) != 0)
			goto out;	/* spins block signals instead */
	}
	atomic_store_explicit(&host_sig_counting, 1, memory_order_release);
out:
	host_lock_release(&host_sig_lock);
	return (error);
}

/*
 * The program's sigaction().  For a managed signal it reads and sets the
 * program's disposition in our table (our handler passes deliveries on to
 * it); for any other it is the host's sigaction(), after which a handler
 * given while counting makes the signal managed.
 */
HOST_EXPORT int
sigaction(int signo, const struct sigaction *act, struct sigaction *oact)
{
	struct sigaction old;
	struct host_sig *hs;
	int error;

	if (signo < 1 || signo >= NSIG)
		return (host_real_sigaction(signo, act, oact));
	hs = &host_sigtab[signo];
	if (!atomic_load(&hs->hs_managed)) {
unmanaged:
		if (host_real_sigaction(signo, act, oact) < 0)
			return (-1);
		if (act != NULL && host_sig_isfn((uintptr_t)act->sa_handler) &&
		    atomic_load(&host_sig_adopting)) {
			host_lock_acquire(&host_sig_lock);
			(void)host_sig_adopt(signo);
			host_lock_release(&host_sig_lock);
		}
		return (0);
	}
	host_lock_acquire(&host_sig_lock);
	if (!atomic_load(&hs->hs_managed)) {
		host_lock_release(&host_sig_lock);
		goto unmanaged;
	}
	host_sig_getprog(signo, &old);
	if (act != NULL) {
		host_sig_setprog(signo, act);
		error = 0;
		if (!host_sig_needed(signo))
			host_sig_release(signo);	/* act is the host's */
		else
			error = host_sig_install(signo);
		if (error != 0) {
			host_sig_setprog(signo, &old);
			(void)host_sig_install(signo);
			host_lock_release(&host_sig_lock);
			errno = error;
			return (-1);
		}
	}
	host_lock_release(&host_sig_lock);
	if (oact != NULL)
		*oact = old;
	return (0);
}

static sighandler_t
host_signal(int signo, sighandler_t h, int flags, int selfmask)
{
	struct sigaction sa, osa;

	if (signo < 1 || signo >= NSIG) {
		errno = EINVAL;
		return (SIG_ERR);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sigemptyset(&sa.sa_mask);
	if (selfmask)
		sigaddset(&sa.sa_mask, signo);
	sa.sa_flags = flags;
	if (sigaction(signo, &sa, &osa) < 0)
		return (SIG_ERR);
	return (osa.sa_handler);
}

/* BSD semantics, as glibc's signal(): restart, block while handling. */
HOST_EXPORT sighandler_t
signal(int signo, sighandler_t h)
{

	return (host_signal(signo, h, SA_RESTART, 1));
}

/* The C library's other names for it, which do not call it there. */
HOST_EXPORT sighandler_t
bsd_signal(int signo, sighandler_t h)
{

	return (signal(signo, h));
}

HOST_EXPORT sighandler_t
ssignal(int signo, sighandler_t h)
{

	return (signal(signo, h));
}

/* System V semantics: one shot, not blocked while handling. */
HOST_EXPORT sighandler_t
sysv_signal(int signo, sighandler_t h)
{

	return (host_signal(signo, h, SA_RESETHAND | SA_NODEFER, 0));
}

/* What signal() is in a program built for strict ISO C or XPG. */
HOST_EXPORT sighandler_t
__sysv_signal(int signo, sighandler_t h)
{

	return (sysv_signal(signo, h));
}

void
host_sig_forkprepare(void)
{

	host_lock_acquire(&host_sig_lock);
}

void
host_sig_forkparent(void)
{

	host_lock_release(&host_sig_lock);
}

void
host_sig_forkchild(void)
{
	struct host_sig *hs;
	int signo;

	host_lock_forkchild(&host_sig_lock);
	/*
	 * The child's queues are dropped, so its signal watches go; the
	 * program's own dispositions stay as they were, and copy-fault
	 * recovery stays in place.
	 */
	for (signo = 1; signo < NSIG; signo++) {
		hs = &host_sigtab[signo];
		if (hs->hs_nwatch == 0)
			continue;
		hs->hs_nwatch = 0;
		atomic_store(&hs->hs_watched, 0);
		atomic_store(&hs->hs_count, 0);
		if (!host_sig_needed(signo))
			host_sig_release(signo);
	}
	host_close(atomic_exchange(&host_sig_efd, -1));
}

_Static_assert(sizeof(sigset_t) == HC_SIGSET_SIZE,
    "HC_SIGSET_SIZE is the host's sigset_t");

int
hc_sig_raise(int signo)
{

	if (signo <= 0 || signo >= NSIG)
		return (EINVAL);
	if (kill(getpid(), signo) != 0)
		return (errno);
	return (0);
}
