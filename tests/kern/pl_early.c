/*
 * pl_early: a shared library whose constructor already calls epoll and
 * poll, for t_preload:early_constructor.  Named after the preload in
 * LD_PRELOAD, it is initialized before the preload is, as a program's own
 * libraries may be: the preload's entry points must start evring's kernel
 * themselves rather than count on their constructor having run.  p_preload
 * reads what happened through dlsym().
 */
#include <sys/epoll.h>

#include <poll.h>
#include <unistd.h>

int	pl_early_epfd = -2;
int	pl_early_poll = -2;

__attribute__((constructor))
static void
pl_early(void)
{
	struct pollfd pfd;
	int p[2];

	pl_early_epfd = epoll_create1(0);
	if (pipe(p) != 0)
		return;
	pfd.fd = p[1];
	pfd.events = POLLOUT;
	pfd.revents = 0;
	pl_early_poll = poll(&pfd, 1, 0);
	(void)close(p[0]);
	(void)close(p[1]);
}
