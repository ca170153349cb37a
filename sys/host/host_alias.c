/*
 * hc_fd_alias(): find another descriptor of this process on the same open
 * file description, for epoll registrations that follow the description
 * across dup() (sys_epoll.c) and for queues that outlive the close of
 * their first descriptor (kern_descrip.c).  kcmp(KCMP_FILE) is the host's
 * only exact test.  hc_fd_same() is the test alone, for a kernel that has
 * its candidates.
 *
 * Candidates.  Asking every open descriptor made a close O(open
 * descriptors): 3 ms with 1,000 open, 17 ms with 4,000, for every close of
 * a number an epoll instance watches.  A description gets a second number
 * in this process only through calls the library sees: dup(), dup2(),
 * dup3() and fcntl(F_DUPFD*) (host_interpose.c marks both numbers
 * DUPED), and SCM_RIGHTS or pidfd_getfd() (the number that arrives is
 * marked RECEIVED; whether it has a twin here is not known); the numbers
 * open when the library started are marked DUPED, since their history is
 * unknown.  So an unmarked number can have an alias only among the
 * RECEIVED, and a marked one only among the marked: a close of an
 * unmarked number while nothing received is open asks nothing at all,
 * and any other asks kcmp() only of marked numbers whose device and inode
 * (taken when they were marked) are the closing one's.  Closing a number
 * forgets its mark (host_fd_forget()); a number left alone by the close of
 * its twin keeps its mark, which costs a comparison at later searches.
 * Not seen: raw system calls (syscall(SYS_dup, ...)), descriptors that
 * io_uring installs, and the unmarked twin of a RECEIVED number (one this
 * process had before it was sent here, by fork() or by sending it itself):
 * kqueue.2's CAVEATS say so.  If the list cannot grow, a search falls back
 * to every open descriptor.
 */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include "host_impl.h"
#include "sys/fail.h"

#define	HOST_FDT_ALIASED	(HOST_FDT_DUPED | HOST_FDT_RECEIVED)

/* A marked number, and what it was when marked. */
struct host_alias {
	int	ha_fd;
	dev_t	ha_dev;
	ino_t	ha_ino;
};

/* The marked numbers.  host_alias_lock is a leaf: nothing is taken inside. */
static struct host_lock host_alias_lock =
    HOST_LOCK_INITIALIZER("host alias lock");
static struct host_alias *host_alias_fds;
static int host_alias_n, host_alias_cap;
static _Atomic int host_alias_nreceived;	/* RECEIVED among them */
static _Atomic int host_alias_overflow;		/* a mark not listed */

static int
host_alias_stat(int fd, dev_t *devp, ino_t *inop)
{
	struct stat st;

	if (syscall(SYS_fstat, fd, &st) != 0)
		return (-1);
	*devp = st.st_dev;
	*inop = st.st_ino;
	return (0);
}

static void
host_alias_list_add(int fd)
{
	struct host_alias *nfds;
	dev_t dev;
	ino_t ino;
	int ncap;

	if (host_alias_stat(fd, &dev, &ino) != 0)
		return;		/* not open: nothing to find it by */
	host_lock_acquire(&host_alias_lock);
	if (host_alias_n == host_alias_cap) {
		ncap = host_alias_cap ? host_alias_cap * 2 : 16;
		nfds = FAIL_POINT_CALL("host:alias_table", ENOMEM, NULL,
		    realloc(host_alias_fds, sizeof(*nfds) * (size_t)ncap));
		if (nfds == NULL) {
			host_lock_release(&host_alias_lock);
			atomic_store(&host_alias_overflow, 1);
			return;
		}
		host_alias_fds = nfds;
		host_alias_cap = ncap;
	}
	host_alias_fds[host_alias_n].ha_fd = fd;
	host_alias_fds[host_alias_n].ha_dev = dev;
	host_alias_fds[host_alias_n].ha_ino = ino;
	host_alias_n++;
	host_lock_release(&host_alias_lock);
}

static void
host_alias_list_remove(int fd)
{
	int i;

	host_lock_acquire(&host_alias_lock);
	for (i = 0; i < host_alias_n; i++)
		if (host_alias_fds[i].ha_fd == fd) {
			host_alias_fds[i] = host_alias_fds[--host_alias_n];
			break;
		}
	host_lock_release(&host_alias_lock);
}

static void
host_alias_mark(int fd, unsigned mark)
{
	int was;

	if (fd < 0)
		return;
	if ((was = host_fdtab_mark(fd, mark, 1)) < 0) {
		/* No memory for the table: every search asks everyone. */
		atomic_store(&host_alias_overflow, 1);
		return;
	}
	if ((mark & HOST_FDT_RECEIVED) && !(was & HOST_FDT_RECEIVED))
		atomic_fetch_add(&host_alias_nreceived, 1);
	if ((was & HOST_FDT_ALIASED) == 0)
		host_alias_list_add(fd);
}

/* newfd was made from oldfd (newfd < 0: the call failed). */
void
host_fd_duped(int oldfd, int newfd)
{

	if (newfd < 0 || oldfd == newfd)
		return;
	host_alias_mark(oldfd, HOST_FDT_DUPED);
	host_alias_mark(newfd, HOST_FDT_DUPED);
}

void
host_fd_received(int fd)
{

	host_alias_mark(fd, HOST_FDT_RECEIVED);
}

/*
 * Numbers lo..hi are being closed (or replaced by dup2()): forget their
 * marks, before the close, so that a number the close frees and another
 * thread's dup() takes at once keeps the mark that dup() gives it.
 */
void
host_fd_forget(unsigned lo, unsigned hi)
{
	struct host_alias *fds;
	int i, n, was;

	if (lo == hi) {
		was = host_fdtab_mark((int)lo, HOST_FDT_ALIASED |
		    HOST_FDT_PRIMARKS, 0);
		if (was & HOST_FDT_RECEIVED)
			atomic_fetch_sub(&host_alias_nreceived, 1);
		if (was & HOST_FDT_ALIASED)
			host_alias_list_remove((int)lo);
		return;
	}
	/* A range (close_range(), closefrom()): look only at the marked. */
	host_lock_acquire(&host_alias_lock);
	fds = host_alias_fds;
	n = host_alias_n;
	for (i = 0; i < n; ) {
		if ((unsigned)fds[i].ha_fd < lo || (unsigned)fds[i].ha_fd > hi) {
			i++;
			continue;
		}
		was = host_fdtab_mark(fds[i].ha_fd, HOST_FDT_ALIASED, 0);
		if (was & HOST_FDT_RECEIVED)
			atomic_fetch_sub(&host_alias_nreceived, 1);
		fds[i] = fds[--n];
	}
	host_alias_n = n;
	host_lock_release(&host_alias_lock);
}

/* kcmp(): 0 the same description, ESRCH another, EBADF, or ENOSYS. */
int
hc_fd_same(int fd1, int fd2)
{
	pid_t pid = getpid();
	long r;

	atomic_fetch_add_explicit(&host_stats[HC_STAT_FDCMP], 1,
	    memory_order_relaxed);
	r = syscall(SYS_kcmp, pid, pid, KCMP_FILE, fd1, fd2);
	if (r == 0)
		return (0);
	if (r > 0)
		return (ESRCH);
	return (errno == EBADF ? EBADF : ENOSYS);
}

static int
host_alias_found(int cand, int *aliasp)
{

	/* The kernel may keep it: its close must be heard. */
	host_fdtab_note(cand);
	*aliasp = cand;
	return (0);
}

/* The old way, for when the list is incomplete: ask every descriptor. */
static int
host_alias_scan(int fd, int *aliasp)
{
	struct dirent *de;
	DIR *d;
	int cand, error = ENOENT, dfd, r;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (ENOSYS);
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		cand = atoi(de->d_name);
		if (cand == fd || cand == dfd || host_fd_internal(cand))
			continue;
		if ((r = hc_fd_same(fd, cand)) == 0) {
			error = host_alias_found(cand, aliasp);
			break;
		}
		if (r == ENOSYS) {
			error = ENOSYS;
			break;
		}
	}
	closedir(d);
	return (error);
}

int
hc_fd_alias(int fd, int *aliasp)
{
	int cand[64], error = ENOENT, full = 0, i, n = 0, r;
	unsigned want;
	dev_t dev;
	ino_t ino;

	if (atomic_load(&host_alias_overflow))
		return (host_alias_scan(fd, aliasp));
	if (host_fdtab_get(fd) & HOST_FDT_ALIASED)
		want = HOST_FDT_ALIASED;
	else if (atomic_load(&host_alias_nreceived) > 0)
		want = HOST_FDT_RECEIVED;
	else
		return (ENOENT);
	if (host_alias_stat(fd, &dev, &ino) != 0)
		return (ENOENT);
	/* The candidates, copied so that no lock is held across kcmp(). */
	host_lock_acquire(&host_alias_lock);
	for (i = 0; i < host_alias_n; i++) {
		if (host_alias_fds[i].ha_fd == fd ||
		    host_alias_fds[i].ha_dev != dev ||
		    host_alias_fds[i].ha_ino != ino ||
		    (host_fdtab_get(host_alias_fds[i].ha_fd) & want) == 0)
			continue;
		if (n == (int)(sizeof(cand) / sizeof(cand[0]))) {
			full = 1;
			break;
		}
		cand[n++] = host_alias_fds[i].ha_fd;
	}
	host_lock_release(&host_alias_lock);
	if (full)		/* more than cand holds: ask every descriptor */
		return (host_alias_scan(fd, aliasp));
	for (i = 0; i < n; i++) {
		/* EBADF: closed by a raw system call; its mark is stale. */
		if ((r = hc_fd_same(fd, cand[i])) == 0) {
			error = host_alias_found(cand[i], aliasp);
			break;
		}
		if (r == ENOSYS) {
			error = ENOSYS;
			break;
		}
	}
	return (error);
}

/*
 * What is open as the library starts has a history it did not see (a
 * shell's 2>&1 makes 1 and 2 one description): mark all of it DUPED.
 * A constructor, so that it runs before the program makes numbers of its
 * own; reading the directory costs a few system calls once.
 */
__attribute__((constructor(102)))
static void
host_alias_init(void)
{
	struct dirent *de;
	DIR *d;
	int fd, dfd, saved = errno;

	if ((d = opendir("/proc/self/fd")) == NULL) {
		atomic_store(&host_alias_overflow, 1);
		errno = saved;
		return;
	}
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if ((fd = atoi(de->d_name)) != dfd)
			host_alias_mark(fd, HOST_FDT_DUPED);
	}
	closedir(d);
	errno = saved;
}

void
host_alias_forkprepare(void)
{

	host_lock_acquire(&host_alias_lock);
}

void
host_alias_forkparent(void)
{

	host_lock_release(&host_alias_lock);
}

void
host_alias_forkchild(void)
{

	host_lock_forkchild(&host_alias_lock);
}
