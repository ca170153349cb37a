/*
 * Concurrency Kit's machine description for evring, written by hand in
 * place of the one ck's configure script generates (as FreeBSD's
 * sys/contrib/ck does).  x86-64 and any other GCC/Clang target: ck's
 * generic GCC port, on the compiler's __atomic builtins.
 */
#ifndef CK_MD_H
#define	CK_MD_H

/*
 * The compiler's builtins, never ck's inline assembly, so that
 * ThreadSanitizer sees every atomic operation ck makes.
 */
#ifndef CK_USE_CC_BUILTINS
#define	CK_USE_CC_BUILTINS 1
#endif

#ifndef CK_MD_CACHELINE
#define	CK_MD_CACHELINE (64)
#endif

#ifndef CK_MD_PAGESIZE
#define	CK_MD_PAGESIZE (4096)
#endif

#define	CK_MD_RTM_DISABLE
#define	CK_MD_LSE_DISABLE
#define	CK_MD_POINTER_PACK_DISABLE

/* The memory model fences are emitted for. */
#if defined(__x86_64__) || defined(__i386__)
#define	CK_MD_TSO
#else
#define	CK_MD_RMO
#endif

/* The builtins take no floating-point operands. */
#define	CK_PR_DISABLE_DOUBLE

#define	CK_VERSION "0.7.1"
#define	CK_GIT_SHA ""

#endif /* CK_MD_H */
