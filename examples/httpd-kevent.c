/*
 * httpd-kevent: the bench HTTP/1.1 server on evring's kqueue()/kevent(),
 * one thread.  Usage: httpd-kevent PORT (0: any).  New registrations go
 * in with the next kevent() call's changelist.  The request handling is
 * examples/httpd_common.h, shared by every httpd-<mechanism>;
 * bench/evbench's tcp workload drives them.
 */
#include <sys/event.h>

#include "httpd_common.h"

static const char name[] = "httpd-kevent";

int
main(int argc, char **argv)
{
	struct kevent ch[64], ev[64], wr;
	struct httpd_conn lc, *c;
	int kq, fd, i, n, nch = 0, r;

	lc.hc_fd = httpd_listen(argc, argv, name);
	if ((kq = kqueue()) < 0)
		httpd_die(name, "kqueue");
	EV_SET(&ch[nch++], lc.hc_fd, EVFILT_READ, EV_ADD, 0, 0, &lc);
	for (;;) {
		n = kevent(kq, ch, nch, ev, 64, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			httpd_die(name, "kevent");
		nch = 0;
		for (i = 0; i < n; i++) {
			c = ev[i].udata;
			if (ev[i].flags & EV_ERROR) {
				errno = (int)ev[i].data;
				httpd_die(name, "kevent change");
			}
			if (c == &lc) {
				/* Room for every new connection's change. */
				while (nch < (int)(sizeof(ch) / sizeof(ch[0])) &&
				    (fd = httpd_accept(lc.hc_fd)) >= 0)
					if ((c = httpd_conn_new(fd)) != NULL)
						EV_SET(&ch[nch++], fd,
						    EVFILT_READ, EV_ADD, 0, 0,
						    c);
				continue;
			}
			if (c->hc_fd < 0)
				continue;
			r = ev[i].filter == EVFILT_WRITE ? httpd_writable(c) :
			    httpd_readable(c);
			if (r == HTTPD_CLOSE)
				httpd_conn_close(c);	/* knotes go too */
			else if (r == HTTPD_WANTWRITE) {
				/* Now, not batched: the fd may close first. */
				EV_SET(&wr, c->hc_fd, EVFILT_WRITE,
				    EV_ADD | EV_ONESHOT, 0, 0, c);
				if (kevent(kq, &wr, 1, NULL, 0, NULL) != 0)
					httpd_die(name, "kevent EVFILT_WRITE");
			}
		}
		httpd_reap();
	}
}
