/*
 * The kernel's view of a host descriptor, and the descriptor table.
 *
 * The descriptors are the host's own; the kernel keeps a struct file for
 * each one it has been asked about (a watched descriptor, a kqueue) so that
 * every queue watching a descriptor shares one object and one host
 * registration.  A struct file is found by number through the table and
 * kept alive by references: the table's, and one per knote on it.
 *
 * Close semantics (see kqueue(2)): knotes belong to the descriptor number,
 * as on the BSDs.  close(fd) -- and dup2()/dup3() over fd -- removes every
 * knote on fd from every queue before the host descriptor is released, even
 * when a dup() keeps the open file alive.  A descriptor closed behind the
 * library's back (a raw system call) is noticed at the next registration by
 * its identity (device, inode, type); the stale host registration can then
 * still report, but its cookie's generation no longer matches and its
 * reports are dropped.
 *
 * A queue is the exception: like a Linux epoll instance it lives as long
 * as any descriptor of its open file description, so a queue whose number
 * is closed while a dup() of it is open moves to the duplicate instead
 * (fd_close_upcall()), and a duplicate's number finds the queue.
 */
#ifndef _SYS_FILE_H_
#define	_SYS_FILE_H_

#ifndef _KERNEL
#error "sys/file.h is kernel-private"
#endif

#include <sys/ktypes.h>
#include <sys/eventvar.h>
#include <sys/epoch.h>

#define	DTYPE_HOST	1	/* a host descriptor watched by knotes */
#define	DTYPE_KQUEUE	2	/* one of our queues */

struct file {
	int			f_fd;
	uint32_t		f_gen;		/* generation, in the cookie */
	int			f_refs;		/* atomic */
	uint32_t		f_hseq;		/* kern_drain_seq then; atomic */
	int			f_nknotes;	/* knotes attached; knlist lock */
	uint32_t		f_dev;		/* the host's identity of the */
	uint64_t		f_ino;		/* object; under fdt_lock */
	uint16_t		f_hbits;	/* host readiness of the last
						   drain, if HC_POLLSTATE;
						   atomic */
	uint16_t		f_nvnode;	/* slots needing the vnode watch */
	uint8_t			f_type;		/* DTYPE_* */
	uint8_t			f_hosttype;	/* HC_FT_* */
	int8_t			f_watched;	/* host readiness registered:
						   1, 0, or -1 always ready;
						   written under
						   file_watch_lock, atomic */
	uint8_t			f_hwant;	/* HC_POLL* the host watches,
						   and F_CLOSED;
						   file_watch_lock */
	union {
		struct hc_vwatch *f_vwatch;	/* DTYPE_HOST */
		struct kqueue	*f_kq;		/* DTYPE_KQUEUE */
	};
	union {
		struct knlist	f_knlist;
		/* Once the last reference is gone, for the deferred free:
		   lock-free lookups read only f_type, f_gen, f_refs and
		   f_kq, so this may overlay the knotes' list, empty by
		   then (fdrop()). */
		epoch_context_t	f_epoch;
	};
};

/*
 * In f_hwant, beside the HC_POLLIN, HC_POLLPRI and HC_POLLOUT it watches:
 * the file left the table (fd_close_file()), so no knote and no host
 * watch may be added to it.  A bit of a byte that had one to spare, where
 * a field of its own would have grown every file by eight bytes.
 */
#define	F_CLOSED	0x80

/* The cookie the host hands back in upcalls. */
#define	FILE_COOKIE(fp)	(((unsigned long long)(uint32_t)(fp)->f_fd << 32) | \
	    (fp)->f_gen)

int	fd_sysinit(void);
long long fd_count(void);
int	fd_lookup(int fd, struct file **fpp);
int	fd_lookup_host(int fd, struct file **fpp);
int	fd_lookup_kqueue(int fd, struct file **fpp);
struct file *fd_lookup_cookie(unsigned long long cookie);
int	fd_queue_nonblock(int fd, int op);
int	fd_install_kqueue(int fd, struct kqueue *kq, struct file **fpp);
void	fhold(struct file *fp);
void	fdrop(struct file *fp);
void	fd_close_hook(int fd);
void	fd_close_upcall(int fd);
void	fd_closed_upcall(int fd);
void	fd_forkprepare(void);
void	fd_forkparent(void);
void	fd_forkchild(void);

/* Knote membership of a file: the host watches follow it. */
int	file_knote_attach(struct file *fp, struct knote *kn);
int	file_watch(struct file *fp, unsigned events, int *reportsp);
void	file_knote_detach(struct file *fp, struct knote *kn);
int	file_vnode_hold(struct file *fp, unsigned notes);
int	file_vnode_want(struct file *fp, unsigned notes);
void	file_vnode_release(struct file *fp);

/* kqueue side (kern_event.c) */
void	kqueue_close(struct kqueue *kq);
void	kqueue_free(struct kqueue *kq);
void	knote_fdclose(struct kqueue *kq, struct file *fp);
int	kqueue_pending(struct kqueue *kq);

#endif /* !_SYS_FILE_H_ */
