/*
 * Busy polling: the signal mask around a spin, and the CPU's spin hint.
 *
 * The spinner keeps every signal blocked, so no handler can run where the
 * kernel would not notice it, and looks at the pending set now and then
 * (sigpending() is a system call, so not on every turn).  When it stops, it
 * sleeps with the mask it was given: a signal that arrived during the spin
 * is then delivered by ppoll(), atomically with the sleep, and the wait
 * ends with EINTR as it would have without the spin.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "host_impl.h"

_Static_assert(sizeof(sigset_t) <= sizeof(((struct hc_spin *)0)->hs_saved),
    "struct hc_spin holds a host sigset_t");

int
hc_spin_begin(struct hc_spin *sp)
{
	sigset_t all;
	int error;

	sp->hs_active = 0;
	(void)sigfillset(&all);
	error = pthread_sigmask(SIG_BLOCK, &all, (sigset_t *)sp->hs_saved);
	if (error != 0)
		return (error);
	sp->hs_active = 1;
	return (0);
}

int
hc_spin_signalled(const struct hc_spin *sp, const void *sigmask)
{
	const sigset_t *mask;
	sigset_t pend;
	int sig;

	if (!sp->hs_active || sigpending(&pend) != 0)
		return (0);
	mask = sigmask != NULL ? sigmask : (const sigset_t *)sp->hs_saved;
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&pend, sig) == 1 &&
		    sigismember(mask, sig) == 0)
			return (1);
	return (0);
}

void
hc_spin_end(struct hc_spin *sp)
{

	if (!sp->hs_active)
		return;
	(void)pthread_sigmask(SIG_SETMASK, (sigset_t *)sp->hs_saved, NULL);
	sp->hs_active = 0;
}

void
hc_cpu_relax(void)
{

#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}
