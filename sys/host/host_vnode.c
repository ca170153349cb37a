/*
 * Vnode watches on inotify.
 *
 * inotify watches inodes, not descriptors: two descriptors on one file get
 * the same watch descriptor (wd).  So the host keeps one record per wd
 * (host_vwd) with the list of kernel watches on it, and removes the inotify
 * watch when the last of them goes.  Each kernel watch remembers the size,
 * link count and owner/mode it last saw through its own descriptor, which
 * is how NOTE_EXTEND, NOTE_LINK and NOTE_DELETE are told from a bare
 * "modified" or "attributes changed" (unlinking an open file reaches
 * inotify only as IN_ATTRIB).
 *
 * The inotify descriptor is in the host epoll instance, and inotify queues
 * an event before the file operation returns, so hc_host_poll() right
 * after a change always sees it.
 */
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_impl.h"
#include "sys/fail.h"

/*
 * EVFILT_VNODE notes.  These are sys/sys/event.h's values; that header
 * belongs to the kernel's world and cannot be included here.
 */
#define	NOTE_DELETE	0x0001
#define	NOTE_WRITE	0x0002
#define	NOTE_EXTEND	0x0004
#define	NOTE_ATTRIB	0x0008
#define	NOTE_LINK	0x0010
#define	NOTE_RENAME	0x0020
#define	NOTE_REVOKE	0x0040
#define	NOTE_OPEN	0x0080
#define	NOTE_CLOSE	0x0100
#define	NOTE_CLOSE_WRITE 0x0200
#define	NOTE_READ	0x0400

#define	HOST_IN_MASK	(IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | \
	    IN_DELETE_SELF | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	    IN_MOVED_TO | IN_UNMOUNT)
#define	HOST_IN_DIRENT	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
/* Events inotify queues for every open, close or read: only when asked. */
#define	HOST_IN_ASKED	(IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | \
	    IN_ACCESS)

struct host_vwd;

struct hc_vwatch {
	struct hc_vwatch	*vw_next;	/* on vw_wd's list */
	struct host_vwd		*vw_wd;		/* NULL when dead (fork) */
	unsigned long long	vw_cookie;
	int			vw_fd;
	long long		vw_size;
	unsigned long		vw_nlink;
	unsigned		vw_mode, vw_uid, vw_gid;
	int			vw_deleted;	/* NOTE_DELETE reported */
	uint32_t		vw_asked;	/* HOST_IN_ASKED events wanted */
	unsigned		vw_pending;	/* notes host_vn_out had no */
						/* room for; vnode lock */
};

struct host_vwd {
	struct host_vwd		*wd_next;	/* hash chain */
	struct host_vwd		*wd_anext;	/* every record, for fork */
	struct host_vwd		**wd_aprevp;
	int			wd_wd;
	int			wd_hashed;	/* 0 once inotify dropped it */
	int			wd_dir;
	uint32_t		wd_asked;	/* inotify has these asked */
	struct hc_vwatch	*wd_watches;
};

#define	HOST_VWD_HASH	256
static struct host_vwd *host_vwd_hash[HOST_VWD_HASH];
static struct host_vwd *host_vwd_all;
static struct host_lock host_vnode_lock =
    HOST_LOCK_INITIALIZER("host vnode lock");
static _Atomic int host_ino_fd = -1;

/* Upcalls collected under the vnode lock, made after it is dropped. */
struct host_vnote {
	unsigned long long	vn_cookie;
	unsigned		vn_notes;
};
static struct host_vnote *host_vn_out;	/* poll lock */
static size_t host_vn_n, host_vn_cap;

static struct host_vwd **
host_vwd_slot(int wd)
{

	return (&host_vwd_hash[(unsigned)wd % HOST_VWD_HASH]);
}

static struct host_vwd *
host_vwd_find(int wd)
{
	struct host_vwd *vd;

	for (vd = *host_vwd_slot(wd); vd != NULL; vd = vd->wd_next)
		if (vd->wd_wd == wd)
			return (vd);
	return (NULL);
}

static void
host_vwd_unhash(struct host_vwd *vd)
{
	struct host_vwd **pp;

	if (!vd->wd_hashed)
		return;
	for (pp = host_vwd_slot(vd->wd_wd); *pp != NULL;
	    pp = &(*pp)->wd_next) {
		if (*pp == vd) {
			*pp = vd->wd_next;
			break;
		}
	}
	vd->wd_hashed = 0;
	atomic_fetch_sub(&host_stats[HC_STAT_VWATCH], 1);
}

static void
host_vw_record(struct hc_vwatch *vw, const struct stat *st)
{

	vw->vw_size = (long long)st->st_size;
	vw->vw_nlink = (unsigned long)st->st_nlink;
	vw->vw_mode = st->st_mode;
	vw->vw_uid = st->st_uid;
	vw->vw_gid = st->st_gid;
}

/* The inotify events that report the asked-for notes. */
static uint32_t
host_vnode_asked(unsigned notes)
{
	uint32_t m = 0;

	if (notes & NOTE_OPEN)
		m |= IN_OPEN;
	if (notes & NOTE_CLOSE)
		m |= IN_CLOSE_NOWRITE;
	if (notes & NOTE_CLOSE_WRITE)
		m |= IN_CLOSE_WRITE;
	if (notes & NOTE_READ)
		m |= IN_ACCESS;
	return (m);
}

/*
 * Make inotify's mask for vd's inode what its watches ask for: the same
 * path names the same inode, so inotify_add_watch() replaces the mask of
 * the watch it has.  Vnode lock held.
 */
static int
host_vwd_setmask(struct host_vwd *vd, int fd, uint32_t asked)
{
	char path[64];
	int ino;

	if (asked == vd->wd_asked || !vd->wd_hashed)
		return (0);
	ino = atomic_load(&host_ino_fd);
	if (ino < 0)
		return (0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (inotify_add_watch(ino, path, HOST_IN_MASK | asked) < 0)
		return (errno);
	vd->wd_asked = asked;
	return (0);
}

static int
host_ino_get(int *fdp)
{
	struct epoll_event ev;
	int epfd, error, fd;

	fd = atomic_load(&host_ino_fd);
	if (fd >= 0) {
		*fdp = fd;
		return (0);
	}
	error = host_epoll_get(&epfd);
	if (error != 0)
		return (error);
	host_lock_acquire(&host_setup_lock);
	fd = atomic_load(&host_ino_fd);
	if (fd < 0) {
		fd = FAIL_POINT_CALL("host:inotify_init", EMFILE, -1,
		    inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
		if (fd < 0) {
			error = errno;
			goto out;
		}
		fd = host_fd_own(fd);
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLET;
		ev.data.u64 = HOST_MKTAG(HOST_TAG_INOTIFY, 0);
		if (host_sys_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			error = errno;
			host_close(fd);
			fd = -1;
			goto out;
		}
		atomic_store(&host_ino_fd, fd);
	}
out:
	host_lock_release(&host_setup_lock);
	*fdp = fd;
	return (error);
}

int
hc_vnode_watch(int fd, unsigned long long cookie, unsigned notes,
    struct hc_vwatch **wp)
{
	struct hc_vwatch *vw;
	struct host_vwd *vd;
	struct stat st;
	char path[64];
	int error, ino, wd;

	if (fstat(fd, &st) < 0)
		return (errno);
	error = host_ino_get(&ino);
	if (error != 0)
		return (error);
	vw = FAIL_POINT_CALL("host:vnode_watch", ENOMEM, NULL,
	    calloc(1, sizeof(*vw)));
	if (vw == NULL)
		return (ENOMEM);
	vw->vw_cookie = cookie;
	vw->vw_fd = fd;
	vw->vw_asked = host_vnode_asked(notes);
	host_vw_record(vw, &st);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	host_lock_acquire(&host_vnode_lock);
	error = host_watch_hold();
	if (error != 0)
		goto fail;
	/* Another watch on the inode keeps what it asked for. */
	wd = inotify_add_watch(ino, path, HOST_IN_MASK | IN_MASK_ADD |
	    vw->vw_asked);
	if (wd < 0) {
		error = errno;
		host_watch_rele();
		goto fail;
	}
	vd = host_vwd_find(wd);
	if (vd == NULL) {
		vd = FAIL_POINT_CALL("host:vnode_wd", ENOMEM, NULL,
		    calloc(1, sizeof(*vd)));
		if (vd == NULL) {
			error = ENOMEM;
			(void)inotify_rm_watch(ino, wd);
			host_watch_rele();
			goto fail;
		}
		vd->wd_wd = wd;
		vd->wd_dir = S_ISDIR(st.st_mode);
		vd->wd_hashed = 1;
		vd->wd_next = *host_vwd_slot(wd);
		*host_vwd_slot(wd) = vd;
		vd->wd_anext = host_vwd_all;
		if (vd->wd_anext != NULL)
			vd->wd_anext->wd_aprevp = &vd->wd_anext;
		vd->wd_aprevp = &host_vwd_all;
		host_vwd_all = vd;
		atomic_fetch_add(&host_stats[HC_STAT_VWATCH], 1);
	}
	vd->wd_asked |= vw->vw_asked;
	vw->vw_wd = vd;
	vw->vw_next = vd->wd_watches;
	vd->wd_watches = vw;
	host_lock_release(&host_vnode_lock);
	*wp = vw;
	return (0);
fail:
	host_lock_release(&host_vnode_lock);
	free(vw);
	return (error);
}

int
hc_vnode_want(struct hc_vwatch *w, unsigned notes)
{
	uint32_t asked;
	int error = 0;

	asked = host_vnode_asked(notes);
	host_lock_acquire(&host_vnode_lock);
	if ((asked & ~w->vw_asked) != 0 && w->vw_wd != NULL) {
		error = host_vwd_setmask(w->vw_wd, w->vw_fd,
		    w->vw_wd->wd_asked | asked);
		if (error == 0)
			w->vw_asked |= asked;
	}
	host_lock_release(&host_vnode_lock);
	return (error);
}

void
hc_vnode_unwatch(struct hc_vwatch *w)
{
	struct hc_vwatch *ow;
	uint32_t asked;
	struct hc_vwatch **pp;
	struct host_vwd *vd;
	int ino;

	if (w == NULL)
		return;
	host_lock_acquire(&host_vnode_lock);
	vd = w->vw_wd;
	if (vd != NULL) {
		for (pp = &vd->wd_watches; *pp != NULL; pp = &(*pp)->vw_next) {
			if (*pp == w) {
				*pp = w->vw_next;
				break;
			}
		}
		if (vd->wd_watches != NULL) {
			/* Stop the events only w asked for (best effort). */
			asked = 0;
			for (ow = vd->wd_watches; ow != NULL; ow = ow->vw_next)
				asked |= ow->vw_asked;
			(void)host_vwd_setmask(vd, vd->wd_watches->vw_fd,
			    asked);
		} else {
			ino = atomic_load(&host_ino_fd);
			if (vd->wd_hashed && ino >= 0)
				(void)inotify_rm_watch(ino, vd->wd_wd);
			host_vwd_unhash(vd);
			*vd->wd_aprevp = vd->wd_anext;
			if (vd->wd_anext != NULL)
				vd->wd_anext->wd_aprevp = vd->wd_aprevp;
			free(vd);
		}
		host_watch_rele();
	}
	host_lock_release(&host_vnode_lock);
	free(w);
}

/* The notes one inotify event means for one watch.  Vnode lock held. */
static unsigned
host_vnode_notes(struct host_vwd *vd, struct hc_vwatch *vw, uint32_t m)
{
	struct stat st;
	unsigned n = 0;
	int attrib;

	if (m & IN_MODIFY)
		n |= NOTE_WRITE;
	if (m & HOST_IN_DIRENT) {
		n |= NOTE_WRITE;
		/* A subdirectory's ".." is a link to its parent. */
		if (m & IN_ISDIR)
			n |= NOTE_LINK;
	}
	if (m & IN_DELETE_SELF) {
		n |= NOTE_DELETE;
		vw->vw_deleted = 1;
	}
	if (m & IN_MOVE_SELF)
		n |= NOTE_RENAME;
	if (m & IN_UNMOUNT)
		n |= NOTE_REVOKE;
	if ((m & IN_IGNORED) && !vw->vw_deleted)
		n |= NOTE_REVOKE;
	attrib = (m & IN_ATTRIB) != 0;
	if ((m & (IN_MODIFY | IN_ATTRIB | HOST_IN_DIRENT | IN_Q_OVERFLOW)) &&
	    fstat(vw->vw_fd, &st) == 0) {
		if ((m & (IN_MODIFY | IN_Q_OVERFLOW)) && !vd->wd_dir &&
		    (long long)st.st_size > vw->vw_size)
			n |= NOTE_EXTEND | NOTE_WRITE;
		if ((unsigned long)st.st_nlink != vw->vw_nlink) {
			n |= NOTE_LINK;
			/* Unlinking an open file shows up only as IN_ATTRIB. */
			if (st.st_nlink == 0 && !vw->vw_deleted) {
				n |= NOTE_DELETE;
				vw->vw_deleted = 1;
			}
			/*
			 * A link count change is IN_ATTRIB too; it is an
			 * attribute change only if something else moved.
			 */
			if (st.st_mode == vw->vw_mode &&
			    st.st_uid == vw->vw_uid && st.st_gid == vw->vw_gid)
				attrib = 0;
		}
		host_vw_record(vw, &st);
	}
	if (attrib)
		n |= NOTE_ATTRIB;
	if (m & IN_Q_OVERFLOW)
		n |= NOTE_WRITE;
	/* Only the watches that asked: another's mask may have added them. */
	if (m & vw->vw_asked & IN_OPEN)
		n |= NOTE_OPEN;
	if (m & vw->vw_asked & IN_CLOSE_NOWRITE)
		n |= NOTE_CLOSE;
	if (m & vw->vw_asked & IN_CLOSE_WRITE)
		n |= NOTE_CLOSE_WRITE;
	if (m & vw->vw_asked & IN_ACCESS)
		n |= NOTE_READ;
	return (n);
}

/*
 * Queue notes for vw's upcall, made once the vnode lock is released.  If
 * host_vn_out cannot grow they wait in the watch itself (vw_pending), for
 * host_vn_flush_pending(): a shortage delays notes, never loses them.
 */
static int host_vn_pending;	/* some watch has vw_pending; poll lock */

static void
host_vn_emit(struct hc_vwatch *vw, unsigned notes)
{
	struct host_vnote *nv;
	size_t ncap;

	if (notes == 0)
		return;
	if (host_vn_n == host_vn_cap) {
		ncap = host_vn_cap == 0 ? 32 : host_vn_cap * 2;
		nv = FAIL_POINT_CALL("host:vnode_notes", ENOMEM, NULL,
		    realloc(host_vn_out, ncap * sizeof(*nv)));
		if (nv == NULL) {
			vw->vw_pending |= notes;
			host_vn_pending = 1;
			return;
		}
		host_vn_out = nv;
		host_vn_cap = ncap;
	}
	host_vn_out[host_vn_n].vn_cookie = vw->vw_cookie;
	host_vn_out[host_vn_n].vn_notes = notes;
	host_vn_n++;
}

static void
host_vnode_event(const struct inotify_event *ie)
{
	struct hc_vwatch *vw;
	struct host_vwd *vd;
	uint32_t m;
	int i;

	if (ie->mask & IN_Q_OVERFLOW) {
		for (i = 0; i < HOST_VWD_HASH; i++)
			for (vd = host_vwd_hash[i]; vd != NULL;
			    vd = vd->wd_next)
				for (vw = vd->wd_watches; vw != NULL;
				    vw = vw->vw_next)
					host_vn_emit(vw, host_vnode_notes(vd,
					    vw, IN_Q_OVERFLOW));
		return;
	}
	vd = host_vwd_find(ie->wd);
	if (vd == NULL)
		return;		/* removed by us; its IN_IGNORED trails */
	/*
	 * An event naming an entry of a watched directory is about that
	 * entry; only adding, removing or renaming one changes the
	 * directory itself.
	 */
	m = ie->mask;
	if (ie->len > 0)
		m &= HOST_IN_DIRENT | IN_ISDIR;
	if (m == 0)
		return;
	for (vw = vd->wd_watches; vw != NULL; vw = vw->vw_next)
		host_vn_emit(vw, host_vnode_notes(vd, vw, m));
	/* inotify has dropped the watch: nothing left to remove later. */
	if (ie->mask & IN_IGNORED)
		host_vwd_unhash(vd);
}

/*
 * The notes that waited in their watches, one upcall at a time: the
 * cookie and notes are taken under the vnode lock (the watch may go once
 * it is released; a stale cookie is the kernel's to drop).
 */
static void
host_vn_flush_pending(const struct hc_upcalls *up)
{
	struct hc_vwatch *vw;
	struct host_vwd *vd;
	unsigned long long cookie;
	unsigned notes;

	while (host_vn_pending) {
		notes = 0;
		host_lock_acquire(&host_vnode_lock);
		for (vd = host_vwd_all; vd != NULL && notes == 0;
		    vd = vd->wd_anext)
			for (vw = vd->wd_watches; vw != NULL; vw = vw->vw_next)
				if (vw->vw_pending != 0) {
					cookie = vw->vw_cookie;
					notes = vw->vw_pending;
					vw->vw_pending = 0;
					break;
				}
		if (notes == 0)
			host_vn_pending = 0;
		host_lock_release(&host_vnode_lock);
		if (notes != 0 && up != NULL && up->hu_vnode != NULL)
			up->hu_vnode(cookie, notes);
	}
}

void
host_vnode_dispatch(void)
{
	char buf[4096]
	    __attribute__((__aligned__(__alignof__(struct inotify_event))));
	const struct hc_upcalls *up;
	const struct inotify_event *ie;
	ssize_t n, off;
	size_t i;
	int ino;

	ino = atomic_load(&host_ino_fd);
	if (ino < 0)
		return;
	up = atomic_load(&host_upcalls);
	for (;;) {
		n = read(ino, buf, sizeof(buf));
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;		/* EAGAIN: drained, as ET requires */
		}
		host_vn_n = 0;
		host_lock_acquire(&host_vnode_lock);
		for (off = 0; off < n;
		    off += (ssize_t)(sizeof(*ie) + ie->len)) {
			ie = (const struct inotify_event *)(buf + off);
			host_vnode_event(ie);
		}
		host_lock_release(&host_vnode_lock);
		for (i = 0; i < host_vn_n; i++)
			if (up != NULL && up->hu_vnode != NULL)
				up->hu_vnode(host_vn_out[i].vn_cookie,
				    host_vn_out[i].vn_notes);
		host_vn_flush_pending(up);
	}
}

void
host_vnode_forkprepare(void)
{

	host_lock_acquire(&host_vnode_lock);
}

void
host_vnode_forkparent(void)
{

	host_lock_release(&host_vnode_lock);
}

void
host_vnode_forkchild(void)
{
	struct hc_vwatch *vw, *nvw;
	struct host_vwd *vd, *nvd;

	host_lock_forkchild(&host_vnode_lock);
	/*
	 * The inotify instance is shared with the parent: close our
	 * descriptor, never remove watches through it.  The kernel may still
	 * unwatch its hc_vwatch objects, so they stay allocated, detached.
	 */
	for (vd = host_vwd_all; vd != NULL; vd = nvd) {
		nvd = vd->wd_anext;
		for (vw = vd->wd_watches; vw != NULL; vw = nvw) {
			nvw = vw->vw_next;
			vw->vw_wd = NULL;
			vw->vw_next = NULL;
		}
		free(vd);
	}
	host_vwd_all = NULL;
	memset(host_vwd_hash, 0, sizeof(host_vwd_hash));
	host_close(atomic_exchange(&host_ino_fd, -1));
}
