/*
 * Failure points, after FreeBSD's fail(9): a named place where the kernel
 * or the host layer creates something (memory, a descriptor, a thread, a
 * mapping) and where a test can make that creation fail, so that the error
 * path behind it runs.
 *
 * A point is declared where it is evaluated, by one macro:
 *
 *	if ((error = FAIL_POINT("host:eventfd", EMFILE)) != 0)
 *		... behave as if the creation had failed with error ...
 *
 * FAIL_POINT() is an expression: 0 while the point is not armed, else the
 * errno the point was declared with.  Each expansion places a pointer to
 * its static struct fail_point in the linker set "set_evring_fp", so that
 * the registry (sys/host/host_fail.c) lists every point compiled in, hit or
 * not, without any registration at run time.
 *
 * The kernel evaluates its points inline, with nothing but compiler
 * atomics: no hypercall on the path and no libc, so sys/kern stays
 * freestanding; the host layer reads the same linker set to arm points
 * (EVRING_FAILPOINTS, evring_failpoint_set(3)) and list them.  Without
 * EVRING_FAILPOINTS defined (the Makefile's FAILPOINTS=0) every point
 * compiles to the constant 0.
 *
 * This header includes nothing and is used by the kernel and the host.
 */
#ifndef _SYS_FAIL_H_
#define	_SYS_FAIL_H_

#define	FAIL_POINT_OFF		0
#define	FAIL_POINT_ONCE		1	/* fail hit fp_arm alone */
#define	FAIL_POINT_FROM		2	/* fail hit fp_arm and later */

#define	FAIL_POINT_NAMELEN	64

struct fail_point {
	const char	*fp_name;	/* "host:eventfd", "kmalloc:M_KNOTE" */
	const char	*fp_func;	/* for kmalloc points: the caller */
	int		 fp_line;	/* orders one caller's points */
	int		 fp_error;	/* the errno it fails with */
	int		 fp_mode;	/* FAIL_POINT_* */
	unsigned long long fp_hits;	/* evaluations ever */
	unsigned long long fp_arm;	/* the hit number that fails first */
	unsigned long long fp_fails;	/* evaluations that failed */
	/* fp_name, with ":" fp_func and a "#N" for a second site of one */
	/* name in one function: filled by the registry. */
	char		 fp_fullname[FAIL_POINT_NAMELEN];
};

#ifdef EVRING_FAILPOINTS
/*
 * One hit.  Hit numbers are unique (the atomic increment), so a "once"
 * point fails exactly one evaluation however many threads pass it.
 */
static inline int
fail_point_eval(struct fail_point *fp)
{
	unsigned long long n;
	int mode;

	n = __atomic_add_fetch(&fp->fp_hits, 1, __ATOMIC_RELAXED);
	mode = __atomic_load_n(&fp->fp_mode, __ATOMIC_ACQUIRE);
	if (__builtin_expect(mode == FAIL_POINT_OFF, 1))
		return (0);
	if (n < __atomic_load_n(&fp->fp_arm, __ATOMIC_RELAXED) ||
	    (mode == FAIL_POINT_ONCE &&
	    n != __atomic_load_n(&fp->fp_arm, __ATOMIC_RELAXED)))
		return (0);
	__atomic_add_fetch(&fp->fp_fails, 1, __ATOMIC_RELAXED);
	return (fp->fp_error);
}

#define	FAIL_POINT_SITE(name, func, err) __extension__ ({		\
	static struct fail_point _fail_point = {			\
		.fp_name = (name), .fp_func = (func),			\
		.fp_line = __LINE__, .fp_error = (err),			\
	};								\
	static struct fail_point *_fail_point_p				\
	    __attribute__((__section__("set_evring_fp"), __used__)) =	\
	    &_fail_point;						\
	fail_point_eval(_fail_point_p);					\
})
#else
#define	FAIL_POINT_SITE(name, func, err)	0
#endif

/* A point named by name alone. */
#define	FAIL_POINT(name, err)						\
	FAIL_POINT_SITE(name, (const char *)0, err)

/*
 * A host call guarded by a point: expr's value, or failval with errno set
 * to the point's errno when the point fails (host code only: errno).
 */
#define	FAIL_POINT_CALL(name, err, failval, expr) __extension__ ({	\
	int _fail_point_err = FAIL_POINT(name, err);			\
	_fail_point_err != 0 ? (errno = _fail_point_err, (failval)) :	\
	    (expr);							\
})

#endif /* !_SYS_FAIL_H_ */
