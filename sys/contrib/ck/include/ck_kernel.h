/*
 * What ck takes from <stdint.h>, <stdbool.h>, <stddef.h>, <limits.h> and
 * <string.h>, for the freestanding kernel build (-nostdinc): the kernel's
 * own types.  ck's platform headers include this file where FreeBSD's
 * kernel build would include <sys/stdint.h> and friends.
 */
#ifndef CK_KERNEL_H
#define	CK_KERNEL_H

#include <sys/ktypes.h>

#ifndef true
#define	true	1
#define	false	0
#endif
#ifndef UINT8_MAX
#define	UINT8_MAX	0xff
#endif
#ifndef UINT16_MAX
#define	UINT16_MAX	0xffff
#endif
#ifndef UINT64_MAX
#define	UINT64_MAX	(~(uint64_t)0)
#endif
#ifndef UINT_MAX
#define	UINT_MAX	(~0U)
#endif
#ifndef CHAR_BIT
#define	CHAR_BIT	8
#endif

#endif /* !CK_KERNEL_H */
