/*
 * httpd-ring: the bench HTTP/1.1 server on evring's mmap'd event ring,
 * one thread.  Usage: httpd-ring PORT [BUSYPOLL_US] (port 0: any).  With
 * BUSYPOLL_US, the queue's EVRING_PROP_BUSYPOLL: a kevent_wait() that
 * finds the ring empty polls that long, taking the host's readiness
 * itself, before it sleeps.  The request handling is
 * examples/httpd_common.h, shared by every httpd-<mechanism>;
 * bench/evbench's tcp workload drives them.
 *
 * The loop is doc/ring.md's: read the records the kernel has written
 * (evring_ready(), evring_record()), handle them where they lie, then
 * advance the read index past them (evring_advance()); only when the ring
 * is empty, or the kernel flags a backlog, enter the kernel with
 * kevent_wait(kq, ringstate), ringstate being the write index seen when
 * the ring was empty.  Registrations are kevent() calls as usual.
 *
 * Sockets are registered EV_CLEAR: httpd_readable() reads until the
 * socket is empty and the listening socket is accepted from until it
 * is, so an edge is all they need, and a level-triggered record on a ring
 * is posted again, after a re-check (a host poll()), whenever a reap finds
 * it consumed while the condition still holds.  A write wait is EV_ONESHOT,
 * as in httpd-kevent.
 *
 * Ring size: 4096 records (128 KiB), doc/ring.md's example size.  A knote
 * has at most one record in flight per filter, so the ring fills only
 * with more than 2047 connections (a read and a write filter each) plus
 * the listener; past that, events wait in the kernel's backlog
 * (EVRING_F_BACKLOG) and nothing is lost.
 *
 * A record for a connection can still be unread in the ring when the
 * connection is closed (the kernel never rewrites a record), so a closed
 * connection is freed only once the read index has passed the write index
 * seen just after its close(): every record naming it was written before.
 */
#include <sys/event.h>
#include <sys/evring.h>

#include <stdint.h>

#include "httpd_common.h"

#define	RING_ENTRIES	4096

static const char name[] = "httpd-ring";
static struct evring ring;

static void
change(int kq, int fd, short filter, unsigned short flags, void *udata)
{
	struct kevent kev;

	EV_SET(&kev, fd, filter, flags, 0, 0, udata);
	if (kevent(kq, &kev, 1, NULL, 0, NULL) != 0)
		httpd_die(name, "kevent");
}

/* Close c; it is freed by reap() once no unread record can name it. */
static void
conn_close(struct httpd_conn *c)
{
	uint32_t wr;

	if (c->hc_fd < 0)
		return;
	httpd_conn_close(c);	/* close() takes its knotes away */
	/* The write index now: every record naming c lies before it. */
	(void)evring_peek(&ring, &wr);
	c->hc_udata = (void *)(uintptr_t)wr;
}

/* Free the closed connections whose records are all behind index rd. */
static void
reap(uint32_t rd)
{
	struct httpd_conn **pp = &httpd_dead, *c;

	while ((c = *pp) != NULL) {
		if ((int32_t)(rd - (uint32_t)(uintptr_t)c->hc_udata) >= 0) {
			*pp = c->hc_next;
			free(c);
		} else
			pp = &c->hc_next;
	}
}

int
main(int argc, char **argv)
{
	static const struct timespec zero = { 0, 0 };
	const struct kevent *kev;
	struct httpd_conn lc, *c;
	uint32_t first, i, n;
	long busypoll = 0;
	char *end;
	int kq, fd, r;

	if (argc == 3) {
		busypoll = strtol(argv[2], &end, 10);
		if (busypoll < 0 || *end != '\0') {
			fprintf(stderr, "usage: %s port [busypoll_us]\n", name);
			exit(2);
		}
		argc = 2;
	}
	lc.hc_fd = httpd_listen(argc, argv, name);
	if ((kq = kqueue()) < 0)
		httpd_die(name, "kqueue");
	if (busypoll > 0 &&
	    kqueue_setprop(kq, EVRING_PROP_BUSYPOLL, busypoll) != 0)
		httpd_die(name, "kqueue_setprop");
	if (kevent_ring_attach(kq, RING_ENTRIES) != 0)
		httpd_die(name, "kevent_ring_attach");
	if (kevent_ring_map(kq, &ring) != 0)
		httpd_die(name, "kevent_ring_map");
	change(kq, lc.hc_fd, EVFILT_READ, EV_ADD | EV_CLEAR, &lc);
	for (;;) {
		n = evring_ready(&ring, &first);
		/* Events wait in the kernel: any kernel entry moves them. */
		if (evring_backlogged(&ring)) {
			if (kevent_wait(kq, first + n, &zero, NULL) < 0 &&
			    errno != EINTR)
				httpd_die(name, "kevent_wait");
			n = evring_ready(&ring, &first);
		}
		if (n == 0) {
			/* All consumed: every closed connection can go. */
			reap(first);
			if (kevent_wait(kq, first, NULL, NULL) < 0 &&
			    errno != EINTR)
				httpd_die(name, "kevent_wait");
			continue;
		}
		for (i = 0; i < n; i++) {
			kev = evring_record(&ring, first + i);
			c = kev->udata;
			if (c == &lc) {
				/* EV_CLEAR: take the whole backlog. */
				while ((fd = httpd_accept(lc.hc_fd)) >= 0)
					if ((c = httpd_conn_new(fd)) != NULL)
						change(kq, fd, EVFILT_READ,
						    EV_ADD | EV_CLEAR, c);
				continue;
			}
			if (c->hc_fd < 0)
				continue;	/* closed earlier */
			r = kev->filter == EVFILT_WRITE ? httpd_writable(c) :
			    httpd_readable(c);
			if (r == HTTPD_CLOSE)
				conn_close(c);
			else if (r == HTTPD_WANTWRITE)
				change(kq, c->hc_fd, EVFILT_WRITE,
				    EV_ADD | EV_ONESHOT, c);
		}
		/* Handled where they lay: the kernel may reuse them now. */
		evring_advance(&ring, n);
		reap(first + n);
	}
}
