/*
 * The event ring's system-call stubs (EVRING_0.2): kevent_ring_attach(),
 * kevent_ring_detach(), kevent_ring_map(), kevent_ring_unmap(),
 * kevent_wait(), kevent_ring_putback(), kqueue_setprop() and
 * kqueue_getprop().  Each calls the kernel and turns its errno into -1 and
 * errno.  The inline consumer helpers are in <sys/evring.h>.
 */
#include <sys/mman.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "sys/event.h"
#include "sys/evring.h"
#include "sys/sysproto.h"

#include "start.h"

#include "cancel.h"

static int
ring_ret(int error)
{

	if (error != 0) {
		errno = error;
		return (-1);
	}
	return (0);
}

int
kevent_ring_attach(int kq, unsigned int entries)
{

	return (ring_ret(kern_kevent_ring_attach(kq, entries)));
}

int
kevent_ring_detach(int kq)
{

	return (ring_ret(kern_kevent_ring_detach(kq)));
}

int
kevent_ring_map(int kq, struct evring *ring)
{
	unsigned long size;
	unsigned int entries, recoff;
	void *addr;
	int error;

	if (ring == NULL)
		return (ring_ret(EFAULT));
	error = kern_kevent_ring_map(kq, &addr, &size, &entries, &recoff);
	if (error != 0)
		return (ring_ret(error));
	/* The constants come from the kernel, not from the shared page. */
	memset(ring, 0, sizeof(*ring));
	ring->er_hdr = addr;
	ring->er_recs = (const struct kevent *)(const void *)
	    ((const char *)addr + recoff);
	ring->er_entries = entries;
	ring->er_mask = entries - 1;
	ring->er_size = size;
	return (0);
}

int
kevent_ring_unmap(struct evring *ring)
{

	if (ring == NULL || ring->er_hdr == NULL)
		return (ring_ret(EINVAL));
	if (munmap(ring->er_hdr, ring->er_size) != 0)
		return (-1);
	ring->er_hdr = NULL;
	ring->er_recs = NULL;
	return (0);
}

int
kevent_wait(int kq, unsigned int ringstate, const struct timespec *timeout,
    const sigset_t *sigmask)
{
	int cs, error, n;

	cs = evring_cancel_off();
	error = kern_kevent_wait(kq, ringstate, timeout, sigmask, &n);
	evring_cancel_restore(cs);
	if (error != 0)
		return (ring_ret(error));
	return (n);
}

int
kevent_ring_putback(int kq, const struct kevent *kev)
{

	return (ring_ret(kern_kevent_ring_putback(kq, kev)));
}

int
kqueue_setprop(int kq, int prop, long long value)
{

	return (ring_ret(kern_kqueue_setprop(kq, prop, value)));
}

int
kqueue_getprop(int kq, int prop, long long *valuep)
{
	long long v;
	int error;

	if (valuep == NULL)
		return (ring_ret(EFAULT));
	if ((error = kern_kqueue_getprop(kq, prop, &v)) != 0)
		return (ring_ret(error));
	*valuep = v;
	return (0);
}
