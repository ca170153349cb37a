/*
 * Built with each variant's flags and run before its tests: if even this
 * cannot start, the sanitizer runtime needs ASLR off (TSan on kernels with
 * high mmap entropy) or cannot run its leak checker here (no ptrace).
 */
#include <pthread.h>
#include <stdlib.h>

static void *
worker(void *arg)
{
	return (arg);
}

int
main(void)
{
	pthread_t t;
	void *p = malloc(16);

	if (pthread_create(&t, NULL, worker, p) != 0 ||
	    pthread_join(t, NULL) != 0)
		return (1);
	free(p);
	return (0);
}
