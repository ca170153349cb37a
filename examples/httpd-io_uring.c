/*
 * httpd-io_uring: the bench HTTP/1.1 server on io_uring readiness, one
 * thread.  Usage: httpd-io_uring PORT (0: any).  Each socket has one
 * multishot IORING_OP_POLL_ADD (IORING_POLL_ADD_MULTI) for POLLIN, armed
 * again when a CQE comes without IORING_CQE_F_MORE; output that did not
 * fit gets a one-shot POLLOUT poll.  Reading and writing are the same
 * recv()/send() calls as every other server's (examples/httpd_common.h),
 * so the servers differ only in how they wait.  A closed connection's
 * polls are removed (a poll holds its file open) and its state is freed
 * once their last CQE has come.
 */
#include <poll.h>

#include <liburing.h>

#include "httpd_common.h"

static const char name[] = "httpd-io_uring";

/* user_data: the connection, its low bit set for the POLLOUT poll. */
#define	UD_WRITE	1ULL
#define	UD_IGNORE	0ULL

struct uconn {
	struct httpd_conn	*u_c;
	int			 u_polls;	/* polls not yet ended */
	int			 u_wpoll;	/* its POLLOUT poll is armed */
};

static struct io_uring ring;

static struct io_uring_sqe *
sqe_get(void)
{
	struct io_uring_sqe *sqe;

	while ((sqe = io_uring_get_sqe(&ring)) == NULL)
		if (io_uring_submit(&ring) < 0)
			httpd_die(name, "io_uring_submit");
	return (sqe);
}

static void
poll_add(struct httpd_conn *c, int multishot, unsigned mask, uint64_t ud)
{
	struct io_uring_sqe *sqe = sqe_get();

	if (multishot)
		io_uring_prep_poll_multishot(sqe, c->hc_fd, mask);
	else
		io_uring_prep_poll_add(sqe, c->hc_fd, mask);
	io_uring_sqe_set_data64(sqe, ud);
	((struct uconn *)c->hc_udata)->u_polls++;
}

static void
poll_remove(uint64_t ud)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_poll_remove(sqe, ud);
	io_uring_sqe_set_data64(sqe, UD_IGNORE);
}

static struct httpd_conn *
conn_new(int fd)
{
	struct httpd_conn *c;
	struct uconn *u;

	if ((c = httpd_conn_new(fd)) == NULL)
		return (NULL);
	if ((u = calloc(1, sizeof(*u))) == NULL) {
		close(fd);
		free(c);
		return (NULL);
	}
	u->u_c = c;
	c->hc_udata = u;
	poll_add(c, 1, POLLIN, (uint64_t)(uintptr_t)c);
	return (c);
}

/*
 * Remove its polls, close it; the state goes when the polls have ended.
 * The descriptor is closed after the removal is submitted: a poll holds
 * the file, so close() alone would leave the socket open.
 */
static void
conn_close(struct httpd_conn *c)
{

	poll_remove((uint64_t)(uintptr_t)c);
	if (((struct uconn *)c->hc_udata)->u_wpoll)
		poll_remove((uint64_t)(uintptr_t)c | UD_WRITE);
	if (io_uring_submit(&ring) < 0)
		httpd_die(name, "io_uring_submit");
	close(c->hc_fd);
	c->hc_fd = -1;
	if (((struct uconn *)c->hc_udata)->u_polls == 0) {
		free(c->hc_udata);
		free(c);
	}
}

static void
poll_ended(struct httpd_conn *c)
{
	struct uconn *u = c->hc_udata;

	if (--u->u_polls == 0 && c->hc_fd < 0) {
		free(u);
		free(c);
	}
}

int
main(int argc, char **argv)
{
	static const unsigned tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	struct io_uring_params p;
	struct io_uring_cqe *cqes[64], *cqe;
	struct httpd_conn *lc, *c;
	struct uconn lu;
	uint64_t ud;
	size_t t;
	int error = 0, fd, i, n, r, more, writing;

	for (t = 0; t < sizeof(tries) / sizeof(tries[0]); t++) {
		memset(&p, 0, sizeof(p));
		p.flags = tries[t];
		if ((error = io_uring_queue_init_params(256, &ring, &p)) == 0)
			break;
	}
	if (error != 0) {
		errno = -error;
		httpd_die(name, "io_uring_queue_init");
	}
	if ((lc = httpd_conn_new(httpd_listen(argc, argv, name))) == NULL)
		httpd_die(name, "malloc");
	memset(&lu, 0, sizeof(lu));
	lc->hc_udata = &lu;
	poll_add(lc, 1, POLLIN, (uint64_t)(uintptr_t)lc);
	for (;;) {
		error = io_uring_submit_and_wait(&ring, 1);
		if (error < 0 && error != -EINTR) {
			errno = -error;
			httpd_die(name, "io_uring_submit_and_wait");
		}
		n = (int)io_uring_peek_batch_cqe(&ring, cqes, 64);
		for (i = 0; i < n; i++) {
			cqe = cqes[i];
			ud = io_uring_cqe_get_data64(cqe);
			if (ud == UD_IGNORE)
				continue;
			writing = (ud & UD_WRITE) != 0;
			c = (struct httpd_conn *)(uintptr_t)(ud & ~UD_WRITE);
			more = (cqe->flags & IORING_CQE_F_MORE) != 0;
			if (writing)
				((struct uconn *)c->hc_udata)->u_wpoll = 0;
			if (c == lc) {
				while ((fd = httpd_accept(lc->hc_fd)) >= 0)
					(void)conn_new(fd);
				if (!more) {
					poll_ended(lc);
					poll_add(lc, 1, POLLIN, ud);
				}
				continue;
			}
			if (c->hc_fd < 0 || cqe->res < 0) {
				/* Closed, or cancelled: the poll is over. */
				if (!more)
					poll_ended(c);
				continue;
			}
			r = writing ? httpd_writable(c) : httpd_readable(c);
			if (!more) {
				poll_ended(c);
				/* The kernel ended the multishot poll. */
				if (!writing && r != HTTPD_CLOSE)
					poll_add(c, 1, POLLIN, ud);
			}
			if (r == HTTPD_CLOSE)
				conn_close(c);
			else if (r == HTTPD_WANTWRITE &&
			    !((struct uconn *)c->hc_udata)->u_wpoll) {
				poll_add(c, 0, POLLOUT, (ud & ~UD_WRITE) |
				    UD_WRITE);
				((struct uconn *)c->hc_udata)->u_wpoll = 1;
			}
		}
		io_uring_cq_advance(&ring, (unsigned)n);
	}
}
