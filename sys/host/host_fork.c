/*
 * fork(): the child starts with none of the host's threads and shares
 * every internal descriptor (epoll, inotify, eventfds, pidfds) with the
 * parent.  It must not touch the parent's registrations through them, so it
 * closes its copies, forgets its watches without epoll_ctl(), and recreates
 * what it needs lazily.  The prepare handler takes the host's locks in
 * their documented order so that the child never inherits one mid-update.
 */
#include <pthread.h>

#include "host_impl.h"

static void
host_fork_prepare(void)
{
	const struct hc_upcalls *up;

	host_witness_forkbegin();
	host_lock_acquire(&host_poll_lock);
	host_sig_forkprepare();
	host_vnode_forkprepare();
	host_proc_forkprepare();
	host_lock_acquire(&host_setup_lock);
	host_uring_forkprepare();
	host_sleep_forkprepare();
	host_callout_forkprepare();
	host_alias_forkprepare();
	up = atomic_load(&host_upcalls);
	if (up != NULL && up->hu_forkprepare != NULL)
		up->hu_forkprepare();
	host_witness_forkprepare();
}

static void
host_fork_parent(void)
{
	const struct hc_upcalls *up;

	host_witness_forkparent();
	up = atomic_load(&host_upcalls);
	if (up != NULL && up->hu_forkparent != NULL)
		up->hu_forkparent();
	host_alias_forkparent();
	host_callout_forkparent();
	host_sleep_forkparent();
	host_uring_forkparent();
	host_lock_release(&host_setup_lock);
	host_proc_forkparent();
	host_vnode_forkparent();
	host_sig_forkparent();
	host_lock_release(&host_poll_lock);
	host_witness_forkend();
}

static void
host_fork_child(void)
{
	const struct hc_upcalls *up;

	host_witness_forkchild();
	host_alias_forkchild();
	host_callout_forkchild();
	host_sleep_forkchild();
	host_proc_forkchild();
	host_vnode_forkchild();
	host_sig_forkchild();
	/* Also releases the setup lock. */
	host_poll_forkchild();
	host_lock_forkchild(&host_poll_lock);
	up = atomic_load(&host_upcalls);
	if (up != NULL && up->hu_forkchild != NULL)
		up->hu_forkchild();
	host_witness_forkend();
}

void
host_fork_register(void)
{

	if (pthread_atfork(host_fork_prepare, host_fork_parent,
	    host_fork_child) != 0)
		hc_panic("hc_init: pthread_atfork failed");
}
