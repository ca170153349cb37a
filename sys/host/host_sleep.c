/*
 * Sleep and wakeup: one eventfd per thread, slept on with ppoll().
 *
 * ppoll() rather than a futex because ppoll() applies a signal mask
 * atomically with the sleep and is never restarted after a signal handler
 * (SA_RESTART does not apply to it), which is what kevent() and
 * kevent_wait() need to return EINTR.  The sleeping thread also watches
 * the host epoll descriptor, and drains it itself when it becomes readable
 * instead of waiting for the dispatcher thread to do so.
 */
#include <sys/eventfd.h>
#include <sys/syscall.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "host_impl.h"
#include "sys/fail.h"

struct hc_sleeper {
	int			s_efd;
	struct hc_sleeper	*s_next;	/* all sleepers, for fork */
	struct hc_sleeper	**s_prevp;
};

static __thread struct hc_sleeper *host_mysleeper;
static pthread_key_t host_sleeper_key;
static pthread_once_t host_sleeper_once = PTHREAD_ONCE_INIT;
static struct host_lock host_sleeper_lock =
    HOST_LOCK_INITIALIZER("host sleeper lock");
static struct hc_sleeper *host_sleepers;

int
host_eventfd(void)
{

	return (eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
}

void
host_close(int fd)
{

	if (fd >= 0) {
		host_fd_disown(fd);
		(void)syscall(SYS_close, fd);
	}
}

static void
host_sleeper_unlink(struct hc_sleeper *s)
{

	if (s->s_prevp == NULL)
		return;
	*s->s_prevp = s->s_next;
	if (s->s_next != NULL)
		s->s_next->s_prevp = s->s_prevp;
	s->s_next = NULL;
	s->s_prevp = NULL;
}

/* Thread exit: the sleeper dies with its thread. */
static void
host_sleeper_dtor(void *arg)
{
	struct hc_sleeper *s = arg;

	host_lock_acquire(&host_sleeper_lock);
	host_sleeper_unlink(s);
	host_lock_release(&host_sleeper_lock);
	host_close(s->s_efd);
	free(s);
}

static void
host_sleeper_keyinit(void)
{

	if (pthread_key_create(&host_sleeper_key, host_sleeper_dtor) != 0)
		hc_panic("hc_sleeper_get: pthread_key_create failed");
}

int
hc_sleeper_get(struct hc_sleeper **sp)
{
	struct hc_sleeper *s;
	int error, fd;

	s = host_mysleeper;
	if (s != NULL && s->s_efd >= 0) {
		*sp = s;
		return (0);
	}
	if (s != NULL) {
		/* A fork child that could not give it a new eventfd. */
		fd = FAIL_POINT_CALL("host:fork:sleeper_retry", EMFILE, -1,
		    host_eventfd());
		if (fd < 0)
			return (errno);
		s->s_efd = host_fd_own(fd);
		*sp = s;
		return (0);
	}
	pthread_once(&host_sleeper_once, host_sleeper_keyinit);
	s = FAIL_POINT_CALL("host:sleeper", ENOMEM, NULL, calloc(1, sizeof(*s)));
	if (s == NULL)
		return (ENOMEM);
	s->s_efd = FAIL_POINT_CALL("host:eventfd:sleeper", EMFILE, -1,
	    host_eventfd());
	if (s->s_efd < 0) {
		error = errno;
		free(s);
		return (error);
	}
	s->s_efd = host_fd_own(s->s_efd);
	error = pthread_setspecific(host_sleeper_key, s);
	if (error != 0) {
		host_close(s->s_efd);
		free(s);
		return (error);
	}
	host_lock_acquire(&host_sleeper_lock);
	s->s_next = host_sleepers;
	if (s->s_next != NULL)
		s->s_next->s_prevp = &s->s_next;
	s->s_prevp = &host_sleepers;
	host_sleepers = s;
	host_lock_release(&host_sleeper_lock);
	host_mysleeper = s;
	*sp = s;
	return (0);
}

/* Consume a pending wakeup; nonzero if there was one. */
static int
host_sleeper_consume(struct hc_sleeper *s)
{
	uint64_t v;

	return (read(s->s_efd, &v, sizeof(v)) == (ssize_t)sizeof(v));
}

static void
host_sleep_drain(void)
{

	if (!host_watching() || host_lock_owned(&host_poll_lock))
		return;
	host_lock_acquire(&host_poll_lock);
	host_drain_locked();
	host_lock_release(&host_poll_lock);
}

int
hc_sleep(struct hc_sleeper *s, long long deadline, const void *sigmask)
{
	struct pollfd pfd[2];
	struct timespec ts, *tsp;
	long long rel;
	sig_atomic_t absorbed, forwarded, spinning;
	int epfd, n, r;

	for (;;) {
		pfd[0].fd = s->s_efd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		n = 1;
		epfd = host_wait_fd();
		if (epfd >= 0 && host_watching()) {
			pfd[1].fd = epfd;
			pfd[1].events = POLLIN;
			pfd[1].revents = 0;
			n = 2;
		}
		tsp = NULL;
		if (deadline >= 0) {
			rel = deadline - hc_clock_monotonic();
			if (rel < 0)
				rel = 0;
			ts.tv_sec = rel / 1000000000LL;
			ts.tv_nsec = rel % 1000000000LL;
			tsp = &ts;
		}
		absorbed = host_sig_absorbed;
		forwarded = host_sig_forwarded;
		spinning = host_sig_spinning;
		if (spinning) {
			/*
			 * After a counted spin (hc_spin_begin()): any handler
			 * call since the spin began ends the wait.  One that
			 * comes after this look writes our eventfd (pairs
			 * with the handler's read of host_sig_wakefd), so
			 * ppoll() returns at once and the look below sees it.
			 */
			forwarded = host_sig_spinmark;
			host_sig_wakefd = s->s_efd;
			atomic_signal_fence(memory_order_seq_cst);
			if (host_sig_forwarded != forwarded) {
				host_sig_wakefd = -1;
				return (EINTR);
			}
		}
		r = host_sys_ppoll(pfd, (unsigned long)n, tsp,
		    (const sigset_t *)sigmask);
		if (r > 0 && sigmask != NULL && tsp != NULL && ts.tv_sec == 0 &&
		    ts.tv_nsec == 0 && !spinning) {
			/*
			 * A zero sleep under a mask is how a zero timeout
			 * lets in the signals the mask unblocks, as Linux's
			 * ppoll() does when nothing is ready.  Our own
			 * descriptors being ready returned first, with the
			 * signal still pending: take their news, then let
			 * the signal in with no descriptor to return for.
			 */
			if (pfd[0].revents == 0)
				host_sleep_drain();
			(void)host_sleeper_consume(s);
			r = host_sys_ppoll(NULL, 0, tsp,
			    (const sigset_t *)sigmask);
			if (r == 0)
				return (0);
		}
		if (spinning) {
			host_sig_wakefd = -1;
			atomic_signal_fence(memory_order_seq_cst);
			if (host_sig_forwarded != forwarded) {
				(void)host_sleeper_consume(s);
				return (EINTR);
			}
		}
		if (r < 0) {
			if (errno != EINTR)
				return (0);	/* spurious; the caller loops */
			/*
			 * Only our handler ran, for a watched signal that
			 * the program ignores: the program would not have
			 * seen a handler run, so this is not an EINTR.
			 * Deliver the count and let the kernel look again.
			 */
			if (host_sig_absorbed != absorbed &&
			    host_sig_forwarded == forwarded) {
				host_sleep_drain();
				(void)host_sleeper_consume(s);
				return (0);
			}
			return (EINTR);
		}
		if (r == 0) {
			/* ppoll() may round; never report a deadline early. */
			if (deadline >= 0 && hc_clock_monotonic() < deadline)
				continue;
			return (ETIMEDOUT);
		}
		if (pfd[0].revents != 0) {
			(void)host_sleeper_consume(s);
			return (0);
		}
		/* The epoll descriptor is readable: be the dispatcher. */
		host_sleep_drain();
		(void)host_sleeper_consume(s);
		return (0);
	}
}

void
hc_wakeup(struct hc_sleeper *s)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is already nonzero: still woken. */
	(void)write(s->s_efd, &one, sizeof(one));
}

void
hc_sleep_reset(struct hc_sleeper *s)
{

	(void)host_sleeper_consume(s);
}

void
host_sleep_forkprepare(void)
{

	host_lock_acquire(&host_sleeper_lock);
}

void
host_sleep_forkparent(void)
{

	host_lock_release(&host_sleeper_lock);
}

void
host_sleep_forkchild(void)
{
	struct hc_sleeper *s, *next;

	host_lock_forkchild(&host_sleeper_lock);
	/*
	 * Every sleeper's eventfd is shared with the parent, whose
	 * wakeups would end our sleeps.  The other threads are gone; their
	 * sleepers stay allocated (the kernel may still hold pointers to
	 * them until it has dropped its queues) but can no longer be woken.
	 */
	for (s = host_sleepers; s != NULL; s = next) {
		next = s->s_next;
		host_close(s->s_efd);
		s->s_efd = -1;
		if (s != host_mysleeper)
			host_sleeper_unlink(s);
	}
	/*
	 * Without a descriptor now, the sleeper stays without one:
	 * hc_sleeper_get() tries again at the thread's next sleep, which
	 * fails with the errno (kevent(2)'s EMFILE) until one is had.
	 */
	s = host_mysleeper;
	if (s != NULL) {
		s->s_efd = FAIL_POINT_CALL("host:fork:sleeper", EMFILE, -1,
		    host_eventfd());
		if (s->s_efd >= 0)
			s->s_efd = host_fd_own(s->s_efd);
	}
}
