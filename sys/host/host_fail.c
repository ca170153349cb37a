/*
 * The failure-point registry (sys/sys/fail.h): every point compiled into
 * the kernel and the host layer, found through the linker set
 * "set_evring_fp", armed from the environment at load time
 * (EVRING_FAILPOINTS) or by a test through evring_failpoint_set(3), and
 * listed with its counts by evring_failpoint_list(3).
 *
 * A spec is "name=action[,name=action...]": action is "off", "once" (the
 * next hit fails), "once:N" (the N-th hit from now fails, alone) or
 * "from:N" (the N-th hit from now and every later one fail).  A name
 * ending in '*' matches every point whose name begins with what precedes
 * it, so "*=off" disarms everything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_impl.h"
#include "sys/fail.h"
#include "sys/evring.h"

#ifdef EVRING_FAILPOINTS
extern struct fail_point *__start_set_evring_fp[] __attribute__((__weak__));
extern struct fail_point *__stop_set_evring_fp[] __attribute__((__weak__));

static pthread_once_t host_fail_once = PTHREAD_ONCE_INIT;

/*
 * Full names: a kmalloc point is named by its type and its caller, and a
 * second site of the same type in the same function takes "#2" (in line
 * order), so that every name is unique.
 */
static void
host_fail_names(void)
{
	struct fail_point **p, **q, *fp;
	int nth;

	for (p = __start_set_evring_fp; p < __stop_set_evring_fp; p++) {
		fp = *p;
		nth = 1;
		for (q = __start_set_evring_fp; q < __stop_set_evring_fp;
		    q++)
			if (*q != fp && strcmp((*q)->fp_name,
			    fp->fp_name) == 0 && ((*q)->fp_func == NULL) ==
			    (fp->fp_func == NULL) && (fp->fp_func == NULL ||
			    strcmp((*q)->fp_func, fp->fp_func) == 0) &&
			    (*q)->fp_line < fp->fp_line)
				nth++;
		if (fp->fp_func == NULL)
			snprintf(fp->fp_fullname, sizeof(fp->fp_fullname),
			    "%s", fp->fp_name);
		else
			snprintf(fp->fp_fullname, sizeof(fp->fp_fullname),
			    "%s:%s", fp->fp_name, fp->fp_func);
		if (nth > 1)
			snprintf(fp->fp_fullname + strlen(fp->fp_fullname),
			    sizeof(fp->fp_fullname) - strlen(fp->fp_fullname),
			    "#%d", nth);
	}
}

static int
host_fail_match(const char *pat, size_t len, const char *name)
{

	if (len > 0 && pat[len - 1] == '*')
		return (strncmp(pat, name, len - 1) == 0);
	return (strlen(name) == len && strncmp(pat, name, len) == 0);
}

static int
host_fail_count(const char *s, unsigned long long *np)
{
	char *end;

	errno = 0;
	*np = strtoull(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0' || *np == 0 ? EINVAL :
	    0);
}

/* One "name=action"; ENOENT when no point matches the name. */
static int
host_fail_arm1(const char *item)
{
	struct fail_point **p, *fp;
	const char *eq, *act;
	unsigned long long n;
	int mode, found;

	if ((eq = strchr(item, '=')) == NULL || eq == item)
		return (EINVAL);
	act = eq + 1;
	n = 1;
	if (strcmp(act, "off") == 0)
		mode = FAIL_POINT_OFF;
	else if (strcmp(act, "once") == 0)
		mode = FAIL_POINT_ONCE;
	else if (strncmp(act, "once:", 5) == 0 &&
	    host_fail_count(act + 5, &n) == 0)
		mode = FAIL_POINT_ONCE;
	else if (strncmp(act, "from:", 5) == 0 &&
	    host_fail_count(act + 5, &n) == 0)
		mode = FAIL_POINT_FROM;
	else
		return (EINVAL);
	found = 0;
	for (p = __start_set_evring_fp; p < __stop_set_evring_fp; p++) {
		fp = *p;
		if (!host_fail_match(item, (size_t)(eq - item),
		    fp->fp_fullname))
			continue;
		found = 1;
		/* Off first, so no hit sees the new mode with the old arm. */
		__atomic_store_n(&fp->fp_mode, FAIL_POINT_OFF,
		    __ATOMIC_RELEASE);
		__atomic_store_n(&fp->fp_arm, __atomic_load_n(&fp->fp_hits,
		    __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
		__atomic_store_n(&fp->fp_mode, mode, __ATOMIC_RELEASE);
	}
	return (found ? 0 : ENOENT);
}

static int
host_fail_arm(const char *spec)
{
	char *copy, *item, *save;
	int error, e;

	(void)pthread_once(&host_fail_once, host_fail_names);
	if ((copy = strdup(spec)) == NULL)
		return (ENOMEM);
	error = 0;
	for (item = strtok_r(copy, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save))
		if ((e = host_fail_arm1(item)) != 0 && error == 0)
			error = e;
	free(copy);
	return (error);
}

/*
 * Before the library's constructor starts the kernel (priority 101 runs
 * before the default), so that start-up's own points can be armed.
 */
__attribute__((__constructor__(101))) static void
host_fail_env(void)
{
	const char *spec;
	int error;

	if ((spec = getenv("EVRING_FAILPOINTS")) != NULL &&
	    (error = host_fail_arm(spec)) != 0)
		fprintf(stderr, "libevring: EVRING_FAILPOINTS: %s\n",
		    strerror(error));
}

__attribute__((__visibility__("default"))) int
evring_failpoint_set(const char *spec)
{
	int error;

	if (spec == NULL)
		error = EINVAL;
	else if ((error = host_fail_arm(spec)) == 0)
		return (0);
	errno = error;
	return (-1);
}

__attribute__((__visibility__("default"))) int
evring_failpoint_list(struct evring_failpoint *fps, int n)
{
	struct fail_point **p, *fp;
	int i;

	(void)pthread_once(&host_fail_once, host_fail_names);
	for (i = 0, p = __start_set_evring_fp; p < __stop_set_evring_fp;
	    p++, i++) {
		if (i >= n || fps == NULL)
			continue;
		fp = *p;
		fps[i].ef_name = fp->fp_fullname;
		fps[i].ef_hits = __atomic_load_n(&fp->fp_hits,
		    __ATOMIC_RELAXED);
		fps[i].ef_fails = __atomic_load_n(&fp->fp_fails,
		    __ATOMIC_RELAXED);
		fps[i].ef_error = fp->fp_error;
		fps[i].ef_armed = __atomic_load_n(&fp->fp_mode,
		    __ATOMIC_RELAXED) != FAIL_POINT_OFF;
	}
	return (i);
}

#else /* !EVRING_FAILPOINTS */

__attribute__((__visibility__("default"))) int
evring_failpoint_set(const char *spec)
{

	(void)spec;
	errno = ENOSYS;
	return (-1);
}

__attribute__((__visibility__("default"))) int
evring_failpoint_list(struct evring_failpoint *fps, int n)
{

	(void)fps;
	(void)n;
	errno = ENOSYS;
	return (-1);
}

#endif /* EVRING_FAILPOINTS */
