/*
 * Epoch-based reclamation for the kernel, after FreeBSD's epoch(9), built
 * on Concurrency Kit's ck_epoch (sys/contrib/ck).  A lock-free reader
 * brackets its look at shared objects with epoch_enter()/epoch_exit(); a
 * writer that unlinks an object hands it to epoch_call(), which runs the
 * callback (the free) once every section that might still see the object
 * has ended.  Sections are short, never sleep and may nest.
 *
 * Each thread that enters the kernel gets an epoch record on first use
 * (hc_curthread()), returned to a pool when it exits.  A thread for which
 * no record can be had (memory) gets ENOMEM from epoch_enter() and takes
 * the locked path instead.  Callbacks run in whichever thread next defers
 * or polls (kernel entries poll) once their grace period has passed, in
 * whatever context that thread is in, or at its exit, so a callback only
 * frees memory: it takes no lock and never sleeps.  One exception:
 * file_free() of a queue stops the queue's timer callout, taking the host
 * callout lock (innermost, doc/design.md section 8) and waiting for the
 * callout's function if it is running (a function of a queue no one can
 * reach any more, which takes only that queue's locks).
 */
#ifndef _SYS_EPOCH_H_
#define	_SYS_EPOCH_H_

#ifndef _KERNEL
#error "sys/epoch.h is kernel-private"
#endif

#include <sys/ktypes.h>
#include <contrib/ck/include/ck_epoch.h>

struct kthread;

struct epoch_tracker {
	struct kthread	*et_td;
};

typedef ck_epoch_entry_t epoch_context_t;
typedef void epoch_callback_t(epoch_context_t *);

int	epoch_sysinit(void);
int	epoch_enter(struct epoch_tracker *et);
void	epoch_exit(struct epoch_tracker *et);
void	epoch_call(epoch_context_t *ctx, epoch_callback_t *fn);
void	epoch_poll(void);
void	epoch_drain(void);
void	epoch_threadexit(void *td);
void	epoch_forkchild(void);

/* The calling thread's kernel state, beside its record. */
void	*curthread_kq(void);
void	curthread_set_kq(void *kq);
/*
 * The monotonic clock as this thread's kernel entry first read it
 * (kqueue_enter()), read again after each sleep or busy poll
 * (kern_now_reset()); outside an entry, the clock.  A call's timeout,
 * its timers' starts and their expiry then agree on one "now", read once.
 */
long long kern_now(void);
void	kern_now_reset(void);
/* The chain of the task this thread runs (kern_task.c), 0: none. */
unsigned long long curthread_taskchain(void);
void	curthread_set_taskchain(unsigned long long chain);

/* The object an epoch_context_t is embedded in, in a callback. */
#define	epoch_container(ctx, type, member)	__containerof(ctx, type, member)

#endif /* !_SYS_EPOCH_H_ */
