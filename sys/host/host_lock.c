/*
 * Mutexes: hc_mtx for the kernel, host_lock for the host layer itself.
 *
 * Both are plain pthread mutexes plus an owner word, so that "does the
 * calling thread hold it" is one atomic load (INVARIANTS asserts it on
 * every lock operation, so it must be cheap).
 */
#include <errno.h>
#include <stdlib.h>

#include "host_impl.h"
#include "sys/fail.h"

struct hc_mtx {
	struct host_lock	m_lock;
};

/*
 * A thread's identity: the address of a thread-local byte, which is
 * distinct for every live thread and never 0.
 */
static __thread char host_self_anchor
    __attribute__((tls_model("initial-exec")));

uintptr_t
host_self(void)
{

	return ((uintptr_t)&host_self_anchor);
}

void
host_lock_init(struct host_lock *hl, const char *name)
{

	pthread_mutex_init(&hl->hl_mtx, NULL);
	atomic_init(&hl->hl_owner, 0);
#ifdef INVARIANTS
	hl->hl_name = name;
	atomic_init(&hl->hl_class, 0);
#else
	(void)name;
#endif
}

/*
 * Attempts at a held lock before sleeping on it.  Kernel critical sections
 * are short, and a thread that sleeps on a contended futex pays a context
 * switch each way: on a queue shared by a producer's kevent() and a
 * consumer's kevent_wait() that was one switch per event.  So a contended
 * lock is retried for a few microseconds first, as FreeBSD's adaptive
 * mutexes spin while the owner runs (we cannot see whether it does).
 */
#define	HOST_LOCK_SPIN	500

void
host_lock_acquire(struct host_lock *hl)
{
	int error, spin;

	host_witness_check(hl);
	for (spin = 0; spin < HOST_LOCK_SPIN; spin++) {
		if (pthread_mutex_trylock(&hl->hl_mtx) == 0)
			goto owned;
		hc_cpu_relax();
	}
	error = pthread_mutex_lock(&hl->hl_mtx);
	if (error != 0)
		hc_panic("host_lock_acquire: pthread_mutex_lock failed");
owned:
	host_witness_lock(hl);
	/* Relaxed: only the owner itself compares against its own id. */
	atomic_store_explicit(&hl->hl_owner, host_self(),
	    memory_order_relaxed);
}

void
host_lock_release(struct host_lock *hl)
{

	host_witness_unlock(hl);
	atomic_store_explicit(&hl->hl_owner, 0, memory_order_relaxed);
	pthread_mutex_unlock(&hl->hl_mtx);
}

int
host_lock_owned(struct host_lock *hl)
{

	return (atomic_load_explicit(&hl->hl_owner, memory_order_relaxed) ==
	    host_self());
}

/*
 * The owner word and the held-lock list of lock-order checking say that
 * the lock is free while the thread waits: another thread takes it
 * meanwhile, and the wait's reacquisition is checked like any other.
 */
int
host_lock_cvwait(struct host_lock *hl, pthread_cond_t *cv,
    const struct timespec *abstime)
{
	int error;

	host_witness_unlock(hl);
	atomic_store_explicit(&hl->hl_owner, 0, memory_order_relaxed);
	if (abstime == NULL)
		error = pthread_cond_wait(cv, &hl->hl_mtx);
	else
		error = pthread_cond_timedwait(cv, &hl->hl_mtx, abstime);
	host_witness_check(hl);
	host_witness_lock(hl);
	atomic_store_explicit(&hl->hl_owner, host_self(),
	    memory_order_relaxed);
	return (error);
}

void
host_lock_forkchild(struct host_lock *hl)
{

	/*
	 * The forking thread took hl in the prepare handler and is the
	 * only thread of the child, so unlocking it is legitimate.
	 */
	host_lock_release(hl);
}

int
hc_mtx_init(struct hc_mtx **mtxp, const char *name)
{
	struct hc_mtx *m;

	m = FAIL_POINT_CALL("host:mtx", ENOMEM, NULL, malloc(sizeof(*m)));
	if (m == NULL)
		return (ENOMEM);
	host_lock_init(&m->m_lock, name);
	*mtxp = m;
	return (0);
}

void
hc_mtx_destroy(struct hc_mtx *mtx)
{

	if (mtx == NULL)
		return;
	pthread_mutex_destroy(&mtx->m_lock.hl_mtx);
	free(mtx);
}

void
hc_mtx_lock(struct hc_mtx *mtx)
{

	host_lock_acquire(&mtx->m_lock);
}

int
hc_mtx_trylock(struct hc_mtx *mtx)
{

	if (pthread_mutex_trylock(&mtx->m_lock.hl_mtx) != 0)
		return (0);
	host_witness_lock(&mtx->m_lock);
	atomic_store_explicit(&mtx->m_lock.hl_owner, host_self(),
	    memory_order_relaxed);
	return (1);
}

void
hc_mtx_unlock(struct hc_mtx *mtx)
{

	host_lock_release(&mtx->m_lock);
}

int
hc_mtx_owned(struct hc_mtx *mtx)
{

	return (host_lock_owned(&mtx->m_lock));
}
