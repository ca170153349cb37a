/*
 * Kernel memory with per-type accounting.
 *
 * The counters answer "how many kernel bytes does a watched descriptor
 * cost", which the benchmarks report next to Linux epoll's, and let tests
 * prove that a workload leaks nothing.  Sizes are the requested sizes; the
 * host allocator's own overhead is not counted.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>

static long long kmalloc_bytes[M_NTYPES];

void *
(kmalloc)(unsigned long size, int type, int flags)
{
	void *p;

	KASSERT(type >= 0 && type < M_NTYPES, ("kmalloc: bad type"));
	p = hc_malloc(size, flags);
	if (p != NULL)
		__atomic_add_fetch(&kmalloc_bytes[type], (long long)size,
		    __ATOMIC_RELAXED);
	return (p);
}

void
kfree(void *p, unsigned long size, int type)
{

	if (p == NULL)
		return;
	__atomic_sub_fetch(&kmalloc_bytes[type], (long long)size,
	    __ATOMIC_RELAXED);
	hc_free(p);
}

long long
kmalloc_inuse(int type)
{
	long long sum;
	int i;

	if (type >= 0)
		return (__atomic_load_n(&kmalloc_bytes[type],
		    __ATOMIC_RELAXED));
	for (sum = 0, i = 0; i < M_NTYPES; i++)
		sum += __atomic_load_n(&kmalloc_bytes[i], __ATOMIC_RELAXED);
	return (sum);
}
