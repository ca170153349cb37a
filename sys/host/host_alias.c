/*
 * hc_fd_alias(): find another descriptor of this process on the same open
 * file description, for epoll registrations that follow the description
 * across dup() (sys_epoll.c) and for queues that outlive the close of
 * their first descriptor (kern_descrip.c).  kcmp(KCMP_FILE) is the host's
 * only exact test; the candidates are the entries of /proc/self/fd.
 * hc_fd_same() is the test alone, for a kernel that has its candidates.
 */
#include <sys/syscall.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include "host_impl.h"

int
hc_fd_alias(int fd, int *aliasp)
{
	struct dirent *de;
	DIR *d;
	pid_t pid = getpid();
	long r;
	int cand, error = ENOENT, dfd;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (ENOSYS);
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		cand = atoi(de->d_name);
		if (cand == fd || cand == dfd)
			continue;
		r = syscall(SYS_kcmp, pid, pid, KCMP_FILE, fd, cand);
		if (r == 0) {
			/* The kernel may keep it: its close must be heard. */
			host_fdtab_note(cand);
			*aliasp = cand;
			error = 0;
			break;
		}
		if (r < 0 && errno != EBADF) {
			error = ENOSYS;
			break;
		}
	}
	closedir(d);
	return (error);
}

int
hc_fd_same(int fd1, int fd2)
{
	pid_t pid = getpid();
	long r;

	r = syscall(SYS_kcmp, pid, pid, KCMP_FILE, fd1, fd2);
	if (r == 0)
		return (0);
	if (r > 0)
		return (ESRCH);
	return (errno == EBADF ? EBADF : ENOSYS);
}
