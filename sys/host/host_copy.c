/*
 * copyin/copyout: copies that turn a fault into EFAULT.
 *
 * As in a BSD kernel's pcb_onfault: the copying thread publishes a
 * recovery point in a thread-local variable, and the SIGSEGV/SIGBUS
 * handler (host_sig.c), finding one set for the faulting thread, jumps
 * back to it.  Faults anywhere else go on to the program's own handler.
 * The copy loop is a separate function built without sanitizer
 * instrumentation, because the sanitizers' checks would themselves touch
 * the bad address (or its shadow) outside the recovery window, and it uses
 * volatile accesses so that the compiler cannot turn it into a call to
 * memcpy(), which is instrumented.
 */
#include <sys/uio.h>

#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <unistd.h>

#include "host_impl.h"

/*
 * Initial-exec TLS: the signal handler reads it, and the first access to
 * dynamically allocated TLS may call malloc(), which a handler must not.
 */
__thread sigjmp_buf *volatile host_onfault
    __attribute__((tls_model("initial-exec")));

/* The lowest page is never mapped; reject it without touching memory. */
#define	HOST_MINADDR	4096UL

/*
 * ThreadSanitizer runs signal handlers its own way and cannot follow a
 * siglongjmp() out of a handler into code it did not instrument; under it,
 * copies go through process_vm_readv()/process_vm_writev() on our own
 * process instead, which the kernel fails with EFAULT on an unmapped or
 * (for writes) read-only page.  That costs a system call per copy, so it
 * is only the sanitizer build's path.
 */
#ifdef HOST_TSAN
#define	HOST_COPY_VM	1
#endif

#ifdef HOST_COPY_VM
static int
host_copy_vm(void *dst, const void *src, unsigned long len, int out)
{
	struct iovec local, remote;
	ssize_t n;

	if (out) {
		local.iov_base = (void *)(uintptr_t)src;
		remote.iov_base = dst;
	} else {
		local.iov_base = dst;
		remote.iov_base = (void *)(uintptr_t)src;
	}
	local.iov_len = remote.iov_len = len;
	if (out)
		n = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
	else
		n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	return (n == (ssize_t)len ? 0 : EFAULT);
}
#else
static _Atomic int host_fault_ready;

typedef uint64_t host_u64u __attribute__((__aligned__(1), __may_alias__));

static __attribute__((__noinline__,
    __no_sanitize__("address", "undefined", "thread"))) void
host_copy_loop(volatile unsigned char *d, const volatile unsigned char *s,
    unsigned long len)
{

	for (; len >= 8; d += 8, s += 8, len -= 8)
		*(volatile host_u64u *)d = *(const volatile host_u64u *)s;
	for (; len > 0; len--)
		*d++ = *s++;
}

static __attribute__((__noinline__,
    __no_sanitize__("address", "undefined", "thread"))) int
host_copy_guarded(void *dst, const void *src, unsigned long len)
{
	sigjmp_buf jb;

	/*
	 * No mask save: the handler runs with SA_NODEFER and an empty
	 * sa_mask, so the mask it jumps back with is the one we had.
	 */
	if (sigsetjmp(jb, 0) != 0) {
		host_onfault = NULL;
		return (EFAULT);
	}
	host_onfault = &jb;
	host_copy_loop(dst, src, len);
	host_onfault = NULL;
	return (0);
}
#endif

static int
host_copy(void *dst, const void *src, unsigned long len, int out)
{
	uintptr_t u = out ? (uintptr_t)dst : (uintptr_t)src;
	int error;

	if (len == 0)
		return (0);
	if (u < HOST_MINADDR || u + len < u)
		return (EFAULT);
#ifdef HOST_COPY_VM
	(void)error;
	return (host_copy_vm(dst, src, len, out));
#else
	if (!atomic_load_explicit(&host_fault_ready, memory_order_acquire)) {
		error = host_fault_install();
		if (error != 0)
			return (error);
		atomic_store_explicit(&host_fault_ready, 1,
		    memory_order_release);
	}
	return (host_copy_guarded(dst, src, len));
#endif
}

/*
 * How much of [uaddr, uaddr + len) the program can be written to, from
 * the start, a page at a time: one byte of each page is read and written
 * back (as a copyout of what is there would).  A caller that must not
 * take what it cannot deliver (an event) asks before it takes.
 */
#ifdef HOST_COPY_VM
static unsigned long
host_probe(unsigned char *u, unsigned long len)
{
	unsigned long ok = 0, ps = hc_pagesize(), next;
	unsigned char b;

	while (ok < len) {
		if (host_copy_vm(&b, u + ok, 1, 0) != 0 ||
		    host_copy_vm(u + ok, &b, 1, 1) != 0)
			break;
		next = (((uintptr_t)(u + ok)) | (ps - 1)) + 1 - (uintptr_t)u;
		ok = next < len ? next : len;
	}
	return (ok);
}
#else
static __attribute__((__noinline__,
    __no_sanitize__("address", "undefined", "thread"))) unsigned long
host_probe(unsigned char *u, unsigned long len)
{
	sigjmp_buf jb;
	volatile unsigned long ok = 0;
	volatile unsigned char *p;
	unsigned long ps = hc_pagesize(), next;

	if (sigsetjmp(jb, 0) != 0) {
		host_onfault = NULL;
		return (ok);
	}
	host_onfault = &jb;
	while (ok < len) {
		p = u + ok;
		*p = *p;
		next = (((uintptr_t)p) | (ps - 1)) + 1 - (uintptr_t)u;
		ok = next < len ? next : len;
	}
	host_onfault = NULL;
	return (ok);
}
#endif

unsigned long
hc_user_writable(void *uaddr, unsigned long len)
{
	uintptr_t u = (uintptr_t)uaddr;

	if (len == 0)
		return (0);
	if (u < HOST_MINADDR || u + len < u)
		return (0);
#ifndef HOST_COPY_VM
	if (!atomic_load_explicit(&host_fault_ready, memory_order_acquire)) {
		if (host_fault_install() != 0)
			return (0);
		atomic_store_explicit(&host_fault_ready, 1,
		    memory_order_release);
	}
#endif
	return (host_probe(uaddr, len));
}

int
hc_copyin(const void *uaddr, void *kaddr, unsigned long len)
{

	return (host_copy(kaddr, uaddr, len, 0));
}

int
hc_copyout(const void *kaddr, void *uaddr, unsigned long len)
{

	return (host_copy(uaddr, kaddr, len, 1));
}
