/*
 * httpd-libevent: the bench HTTP/1.1 server on a libevent event_base
 * (its epoll backend), one thread.  Usage: httpd-libevent PORT (0: any).
 * One EV_READ|EV_PERSIST event per socket; output that did not fit gets
 * a one-shot EV_WRITE event.  libevent's bufferevents are not used: the
 * request handling is examples/httpd_common.h, the same recv()/send()
 * as every httpd-<mechanism>, so the servers differ only in how they
 * wait.  bench/evbench's tcp workload drives them.
 */
#include <event2/event.h>

#include "httpd_common.h"

static const char name[] = "httpd-libevent";

struct lconn {
	struct httpd_conn	*l_c;
	struct event		*l_rd, *l_wr;
};

static struct event_base *base;

static void
conn_done(struct lconn *l, int r)
{

	if (r == HTTPD_CLOSE) {
		event_free(l->l_rd);
		if (l->l_wr != NULL)
			event_free(l->l_wr);
		httpd_conn_close(l->l_c);
		httpd_reap();
		free(l);
	} else if (r == HTTPD_WANTWRITE && !event_pending(l->l_wr, EV_WRITE,
	    NULL))
		event_add(l->l_wr, NULL);
}

static void
on_write(evutil_socket_t fd, short what, void *arg)
{
	struct lconn *l = arg;

	(void)fd;
	(void)what;
	conn_done(l, httpd_writable(l->l_c));
}

static void
on_read(evutil_socket_t fd, short what, void *arg)
{
	struct lconn *l = arg;

	(void)fd;
	(void)what;
	conn_done(l, httpd_readable(l->l_c));
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct lconn *l;
	int fd;

	(void)what;
	(void)arg;
	while ((fd = httpd_accept((int)lfd)) >= 0) {
		if ((l = calloc(1, sizeof(*l))) == NULL ||
		    (l->l_c = httpd_conn_new(fd)) == NULL) {
			free(l);
			continue;
		}
		l->l_rd = event_new(base, fd, EV_READ | EV_PERSIST, on_read, l);
		l->l_wr = event_new(base, fd, EV_WRITE, on_write, l);
		if (l->l_rd == NULL || l->l_wr == NULL ||
		    event_add(l->l_rd, NULL) != 0)
			httpd_die(name, "event_new");
	}
}

int
main(int argc, char **argv)
{
	struct event *ev;
	int lfd;

	lfd = httpd_listen(argc, argv, name);
	if ((base = event_base_new()) == NULL)
		httpd_die(name, "event_base_new");
	if ((ev = event_new(base, lfd, EV_READ | EV_PERSIST, on_accept,
	    NULL)) == NULL || event_add(ev, NULL) != 0)
		httpd_die(name, "event_new");
	event_base_dispatch(base);
	return (0);
}
