/*
 * Host descriptors: classification, readiness registration in the host
 * epoll instance, state queries, and the queues' own descriptors.
 */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_impl.h"
#include "sys/fail.h"

/* Filesystems whose "regular files" are really event objects. */
#define	HOST_ANON_INODE_MAGIC	0x09041934
#define	HOST_PIDFS_MAGIC	0x50494446

/*
 * Filesystems whose regular files the kernel makes up, where a file may
 * have a poll method (/proc/self/mountinfo reports mount changes).
 */
static const long host_pseudofs_magic[] = {
	0x9fa0,		/* proc */
	0x62656572,	/* sysfs */
	0x27e0eb,	/* cgroup */
	0x63677270,	/* cgroup2 */
	0x64626720,	/* debugfs */
	0x74726163,	/* tracefs */
	0x73636673,	/* securityfs */
	0x62656570,	/* configfs */
};

#define	HOST_REG_PLAIN	0	/* a regular file: epoll refuses it */
#define	HOST_REG_ANON	1	/* an event object (eventfd, pidfd, ...) */
#define	HOST_REG_POLL	2	/* a made-up file with a poll method */

/*
 * What a descriptor that is, or may be, a regular file really is.  Only
 * a regular file on a pseudo filesystem costs a probe of the host's epoll
 * instance.
 */
static int
host_fd_regkind(int fd, const struct stat *st)
{
	struct statfs sfs;
	size_t i;

	/*
	 * eventfd, timerfd, signalfd and epoll descriptors live on the
	 * anonymous inode filesystem: older kernels give them no file type
	 * bits, newer ones may call them regular files.
	 */
	if ((st->st_mode & S_IFMT) == 0)
		return (HOST_REG_ANON);
	if (!S_ISREG(st->st_mode) || fstatfs(fd, &sfs) < 0)
		return (HOST_REG_PLAIN);
	if (sfs.f_type == HOST_ANON_INODE_MAGIC ||
	    sfs.f_type == HOST_PIDFS_MAGIC)
		return (HOST_REG_ANON);
	for (i = 0; i < sizeof(host_pseudofs_magic) /
	    sizeof(host_pseudofs_magic[0]); i++)
		if (sfs.f_type == host_pseudofs_magic[i])
			return (host_fd_pollprobe(fd) == 0 ? HOST_REG_POLL :
			    HOST_REG_PLAIN);
	return (HOST_REG_PLAIN);
}

/*
 * Whether the host's epoll takes fd (0), or its error: EPERM for a file
 * without a poll method.  A registration of our own is removed at once; a
 * descriptor already in the set (EEXIST) polls.
 */
int
hc_fd_canpoll(int fd)
{

	return (host_fd_pollprobe(fd));
}

int
host_fd_pollprobe(int fd)
{
	struct epoll_event ev;
	int epfd, error;

	if ((error = host_epoll_get(&epfd)) != 0)
		return (error);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLET;
	ev.data.u64 = HOST_MKTAG(HOST_TAG_PROBE, 0);
	if (host_sys_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return (errno == EEXIST ? 0 : errno);
	(void)host_sys_epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	return (0);
}

int
hc_fd_stat(int fd, struct hc_fdinfo *fi)
{
	struct stat st;
	socklen_t len;
	int acc, regkind;

	/* The host's own descriptors are not open to the program's calls. */
	if (fd < 0 || host_fd_internal(fd))
		return (EBADF);
	if (fstat(fd, &st) < 0)
		return (errno);
	host_fdtab_note(fd);
	/* Linux's device numbers have 32 bits; glibc spreads them over 64. */
	fi->fi_dev = (unsigned)(st.st_dev ^ (st.st_dev >> 32));
	fi->fi_ino = (unsigned long long)st.st_ino;
	regkind = host_fd_regkind(fd, &st);
	if (regkind == HOST_REG_ANON)
		fi->fi_type = HC_FT_EVENTFD;
	else if (S_ISSOCK(st.st_mode)) {
		acc = 0;
		len = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 &&
		    acc)
			fi->fi_type = HC_FT_LISTEN;
		else
			fi->fi_type = HC_FT_SOCKET;
	} else if (S_ISFIFO(st.st_mode))
		fi->fi_type = HC_FT_FIFO;
	else if (S_ISCHR(st.st_mode))
		fi->fi_type = HC_FT_CHR;
	else if (S_ISREG(st.st_mode))
		fi->fi_type = regkind == HOST_REG_POLL ? HC_FT_OTHER :
		    HC_FT_REG;
	else if (S_ISDIR(st.st_mode))
		fi->fi_type = HC_FT_DIR;
	else
		fi->fi_type = HC_FT_OTHER;
	/* A number closed behind our back may carry an old file's marks. */
	if (regkind == HOST_REG_POLL) {
		if ((host_fdtab_get(fd) & HOST_FDT_PRISTICKY) == 0) {
			(void)host_fdtab_mark(fd, HOST_FDT_PRIPEND |
			    HOST_FDT_PRIINIT, 0);
			(void)host_fdtab_mark(fd, HOST_FDT_PRISTICKY, 1);
		}
	} else if (host_fdtab_get(fd) & HOST_FDT_PRIMARKS)
		(void)host_fdtab_mark(fd, HOST_FDT_PRIMARKS, 0);
	return (0);
}

/*
 * A drain reports revents for cookie's descriptor: the bits to pass up.
 * For a file whose poll consumes its POLLPRI (HOST_FDT_PRISTICKY) the
 * change is kept for the re-check (HOST_FDT_PRIPEND).  Such a file is
 * only woken by a change, and epoll's own look at its ready list (a poll
 * of the epoll descriptor, which every sleeper makes) may have consumed
 * the POLLPRI before epoll_wait() looks: so an epoll report that is not
 * the registration's first is a change, whatever its bits say.
 */
unsigned
host_fd_reported(unsigned long long cookie, unsigned revents, int fromepoll)
{
	unsigned marks;
	int fd;

	fd = host_cookie_fd(cookie);
	marks = host_fdtab_get(fd);
	if ((marks & HOST_FDT_PRISTICKY) == 0)
		return (revents);
	if (fromepoll && (marks & HOST_FDT_PRIINIT) &&
	    (host_fdtab_mark(fd, HOST_FDT_PRIINIT, 0) & HOST_FDT_PRIINIT) &&
	    (revents & POLLPRI) == 0)
		return (revents);
	if (fromepoll)
		revents |= POLLPRI | POLLERR;
	if (revents & POLLPRI)
		(void)host_fdtab_mark(fd, HOST_FDT_PRIPEND, 1);
	return (revents);
}

static _Atomic int *host_soerr_slot(int fd, int create);

int
hc_fd_watch(int fd, unsigned long long cookie, unsigned events,
    int *reportsp)
{
	struct epoll_event ev;
	int epfd, error, locked, queued = 0, was;

	*reportsp = 0;
	if (fd < 0)
		return (EBADF);
	/* Bit 63 marks the host's own registrations (host_impl.h). */
	if (cookie & HOST_TAG)
		return (EINVAL);
	error = host_epoll_get(&epfd);
	if (error != 0)
		return (error);
	host_fdtab_note(fd);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLET;
	if (events & HC_POLLIN)
		ev.events |= EPOLLIN | EPOLLRDHUP;
	if (events & HC_POLLOUT)
		ev.events |= EPOLLOUT;
	if (events & HC_POLLPRI)
		ev.events |= EPOLLPRI;
	ev.data.u64 = cookie;
	/*
	 * The slot a socket error read for EV_EOF is kept in, made now: a
	 * query that read the error (which clears it) must have room to
	 * keep it for the program's getsockopt(), and cannot fail.
	 */
	if (host_soerr_slot(fd, 1) == NULL)
		return (ENOMEM);
	/*
	 * Count the watch before the descriptor is in the epoll set, so
	 * that hc_host_poll() never skips an event because of the count.
	 */
	was = host_fdtab_set(fd, 1);
	if (was < 0)
		return (ENOMEM);
	if (!was) {
		error = host_watch_hold();
		if (error != 0) {
			host_fdtab_set(fd, 0);
			return (error);
		}
	}
	/*
	 * A change of a registration's set is made under the drain lock:
	 * then no drain has sampled fd under the old set and reports it
	 * afterwards, and the kernel can forget what earlier drains said of
	 * fd (file_watch()) knowing that every later report covers the set.
	 */
	locked = was && !host_lock_owned(&host_poll_lock);
	if (locked)
		host_lock_acquire(&host_poll_lock);
	if ((host_fdtab_get(fd) & HOST_FDT_PRISTICKY) && !host_uring_active())
		(void)host_fdtab_mark(fd, HOST_FDT_PRIINIT, 1);
	if (host_uring_active())
		error = host_uring_watch(fd, cookie, &queued);
	else if (host_sys_epoll_ctl(epfd, was ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
	    fd, &ev) < 0) {
		/* The set and the table may disagree after a raw close. */
		error = errno;
		if ((error == EEXIST || error == ENOENT) &&
		    host_sys_epoll_ctl(epfd, error == EEXIST ? EPOLL_CTL_MOD :
		    EPOLL_CTL_ADD, fd, &ev) == 0)
			error = 0;
	}
	if (locked)
		host_lock_release(&host_poll_lock);
	if (error != 0) {
		if (!was) {
			host_fdtab_set(fd, 0);
			host_watch_rele();
		}
		return (error);
	}
	/*
	 * epoll_ctl() queues the descriptor's readiness at once if it has
	 * any, and so does a new io_uring poll request: the next drain
	 * reports it.  An io_uring request that was already armed is left
	 * alone and reports only changes.
	 */
	*reportsp = !host_uring_active() || queued;
	if (!was) {
		atomic_fetch_add(&host_stats[HC_STAT_FDWATCH], 1);
		atomic_fetch_add(&host_stats[HC_STAT_FDWATCH_TOTAL], 1);
	}
	return (0);
}

void
hc_fd_unwatch(int fd, unsigned long long cookie)
{
	int epfd;

	if (host_fdtab_set(fd, 0) != 1)
		return;
	epfd = atomic_load(&host_epfd);
	if (host_uring_active())
		host_uring_unwatch(fd, cookie);
	/* ENOENT/EBADF: the descriptor was closed or replaced under us. */
	else if (epfd >= 0)
		(void)host_sys_epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
	atomic_fetch_sub(&host_stats[HC_STAT_FDWATCH], 1);
	host_watch_rele();
}

static long long
host_ioctl_int(int fd, unsigned long req)
{
	int v;

	if (ioctl(fd, req, &v) < 0)
		return (-1);
	return (v);
}

/*
 * Linux's struct tcp_info up to tcpi_bytes_acked (Linux 4.1): glibc's
 * <netinet/tcp.h> ends before it, and <linux/tcp.h> cannot be included
 * beside it.  The kernel fills what it has and says how much.
 */
struct host_tcp_info {
	struct tcp_info	hti_head;
	uint64_t	hti_pacing_rate;
	uint64_t	hti_max_pacing_rate;
	uint64_t	hti_bytes_acked;
};
_Static_assert(offsetof(struct host_tcp_info, hti_bytes_acked) == 120,
    "tcpi_bytes_acked is at offset 120 in Linux's struct tcp_info");

int
hc_fd_sendq(int fd, long long *unsentp, long long *ackedp)
{
	struct host_tcp_info ti;
	socklen_t len;
	int acc, dom, type;

	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return (errno == ENOTSOCK ? EINVAL : errno);
	*unsentp = host_ioctl_int(fd, SIOCOUTQ);
	if (*unsentp < 0) {
		/* A listener has no send queue: SIOCOUTQ refuses it. */
		acc = 0;
		len = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) < 0 ||
		    !acc)
			return (errno != 0 ? errno : EINVAL);
		*unsentp = 0;
	}
	if (ackedp == NULL)
		return (0);
	*ackedp = -1;
	dom = 0;
	len = sizeof(dom);
	memset(&ti, 0, sizeof(ti));
	if (type == SOCK_STREAM &&
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 &&
	    (dom == AF_INET || dom == AF_INET6)) {
		len = sizeof(ti);
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
		    len >= sizeof(ti))
			*ackedp = (long long)ti.hti_bytes_acked;
	}
	return (0);
}

int
hc_fd_revents(int fd, unsigned *reventsp)
{
	struct pollfd pfd;
	int r;

	atomic_fetch_add_explicit(&host_stats[HC_STAT_FDQUERY], 1,
	    memory_order_relaxed);
	pfd.fd = fd;
	pfd.events = POLLIN | POLLPRI | POLLOUT | POLLRDHUP;
	pfd.revents = 0;
	do {
		r = host_sys_poll(&pfd, 1, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return (errno);
	if (pfd.revents & POLLNVAL)
		return (EBADF);
	if ((host_fdtab_get(fd) & HOST_FDT_PRIPEND) &&
	    (host_fdtab_mark(fd, HOST_FDT_PRIPEND, 0) & HOST_FDT_PRIPEND))
		pfd.revents |= POLLPRI | POLLERR;
	*reventsp = (unsigned)pfd.revents & (HC_POLLIN | HC_POLLPRI |
	    HC_POLLOUT | HC_POLLERR | HC_POLLHUP | HC_POLLRDHUP);
	return (0);
}

int
hc_fd_query(int fd, int type, int want, struct hc_fdstate *fs)
{
	struct tcp_info ti;
	socklen_t len;
	long long q, sz;
	unsigned revents;
	int dom, err, error, sndbuf;

	if ((want & HC_FDQ_HAVEBITS) == 0 &&
	    (error = hc_fd_revents(fd, &fs->fs_revents)) != 0)
		return (error);
	revents = fs->fs_revents;
	fs->fs_nread = -1;
	fs->fs_nwrite = -1;
	fs->fs_error = 0;
	switch (type) {
	case HC_FT_FIFO:
		/*
		 * FIONREAD counts the bytes in the pipe whichever end it is
		 * asked on, so the room left is the capacity minus that.
		 */
		if (want & (HC_FDQ_NREAD | HC_FDQ_NWRITE))
			fs->fs_nread = host_ioctl_int(fd, FIONREAD);
		if ((want & HC_FDQ_NWRITE) == 0)
			break;
		if (revents & POLLOUT) {
			sz = host_sys_fcntl(fd, F_GETPIPE_SZ, 0);
			if (sz > 0 && fs->fs_nread >= 0)
				fs->fs_nwrite = sz > fs->fs_nread ?
				    sz - fs->fs_nread : 0;
			else if (sz > 0)
				fs->fs_nwrite = sz;
		} else
			fs->fs_nwrite = 0;
		break;
	case HC_FT_CHR:
		if (want & HC_FDQ_NREAD)
			fs->fs_nread = host_ioctl_int(fd, FIONREAD);
		break;
	case HC_FT_SOCKET:
		if (want & HC_FDQ_NREAD)
			fs->fs_nread = host_ioctl_int(fd, FIONREAD);
		if ((want & HC_FDQ_NWRITE) == 0)
			break;
		len = sizeof(sndbuf);
		q = host_ioctl_int(fd, SIOCOUTQ);
		if (q >= 0 && getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
		    &len) == 0)
			fs->fs_nwrite = sndbuf > q ? sndbuf - q : 0;
		break;
	case HC_FT_LISTEN:
		dom = 0;
		len = sizeof(dom);
		memset(&ti, 0, sizeof(ti));
		(void)getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len);
		len = sizeof(ti);
		/* A TCP listener reports its accept queue in tcpi_unacked. */
		if ((dom == AF_INET || dom == AF_INET6) &&
		    getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
		    len >= offsetof(struct tcp_info, tcpi_unacked) +
		    sizeof(ti.tcpi_unacked))
			fs->fs_nread = ti.tcpi_unacked;
		else
			fs->fs_nread = (revents & POLLIN) ? 1 : 0;
		break;
	case HC_FT_EVENTFD:
		fs->fs_nread = (revents & POLLIN) ? 8 : 0;
		fs->fs_nwrite = (revents & POLLOUT) ? 8 : 0;
		break;
	default:
		break;
	}
	/*
	 * Reading SO_ERROR clears it, so only when there is one to report,
	 * and what is read is kept for the program (host_soerr_take()).
	 */
	if ((type == HC_FT_SOCKET || type == HC_FT_LISTEN) &&
	    (revents & (POLLERR | POLLHUP))) {
		err = 0;
		len = sizeof(err);
		if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == 0) {
			if (err != 0)
				host_soerr_stash(fd, err);
			else
				err = host_soerr_peek(fd);
			fs->fs_error = err;
		}
	}
	return (0);
}

/*
 * Socket errors read for EV_EOF's fflags.  Linux has no way to look at a
 * socket's pending error without clearing it, yet a program ported from
 * BSD asks getsockopt(SO_ERROR) after a failed non-blocking connect() and
 * must get the error, not 0.  So the error the kernel consumed is kept
 * here, per descriptor number, and libevring's getsockopt() hands it over
 * (once) when the socket itself has nothing newer; closing or replacing
 * the number forgets it.
 */
#define	SOERR_CHUNKSHIFT	12
#define	SOERR_CHUNK		(1 << SOERR_CHUNKSHIFT)
#define	SOERR_NCHUNKS		(1 << (31 - SOERR_CHUNKSHIFT))
static _Atomic(_Atomic int *) host_soerr[SOERR_NCHUNKS];
static _Atomic int host_soerr_maxfd = -1;

static _Atomic int *
host_soerr_slot(int fd, int create)
{
	_Atomic int *chunk, *fresh = NULL;

	if (fd < 0)
		return (NULL);
	chunk = atomic_load(&host_soerr[fd >> SOERR_CHUNKSHIFT]);
	if (chunk == NULL && create) {
		fresh = FAIL_POINT_CALL("host:soerr_table", ENOMEM, NULL,
		    calloc(SOERR_CHUNK, sizeof(*fresh)));
		if (fresh == NULL)
			return (NULL);
		if (atomic_compare_exchange_strong(
		    &host_soerr[fd >> SOERR_CHUNKSHIFT], &chunk, fresh))
			chunk = fresh;
		else
			free(fresh);	/* another thread's won */
	}
	return (chunk == NULL ? NULL : &chunk[fd & (SOERR_CHUNK - 1)]);
}

void
host_soerr_stash(int fd, int err)
{
	_Atomic int *slot;
	int max;

	if ((slot = host_soerr_slot(fd, 1)) == NULL)
		return;
	atomic_store(slot, err);
	max = atomic_load(&host_soerr_maxfd);
	while (fd > max &&
	    !atomic_compare_exchange_weak(&host_soerr_maxfd, &max, fd))
		continue;
}

int
host_soerr_peek(int fd)
{
	_Atomic int *slot;

	slot = host_soerr_slot(fd, 0);
	return (slot == NULL ? 0 : atomic_load(slot));
}

int
host_soerr_take(int fd)
{
	_Atomic int *slot;

	slot = host_soerr_slot(fd, 0);
	return (slot == NULL ? 0 : atomic_exchange(slot, 0));
}

void
host_soerr_forget(unsigned lo, unsigned hi)
{
	_Atomic int *slot;
	int max;
	unsigned fd;

	max = atomic_load(&host_soerr_maxfd);
	if (max < 0 || lo > (unsigned)max)
		return;
	if (hi > (unsigned)max)
		hi = (unsigned)max;
	for (fd = lo; fd <= hi; fd++)
		if ((slot = host_soerr_slot((int)fd, 0)) != NULL)
			atomic_store_explicit(slot, 0, memory_order_relaxed);
}

int
hc_fd_remaining(int fd, long long *remainp)
{
	struct stat st;
	off_t off;

	if (fstat(fd, &st) < 0)
		return (errno);
	off = lseek(fd, 0, SEEK_CUR);
	if (off < 0)
		return (errno);
	*remainp = st.st_size > off ? (long long)(st.st_size - off) : 0;
	return (0);
}

void
hc_fd_close(int fd)
{

	host_close(fd);
}

int
hc_kqfd_create(int *fdp, int internal)
{
	int error, fd;

	if ((error = host_epoll_get(&fd)) != 0)
		return (error);
	fd = FAIL_POINT_CALL("host:eventfd:kqfd", EMFILE, -1, host_eventfd());
	if (fd < 0)
		return (errno);
	if (internal)
		fd = host_fd_own(fd);
	host_fdtab_note(fd);
	*fdp = fd;
	return (0);
}

void
hc_kqfd_set(int fd, int ready)
{
	uint64_t v = 1;

	/* Idempotent: an eventfd stays readable while its count is > 0. */
	if (ready)
		(void)write(fd, &v, sizeof(v));
	else
		(void)read(fd, &v, sizeof(v));
}

int
hc_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > INT32_MAX)
		return (INT32_MAX);
	return ((int)rl.rlim_cur);
}
