/*
 * t_vnode: EVFILT_VNODE on an open file or directory descriptor.  Each
 * note (NOTE_WRITE, NOTE_EXTEND, NOTE_ATTRIB, NOTE_LINK, NOTE_DELETE,
 * NOTE_RENAME, NOTE_OPEN, NOTE_CLOSE, NOTE_CLOSE_WRITE, NOTE_READ) is
 * reported for the operation that causes it, only the
 * registered notes are reported, EV_CLEAR accumulates notes until they are
 * delivered, and every change is visible to a zero-timeout kevent() made
 * right after the operation returns (so every positive check here uses a
 * zero timeout).
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <atf-c.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h_evring.h"

#define	ALLNOTES	(NOTE_DELETE | NOTE_WRITE | NOTE_EXTEND | \
			 NOTE_ATTRIB | NOTE_LINK | NOTE_RENAME | NOTE_REVOKE)

/* A fresh temporary directory and a 16-byte file "f" in it, opened O_RDWR. */
struct fixture {
	char	dir[64];
	char	path[PATH_MAX];
	int	fd;
	int	kq;
};

static void
setup(struct fixture *fx)
{
	strcpy(fx->dir, "/tmp/t_vnode.XXXXXX");
	ATF_REQUIRE(mkdtemp(fx->dir) != NULL);
	snprintf(fx->path, sizeof(fx->path), "%s/f", fx->dir);
	ATF_REQUIRE((fx->fd = open(fx->path, O_RDWR | O_CREAT | O_TRUNC,
	    0600)) >= 0);
	ATF_REQUIRE_EQ(16, write(fx->fd, "0123456789abcdef", 16));
	ATF_REQUIRE((fx->kq = kqueue()) >= 0);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return (0);
}

/* Best-effort removal of whatever a case left in the directory. */
static void
teardown(struct fixture *fx)
{
	close(fx->kq);
	close(fx->fd);
	(void)nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Exactly one vnode event for fd, now (zero timeout); returns its fflags. */
#define	VNODE_NOW(fx)							\
	(KEV_ONE((fx)->kq, 0, (fx)->fd, EVFILT_VNODE).fflags)

ATF_TC(note_write);
ATF_TC_HEAD(note_write, tc)
{
	atf_tc_set_md_var(tc, "descr", "Overwriting a file's bytes reports "
	    "NOTE_WRITE (and not NOTE_EXTEND: the size did not change)");
}
ATF_TC_BODY(note_write, tc)
{
	struct fixture fx;
	unsigned int ff;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_WRITE | NOTE_EXTEND, 0, NULL);
	KEV_NONE(fx.kq, 0);
	ATF_REQUIRE_EQ(4, pwrite(fx.fd, "WXYZ", 4, 0));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_WRITE, ff, "fflags %#x", ff);
	KEV_NONE(fx.kq, 0);
	teardown(&fx);
}

ATF_TC(note_extend);
ATF_TC_HEAD(note_extend, tc)
{
	atf_tc_set_md_var(tc, "descr", "A write past the end reports "
	    "NOTE_EXTEND, and with it NOTE_WRITE, as on FreeBSD, where a "
	    "change reports all its notes once one is registered; with only "
	    "NOTE_EXTEND registered, an overwrite inside the file reports "
	    "nothing");
}
ATF_TC_BODY(note_extend, tc)
{
	struct fixture fx;
	unsigned int ff;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_EXTEND, 0, NULL);
	ATF_REQUIRE_EQ(2, pwrite(fx.fd, "ab", 2, 3));
	KEV_NONE(fx.kq, 0);
	KEV_NONE(fx.kq, 50);

	ATF_REQUIRE_EQ(4, pwrite(fx.fd, "tail", 4, 100));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_EXTEND | NOTE_WRITE, ff, "fflags %#x", ff);

	/* With NOTE_WRITE too, growth reports both. */
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_EXTEND | NOTE_WRITE, 0, NULL);
	KEV_NONE(fx.kq, 0);
	ATF_REQUIRE_EQ(4, pwrite(fx.fd, "more", 4, 200));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_EXTEND | NOTE_WRITE, ff, "fflags %#x", ff);
	teardown(&fx);
}

ATF_TC(note_attrib);
ATF_TC_HEAD(note_attrib, tc)
{
	atf_tc_set_md_var(tc, "descr", "fchmod() and futimes() each report "
	    "NOTE_ATTRIB");
}
ATF_TC_BODY(note_attrib, tc)
{
	struct timeval tv[2];
	struct fixture fx;
	unsigned int ff;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_ATTRIB, 0, NULL);
	KEV_NONE(fx.kq, 0);

	ATF_REQUIRE_EQ(0, fchmod(fx.fd, 0644));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_ATTRIB, ff, "fflags %#x", ff);
	KEV_NONE(fx.kq, 0);

	tv[0].tv_sec = 1000000;
	tv[0].tv_usec = 0;
	tv[1] = tv[0];
	ATF_REQUIRE_EQ(0, futimes(fx.fd, tv));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_ATTRIB, ff, "fflags %#x", ff);

	ATF_REQUIRE_EQ(0, utimes(fx.path, NULL));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_ATTRIB, ff, "fflags %#x", ff);
	teardown(&fx);
}

ATF_TC(note_link);
ATF_TC_HEAD(note_link, tc)
{
	atf_tc_set_md_var(tc, "descr", "link() to a watched file changes its "
	    "link count and reports NOTE_LINK");
}
ATF_TC_BODY(note_link, tc)
{
	char path2[PATH_MAX];
	struct fixture fx;
	struct stat st;
	unsigned int ff;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_LINK, 0, NULL);
	KEV_NONE(fx.kq, 0);
	snprintf(path2, sizeof(path2), "%s/g", fx.dir);
	ATF_REQUIRE_EQ(0, link(fx.path, path2));
	ATF_REQUIRE_EQ(0, fstat(fx.fd, &st));
	ATF_REQUIRE_EQ(2, st.st_nlink);
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_LINK, ff, "fflags %#x", ff);
	KEV_NONE(fx.kq, 0);
	teardown(&fx);
}

ATF_TC(note_delete);
ATF_TC_HEAD(note_delete, tc)
{
	atf_tc_set_md_var(tc, "descr", "unlink() of a watched file's only name "
	    "reports NOTE_DELETE, though the open descriptor keeps the file");
}
ATF_TC_BODY(note_delete, tc)
{
	struct fixture fx;
	unsigned int ff;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_DELETE, 0, NULL);
	KEV_NONE(fx.kq, 0);
	ATF_REQUIRE_EQ(0, unlink(fx.path));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_DELETE, ff, "fflags %#x", ff);
	teardown(&fx);
}

ATF_TC(note_rename);
ATF_TC_HEAD(note_rename, tc)
{
	atf_tc_set_md_var(tc, "descr", "rename() of a watched file reports "
	    "NOTE_RENAME");
}
ATF_TC_BODY(note_rename, tc)
{
	char path2[PATH_MAX];
	struct fixture fx;
	unsigned int ff;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_RENAME, 0, NULL);
	KEV_NONE(fx.kq, 0);
	snprintf(path2, sizeof(path2), "%s/renamed", fx.dir);
	ATF_REQUIRE_EQ(0, rename(fx.path, path2));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_RENAME, ff, "fflags %#x", ff);
	teardown(&fx);
}

ATF_TC(dir_write);
ATF_TC_HEAD(dir_write, tc)
{
	atf_tc_set_md_var(tc, "descr", "A watched directory reports NOTE_WRITE "
	    "when an entry is created in it and again when one is removed");
}
ATF_TC_BODY(dir_write, tc)
{
	char path2[PATH_MAX];
	struct fixture fx;
	unsigned int ff;
	int d, f;

	setup(&fx);
	ATF_REQUIRE((d = open(fx.dir, O_RDONLY | O_DIRECTORY)) >= 0);
	KEV_CHANGE(fx.kq, d, EVFILT_VNODE, EV_ADD | EV_CLEAR, NOTE_WRITE, 0,
	    NULL);
	KEV_NONE(fx.kq, 0);

	snprintf(path2, sizeof(path2), "%s/new", fx.dir);
	ATF_REQUIRE((f = open(path2, O_WRONLY | O_CREAT, 0600)) >= 0);
	ff = KEV_ONE(fx.kq, 0, d, EVFILT_VNODE).fflags;
	ATF_CHECK_EQ_MSG(NOTE_WRITE, ff, "fflags %#x", ff);
	KEV_NONE(fx.kq, 0);

	/* Writing the entry's contents is not a change of the directory. */
	ATF_REQUIRE_EQ(3, write(f, "abc", 3));
	ATF_REQUIRE_EQ(0, close(f));
	KEV_NONE(fx.kq, 50);

	ATF_REQUIRE_EQ(0, unlink(path2));
	ff = KEV_ONE(fx.kq, 0, d, EVFILT_VNODE).fflags;
	ATF_CHECK_EQ_MSG(NOTE_WRITE, ff, "fflags %#x", ff);
	close(d);
	teardown(&fx);
}

ATF_TC(dir_link);
ATF_TC_HEAD(dir_link, tc)
{
	atf_tc_set_md_var(tc, "descr", "Creating a subdirectory reports "
	    "NOTE_LINK on the parent directory (its link count changes); a "
	    "plain file does not");
}
ATF_TC_BODY(dir_link, tc)
{
	char path2[PATH_MAX];
	struct fixture fx;
	unsigned int ff;
	int d, f;

	setup(&fx);
	ATF_REQUIRE((d = open(fx.dir, O_RDONLY | O_DIRECTORY)) >= 0);
	KEV_CHANGE(fx.kq, d, EVFILT_VNODE, EV_ADD | EV_CLEAR, NOTE_LINK, 0,
	    NULL);

	snprintf(path2, sizeof(path2), "%s/plain", fx.dir);
	ATF_REQUIRE((f = open(path2, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(f);
	KEV_NONE(fx.kq, 50);

	snprintf(path2, sizeof(path2), "%s/sub", fx.dir);
	ATF_REQUIRE_EQ(0, mkdir(path2, 0700));
	ff = KEV_ONE(fx.kq, 0, d, EVFILT_VNODE).fflags;
	ATF_CHECK_EQ_MSG(NOTE_LINK, ff, "fflags %#x", ff);

	ATF_REQUIRE_EQ(0, rmdir(path2));
	ff = KEV_ONE(fx.kq, 0, d, EVFILT_VNODE).fflags;
	ATF_CHECK_EQ_MSG(NOTE_LINK, ff, "fflags %#x", ff);
	close(d);
	teardown(&fx);
}

ATF_TC(only_registered);
ATF_TC_HEAD(only_registered, tc)
{
	atf_tc_set_md_var(tc, "descr", "Only changes with a registered note "
	    "are reported: with NOTE_WRITE alone, fchmod() reports nothing, "
	    "a write inside the file exactly NOTE_WRITE, and a growing write "
	    "NOTE_WRITE|NOTE_EXTEND (FreeBSD reports every note of a change "
	    "that has a registered one)");
}
ATF_TC_BODY(only_registered, tc)
{
	struct fixture fx;
	unsigned int ff;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR, NOTE_WRITE,
	    0, NULL);
	ATF_REQUIRE_EQ(0, fchmod(fx.fd, 0640));
	KEV_NONE(fx.kq, 0);
	KEV_NONE(fx.kq, 50);

	ATF_REQUIRE_EQ(2, pwrite(fx.fd, "in", 2, 0));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_WRITE, ff, "fflags %#x", ff);
	ATF_REQUIRE_EQ(8, pwrite(fx.fd, "grow!!!!", 8, 16));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_WRITE | NOTE_EXTEND, ff, "fflags %#x", ff);
	teardown(&fx);
}

/*
 * Issue 12, item 5: EVFILT_VNODE is not EV_CLEAR unless asked; as on
 * FreeBSD, its notes then stay and every call reports them again.
 */
ATF_TC(no_clear_repeats);
ATF_TC_HEAD(no_clear_repeats, tc)
{
	atf_tc_set_md_var(tc, "descr", "Without EV_CLEAR the event carries "
	    "no EV_CLEAR and is reported by every call with the notes it "
	    "has gathered, until it is deleted; with EV_CLEAR it is "
	    "reported once and carries EV_CLEAR");
}
ATF_TC_BODY(no_clear_repeats, tc)
{
	struct fixture fx;
	struct kevent ev;
	int i;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD, NOTE_WRITE | NOTE_ATTRIB,
	    0, NULL);
	ATF_REQUIRE_EQ(2, pwrite(fx.fd, "in", 2, 0));
	for (i = 0; i < 3; i++) {
		ev = KEV_ONE(fx.kq, i == 0 ? 1000 : 0, fx.fd, EVFILT_VNODE);
		ATF_CHECK_EQ(0, ev.flags & EV_CLEAR);
		ATF_CHECK_EQ(NOTE_WRITE, ev.fflags);
	}
	ATF_REQUIRE_EQ(0, fchmod(fx.fd, 0640));
	usleep(50000);
	ev = KEV_ONE(fx.kq, 0, fx.fd, EVFILT_VNODE);
	ATF_CHECK_EQ(NOTE_WRITE | NOTE_ATTRIB, ev.fflags);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_DELETE, 0, 0, NULL);
	KEV_NONE(fx.kq, 0);

	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR, NOTE_WRITE,
	    0, NULL);
	ATF_REQUIRE_EQ(2, pwrite(fx.fd, "in", 2, 0));
	ev = KEV_ONE(fx.kq, 1000, fx.fd, EVFILT_VNODE);
	ATF_CHECK(ev.flags & EV_CLEAR);
	KEV_NONE(fx.kq, 50);
	teardown(&fx);
}

ATF_TC(clear_accumulates);
ATF_TC_HEAD(clear_accumulates, tc)
{
	atf_tc_set_md_var(tc, "descr", "EV_CLEAR: notes from several changes "
	    "accumulate into one event until it is delivered, then clear; the "
	    "next event carries only the new note");
}
ATF_TC_BODY(clear_accumulates, tc)
{
	struct fixture fx;
	unsigned int ff;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR, ALLNOTES, 0,
	    NULL);
	ATF_REQUIRE_EQ(2, pwrite(fx.fd, "xy", 2, 0));
	ATF_REQUIRE_EQ(0, fchmod(fx.fd, 0600));
	ATF_REQUIRE_EQ(2, pwrite(fx.fd, "xy", 2, 4));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_WRITE | NOTE_ATTRIB, ff, "fflags %#x", ff);
	KEV_NONE(fx.kq, 0);

	ATF_REQUIRE_EQ(0, fchmod(fx.fd, 0644));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_ATTRIB, ff, "fflags %#x", ff);
	KEV_NONE(fx.kq, 0);
	teardown(&fx);
}

ATF_TC(udata_and_delete);
ATF_TC_HEAD(udata_and_delete, tc)
{
	atf_tc_set_md_var(tc, "descr", "A vnode event carries its udata; after "
	    "EV_DELETE, changes to the file report nothing");
}
ATF_TC_BODY(udata_and_delete, tc)
{
	struct fixture fx;
	struct kevent ev;
	int cookie;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR, NOTE_WRITE,
	    0, &cookie);
	ATF_REQUIRE_EQ(1, pwrite(fx.fd, "q", 1, 0));
	ev = KEV_ONE(fx.kq, 0, fx.fd, EVFILT_VNODE);
	ATF_CHECK(ev.udata == &cookie);

	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_DELETE, 0, 0, NULL);
	ATF_REQUIRE_EQ(1, pwrite(fx.fd, "r", 1, 0));
	KEV_NONE(fx.kq, 50);
	teardown(&fx);
}

ATF_TC(note_open_close);
ATF_TC_HEAD(note_open_close, tc)
{
	atf_tc_set_md_var(tc, "descr", "Opening the file reports NOTE_OPEN, "
	    "closing a read-only descriptor NOTE_CLOSE and a writable one "
	    "NOTE_CLOSE_WRITE, each on its own, as FreeBSD's vop_open_post() "
	    "and vop_close_post(); a registration without them sees none");
}
ATF_TC_BODY(note_open_close, tc)
{
	struct fixture fx;
	unsigned int ff;
	int fd;

	setup(&fx);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_OPEN | NOTE_CLOSE | NOTE_CLOSE_WRITE, 0, NULL);
	KEV_NONE(fx.kq, 0);
	ATF_REQUIRE((fd = open(fx.path, O_RDONLY)) >= 0);
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_OPEN, ff, "open: fflags %#x", ff);
	ATF_REQUIRE(close(fd) == 0);
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_CLOSE, ff, "close: fflags %#x", ff);
	ATF_REQUIRE((fd = open(fx.path, O_WRONLY)) >= 0);
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_OPEN, ff, "open for writing: fflags %#x", ff);
	ATF_REQUIRE(close(fd) == 0);
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_CLOSE_WRITE, ff, "close: fflags %#x", ff);
	KEV_NONE(fx.kq, 0);

	/* Subscribed to writes only: opens and closes are not reported. */
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR, NOTE_WRITE,
	    0, NULL);
	ATF_REQUIRE((fd = open(fx.path, O_RDONLY)) >= 0);
	ATF_REQUIRE(close(fd) == 0);
	KEV_NONE(fx.kq, 0);
	teardown(&fx);
}

ATF_TC(note_read);
ATF_TC_HEAD(note_read, tc)
{
	atf_tc_set_md_var(tc, "descr", "A read of the file, through any "
	    "descriptor, reports NOTE_READ, and reading a watched directory "
	    "does too (FreeBSD's vop_read_post() and vop_readdir_post()); a "
	    "write does not");
}
ATF_TC_BODY(note_read, tc)
{
	struct fixture fx;
	struct dirent *de;
	unsigned int ff;
	char buf[4];
	DIR *d;
	int dfd, fd;

	setup(&fx);
	ATF_REQUIRE((fd = open(fx.path, O_RDONLY)) >= 0);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR, NOTE_READ,
	    0, NULL);
	ATF_REQUIRE_EQ(1, pwrite(fx.fd, "x", 1, 0));
	KEV_NONE(fx.kq, 0);
	ATF_REQUIRE_EQ(4, pread(fd, buf, 4, 0));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_READ, ff, "fflags %#x", ff);
	ATF_REQUIRE_EQ(4, pread(fx.fd, buf, 4, 4));
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_READ, ff, "fflags %#x", ff);
	ATF_REQUIRE(close(fd) == 0);
	KEV_NONE(fx.kq, 0);

	ATF_REQUIRE((dfd = open(fx.dir, O_RDONLY | O_DIRECTORY)) >= 0);
	KEV_CHANGE(fx.kq, dfd, EVFILT_VNODE, EV_ADD | EV_CLEAR, NOTE_READ,
	    0, NULL);
	ATF_REQUIRE((d = opendir(fx.dir)) != NULL);
	while ((de = readdir(d)) != NULL)
		continue;
	ff = KEV_ONE(fx.kq, 0, dfd, EVFILT_VNODE).fflags;
	ATF_CHECK_EQ_MSG(NOTE_READ, ff, "readdir: fflags %#x", ff);
	ATF_REQUIRE(closedir(d) == 0);
	ATF_REQUIRE(close(dfd) == 0);
	teardown(&fx);
}

ATF_TC(modify_adds_notes);
ATF_TC_HEAD(modify_adds_notes, tc)
{
	atf_tc_set_md_var(tc, "descr", "A second EV_ADD that subscribes to "
	    "NOTE_OPEN on a registration made for NOTE_WRITE reports the next "
	    "open; a second descriptor's registration on the same file that "
	    "did not ask for NOTE_OPEN is not told of it");
}
ATF_TC_BODY(modify_adds_notes, tc)
{
	struct fixture fx;
	unsigned int ff;
	int fd, fd2;

	setup(&fx);
	ATF_REQUIRE((fd2 = open(fx.path, O_RDONLY)) >= 0);
	KEV_CHANGE(fx.kq, fd2, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_WRITE | NOTE_ATTRIB, 0, NULL);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR, NOTE_WRITE,
	    0, NULL);
	ATF_REQUIRE((fd = open(fx.path, O_RDONLY)) >= 0);
	ATF_REQUIRE(close(fd) == 0);
	KEV_NONE(fx.kq, 0);
	KEV_CHANGE(fx.kq, fx.fd, EVFILT_VNODE, EV_ADD | EV_CLEAR,
	    NOTE_WRITE | NOTE_OPEN, 0, NULL);
	ATF_REQUIRE((fd = open(fx.path, O_RDONLY)) >= 0);
	ff = VNODE_NOW(&fx);
	ATF_CHECK_EQ_MSG(NOTE_OPEN, ff, "fflags %#x", ff);
	KEV_NONE(fx.kq, 0);
	ATF_REQUIRE(close(fd) == 0);
	ATF_REQUIRE(close(fd2) == 0);
	teardown(&fx);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, note_write);
	ATF_TP_ADD_TC(tp, note_extend);
	ATF_TP_ADD_TC(tp, note_attrib);
	ATF_TP_ADD_TC(tp, note_link);
	ATF_TP_ADD_TC(tp, note_delete);
	ATF_TP_ADD_TC(tp, note_rename);
	ATF_TP_ADD_TC(tp, dir_write);
	ATF_TP_ADD_TC(tp, dir_link);
	ATF_TP_ADD_TC(tp, only_registered);
	ATF_TP_ADD_TC(tp, no_clear_repeats);
	ATF_TP_ADD_TC(tp, clear_accumulates);
	ATF_TP_ADD_TC(tp, udata_and_delete);
	ATF_TP_ADD_TC(tp, note_open_close);
	ATF_TP_ADD_TC(tp, note_read);
	ATF_TP_ADD_TC(tp, modify_adds_notes);
	return (atf_no_error());
}
