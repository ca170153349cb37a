/*
 * Process watches on pidfds.
 *
 * A pidfd becomes readable when its process exits.  For a child of ours
 * waitid(P_PIDFD, WNOWAIT) reads its wait status without reaping it (the
 * program still reaps it); for any other process only the exit is known.
 * The upcall is made once, from the drain with the poll lock held;
 * hc_proc_unwatch() takes the poll lock, so it never frees a watch whose
 * upcall is running in another thread.
 */
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_impl.h"
#include "sys/fail.h"

struct hc_pwatch {
	struct hc_pwatch	*pw_next;	/* every watch, for fork */
	struct hc_pwatch	**pw_prevp;
	unsigned long long	pw_cookie;
	int			pw_pidfd;	/* -1 after fork */
	int			pw_armed;	/* in epoll, upcall not made */
};

static struct host_lock host_proc_lock =
    HOST_LOCK_INITIALIZER("host proc lock");
static struct hc_pwatch *host_pwatches;

int
hc_proc_watch(int pid, unsigned long long cookie, struct hc_pwatch **wp)
{
	struct epoll_event ev;
	struct hc_pwatch *pw;
	int epfd, error, fd;

	if (pid <= 0)
		return (EINVAL);
	error = host_epoll_get(&epfd);
	if (error != 0)
		return (error);
	fd = FAIL_POINT_CALL("host:pidfd_open", EMFILE, -1,
	    (int)syscall(SYS_pidfd_open, pid, 0));
	if (fd < 0)
		return (errno);
	fd = host_fd_own(fd);
	/* pidfd_open() makes its descriptor close-on-exec itself. */
	pw = FAIL_POINT_CALL("host:proc_watch", ENOMEM, NULL,
	    calloc(1, sizeof(*pw)));
	if (pw == NULL) {
		host_close(fd);
		return (ENOMEM);
	}
	pw->pw_cookie = cookie;
	pw->pw_pidfd = fd;
	error = host_watch_hold();
	if (error != 0) {
		host_close(fd);
		free(pw);
		return (error);
	}
	host_lock_acquire(&host_proc_lock);
	pw->pw_next = host_pwatches;
	if (pw->pw_next != NULL)
		pw->pw_next->pw_prevp = &pw->pw_next;
	pw->pw_prevp = &host_pwatches;
	host_pwatches = pw;
	pw->pw_armed = 1;
	host_lock_release(&host_proc_lock);
	/*
	 * From here the upcall can come at any moment (at once for a
	 * process that has already exited), possibly before we return.
	 */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = HOST_MKTAG(HOST_TAG_PROC, (uintptr_t)pw);
	*wp = pw;
	if (host_sys_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		error = errno;
		hc_proc_unwatch(pw);
		return (error);
	}
	return (0);
}

void
hc_proc_unwatch(struct hc_pwatch *w)
{
	int epfd, locked = 0;

	if (w == NULL)
		return;
	/* From within an upcall the caller already holds the poll lock. */
	if (!host_lock_owned(&host_poll_lock)) {
		host_lock_acquire(&host_poll_lock);
		locked = 1;
	}
	host_lock_acquire(&host_proc_lock);
	if (w->pw_prevp != NULL) {
		*w->pw_prevp = w->pw_next;
		if (w->pw_next != NULL)
			w->pw_next->pw_prevp = w->pw_prevp;
	}
	if (w->pw_armed) {
		epfd = atomic_load(&host_epfd);
		if (epfd >= 0 && w->pw_pidfd >= 0)
			(void)host_sys_epoll_ctl(epfd, EPOLL_CTL_DEL,
			    w->pw_pidfd, NULL);
		w->pw_armed = 0;
		host_watch_rele();
	}
	host_lock_release(&host_proc_lock);
	host_close(w->pw_pidfd);
	/*
	 * Free with the poll lock still held: an event for this pidfd that
	 * a drain already took out of epoll cannot be dispatched meanwhile,
	 * and after we drop the lock none remains (the descriptor is gone).
	 */
	free(w);
	if (locked)
		host_lock_release(&host_poll_lock);
}

/*
 * Whether pidfd's process has exited and, for a child of ours, its wait
 * status as wait(2) encodes it (*hasp 1), read without reaping it: the
 * program still reaps it.  Returns 0 for a child that has not exited; a
 * process that is not our child, or that the program has already reaped,
 * has exited when its pidfd polls readable, with no status to read.
 */
static int
host_pidfd_wstatus(int pidfd, int *statusp, int *hasp)
{
	siginfo_t si;
	int r;

	*statusp = 0;
	*hasp = 0;
	memset(&si, 0, sizeof(si));
	r = waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED | WNOWAIT | WNOHANG);
	if (r == 0 && si.si_pid == 0)
		return (0);
	if (r == 0) {
		*hasp = 1;
		switch (si.si_code) {
		case CLD_EXITED:
			*statusp = (si.si_status & 0xff) << 8;
			break;
		case CLD_KILLED:
			*statusp = si.si_status & 0x7f;
			break;
		case CLD_DUMPED:
			*statusp = (si.si_status & 0x7f) | 0x80;
			break;
		default:
			*hasp = 0;
			break;
		}
	}
	return (1);
}

/*
 * A process descriptor's state, for EVFILT_PROCDESC: EINVAL unless fd is
 * a pidfd (a signal 0 sent through anything else is EBADF).  *exitedp is
 * 1 once the process has exited, with *statusp its wait status when the
 * host can read it (host_pidfd_wstatus()), else 0.
 */
int
hc_pidfd_state(int fd, int *exitedp, int *statusp)
{
	struct pollfd pfd;
	int has;

	*exitedp = 0;
	*statusp = 0;
	if (syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) < 0 &&
	    errno == EBADF)
		return (EINVAL);
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (host_sys_poll(&pfd, 1, 0) < 0)
		return (errno);
	if ((pfd.revents & (POLLIN | POLLHUP)) == 0)
		return (0);
	*exitedp = 1;
	(void)host_pidfd_wstatus(fd, statusp, &has);
	return (0);
}

void
host_proc_dispatch(struct hc_pwatch *pw)
{
	const struct hc_upcalls *up;
	int epfd, haswstatus, status;

	host_lock_acquire(&host_proc_lock);
	if (!pw->pw_armed) {
		host_lock_release(&host_proc_lock);
		return;
	}
	if (!host_pidfd_wstatus(pw->pw_pidfd, &status, &haswstatus)) {
		/* A child of ours that has not exited: not yet. */
		host_lock_release(&host_proc_lock);
		return;
	}
	pw->pw_armed = 0;
	epfd = atomic_load(&host_epfd);
	if (epfd >= 0)
		(void)host_sys_epoll_ctl(epfd, EPOLL_CTL_DEL, pw->pw_pidfd,
		    NULL);
	host_watch_rele();
	host_lock_release(&host_proc_lock);
	up = atomic_load(&host_upcalls);
	if (up != NULL && up->hu_procexit != NULL)
		up->hu_procexit(pw->pw_cookie, status, haswstatus);
}

void
host_proc_forkprepare(void)
{

	host_lock_acquire(&host_proc_lock);
}

void
host_proc_forkparent(void)
{

	host_lock_release(&host_proc_lock);
}

void
host_proc_forkchild(void)
{
	struct hc_pwatch *pw;

	host_lock_forkchild(&host_proc_lock);
	/*
	 * The parent's watches are not ours: their processes are not our
	 * children.  Close our copies of the pidfds (the parent keeps its
	 * own and its epoll registrations); the kernel may still unwatch
	 * the objects, so they stay allocated, disarmed.
	 */
	while ((pw = host_pwatches) != NULL) {
		host_pwatches = pw->pw_next;
		host_close(pw->pw_pidfd);
		pw->pw_pidfd = -1;
		pw->pw_armed = 0;
		pw->pw_next = NULL;
		pw->pw_prevp = NULL;
	}
}
