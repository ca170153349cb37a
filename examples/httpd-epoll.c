/*
 * httpd-epoll: the bench HTTP/1.1 server on Linux's own epoll
 * (level-triggered), one thread.  Usage: httpd-epoll PORT (0: any).
 * The request handling is examples/httpd_common.h, shared by every
 * httpd-<mechanism>; bench/evbench's tcp workload drives them.
 */
#include <sys/epoll.h>

#include "httpd_common.h"

static const char name[] = "httpd-epoll";

static void
watch(int ep, int op, struct httpd_conn *c, unsigned events)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = c;
	if (epoll_ctl(ep, op, c->hc_fd, &ee) != 0)
		httpd_die(name, "epoll_ctl");
}

int
main(int argc, char **argv)
{
	struct epoll_event ev[64];
	struct httpd_conn lc, *c;
	int ep, fd, i, n, r;

	lc.hc_fd = httpd_listen(argc, argv, name);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		httpd_die(name, "epoll_create1");
	watch(ep, EPOLL_CTL_ADD, &lc, EPOLLIN);
	for (;;) {
		n = epoll_wait(ep, ev, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			httpd_die(name, "epoll_wait");
		for (i = 0; i < n; i++) {
			c = ev[i].data.ptr;
			if (c == &lc) {
				while ((fd = httpd_accept(lc.hc_fd)) >= 0)
					if ((c = httpd_conn_new(fd)) != NULL)
						watch(ep, EPOLL_CTL_ADD, c,
						    EPOLLIN);
				continue;
			}
			if (c->hc_fd < 0)
				continue;
			r = c->hc_outlen > 0 ? httpd_writable(c) :
			    httpd_readable(c);
			if (r == HTTPD_CLOSE)
				httpd_conn_close(c);	/* epoll forgets it */
			else if (r == HTTPD_WANTWRITE)
				watch(ep, EPOLL_CTL_MOD, c, EPOLLIN | EPOLLOUT);
			else if (ev[i].events & EPOLLOUT)
				watch(ep, EPOLL_CTL_MOD, c, EPOLLIN);
		}
		httpd_reap();
	}
}
