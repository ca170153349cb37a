/*
 * Cancellation around calls that may sleep in the kernel.
 *
 * A thread sleeping in the kernel is on a queue's sleeper list, in a
 * structure on its own stack.  If the host's sleep (ppoll()) acted on a
 * pthread_cancel() there, the thread would unwind with that structure
 * still linked, and the next wakeup would write into a dead stack.  So
 * cancellation is disabled while the kernel runs, and the call acts on a
 * pending cancel request at its entry and at its return instead: a
 * cancelled sleeper goes when its call returns (an event, the timeout, or
 * a signal).  kevent(2) and kevent_wait(2) say so.
 */
#ifndef _LIBEVRING_CANCEL_H_
#define	_LIBEVRING_CANCEL_H_

#include <pthread.h>

#if defined(__SANITIZE_ADDRESS__)
#define	EVRING_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define	EVRING_ASAN	1
#endif
#endif

#ifdef EVRING_ASAN
#include <sanitizer/asan_interface.h>

/*
 * A cancel unwinds the caller's frames without running their epilogues,
 * so AddressSanitizer's redzones in them stay poisoned and trip the
 * sanitizer's own thread teardown later on the same stack.  A cleanup
 * handler runs below those frames while they unwind; clearing the stack
 * from there is what a throw does.
 */
static void
evring_cancel_unpoison(void *arg)
{

	(void)arg;
	__asan_handle_no_return();
}

static inline void
evring_testcancel(void)
{

	pthread_cleanup_push(evring_cancel_unpoison, NULL);
	pthread_testcancel();
	pthread_cleanup_pop(0);
}
#else
#define	evring_testcancel()	pthread_testcancel()
#endif

static inline int
evring_cancel_off(void)
{
	int old;

	evring_testcancel();
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return (old);
}

static inline void
evring_cancel_restore(int old)
{
	int dummy;

	(void)pthread_setcancelstate(old, &dummy);
	evring_testcancel();
}

/*
 * The same, for a call that is a cancellation point only when it may
 * block (entry) and acts on a request at its return only when act says
 * so: kevent(2), as FreeBSD's libthr has it.
 */
static inline int
evring_cancel_off_if(int point)
{
	int old;

	if (point)
		evring_testcancel();
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return (old);
}

static inline void
evring_cancel_restore_if(int old, int act)
{
	int dummy;

	(void)pthread_setcancelstate(old, &dummy);
	if (act)
		evring_testcancel();
}

#endif /* !_LIBEVRING_CANCEL_H_ */
