/*
 * Shared memory for the event rings: one object, several views.
 *
 * The object is a MAP_SHARED anonymous mapping, which is the kernel's
 * view; a program view is made with mremap(old_size 0), which on a shared
 * mapping creates a second mapping of the same pages.  No descriptor ever
 * names the memory, so the program cannot close or reuse one behind our
 * back, and a fork() child has nothing to reach it through.  Every view is
 * marked MADV_DONTFORK, so the child does not inherit the mappings either:
 * an access there faults, and mincore() says ENOMEM.
 *
 * The kernel writes only through its own view, so the program may munmap()
 * its views at any time; a program view stays valid (a stale copy) after
 * hc_shm_free() until the program unmaps it.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "host_impl.h"
#include "sys/fail.h"

struct hc_shm {
	void		*sh_kva;
	unsigned long	sh_size;
};

unsigned long
hc_pagesize(void)
{
	static _Atomic unsigned long pagesize;
	unsigned long ps;
	long v;

	ps = atomic_load_explicit(&pagesize, memory_order_relaxed);
	if (ps == 0) {
		v = sysconf(_SC_PAGESIZE);
		ps = v > 0 ? (unsigned long)v : 4096;
		atomic_store_explicit(&pagesize, ps, memory_order_relaxed);
	}
	return (ps);
}

int
hc_shm_alloc(unsigned long size, struct hc_shm **shmp, void **kvap)
{
	struct hc_shm *sh;
	void *p;
	int error;

	if (size == 0 || size % hc_pagesize() != 0)
		return (EINVAL);
	sh = FAIL_POINT_CALL("host:shm", ENOMEM, NULL, calloc(1, sizeof(*sh)));
	if (sh == NULL)
		return (ENOMEM);
	/*
	 * Populated: a ring's first pass through fresh pages otherwise
	 * costs a page fault every 128 records, on the event path.
	 */
	p = FAIL_POINT_CALL("host:shm_mmap", ENOMEM, MAP_FAILED,
	    mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
	if (p == MAP_FAILED) {
		error = errno;
		free(sh);
		return (error);
	}
	if (madvise(p, size, MADV_DONTFORK) != 0) {
		error = errno;
		(void)munmap(p, size);
		free(sh);
		return (error);
	}
	sh->sh_kva = p;
	sh->sh_size = size;
	*shmp = sh;
	*kvap = p;
	return (0);
}

int
hc_shm_map(struct hc_shm *sh, unsigned long rwsize, void **uvap)
{
	char *p;
	unsigned long ps = hc_pagesize();
	int error;

	rwsize = (rwsize + ps - 1) / ps * ps;
	if (rwsize > sh->sh_size)
		rwsize = sh->sh_size;
	p = FAIL_POINT_CALL("host:shm_map", ENOMEM, MAP_FAILED,
	    mremap(sh->sh_kva, 0, sh->sh_size, MREMAP_MAYMOVE));
	if (p == MAP_FAILED)
		return (errno);
	if (madvise(p, sh->sh_size, MADV_DONTFORK) != 0 ||
	    (rwsize < sh->sh_size &&
	    mprotect(p + rwsize, sh->sh_size - rwsize, PROT_READ) != 0)) {
		error = errno;
		(void)munmap(p, sh->sh_size);
		return (error);
	}
#ifdef MADV_POPULATE_READ
	/* The program's view too (Linux 5.14 and later; a hint before). */
	(void)madvise(p, sh->sh_size, MADV_POPULATE_READ);
#endif
	*uvap = p;
	return (0);
}

void
hc_shm_free(struct hc_shm *sh)
{

	if (sh == NULL)
		return;
	(void)munmap(sh->sh_kva, sh->sh_size);
	free(sh);
}
