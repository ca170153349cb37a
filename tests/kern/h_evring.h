/*
 * h_evring.h: small helpers shared by the tests/kern ATF-C programs.
 *
 * Include it after <atf-c.h> and <sys/event.h>.  Every helper that waits
 * takes a timeout in milliseconds (0 = look without sleeping), so no test
 * can block forever.  Helpers written in capitals are macros that fail the
 * test case (atf_tc_fail_requirement) and report the caller's file and line.
 *
 *   kev_wait(kq, evs, nevs, ms)
 *	kevent() with no changes, at most nevs events, and a timeout of ms
 *	milliseconds.  Returns kevent()'s result; asserts nothing.
 *   kev_find(evs, n, ident, filter)
 *	the first of n events with that ident and filter, or NULL.
 *   kev_change(kq, ident, filter, flags, fflags, data, udata)
 *	apply one change (no event list); returns kevent()'s result (0, or
 *	-1 with errno set) and asserts nothing, for tests of errors.
 *   KEV_CHANGE(kq, ident, filter, flags, fflags, data, udata)
 *	apply one change (no event list); fails the test unless kevent()
 *	returns 0.
 *   KEV_ONE(kq, ms, ident, filter)
 *	wait up to ms, require exactly one event, with that ident and filter
 *	and without EV_ERROR; evaluates to that struct kevent.
 *   KEV_NONE(kq, ms)
 *	wait up to ms; require that no event is reported.
 *   KEV_STAT(which)
 *	evring_stat(which), required to succeed (not -1).
 *   kev_elapsed_ms(start)
 *	milliseconds of CLOCK_MONOTONIC since *start.
 *   kev_now_ns()
 *	CLOCK_MONOTONIC in nanoseconds.
 *   kev_kqueue()
 *	a new kqueue; fails the test if kqueue() does.
 *   kev_tcp_listener(sin)
 *	a TCP socket listening on a free loopback port, its address in *sin.
 *   kev_tcp_pair(cp, sp)
 *	a connected TCP pair over the loopback: *cp client, *sp server side.
 */
#ifndef _H_EVRING_H_
#define	_H_EVRING_H_

#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <atf-c.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline int
kev_wait(int kq, struct kevent *evs, int nevs, long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	return (kevent(kq, NULL, 0, evs, nevs, &ts));
}

static inline int
kev_change(int kq, uintptr_t ident, short filter, unsigned short flags,
    unsigned int fflags, intptr_t data, void *udata)
{
	struct kevent kev;

	EV_SET(&kev, ident, filter, flags, fflags, data, udata);
	return (kevent(kq, &kev, 1, NULL, 0, NULL));
}

static inline const struct kevent *
kev_find(const struct kevent *evs, int n, uintptr_t ident, short filter)
{
	int i;

	for (i = 0; i < n; i++)
		if (evs[i].ident == ident && evs[i].filter == filter)
			return (&evs[i]);
	return (NULL);
}

static inline long long
kev_now_ns(void)
{
	struct timespec ts;

	ATF_REQUIRE(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
	return ((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

static inline int
kev_kqueue(void)
{
	int kq = kqueue();

	ATF_REQUIRE_MSG(kq >= 0, "kqueue: %s", strerror(errno));
	return (kq);
}

static inline double
kev_elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - start->tv_sec) * 1e3 +
	    (now.tv_nsec - start->tv_nsec) / 1e6);
}

static inline void
kev_change_at(const char *file, size_t line, int kq, uintptr_t ident,
    short filter, unsigned short flags, unsigned int fflags, intptr_t data,
    void *udata)
{
	struct kevent kev;

	EV_SET(&kev, ident, filter, flags, fflags, data, udata);
	if (kevent(kq, &kev, 1, NULL, 0, NULL) != 0)
		atf_tc_fail_requirement(file, line,
		    "kevent(change ident=%lu filter=%d flags=%#x) failed: %s",
		    (unsigned long)ident, filter, flags, strerror(errno));
}

static inline struct kevent
kev_one_at(const char *file, size_t line, int kq, long ms, uintptr_t ident,
    short filter)
{
	struct kevent evs[4];
	int n;

	memset(evs, 0, sizeof(evs));
	n = kev_wait(kq, evs, 4, ms);
	if (n != 1)
		atf_tc_fail_requirement(file, line,
		    "expected 1 event (ident=%lu filter=%d) within %ld ms, "
		    "kevent returned %d (%s); first: ident=%lu filter=%d "
		    "flags=%#x fflags=%#x data=%ld",
		    (unsigned long)ident, filter, ms, n,
		    n < 0 ? strerror(errno) : "ok",
		    (unsigned long)evs[0].ident, evs[0].filter, evs[0].flags,
		    evs[0].fflags, (long)evs[0].data);
	if (evs[0].ident != ident || evs[0].filter != filter ||
	    (evs[0].flags & EV_ERROR) != 0)
		atf_tc_fail_requirement(file, line,
		    "expected ident=%lu filter=%d, got ident=%lu filter=%d "
		    "flags=%#x data=%ld", (unsigned long)ident, filter,
		    (unsigned long)evs[0].ident, evs[0].filter, evs[0].flags,
		    (long)evs[0].data);
	return (evs[0]);
}

static inline void
kev_none_at(const char *file, size_t line, int kq, long ms)
{
	struct kevent ev;
	int n;

	memset(&ev, 0, sizeof(ev));
	n = kev_wait(kq, &ev, 1, ms);
	if (n != 0)
		atf_tc_fail_requirement(file, line,
		    "expected no event within %ld ms, kevent returned %d (%s): "
		    "ident=%lu filter=%d flags=%#x fflags=%#x data=%ld", ms, n,
		    n < 0 ? strerror(errno) : "ok", (unsigned long)ev.ident,
		    ev.filter, ev.flags, ev.fflags, (long)ev.data);
}

static inline long long
kev_stat_at(const char *file, size_t line, int which)
{
	long long v;

	v = evring_stat(which);
	if (v == -1)
		atf_tc_fail_requirement(file, line, "evring_stat(%d): %s",
		    which, strerror(errno));
	return (v);
}

#define	KEV_CHANGE(kq, ident, filter, flags, fflags, data, udata)	\
	kev_change_at(__FILE__, __LINE__, (kq), (ident), (filter),	\
	    (flags), (fflags), (data), (udata))
#define	KEV_ONE(kq, ms, ident, filter)					\
	kev_one_at(__FILE__, __LINE__, (kq), (ms), (ident), (filter))
#define	KEV_NONE(kq, ms)						\
	kev_none_at(__FILE__, __LINE__, (kq), (ms))
#define	KEV_STAT(which)							\
	kev_stat_at(__FILE__, __LINE__, (which))

static inline int
kev_tcp_listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int l;

	ATF_REQUIRE((l = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ATF_REQUIRE_EQ(0, bind(l, (struct sockaddr *)sin, sizeof(*sin)));
	ATF_REQUIRE_EQ(0, listen(l, 1));
	ATF_REQUIRE_EQ(0, getsockname(l, (struct sockaddr *)sin, &len));
	return (l);
}

static inline void
kev_tcp_pair(int *cp, int *sp)
{
	struct sockaddr_in sin;
	int l;

	l = kev_tcp_listener(&sin);
	ATF_REQUIRE((*cp = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	ATF_REQUIRE_EQ(0, connect(*cp, (struct sockaddr *)&sin, sizeof(sin)));
	ATF_REQUIRE((*sp = accept(l, NULL, NULL)) >= 0);
	ATF_REQUIRE_EQ(0, close(l));
}

#endif /* !_H_EVRING_H_ */
