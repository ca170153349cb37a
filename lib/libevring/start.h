/*
 * Starting the kernel: the library's constructor does it, and an entry
 * point that finds it not started (the constructor's start failed, or
 * another library's constructor called in first) tries again.  A start
 * that fails for a shortage (memory, descriptors) makes the calls fail
 * with its errno instead of ending the process; the next call retries.
 *
 * Included after sys/sysproto.h: each kernel entry the library calls
 * becomes "start, then call", so no stub can reach a kernel that has not
 * started.  (A function-like macro does not expand inside itself.)
 */
#ifndef _LIBEVRING_START_H_
#define	_LIBEVRING_START_H_

#include <stdatomic.h>

#pragma GCC visibility push(hidden)
extern _Atomic int evring_started;
int	evring_start_slow(void);
#pragma GCC visibility pop

/* 0 once the kernel runs, else the errno its start failed with. */
static inline int
evring_start(void)
{

	if (__builtin_expect(atomic_load_explicit(&evring_started,
	    memory_order_acquire), 1))
		return (0);
	return (evring_start_slow());
}

#define	EVRING_KERN(call) __extension__ ({				\
	int _evring_error = evring_start();				\
	_evring_error != 0 ? _evring_error : (call);			\
})

#define	kern_devpoll_check(...) \
	EVRING_KERN(kern_devpoll_check(__VA_ARGS__))
#define	kern_devpoll_ioctl(...) \
	EVRING_KERN(kern_devpoll_ioctl(__VA_ARGS__))
#define	kern_devpoll_open(...) \
	EVRING_KERN(kern_devpoll_open(__VA_ARGS__))
#define	kern_devpoll_write(...) \
	EVRING_KERN(kern_devpoll_write(__VA_ARGS__))
#define	kern_epoll_create(...) \
	EVRING_KERN(kern_epoll_create(__VA_ARGS__))
#define	kern_epoll_ctl(...) \
	EVRING_KERN(kern_epoll_ctl(__VA_ARGS__))
#define	kern_epoll_wait(...) \
	EVRING_KERN(kern_epoll_wait(__VA_ARGS__))
#define	kern_kevent(...) \
	EVRING_KERN(kern_kevent(__VA_ARGS__))
#define	kern_kevent_ring_attach(...) \
	EVRING_KERN(kern_kevent_ring_attach(__VA_ARGS__))
#define	kern_kevent_ring_detach(...) \
	EVRING_KERN(kern_kevent_ring_detach(__VA_ARGS__))
#define	kern_kevent_ring_map(...) \
	EVRING_KERN(kern_kevent_ring_map(__VA_ARGS__))
#define	kern_kevent_ring_putback(...) \
	EVRING_KERN(kern_kevent_ring_putback(__VA_ARGS__))
#define	kern_kevent_wait(...) \
	EVRING_KERN(kern_kevent_wait(__VA_ARGS__))
#define	kern_kqueue(...) \
	EVRING_KERN(kern_kqueue(__VA_ARGS__))
#define	kern_kqueue_getprop(...) \
	EVRING_KERN(kern_kqueue_getprop(__VA_ARGS__))
#define	kern_kqueue_setprop(...) \
	EVRING_KERN(kern_kqueue_setprop(__VA_ARGS__))
#define	kern_poll(...) \
	EVRING_KERN(kern_poll(__VA_ARGS__))
#define	kern_select(...) \
	EVRING_KERN(kern_select(__VA_ARGS__))

#endif /* !_LIBEVRING_START_H_ */
