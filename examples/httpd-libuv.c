/*
 * httpd-libuv: the bench HTTP/1.1 server on a libuv loop, one thread.
 * Usage: httpd-libuv PORT (0: any).  One uv_poll_t per socket, watching
 * UV_READABLE, and UV_WRITABLE too while output waits.  libuv's uv_tcp_t
 * streams are not used: the request handling is examples/httpd_common.h,
 * the same recv()/send() as every httpd-<mechanism>, so the servers
 * differ only in how they wait.  bench/evbench's tcp workload drives
 * them.
 */
#include <uv.h>

#include "httpd_common.h"

static const char name[] = "httpd-libuv";

struct uvconn {
	uv_poll_t		 v_poll;
	struct httpd_conn	*v_c;
	int			 v_events;
};

static uv_loop_t *loop;

static void
on_closed(uv_handle_t *h)
{
	struct uvconn *v = h->data;

	httpd_reap();
	free(v);
}

static void
on_ready(uv_poll_t *h, int status, int events)
{
	struct uvconn *v = h->data;
	int r, want;

	r = status < 0 ? HTTPD_CLOSE : (events & UV_WRITABLE) ?
	    httpd_writable(v->v_c) : httpd_readable(v->v_c);
	if (r == HTTPD_CLOSE) {
		/* A polled descriptor is closed only once it is not polled. */
		uv_poll_stop(&v->v_poll);
		httpd_conn_close(v->v_c);
		uv_close((uv_handle_t *)&v->v_poll, on_closed);
		return;
	}
	want = r == HTTPD_WANTWRITE ? UV_READABLE | UV_WRITABLE : UV_READABLE;
	if (want != v->v_events) {
		v->v_events = want;
		uv_poll_start(&v->v_poll, want, on_ready);
	}
}

static void
on_accept(uv_poll_t *h, int status, int events)
{
	struct uvconn *v;
	int fd;

	(void)status;
	(void)events;
	while ((fd = httpd_accept(*(int *)h->data)) >= 0) {
		if ((v = calloc(1, sizeof(*v))) == NULL ||
		    (v->v_c = httpd_conn_new(fd)) == NULL) {
			free(v);
			continue;
		}
		if (uv_poll_init(loop, &v->v_poll, fd) != 0)
			httpd_die(name, "uv_poll_init");
		v->v_poll.data = v;
		v->v_events = UV_READABLE;
		uv_poll_start(&v->v_poll, UV_READABLE, on_ready);
	}
}

int
main(int argc, char **argv)
{
	static uv_poll_t lp;
	static int lfd;

	lfd = httpd_listen(argc, argv, name);
	loop = uv_default_loop();
	if (uv_poll_init(loop, &lp, lfd) != 0)
		httpd_die(name, "uv_poll_init");
	lp.data = &lfd;
	uv_poll_start(&lp, UV_READABLE, on_accept);
	uv_run(loop, UV_RUN_DEFAULT);
	return (0);
}
