/*
 * fuzz_input.h: what every harness reads its input with, and how it
 * reports a broken invariant.
 *
 * An input is consumed from the front; past its end every read gives 0,
 * so any input is a complete program.  CHECK() traps, which libFuzzer
 * reports as a crash and saves the input.
 */
#ifndef _FUZZ_INPUT_H_
#define	_FUZZ_INPUT_H_

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct input {
	const uint8_t	*p;
	size_t		left;
};

static inline uint8_t
in8(struct input *in)
{

	if (in->left == 0)
		return (0);
	in->left--;
	return (*in->p++);
}

static inline uint16_t
in16(struct input *in)
{

	return ((uint16_t)(in8(in) | in8(in) << 8));
}

static inline uint32_t
in32(struct input *in)
{

	return ((uint32_t)in8(in) | (uint32_t)in8(in) << 8 |
	    (uint32_t)in8(in) << 16 | (uint32_t)in8(in) << 24);
}

#define	CHECK(e) do {							\
	if (!(e)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s (errno %d)\n", \
		    __FILE__, __LINE__, #e, errno);			\
		__builtin_trap();					\
	}								\
} while (0)

#endif /* !_FUZZ_INPUT_H_ */
