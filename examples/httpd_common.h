/*
 * httpd_common.h: the request handling every examples/httpd-<mechanism>.c
 * server shares, so that the servers differ only in how they wait for
 * readiness.  A server is single-threaded: it listens on 127.0.0.1:PORT
 * (PORT from the command line; 0 lets the kernel pick one), prints
 * "httpd-NAME: listening on 127.0.0.1:PORT" once it accepts connections,
 * and serves HTTP/1.1 with keep-alive: "GET /" gets a small fixed body,
 * another path 404, another method 405, anything malformed 400 and a
 * close.  HTTP/1.0 and "Connection: close" close after the response.
 *
 * The server calls:
 *	httpd_listen(argc, argv, name)	the listening socket, non-blocking
 *	httpd_accept(lfd)		a new connection's descriptor, or -1
 *	httpd_conn_new(fd)		its state
 *	httpd_readable(c)		on readiness to read: read until
 *					the socket is empty, answer;
 *					HTTPD_KEEP, HTTPD_WANTWRITE (output
 *					left: wait until writable, then call
 *					httpd_writable) or HTTPD_CLOSE
 *	httpd_writable(c)		on readiness to write
 *	httpd_conn_close(c)		close the descriptor; the state is
 *					freed by httpd_reap(), which the
 *					loop calls after each batch, so an
 *					event later in the same batch never
 *					finds freed memory
 *
 * bench/evbench's tcp workload starts each server and drives it.
 */
#ifndef HTTPD_COMMON_H
#define	HTTPD_COMMON_H

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define	HTTPD_KEEP	0
#define	HTTPD_WANTWRITE	1
#define	HTTPD_CLOSE	2

#define	HTTPD_INBUF	4096
#define	HTTPD_OUTBUF	8192

struct httpd_conn {
	int			 hc_fd;
	int			 hc_closing;	/* close once output is out */
	size_t			 hc_inlen;
	size_t			 hc_outlen, hc_outoff;
	void			*hc_udata;	/* the server's own */
	struct httpd_conn	*hc_next;	/* on the reap list */
	char			 hc_in[HTTPD_INBUF];
	char			 hc_out[HTTPD_OUTBUF];
};

static struct httpd_conn *httpd_dead;

static const char httpd_body[] = "Hello from evring's bench httpd\n";

static inline void
httpd_die(const char *name, const char *what)
{

	fprintf(stderr, "%s: %s: %s\n", name, what, strerror(errno));
	exit(1);
}

static inline int
httpd_listen(int argc, char **argv, const char *name)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, one = 1;
	char *end;
	long port;

	if (argc != 2 || (port = strtol(argv[1], &end, 10)) < 0 ||
	    port > 65535 || *end != '\0') {
		fprintf(stderr, "usage: %s port\n", name);
		exit(2);
	}
	/* A client gone mid-write must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0)
		httpd_die(name, "socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		httpd_die(name, "bind");
	if (listen(fd, 4096) != 0)
		httpd_die(name, "listen");
	if (getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		httpd_die(name, "getsockname");
	printf("%s: listening on 127.0.0.1:%d\n", name, ntohs(sin.sin_port));
	fflush(stdout);
	return (fd);
}

/* One connection from the backlog, non-blocking; -1 when there is none. */
static inline int
httpd_accept(int lfd)
{
	int fd, one = 1;

	do {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	return (fd);
}

static inline struct httpd_conn *
httpd_conn_new(int fd)
{
	struct httpd_conn *c;

	if ((c = malloc(sizeof(*c))) == NULL) {
		close(fd);
		return (NULL);
	}
	c->hc_fd = fd;
	c->hc_closing = 0;
	c->hc_inlen = c->hc_outlen = c->hc_outoff = 0;
	c->hc_udata = NULL;
	c->hc_next = NULL;
	return (c);
}

static inline void
httpd_conn_close(struct httpd_conn *c)
{

	if (c->hc_fd >= 0) {
		close(c->hc_fd);
		c->hc_fd = -1;
		c->hc_next = httpd_dead;
		httpd_dead = c;
	}
}

static inline void
httpd_reap(void)
{
	struct httpd_conn *c;

	while ((c = httpd_dead) != NULL) {
		httpd_dead = c->hc_next;
		free(c);
	}
}

/* Queue a response; 0, or -1 if it does not fit (the peer is not reading). */
static inline int
httpd_respond(struct httpd_conn *c, int status, const char *reason,
    const char *body, int keep)
{
	size_t room = sizeof(c->hc_out) - c->hc_outlen;
	int n;

	n = snprintf(c->hc_out + c->hc_outlen, room, "HTTP/1.1 %d %s\r\n"
	    "Server: evring-bench\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\nConnection: %s\r\n\r\n%s", status, reason,
	    strlen(body), keep ? "keep-alive" : "close", body);
	if (n < 0 || (size_t)n >= room)
		return (-1);
	c->hc_outlen += (size_t)n;
	return (0);
}

/* Does the header block [p, end) have "Name: value" (value's case too)? */
static inline int
httpd_header_is(const char *p, const char *end, const char *name,
    const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value);

	for (; p < end; p++) {
		if (p[0] != '\n' || (size_t)(end - p) < nlen + 2 ||
		    strncasecmp(p + 1, name, nlen) != 0 || p[nlen + 1] != ':')
			continue;
		p += nlen + 2;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		return ((size_t)(end - p) >= vlen &&
		    strncasecmp(p, value, vlen) == 0);
	}
	return (0);
}

/*
 * Answer every complete request in the input buffer.  HTTPD_CLOSE when
 * the connection is to close once the output is out.
 */
static inline int
httpd_parse(struct httpd_conn *c)
{
	char *p = c->hc_in, *end, *sp, *sp2;
	size_t left = c->hc_inlen, used;
	int keep, http11;

	while (left > 0 && !c->hc_closing) {
		if ((end = memmem(p, left, "\r\n\r\n", 4)) == NULL) {
			if (left == sizeof(c->hc_in)) {
				(void)httpd_respond(c, 400, "Bad Request",
				    "request too long\n", 0);
				c->hc_closing = 1;
			}
			break;
		}
		used = (size_t)(end - p) + 4;
		/* Request line: METHOD SP TARGET SP HTTP/1.x */
		sp = memchr(p, ' ', (size_t)(end - p));
		sp2 = sp != NULL ? memchr(sp + 1, ' ', (size_t)(end - sp - 1)) :
		    NULL;
		if (sp == NULL || sp2 == NULL || end - sp2 < 9 ||
		    strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
			(void)httpd_respond(c, 400, "Bad Request",
			    "bad request line\n", 0);
			c->hc_closing = 1;
			break;
		}
		http11 = sp2[8] == '1';
		keep = http11 ? !httpd_header_is(p, end, "Connection",
		    "close") : httpd_header_is(p, end, "Connection",
		    "keep-alive");
		/* No request bodies: a request with one cannot be framed. */
		if (httpd_header_is(p, end, "Content-Length", "") &&
		    !httpd_header_is(p, end, "Content-Length", "0"))
			keep = 0;
		if (sp - p != 3 || strncmp(p, "GET", 3) != 0) {
			if (httpd_respond(c, 405, "Method Not Allowed",
			    "GET only\n", 0) != 0)
				break;
			keep = 0;
		} else if (sp2 - sp != 2 || sp[1] != '/') {
			if (httpd_respond(c, 404, "Not Found", "not found\n",
			    keep) != 0)
				break;
		} else if (httpd_respond(c, 200, "OK", httpd_body, keep) != 0)
			break;	/* output full: finish once it drains */
		p += used;
		left -= used;
		if (!keep)
			c->hc_closing = 1;
	}
	if (left > 0 && p != c->hc_in)
		memmove(c->hc_in, p, left);
	c->hc_inlen = left;
	return (c->hc_closing ? HTTPD_CLOSE : HTTPD_KEEP);
}

/* Write what is queued: HTTPD_KEEP when all is out, or WANTWRITE/CLOSE. */
static inline int
httpd_flush(struct httpd_conn *c)
{
	ssize_t n;

	while (c->hc_outoff < c->hc_outlen) {
		n = send(c->hc_fd, c->hc_out + c->hc_outoff,
		    c->hc_outlen - c->hc_outoff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (HTTPD_WANTWRITE);
		if (n <= 0)
			return (HTTPD_CLOSE);
		c->hc_outoff += (size_t)n;
	}
	c->hc_outoff = c->hc_outlen = 0;
	return (c->hc_closing ? HTTPD_CLOSE : HTTPD_KEEP);
}

/*
 * On readiness to read: read until the socket is empty (so that an
 * edge-triggered or one-shot wait is as safe as a level-triggered one),
 * answering each complete request and sending the answers as they come.
 */
static inline int
httpd_readable(struct httpd_conn *c)
{
	ssize_t n;
	int r;

	for (;;) {
		(void)httpd_parse(c);
		if ((r = httpd_flush(c)) != HTTPD_KEEP)
			return (r);	/* the peer is not reading, or done */
		n = recv(c->hc_fd, c->hc_in + c->hc_inlen,
		    sizeof(c->hc_in) - c->hc_inlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (HTTPD_KEEP);
		if (n <= 0)
			return (HTTPD_CLOSE);	/* the peer closed, or reset */
		c->hc_inlen += (size_t)n;
	}
}

/* On readiness to write: send what is queued, then go on reading. */
static inline int
httpd_writable(struct httpd_conn *c)
{

	return (httpd_readable(c));
}

#endif /* !HTTPD_COMMON_H */
