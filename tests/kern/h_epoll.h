/*
 * h_epoll.h: epoll_ctl() with the event made from its parts, shared by
 * t_epoll, which runs on evring's epoll through <evring/epoll.h>, and
 * p_preload, a plain program that gets whichever epoll_ctl() the process
 * has.  Include it after the header that declares epoll_ctl().
 *
 *   ep_add(ep, fd, events, data), ep_mod(ep, fd, events, data)
 *	EPOLL_CTL_ADD or EPOLL_CTL_MOD of fd with those events and that
 *	data (u64); epoll_ctl()'s result.
 */
#ifndef _H_EPOLL_H_
#define	_H_EPOLL_H_

#include <stdint.h>
#include <string.h>

static inline int
ep_ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = data;
	return (epoll_ctl(ep, op, fd, &ev));
}

#define	ep_add(ep, fd, events, data)					\
	ep_ctl((ep), EPOLL_CTL_ADD, (fd), (events), (data))
#define	ep_mod(ep, fd, events, data)					\
	ep_ctl((ep), EPOLL_CTL_MOD, (fd), (events), (data))

#endif /* !_H_EPOLL_H_ */
