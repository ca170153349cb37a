/*
 * evring: extensions beyond FreeBSD's kqueue ABI.
 *
 * For now: the introspection counters behind evring_stat(3), which tests
 * and benchmarks use to prove sharing and measure kernel memory.  The
 * mmap'd event ring's ABI joins this header when it lands.
 */
#ifndef _SYS_EVRING_H_
#define	_SYS_EVRING_H_

#define	EVRING_STAT_HOSTREG		0	/* host fd registrations now */
#define	EVRING_STAT_HOSTREG_TOTAL	1	/* host fd registrations ever */
#define	EVRING_STAT_VNODEWATCH		2	/* host vnode watches now */
#define	EVRING_STAT_KQUEUES		3	/* open queues */
#define	EVRING_STAT_KNOTES		4	/* knotes on all queues */
#define	EVRING_STAT_FILES		5	/* descriptors the kernel tracks */
#define	EVRING_STAT_KMEM		6	/* kernel bytes allocated now */
#define	EVRING_STAT_KMEM_KNOTE		7	/* of which knotes */
#define	EVRING_STAT_KMEM_FILE		8	/* of which descriptors */
#define	EVRING_STAT_KMEM_KQUEUE		9	/* of which queues */

#ifndef _KERNEL
#ifdef __cplusplus
extern "C" {
#endif
/* The counter's value, or -1 with errno EINVAL for an unknown counter. */
long long evring_stat(int which);
#ifdef __cplusplus
}
#endif
#endif

#endif /* !_SYS_EVRING_H_ */
