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

static inline int
evring_cancel_off(void)
{
	int old;

	pthread_testcancel();
	(void)pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	return (old);
}

static inline void
evring_cancel_restore(int old)
{
	int dummy;

	(void)pthread_setcancelstate(old, &dummy);
	pthread_testcancel();
}

#endif /* !_LIBEVRING_CANCEL_H_ */
