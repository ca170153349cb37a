/*
 * evbench: what it costs to deliver an event through evring, measured
 * against Linux's own epoll in the same run.
 *
 * The benchmark is two tables.  A mechanism (struct mech) is a way for a
 * thread to wait for events: set up a queue, register sources on it, make a
 * user source fire, wait for a batch of events, tear it down.  A workload
 * (struct workload) drives every selected mechanism the same way and
 * reports ns per event.  Adding a mechanism (an mmap'd ring, io_uring,
 * libevent, libuv) means filling in one struct mech; adding a workload
 * means one struct workload and its driver.
 *
 * Every timed run checks that it received exactly the events it caused, one
 * per trigger, none twice and none on an idle source; anything else is an
 * error and the program exits 1.  Ratios that miss a target (the idle
 * workload's 1.5x) are reported, not failed: a benchmark is not a test.
 *
 * See bench/README.md for the workloads and how to reproduce the numbers.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include <linux/futex.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/event.h>
#include <sys/evring.h>

#define	NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Defaults: "make run" must finish in well under two minutes on 2 CPUs. */
#define	DEF_RUNS	5
#define	DEF_EVENTS	50000
#define	QUICK_RUNS	3
#define	QUICK_EVENTS	10000
#define	MEM_FDS		10000	/* socketpair ends the mem workload watches */
#define	QUICK_MEM_FDS	4000
#define	IDLE_ACTIVE	16	/* sources the idle workload drives */
#define	IDLE_TARGET	1.5	/* the issue: big K within 1.5x of small K */
#define	WAIT_MS		5000	/* no event for this long: one was lost */
#define	SPIN		2000	/* producer polls this often, then sleeps */

/*
 * ---------------------------------------------------------------- options
 */
struct opts {
	int		o_runs;
	long		o_events;
	int		o_memfds;
	int		o_csv;
	int		o_quick;
	int		o_tty;		/* stderr is a tty: show progress */
	int		o_nopin;	/* --no-pin */
	const char	*o_wl;		/* -w list, or NULL for all */
	const char	*o_mech;	/* -m list, or NULL for all */
	const char	*o_batch;	/* -b list, or NULL for each default */
};

static struct opts opt = {
	.o_runs = DEF_RUNS,
	.o_events = DEF_EVENTS,
	.o_memfds = MEM_FDS,
};

/* What is being measured now, for error messages and the progress line. */
static char doing[128];
static int progress_shown;

static void
progress_done(void)
{

	if (progress_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		progress_shown = 0;
	}
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	progress_done();
	fprintf(stderr, "evbench: error: %s%s", doing, doing[0] ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
progress(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(doing, sizeof(doing), fmt, ap);
	va_end(ap);
	if (!opt.o_tty)
		return;
	fprintf(stderr, "\r\033[K%s", doing);
	fflush(stderr);
	progress_shown = 1;
}

/* A note for the reader: stdout in the table, stderr when stdout is CSV. */
static void
note(const char *fmt, ...)
{
	va_list ap;
	FILE *f = opt.o_csv ? stderr : stdout;

	progress_done();
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
}

static int
inlist(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p;

	if (list == NULL)
		return (1);
	for (p = list; *p != '\0'; p += strcspn(p, ",")) {
		if (*p == ',')
			p++;
		if (strncmp(p, name, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return (1);
	}
	return (0);
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

static double
median(double *v, int n)
{

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

/*
 * Where the two threads of a timed run go.  Left to the scheduler, a
 * producer and consumer sometimes share a CPU (a hand-off is then a cheap
 * context switch) and sometimes not (a cross-CPU wakeup, costly in a VM),
 * and batch-1 results come out bimodal.  So each run pins the consumer and
 * the producer to two different CPUs, and the consumer's old mask is put
 * back afterwards: threads a library starts (evring's host dispatcher)
 * inherit the mask of the thread that starts them and must stay free.
 */
static cpu_set_t pin_all;
static int pin_cpu[2] = { -1, -1 };

static void
pin_init(void)
{
	int cpu, n = 0;

	if (opt.o_nopin || sched_getaffinity(0, sizeof(pin_all),
	    &pin_all) != 0)
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
		if (CPU_ISSET(cpu, &pin_all))
			pin_cpu[n++] = cpu;
	if (n < 2)
		pin_cpu[0] = pin_cpu[1] = -1;
}

static void
pin_mask(int which, cpu_set_t *set)
{

	CPU_ZERO(set);
	CPU_SET(pin_cpu[which], set);
}

/*
 * ---------------------------------------------------------------- mechanisms
 *
 * A source is what a workload asks a mechanism to watch, named by a small
 * integer id that comes back with each of its events.
 */
enum src_kind {
	SRC_USER,	/* fired by mech->trigger(), from another thread */
	SRC_READ,	/* a host descriptor, level-triggered readable */
	SRC_RDWR,	/* a host descriptor, readable and writable */
	SRC_NKINDS
};

struct bev {
	uint32_t	id;
};

struct mctx {
	int		 m_qfd;		/* the queue's descriptor */
	int		 m_batch;	/* largest batch wait() is asked for */
	int		*m_ufd;		/* per user source, if needed */
	int		 m_nufd;
	void		*m_buf;		/* the mechanism's event array */
};

struct mech {
	const char	*m_name;
	const char	*m_descr;
	unsigned	 m_kinds;	/* 1 << SRC_* it supports */
	/* Make a queue for nwatch sources and batches up to batch. */
	int	(*m_setup)(struct mctx *, int nwatch, int batch);
	/* Register n sources (fds[i] is -1 for SRC_USER) named ids[i]. */
	int	(*m_arm)(struct mctx *, enum src_kind, const int *fds,
		    const uint32_t *ids, int n);
	/* Fire user source id; called from the producer thread. */
	int	(*m_trigger)(struct mctx *, uint32_t id);
	/* Wait for up to batch events; the count, 0 on timeout, or -1. */
	int	(*m_wait)(struct mctx *, struct bev *, int batch,
		    int timeout_ms);
	void	(*m_teardown)(struct mctx *);
	/* Kernel bytes the mechanism itself accounts for, or -1. */
	long long (*m_kmem)(void);
	/* After teardown: complain about anything the mechanism kept. */
	void	(*m_leakcheck)(void);
};

/* evring-kevent: kqueue()/kevent() from libevring. */
static int
evk_setup(struct mctx *c, int nwatch, int batch)
{

	(void)nwatch;
	c->m_batch = batch;
	if ((c->m_buf = calloc((size_t)batch, sizeof(struct kevent))) == NULL)
		return (-1);
	return ((c->m_qfd = kqueue()) < 0 ? -1 : 0);
}

static int
evk_arm(struct mctx *c, enum src_kind kind, const int *fds,
    const uint32_t *ids, int n)
{
	struct kevent ch[256];
	int i, k = 0;

	for (i = 0; i < n; i++) {
		void *ud = (void *)(uintptr_t)ids[i];

		switch (kind) {
		case SRC_USER:
			EV_SET(&ch[k++], ids[i], EVFILT_USER,
			    EV_ADD | EV_CLEAR, 0, 0, ud);
			break;
		case SRC_READ:
			EV_SET(&ch[k++], fds[i], EVFILT_READ, EV_ADD, 0, 0,
			    ud);
			break;
		case SRC_RDWR:
			EV_SET(&ch[k++], fds[i], EVFILT_READ, EV_ADD, 0, 0,
			    ud);
			EV_SET(&ch[k++], fds[i], EVFILT_WRITE, EV_ADD, 0, 0,
			    ud);
			break;
		default:
			errno = EINVAL;
			return (-1);
		}
		if (k + 2 > (int)NELEM(ch) || i == n - 1) {
			/* With no event list, a failed change fails. */
			if (kevent(c->m_qfd, ch, k, NULL, 0, NULL) < 0)
				return (-1);
			k = 0;
		}
	}
	return (0);
}

static int
evk_trigger(struct mctx *c, uint32_t id)
{
	struct kevent kev;

	/* EV_KEEPUDATA: any change but a delete would replace udata. */
	EV_SET(&kev, id, EVFILT_USER, EV_KEEPUDATA, NOTE_TRIGGER, 0, NULL);
	return (kevent(c->m_qfd, &kev, 1, NULL, 0, NULL));
}

static int
evk_wait(struct mctx *c, struct bev *ev, int batch, int timeout_ms)
{
	struct kevent *kev = c->m_buf;
	struct timespec ts;
	int i, n;

	ts.tv_sec = timeout_ms / 1000;
	ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
	do {
		n = kevent(c->m_qfd, NULL, 0, kev, batch, &ts);
	} while (n < 0 && errno == EINTR);
	for (i = 0; i < n; i++) {
		if (kev[i].flags & EV_ERROR) {
			errno = (int)kev[i].data;
			return (-1);
		}
		ev[i].id = (uint32_t)(uintptr_t)kev[i].udata;
	}
	return (n);
}

static void
evk_teardown(struct mctx *c)
{

	if (c->m_qfd >= 0)
		close(c->m_qfd);
	c->m_qfd = -1;
	free(c->m_buf);
	c->m_buf = NULL;
}

static long long
evk_kmem(void)
{

	return (evring_stat(EVRING_STAT_KMEM));
}

static void
evk_leakcheck(void)
{
	long long kn, hr, kq;

	kn = evring_stat(EVRING_STAT_KNOTES);
	hr = evring_stat(EVRING_STAT_HOSTREG);
	kq = evring_stat(EVRING_STAT_KQUEUES);
	if (kn != 0 || hr != 0 || kq != 0)
		note("warning: evring kept state after its queue closed: "
		    "%lld knotes, %lld host registrations, %lld queues\n",
		    kn, hr, kq);
}

/* epoll: the host's own; libevring interposes close() but not epoll_*(). */
static int
ep_setup(struct mctx *c, int nwatch, int batch)
{
	int i;

	c->m_batch = batch;
	if ((c->m_ufd = calloc((size_t)nwatch, sizeof(int))) == NULL ||
	    (c->m_buf = calloc((size_t)batch,
	    sizeof(struct epoll_event))) == NULL)
		return (-1);
	for (i = 0; i < nwatch; i++)
		c->m_ufd[i] = -1;
	c->m_nufd = nwatch;
	return ((c->m_qfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ? -1 : 0);
}

static int
ep_arm(struct mctx *c, enum src_kind kind, const int *fds,
    const uint32_t *ids, int n)
{
	struct epoll_event ee;
	int fd, i;

	for (i = 0; i < n; i++) {
		memset(&ee, 0, sizeof(ee));
		ee.data.u32 = ids[i];
		fd = fds != NULL ? fds[i] : -1;
		switch (kind) {
		case SRC_USER:
			/*
			 * The peer of EVFILT_USER with EV_CLEAR: an eventfd,
			 * edge-triggered so that no read() is needed to
			 * re-arm it; every write() is a new edge.
			 */
			if (ids[i] >= (uint32_t)c->m_nufd) {
				errno = ERANGE;
				return (-1);
			}
			if ((fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
				return (-1);
			c->m_ufd[ids[i]] = fd;
			ee.events = EPOLLIN | EPOLLET;
			break;
		case SRC_READ:
			ee.events = EPOLLIN;
			break;
		case SRC_RDWR:
			ee.events = EPOLLIN | EPOLLOUT;
			break;
		default:
			errno = EINVAL;
			return (-1);
		}
		if (epoll_ctl(c->m_qfd, EPOLL_CTL_ADD, fd, &ee) < 0)
			return (-1);
	}
	return (0);
}

static int
ep_trigger(struct mctx *c, uint32_t id)
{
	uint64_t one = 1;

	return (write(c->m_ufd[id], &one, sizeof(one)) == sizeof(one) ?
	    0 : -1);
}

static int
ep_wait(struct mctx *c, struct bev *ev, int batch, int timeout_ms)
{
	struct epoll_event *ee = c->m_buf;
	int i, n;

	do {
		n = epoll_wait(c->m_qfd, ee, batch, timeout_ms);
	} while (n < 0 && errno == EINTR);
	for (i = 0; i < n; i++)
		ev[i].id = ee[i].data.u32;
	return (n);
}

static void
ep_teardown(struct mctx *c)
{
	int i;

	for (i = 0; i < c->m_nufd; i++)
		if (c->m_ufd[i] >= 0)
			close(c->m_ufd[i]);
	free(c->m_ufd);
	c->m_ufd = NULL;
	c->m_nufd = 0;
	if (c->m_qfd >= 0)
		close(c->m_qfd);
	c->m_qfd = -1;
	free(c->m_buf);
	c->m_buf = NULL;
}

static const struct mech mechs[] = {
	{
		.m_name = "evring-kevent",
		.m_descr = "kqueue()/kevent() from libevring",
		.m_kinds = 1u << SRC_USER | 1u << SRC_READ | 1u << SRC_RDWR,
		.m_setup = evk_setup,
		.m_arm = evk_arm,
		.m_trigger = evk_trigger,
		.m_wait = evk_wait,
		.m_teardown = evk_teardown,
		.m_kmem = evk_kmem,
		.m_leakcheck = evk_leakcheck,
	},
	{
		.m_name = "epoll",
		.m_descr = "Linux epoll_wait(2), the peer",
		.m_kinds = 1u << SRC_USER | 1u << SRC_READ | 1u << SRC_RDWR,
		.m_setup = ep_setup,
		.m_arm = ep_arm,
		.m_trigger = ep_trigger,
		.m_wait = ep_wait,
		.m_teardown = ep_teardown,
	},
};

static const struct mech *
mech_byname(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(mechs); i++)
		if (strcmp(mechs[i].m_name, name) == 0)
			return (&mechs[i]);
	return (NULL);
}

/*
 * ---------------------------------------------------------------- results
 */
struct result {
	char		 r_wl[32];
	const char	*r_mech;
	int		 r_batch;
	long		 r_events;	/* per run */
	double		 r_med, r_min, r_max;	/* ns per event */
	char		 r_fail[256];	/* non-empty: failed its checks */
};

static struct result *results;
static int nresults;
static int nfailed;

static struct result *
result_new(const char *wl, const struct mech *m, int batch, long events)
{
	struct result *r;

	r = realloc(results, sizeof(*r) * (size_t)(nresults + 1));
	if (r == NULL)
		die("out of memory");
	results = r;
	r = &results[nresults++];
	memset(r, 0, sizeof(*r));
	snprintf(r->r_wl, sizeof(r->r_wl), "%s", wl);
	r->r_mech = m->m_name;
	r->r_batch = batch;
	r->r_events = events;
	return (r);
}

/*
 * A measurement whose events were not exactly those caused: its timing
 * means nothing.  Say so now and in the table, carry on with the others,
 * and make the program exit 1 at the end.
 */
static void
result_fail(const char *wl, const struct mech *m, int batch, long events,
    const char *why)
{
	struct result *r;

	r = result_new(wl, m, batch, events);
	snprintf(r->r_fail, sizeof(r->r_fail), "%s", why);
	nfailed++;
	progress_done();
	fprintf(stderr, "evbench: FAILED: %s: %s\n", doing, why);
}

static struct result *
result_add(const char *wl, const struct mech *m, int batch, long events,
    double *ns, int runs)
{
	struct result *r;
	int i;

	r = result_new(wl, m, batch, events);
	r->r_min = r->r_max = ns[0];
	for (i = 1; i < runs; i++) {
		if (ns[i] < r->r_min)
			r->r_min = ns[i];
		if (ns[i] > r->r_max)
			r->r_max = ns[i];
	}
	r->r_med = median(ns, runs);
	return (r);
}

static const struct result *
result_find(const char *wl, const char *mech, int batch)
{
	int i;

	for (i = 0; i < nresults; i++)
		if (strcmp(results[i].r_wl, wl) == 0 &&
		    strcmp(results[i].r_mech, mech) == 0 &&
		    results[i].r_batch == batch &&
		    results[i].r_fail[0] == '\0')
			return (&results[i]);
	return (NULL);
}

static void
table_header(const char *title)
{

	if (opt.o_csv)
		return;
	progress_done();
	printf("\n%s\n", title);
	printf("%-14s %-14s %6s %8s %10s %10s %10s %12s %8s\n", "workload",
	    "mechanism", "batch", "events", "ns/event", "min", "max",
	    "events/s", "vs epoll");
}

/* Print rows first..nresults-1, which all belong to one workload. */
static void
table_rows(int first)
{
	const struct result *r, *ep;
	char vs[16];
	int i;

	progress_done();
	for (i = first; i < nresults; i++) {
		r = &results[i];
		if (r->r_fail[0] != '\0') {
			/* CSV has numbers only; stderr had the failure. */
			if (!opt.o_csv)
				printf("%-14s %-14s %6d %8ld   FAILED: %s\n",
				    r->r_wl, r->r_mech, r->r_batch,
				    r->r_events, r->r_fail);
			continue;
		}
		if (opt.o_csv) {
			printf("%s,%s,%d,%ld,%.1f,%.0f\n", r->r_wl, r->r_mech,
			    r->r_batch, r->r_events, r->r_med,
			    1e9 / r->r_med);
			continue;
		}
		ep = result_find(r->r_wl, "epoll", r->r_batch);
		if (ep != NULL)
			snprintf(vs, sizeof(vs), "%.2f", r->r_med / ep->r_med);
		else
			snprintf(vs, sizeof(vs), "-");
		printf("%-14s %-14s %6d %8ld %10.1f %10.1f %10.1f %12.0f "
		    "%8s\n", r->r_wl, r->r_mech, r->r_batch, r->r_events,
		    r->r_med, r->r_min, r->r_max, 1e9 / r->r_med, vs);
	}
	fflush(stdout);
}

/*
 * ---------------------------------------------------------------- credits
 *
 * The producer may only fire a source whose previous event the consumer
 * has taken, so at most one event per source is ever outstanding and the
 * run is bounded.  Taken sources travel back to the producer through a
 * single-producer single-consumer ring of ids; a producer that finds it
 * empty spins a little, then sleeps on the ring's tail with a futex.
 */
struct credits {
	_Atomic uint32_t	 cr_tail;	/* next push; futex word */
	char			 cr_pad1[60];
	_Atomic int		 cr_waiting;	/* producer on cr_tail */
	_Atomic int		 cr_abort;	/* the consumer gave up */
	char			 cr_pad2[56];
	uint32_t		 cr_head;	/* producer's next pop */
	uint32_t		 cr_mask;
	uint32_t		*cr_slot;
};

static void
credits_init(struct credits *cr, uint32_t *slot, uint32_t size, int n)
{
	int i;

	cr->cr_slot = slot;
	cr->cr_mask = size - 1;
	cr->cr_head = 0;
	for (i = 0; i < n; i++)
		slot[i] = (uint32_t)i;
	atomic_store(&cr->cr_waiting, 0);
	atomic_store(&cr->cr_abort, 0);
	atomic_store(&cr->cr_tail, (uint32_t)n);
}

#define	CR_ABORT	UINT32_MAX

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint32_t
credits_pop(struct credits *cr)
{
	uint32_t t, id;
	int spins = 0;

	for (;;) {
		t = atomic_load_explicit(&cr->cr_tail, memory_order_acquire);
		/* Acquire on cr_tail makes credits_abort()'s store visible. */
		if (atomic_load_explicit(&cr->cr_abort, memory_order_relaxed))
			return (CR_ABORT);
		if (t != cr->cr_head) {
			id = cr->cr_slot[cr->cr_head & cr->cr_mask];
			cr->cr_head++;
			return (id);
		}
		if (++spins < SPIN) {
			cpu_relax();
			continue;
		}
		/*
		 * Say we sleep, then look again: pairs with the fence in
		 * credits_wake(), so either the consumer sees cr_waiting or
		 * we see its push.
		 */
		atomic_store(&cr->cr_waiting, 1);
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load(&cr->cr_tail) == t)
			syscall(SYS_futex, &cr->cr_tail, FUTEX_WAIT_PRIVATE,
			    t, NULL, NULL, 0);
		atomic_store(&cr->cr_waiting, 0);
		spins = 0;
	}
}

static inline void
credits_push(struct credits *cr, uint32_t id)
{
	uint32_t t;

	t = atomic_load_explicit(&cr->cr_tail, memory_order_relaxed);
	cr->cr_slot[t & cr->cr_mask] = id;
	atomic_store_explicit(&cr->cr_tail, t + 1, memory_order_release);
}

/*
 * Stop the producer wherever it is.  Moving cr_tail as well makes a
 * producer about to sleep on its old value return at once.
 */
static void
credits_abort(struct credits *cr)
{

	atomic_store(&cr->cr_abort, 1);
	atomic_fetch_add(&cr->cr_tail, 1);
	syscall(SYS_futex, &cr->cr_tail, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
	    0);
}

/* After a batch of pushes: wake the producer if it went to sleep. */
static inline void
credits_wake(struct credits *cr)
{

	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&cr->cr_waiting, memory_order_relaxed))
		syscall(SYS_futex, &cr->cr_tail, FUTEX_WAKE_PRIVATE, 1,
		    NULL, NULL, 0);
}

/*
 * ---------------------------------------------------------------- flows
 *
 * A flow is one mechanism's queue with nsrc active sources of one kind
 * (user sources, or eventfds written by the producer) and optionally many
 * idle eventfds that never become ready.  flow_run() times one run of a
 * producer thread firing sources and this thread taking their events.
 */
struct flow {
	const struct mech	*f_mech;
	struct mctx		 f_ctx;
	enum src_kind		 f_kind;
	int			 f_nsrc;
	int			*f_fds;		/* SRC_READ: the eventfds */
	_Atomic unsigned char	*f_pending;	/* fired, not yet taken */
	struct bev		*f_ev;
	struct credits		 f_cr;
	uint32_t		*f_crslot;
	/* Per run. */
	long			 f_events;
	int			 f_error;	/* producer's errno */
	char			 f_fail[256];	/* what went wrong */
};

static int
eventfds_open(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if ((fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
			while (i-- > 0)
				close(fds[i]);
			return (-1);
		}
	return (0);
}

static void
fds_close(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Record why the flow's results cannot be trusted; returns -1. */
static int
flow_fail(struct flow *f, const char *fmt, ...)
{
	va_list ap;
	int len;

	len = snprintf(f->f_fail, sizeof(f->f_fail), "%s: ",
	    f->f_mech->m_name);
	va_start(ap, fmt);
	vsnprintf(f->f_fail + len, sizeof(f->f_fail) - (size_t)len, fmt, ap);
	va_end(ap);
	return (-1);
}

/* Take whatever is queued now; an event here is one nobody caused. */
static int
flow_expect_quiet(struct flow *f, const char *when)
{
	int n;

	n = f->f_mech->m_wait(&f->f_ctx, f->f_ev, f->f_ctx.m_batch, 0);
	if (n < 0)
		return (flow_fail(f, "wait: %s", strerror(errno)));
	if (n > 0)
		return (flow_fail(f, "%d unexpected event(s) %s (first on "
		    "source %u)", n, when, f->f_ev[0].id));
	return (0);
}

/*
 * Make m's queue with nsrc sources of the given kind and nidle idle
 * eventfds; -1 (and f_fail says why) if it reports events nobody caused.
 * Failures of the host itself are fatal.
 */
static int
flow_open(struct flow *f, const struct mech *m, enum src_kind kind,
    int nsrc, const int *idle, int nidle, int batch)
{
	uint32_t *ids, size;
	int i, n;

	memset(f, 0, sizeof(*f));
	f->f_mech = m;
	f->f_kind = kind;
	f->f_nsrc = nsrc;
	f->f_ctx.m_qfd = -1;
	n = nsrc > nidle ? nsrc : nidle;
	for (size = 1; size < (uint32_t)nsrc; size <<= 1)
		;
	if ((ids = calloc((size_t)n, sizeof(*ids))) == NULL ||
	    (f->f_fds = calloc((size_t)nsrc, sizeof(int))) == NULL ||
	    (f->f_pending = calloc((size_t)nsrc, 1)) == NULL ||
	    (f->f_ev = calloc((size_t)batch, sizeof(*f->f_ev))) == NULL ||
	    (f->f_crslot = calloc(size, sizeof(uint32_t))) == NULL)
		die("out of memory");
	f->f_cr.cr_mask = size - 1;
	for (i = 0; i < nsrc; i++)
		f->f_fds[i] = -1;
	if (m->m_setup(&f->f_ctx, nsrc + nidle, batch) != 0)
		die("%s: setup: %s", m->m_name, strerror(errno));

	/* Idle sources are named after the active ones: never expected. */
	if (nidle > 0) {
		for (i = 0; i < nidle; i++)
			ids[i] = (uint32_t)(nsrc + i);
		if (m->m_arm(&f->f_ctx, SRC_READ, idle, ids, nidle) != 0)
			die("%s: registering %d idle eventfds: %s", m->m_name,
			    nidle, strerror(errno));
	}
	for (i = 0; i < nsrc; i++)
		ids[i] = (uint32_t)i;
	if (kind == SRC_READ && eventfds_open(f->f_fds, nsrc) != 0)
		die("eventfd: %s", strerror(errno));
	if (m->m_arm(&f->f_ctx, kind, kind == SRC_USER ? NULL : f->f_fds,
	    ids, nsrc) != 0)
		die("%s: registering %d sources: %s", m->m_name, nsrc,
		    strerror(errno));
	free(ids);
	return (flow_expect_quiet(f, "after registration"));
}

static void
flow_close(struct flow *f)
{

	f->f_mech->m_teardown(&f->f_ctx);
	fds_close(f->f_fds, f->f_nsrc);
	free(f->f_fds);
	free((void *)f->f_pending);
	free(f->f_ev);
	free(f->f_crslot);
}

static void *
flow_producer(void *arg)
{
	struct flow *f = arg;
	const uint64_t one = 1;
	uint32_t id;
	long i;

	for (i = 0; i < f->f_events; i++) {
		if ((id = credits_pop(&f->f_cr)) == CR_ABORT)
			break;
		/* Release: the consumer that sees the event sees this. */
		atomic_store_explicit(&f->f_pending[id], 1,
		    memory_order_release);
		if (f->f_kind == SRC_USER) {
			if (f->f_mech->m_trigger(&f->f_ctx, id) != 0) {
				f->f_error = errno;
				break;
			}
		} else if (write(f->f_fds[id], &one, sizeof(one)) !=
		    sizeof(one)) {
			f->f_error = errno;
			break;
		}
	}
	return (NULL);
}

/* Check one event of a run and hand its source back to the producer. */
static int
flow_take(struct flow *f, uint32_t id, int nactive)
{
	uint64_t v;

	if (id >= (uint32_t)nactive)
		return (flow_fail(f, "event on %s source %u",
		    id < (uint32_t)f->f_nsrc ? "an unused" : "an idle", id));
	if (!atomic_load_explicit(&f->f_pending[id], memory_order_acquire))
		return (flow_fail(f, "event on source %u, which was not "
		    "fired: reported twice, or spurious", id));
	/*
	 * A level-triggered descriptor is reset by reading it, which must
	 * find exactly the one write that made it ready.
	 */
	if (f->f_kind == SRC_READ) {
		if (read(f->f_fds[id], &v, sizeof(v)) != sizeof(v))
			return (flow_fail(f, "read of ready eventfd %u: %s",
			    id, strerror(errno)));
		if (v != 1)
			return (flow_fail(f, "eventfd %u counted %llu writes "
			    "for one event", id, (unsigned long long)v));
	}
	atomic_store_explicit(&f->f_pending[id], 0, memory_order_relaxed);
	credits_push(&f->f_cr, id);
	return (0);
}

/*
 * One timed run: the producer keeps nactive sources busy, this thread
 * waits for up to batch at a time until events have come.  Returns ns per
 * event, or -1 (and f_fail says why) if the events were not exactly the
 * ones caused.
 */
static double
flow_run(struct flow *f, int batch, int nactive, long events)
{
	const struct mech *m = f->f_mech;
	pthread_attr_t attr;
	cpu_set_t set;
	pthread_t th;
	long long t0, t1;
	long got = 0;
	int i, n, error = 0;

	f->f_events = events;
	f->f_error = 0;
	credits_init(&f->f_cr, f->f_crslot, f->f_cr.cr_mask + 1, nactive);
	for (i = 0; i < f->f_nsrc; i++)
		atomic_store(&f->f_pending[i], 0);

	pthread_attr_init(&attr);
	if (pin_cpu[0] >= 0) {
		pin_mask(0, &set);
		(void)sched_setaffinity(0, sizeof(set), &set);
		pin_mask(1, &set);
		(void)pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	t0 = now_ns();
	if ((errno = pthread_create(&th, &attr, flow_producer, f)) != 0)
		die("pthread_create: %s", strerror(errno));
	while (got < events && error == 0) {
		n = m->m_wait(&f->f_ctx, f->f_ev, batch, WAIT_MS);
		if (n < 0)
			error = flow_fail(f, "wait: %s", strerror(errno));
		else if (n == 0)
			error = flow_fail(f, "no event for %d ms after %ld of "
			    "%ld: lost events%s", WAIT_MS, got, events,
			    f->f_error ? " (the producer failed)" : "");
		else if (n > batch)
			error = flow_fail(f, "%d events for a batch of %d", n,
			    batch);
		for (i = 0; i < n && error == 0; i++)
			error = flow_take(f, f->f_ev[i].id, nactive);
		credits_wake(&f->f_cr);
		got += n;
	}
	t1 = now_ns();
	if (error != 0)
		credits_abort(&f->f_cr);
	pthread_join(th, NULL);
	pthread_attr_destroy(&attr);
	if (pin_cpu[0] >= 0)
		(void)sched_setaffinity(0, sizeof(pin_all), &pin_all);
	if (error != 0)
		return (-1);
	if (f->f_error != 0)
		return (flow_fail(f, "producer: %s", strerror(f->f_error)));
	if (got != events)
		return (flow_fail(f, "%ld events, expected %ld", got,
		    events));
	if (flow_expect_quiet(f, "after the run") != 0)
		return (-1);
	return ((double)(t1 - t0) / (double)events);
}

/*
 * ---------------------------------------------------------------- workloads
 */
struct workload {
	const char	*w_name;
	const char	*w_descr;
	enum src_kind	 w_kind;
	int		 w_batches[4];	/* 0-terminated */
	void		(*w_run)(const struct workload *);
};

static int
batch_selected(int batch)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", batch);
	return (inlist(opt.o_batch, num));
}

static int
mech_selected(const struct mech *m, enum src_kind kind)
{

	return (inlist(opt.o_mech, m->m_name) && (m->m_kinds & 1u << kind));
}

/* Warm caches and code paths; a tenth of a run, untimed. */
static int
flow_warm(struct flow *f, int batch, int nactive)
{
	long n = opt.o_events / 10;

	return (flow_run(f, batch, nactive, n < 1000 ? 1000 : n) < 0 ?
	    -1 : 0);
}

/*
 * One measurement in the making: a flow, and the workload, mechanism and
 * batch its result will be filed under.
 */
struct cell {
	struct flow	 c_flow;
	const struct mech *c_mech;
	char		 c_wl[32];
	int		 c_failed;
	double		*c_ns;
};

static void
cell_open(struct cell *c, const char *wl, const struct mech *m,
    enum src_kind kind, int nsrc, const int *idle, int nidle, int batch)
{

	memset(c, 0, sizeof(*c));
	snprintf(c->c_wl, sizeof(c->c_wl), "%s", wl);
	c->c_mech = m;
	if ((c->c_ns = calloc((size_t)opt.o_runs, sizeof(double))) == NULL)
		die("out of memory");
	progress("%s %s: setup", wl, m->m_name);
	c->c_failed = flow_open(&c->c_flow, m, kind, nsrc, idle, nidle,
	    batch) != 0;
}

static void
cell_close(struct cell *c)
{

	flow_close(&c->c_flow);
	free(c->c_ns);
}

/*
 * Measure every cell at one batch size: a warm-up each, then the runs
 * interleaved (run r of every cell before run r+1 of any, in an order that
 * rotates), so that a machine busy with something else for a while slows
 * all of them alike and the ratios between them stay honest.  The first
 * failure of a cell ends its measurements.
 */
static void
cells_measure(struct cell *cells, int nc, int batch, int nactive)
{
	struct cell *c;
	int i, j, r;

	for (i = 0; i < nc; i++) {
		c = &cells[i];
		progress("%s %s batch %d: warm-up", c->c_wl,
		    c->c_mech->m_name, batch);
		if (!c->c_failed)
			c->c_failed = flow_warm(&c->c_flow, batch,
			    nactive) != 0;
	}
	for (r = 0; r < opt.o_runs; r++)
		for (j = 0; j < nc; j++) {
			c = &cells[(j + r) % nc];
			if (c->c_failed)
				continue;
			progress("%s %s batch %d: run %d/%d", c->c_wl,
			    c->c_mech->m_name, batch, r + 1, opt.o_runs);
			if ((c->c_ns[r] = flow_run(&c->c_flow, batch, nactive,
			    opt.o_events)) < 0)
				c->c_failed = 1;
		}
	for (i = 0; i < nc; i++) {
		c = &cells[i];
		snprintf(doing, sizeof(doing), "%s %s batch %d", c->c_wl,
		    c->c_mech->m_name, batch);
		if (c->c_failed)
			result_fail(c->c_wl, c->c_mech, batch, opt.o_events,
			    c->c_flow.f_fail);
		else
			result_add(c->c_wl, c->c_mech, batch, opt.o_events,
			    c->c_ns, opt.o_runs);
	}
}

/* Once every queue of theirs is closed: what did the mechanisms keep? */
static void
mechs_leakcheck(enum src_kind kind)
{
	size_t mi;

	for (mi = 0; mi < NELEM(mechs); mi++)
		if (mech_selected(&mechs[mi], kind) &&
		    mechs[mi].m_leakcheck != NULL)
			mechs[mi].m_leakcheck();
}

/*
 * user and eventfd: B sources, waits of B events, a producer keeping every
 * source that has been taken busy.
 */
static void
run_flow_workload(const struct workload *w)
{
	struct cell cells[NELEM(mechs)];
	size_t mi;
	int b, batch, first = nresults, nc;

	table_header(w->w_descr);
	for (b = 0; (batch = w->w_batches[b]) != 0; b++) {
		if (!batch_selected(batch))
			continue;
		nc = 0;
		for (mi = 0; mi < NELEM(mechs); mi++)
			if (mech_selected(&mechs[mi], w->w_kind))
				cell_open(&cells[nc++], w->w_name, &mechs[mi],
				    w->w_kind, batch, NULL, 0, batch);
		cells_measure(cells, nc, batch, batch);
		while (nc > 0)
			cell_close(&cells[--nc]);
		mechs_leakcheck(w->w_kind);
	}
	table_rows(first);
}

/*
 * RLIMIT_NOFILE: raise the soft limit to what is wanted, up to the hard
 * limit, and past it where we may (root); return the soft limit now.
 */
static long
nofile_raise(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return (1024);
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur >= want)
		return ((long)rl.rlim_cur);
	if (rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max >= want) {
		rl.rlim_cur = (rlim_t)want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return (want);
	} else {
		struct rlimit up = { (rlim_t)want, (rlim_t)want };

		/* Only with CAP_SYS_RESOURCE; harmless to try. */
		if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
			note("note: RLIMIT_NOFILE hard limit raised from "
			    "%ld to %ld (privileged)\n", (long)rl.rlim_max,
			    want);
			return (want);
		}
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return (1024);
	return ((long)rl.rlim_cur);
}

/* Descriptors a run needs besides the ones it counts: stdio, queues. */
#define	FD_SLACK	128

/*
 * idle: delivery must cost O(ready events), not O(registered knotes).
 * Every mechanism's queue watches 16 eventfds driven as in the eventfd
 * workload, beside 10 idle eventfds or beside 100,000 (as many as
 * RLIMIT_NOFILE allows).  The two sizes are never registered at once:
 * evring's host layer keeps one process-wide host registration set, and
 * the small case must not carry the big one's.  Instead each run
 * registers one size, measures every mechanism and batch, tears it down,
 * then does the other size, alternating which goes first, so the ratio of
 * many idle to few compares moments close together.
 */
struct islot {
	int	 is_failed;
	char	 is_fail[256];
	double	*is_ns;
};

static void
run_idle(const struct workload *w)
{
	static const long idle_want[] = { 10, 100000 };
	enum { NK = NELEM(idle_want), NM = NELEM(mechs) };
	struct cell cells[NM];
	struct islot *slot, *is;
	const struct mech *m;
	const struct result *lo, *hi;
	char name[NK][32];
	double ratio;
	long long t0;
	size_t mi, k;
	int *idle, b, nb, batch, first = nresults, nc, nmax, r, kk, j;
	long lim, nidle[NK];

	lim = nofile_raise(idle_want[NK - 1] + FD_SLACK);
	for (k = 0; k < NK; k++) {
		nidle[k] = idle_want[k];
		if (nidle[k] > lim - FD_SLACK) {
			nidle[k] = lim - FD_SLACK;
			note("note: idle: RLIMIT_NOFILE is %ld (the hard "
			    "limit; raising it needs privilege), so %ld idle "
			    "descriptors instead of %ld\n", lim, nidle[k],
			    idle_want[k]);
		}
		snprintf(name[k], sizeof(name[k]), "idle-%ld", nidle[k]);
	}
	for (nb = 0; w->w_batches[nb] != 0; nb++)
		;
	if ((slot = calloc((size_t)(NK * NM * nb), sizeof(*slot))) == NULL)
		die("out of memory");
	for (j = 0; j < NK * NM * nb; j++)
		if ((slot[j].is_ns = calloc((size_t)opt.o_runs,
		    sizeof(double))) == NULL)
			die("out of memory");
#define	SLOT(k, mi, b)	(&slot[((k) * NM + (mi)) * (size_t)nb + (b)])

	/* The small sets are the first descriptors of the big one. */
	nmax = (int)nidle[NK - 1];
	if ((idle = calloc((size_t)nmax, sizeof(int))) == NULL)
		die("out of memory");
	progress("idle: opening %d eventfds", nmax);
	if (eventfds_open(idle, nmax) != 0)
		die("eventfd (%d idle): %s", nmax, strerror(errno));
	table_header(w->w_descr);

	for (r = 0; r < opt.o_runs; r++) {
		for (kk = 0; kk < NK; kk++) {
			k = (size_t)(r % 2 == 0 ? kk : NK - 1 - kk);
			nc = 0;
			for (mi = 0; mi < NM; mi++) {
				m = &mechs[mi];
				if (!mech_selected(m, SRC_READ))
					continue;
				t0 = now_ns();
				cell_open(&cells[nc], name[k], m, SRC_READ,
				    IDLE_ACTIVE, idle, (int)nidle[k],
				    IDLE_ACTIVE);
				if (r == 0 && nidle[k] >= 10000)
					note("note: %s: registering %ld idle "
					    "eventfds took %.0f ms\n",
					    m->m_name, nidle[k],
					    (double)(now_ns() - t0) / 1e6);
				cells[nc].c_ns = NULL;	/* slots keep them */
				for (b = 0; b < nb; b++) {
					is = SLOT(k, mi, (size_t)b);
					if (!cells[nc].c_failed ||
					    is->is_failed)
						continue;
					is->is_failed = 1;
					snprintf(is->is_fail,
					    sizeof(is->is_fail), "%s",
					    cells[nc].c_flow.f_fail);
				}
				nc++;
			}
			for (b = 0; (batch = w->w_batches[b]) != 0; b++) {
				if (!batch_selected(batch))
					continue;
				for (j = 0; j < nc; j++) {
					struct cell *c = &cells[(j + r) % nc];

					mi = (size_t)(c->c_mech - mechs);
					is = SLOT(k, mi, (size_t)b);
					if (is->is_failed)
						continue;
					progress("%s %s batch %d: run %d/%d",
					    name[k], c->c_mech->m_name, batch,
					    r + 1, opt.o_runs);
					/* A fresh queue: warm it first. */
					if (flow_warm(&c->c_flow, batch,
					    batch) != 0 || (is->is_ns[r] =
					    flow_run(&c->c_flow, batch, batch,
					    opt.o_events)) < 0) {
						is->is_failed = 1;
						snprintf(is->is_fail,
						    sizeof(is->is_fail), "%s",
						    c->c_flow.f_fail);
					}
				}
			}
			progress("%s: closing", name[k]);
			while (nc > 0)
				cell_close(&cells[--nc]);
			mechs_leakcheck(SRC_READ);
		}
	}
	fds_close(idle, nmax);
	free(idle);

	for (b = 0; (batch = w->w_batches[b]) != 0; b++) {
		if (!batch_selected(batch))
			continue;
		for (k = 0; k < NK; k++)
			for (mi = 0; mi < NM; mi++) {
				m = &mechs[mi];
				if (!mech_selected(m, SRC_READ))
					continue;
				is = SLOT(k, mi, (size_t)b);
				snprintf(doing, sizeof(doing),
				    "%s %s batch %d", name[k], m->m_name,
				    batch);
				if (is->is_failed)
					result_fail(name[k], m, batch,
					    opt.o_events, is->is_fail);
				else
					result_add(name[k], m, batch,
					    opt.o_events, is->is_ns,
					    opt.o_runs);
			}
	}
#undef	SLOT
	for (j = 0; j < NK * NM * nb; j++)
		free(slot[j].is_ns);
	free(slot);
	table_rows(first);

	/* The requirement: ns/event with many idle within 1.5x of few. */
	note("\nidle: ns/event with %ld idle descriptors registered vs %ld "
	    "(target: ratio <= %.1f)\n", nidle[1], nidle[0], IDLE_TARGET);
	for (mi = 0; mi < NM; mi++) {
		m = &mechs[mi];
		for (b = 0; (batch = w->w_batches[b]) != 0; b++) {
			lo = result_find(name[0], m->m_name, batch);
			hi = result_find(name[1], m->m_name, batch);
			if (lo == NULL || hi == NULL)
				continue;
			ratio = hi->r_med / lo->r_med;
			note("idle  %-14s batch %2d: K=%-6ld %8.1f ns/event  "
			    "K=%-6ld %8.1f ns/event  ratio %.2f  %s\n",
			    m->m_name, batch, nidle[0], lo->r_med, nidle[1],
			    hi->r_med, ratio,
			    ratio <= IDLE_TARGET ? "PASS" : "MISS");
		}
	}
}

/*
 * mem: kernel bytes per watched descriptor.  evring counts its own kernel
 * allocations (evring_stat); Linux's epoll is measured by the slab
 * allocator's total in /proc/meminfo, which is noisy, hence the median.
 * evring's host layer also registers each descriptor once in a host epoll
 * instance, so its slab delta is shown too: that is the price of running
 * hosted, which a native evring kernel would not pay.
 */
static long long
slab_bytes(void)
{
	char line[256];
	long long kb, sum = 0;
	FILE *fp;
	int seen = 0;

	if ((fp = fopen("/proc/meminfo", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "SReclaimable: %lld kB", &kb) == 1 ||
		    sscanf(line, "SUnreclaim: %lld kB", &kb) == 1) {
			sum += kb;
			seen++;
		}
	}
	fclose(fp);
	return (seen == 2 ? sum * 1024 : -1);
}

/* Object size and count of one slab cache, from /proc/slabinfo. */
static int
slabinfo(const char *cache, long *objs, long *size)
{
	char line[512], name[64];
	long active, total, osz;
	FILE *fp;
	int found = 0;

	if ((fp = fopen("/proc/slabinfo", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &total,
		    &osz) == 4 && strcmp(name, cache) == 0) {
			*objs = active;
			*size = osz;
			found = 1;
			break;
		}
	fclose(fp);
	return (found ? 0 : -1);
}

/* A number for a table, or "-" when it is not known. */
static const char *
fmtnum(char *buf, size_t len, double v, int prec)
{

	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
	return (buf);
}

struct memsample {
	double	ms_own;		/* the mechanism's own accounting */
	double	ms_slab;	/* host slab delta */
	double	ms_epi;		/* host eventpoll_epi objects added */
	double	ms_knote, ms_file, ms_kq;
};

static void
mem_once(const struct mech *m, int *fds, int nfds, struct memsample *s)
{
	struct mctx c;
	uint32_t *ids;
	long long own0 = 0, own1 = 0, kn0 = 0, fi0 = 0, kq0 = 0, sl0, sl1;
	long epi0 = 0, epi1 = 0, sz;
	int i, evr = m->m_kmem != NULL, haveepi;

	/* NAN: not known (not evring; /proc/slabinfo is root's). */
	s->ms_own = s->ms_slab = s->ms_epi = NAN;
	s->ms_knote = s->ms_file = s->ms_kq = NAN;
	if ((ids = calloc((size_t)nfds, sizeof(*ids))) == NULL)
		die("out of memory");
	for (i = 0; i < nfds; i += 2)
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    &fds[i]) != 0)
			die("socketpair: %s", strerror(errno));
	for (i = 0; i < nfds; i++)
		ids[i] = (uint32_t)i;
	memset(&c, 0, sizeof(c));
	c.m_qfd = -1;
	if (m->m_setup(&c, nfds, 64) != 0)
		die("%s: setup: %s", m->m_name, strerror(errno));

	/* Queue made, descriptors open: only the registrations differ. */
	if (evr) {
		own0 = m->m_kmem();
		kn0 = evring_stat(EVRING_STAT_KMEM_KNOTE);
		fi0 = evring_stat(EVRING_STAT_KMEM_FILE);
		kq0 = evring_stat(EVRING_STAT_KMEM_KQUEUE);
	}
	haveepi = slabinfo("eventpoll_epi", &epi0, &sz) == 0;
	sl0 = slab_bytes();
	if (m->m_arm(&c, SRC_RDWR, fds, ids, nfds) != 0)
		die("%s: registering %d descriptors: %s", m->m_name, nfds,
		    strerror(errno));
	sl1 = slab_bytes();
	haveepi &= slabinfo("eventpoll_epi", &epi1, &sz) == 0;
	if (evr) {
		own1 = m->m_kmem();
		s->ms_knote = (double)(evring_stat(EVRING_STAT_KMEM_KNOTE) -
		    kn0) / nfds;
		s->ms_file = (double)(evring_stat(EVRING_STAT_KMEM_FILE) -
		    fi0) / nfds;
		s->ms_kq = (double)(evring_stat(EVRING_STAT_KMEM_KQUEUE) -
		    kq0) / nfds;
	}
	if (evr)
		s->ms_own = (double)(own1 - own0) / nfds;
	if (sl0 >= 0 && sl1 >= 0)
		s->ms_slab = (double)(sl1 - sl0) / nfds;
	if (haveepi)
		s->ms_epi = (double)(epi1 - epi0) / nfds;
	m->m_teardown(&c);
	fds_close(fds, nfds);
	if (m->m_leakcheck != NULL)
		m->m_leakcheck();
	free(ids);
	/* epitems are freed after an RCU grace period: let them go. */
	usleep(20000);
}

static void
run_mem(const struct workload *w)
{
	const struct mech *m;
	struct memsample s;
	double *own, *slab, *epi, *kn, *fi, *kq;
	char b1[32], b2[32], b3[32];
	long epi_n, epi_sz = 0, pwq_sz = 0;
	size_t mi;
	int *fds, nfds = opt.o_memfds & ~1, r;

	(void)w;
	nofile_raise(nfds + FD_SLACK);
	if ((fds = calloc((size_t)nfds, sizeof(int))) == NULL ||
	    (own = calloc((size_t)opt.o_runs * 6, sizeof(double))) == NULL)
		die("out of memory");
	slab = own + opt.o_runs;
	epi = slab + opt.o_runs;
	kn = epi + opt.o_runs;
	fi = kn + opt.o_runs;
	kq = fi + opt.o_runs;
	note("\nmem: kernel bytes per watched descriptor (EVFILT_READ + "
	    "EVFILT_WRITE / EPOLLIN|EPOLLOUT on one queue,\n     %d "
	    "socketpair ends, median of %d runs; host slab = delta of "
	    "SReclaimable+SUnreclaim)\n", nfds, opt.o_runs);
	note("%-14s %12s %12s %12s   %s\n", "mechanism", "own/fd",
	    "hostslab/fd", "epitems/fd", "own breakdown (knote, file, "
	    "queue)");
	for (mi = 0; mi < NELEM(mechs); mi++) {
		m = &mechs[mi];
		if (!mech_selected(m, SRC_RDWR))
			continue;
		for (r = 0; r < opt.o_runs; r++) {
			progress("mem %s: run %d/%d", m->m_name, r + 1,
			    opt.o_runs);
			mem_once(m, fds, nfds, &s);
			own[r] = s.ms_own;
			slab[r] = s.ms_slab;
			epi[r] = s.ms_epi;
			kn[r] = s.ms_knote;
			fi[r] = s.ms_file;
			kq[r] = s.ms_kq;
		}
		note("%-14s %12s %12s %12s   ", m->m_name,
		    fmtnum(b1, sizeof(b1), median(own, opt.o_runs), 1),
		    fmtnum(b2, sizeof(b2), median(slab, opt.o_runs), 1),
		    fmtnum(b3, sizeof(b3), median(epi, opt.o_runs), 2));
		if (m->m_kmem != NULL)
			note("%.1f + %.1f + %.1f\n", median(kn, opt.o_runs),
			    median(fi, opt.o_runs), median(kq, opt.o_runs));
		else
			note("-\n");
	}
	(void)slabinfo("eventpoll_epi", &epi_n, &epi_sz);
	{
		FILE *fp = fopen("/sys/kernel/slab/eventpoll_pwq/object_size",
		    "r");

		if (fp != NULL) {
			if (fscanf(fp, "%ld", &pwq_sz) != 1)
				pwq_sz = 0;
			fclose(fp);
		}
	}
	note("reference: Linux epoll per fd = epitem (~128-192 B) + "
	    "eppoll_entry (~56 B) = ~200 B");
	if (epi_sz > 0 && pwq_sz > 0)
		note("; this kernel's slabs: %ld + %ld = %ld B", epi_sz,
		    pwq_sz, epi_sz + pwq_sz);
	note("\n");
	note("own/fd is evring's kernel (what a native kernel would "
	    "allocate); evring's hostslab/fd is\nthe host epoll "
	    "registration its Linux host layer makes per descriptor.\n");
	free(own);
	free(fds);
}

static const struct workload workloads[] = {
	{
		.w_name = "user",
		.w_descr = "user: another thread fires B user events "
		    "(EVFILT_USER EV_CLEAR / eventfd EPOLLET), waits of B",
		.w_kind = SRC_USER,
		.w_batches = { 1, 16, 256, 0 },
		.w_run = run_flow_workload,
	},
	{
		.w_name = "eventfd",
		.w_descr = "eventfd: another thread writes B eventfds "
		    "(level-triggered), consumer read()s each, waits of B",
		.w_kind = SRC_READ,
		.w_batches = { 1, 16, 256, 0 },
		.w_run = run_flow_workload,
	},
	{
		.w_name = "idle",
		.w_descr = "idle: eventfd workload on B of 16 eventfds, with "
		    "K idle eventfds registered too",
		.w_kind = SRC_READ,
		.w_batches = { 1, 16, 0 },
		.w_run = run_idle,
	},
	{
		.w_name = "mem",
		.w_descr = "mem: kernel bytes per watched descriptor",
		.w_kind = SRC_RDWR,
		.w_run = run_mem,
	},
};

/*
 * ---------------------------------------------------------------- main
 */
static void
machine_line(void)
{
	struct utsname u;
	char iou[64] = "io_uring: unknown";
	double load = -1;
	FILE *fp;
	int v;

	if (uname(&u) != 0)
		snprintf(u.release, sizeof(u.release), "?");
	if ((fp = fopen("/proc/sys/kernel/io_uring_disabled", "r")) != NULL) {
		if (fscanf(fp, "%d", &v) == 1)
			snprintf(iou, sizeof(iou), "io_uring %s "
			    "(io_uring_disabled=%d)", v == 0 ? "enabled" :
			    v == 1 ? "restricted" : "disabled", v);
		fclose(fp);
	} else
		snprintf(iou, sizeof(iou), "io_uring enabled "
		    "(no io_uring_disabled sysctl)");
	/* Other work on the machine moves absolute numbers; say how much. */
	if ((fp = fopen("/proc/loadavg", "r")) != NULL) {
		if (fscanf(fp, "%lf", &load) != 1)
			load = -1;
		fclose(fp);
	}
	note("machine: %ld online CPUs, %s %s %s, %s, load average %.2f\n",
	    sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, u.machine,
	    iou, load);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: evbench [-w workload[,...]] [-m mechanism[,...]] "
	    "[-b batch[,...]]\n               [-r runs] [-n events] [--quick] "
	    "[--csv] [--no-pin]\n");
	fprintf(f, "workloads:\n");
	for (i = 0; i < NELEM(workloads); i++)
		fprintf(f, "  %-14s %s\n", workloads[i].w_name,
		    workloads[i].w_descr);
	fprintf(f, "mechanisms:\n");
	for (i = 0; i < NELEM(mechs); i++)
		fprintf(f, "  %-14s %s\n", mechs[i].m_name, mechs[i].m_descr);
}

static void
check_list(const char *list, int workload)
{
	char name[64];
	const char *p;
	size_t i, len;
	int ok;

	for (p = list; *p != '\0'; p += len) {
		if (*p == ',')
			p++;
		len = strcspn(p, ",");
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		ok = 0;
		if (workload) {
			for (i = 0; i < NELEM(workloads); i++)
				ok |= strcmp(workloads[i].w_name, name) == 0;
		} else
			ok = mech_byname(name) != NULL;
		if (!ok) {
			fprintf(stderr, "evbench: unknown %s \"%s\"\n",
			    workload ? "workload" : "mechanism", name);
			usage(stderr);
			exit(2);
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "csv", no_argument, NULL, 'c' },
		{ "quick", no_argument, NULL, 'q' },
		{ "no-pin", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long t0;
	size_t i;
	long v;
	int ch, set_runs = 0, set_events = 0;
	char *end;

	while ((ch = getopt_long(argc, argv, "w:m:b:r:n:qh", lopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'w':
			check_list(optarg, 1);
			opt.o_wl = optarg;
			break;
		case 'm':
			check_list(optarg, 0);
			opt.o_mech = optarg;
			break;
		case 'b':
			opt.o_batch = optarg;
			break;
		case 'r':
		case 'n':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 1 ||
			    (ch == 'r' && v > 1000)) {
				fprintf(stderr, "evbench: bad -%c %s\n", ch,
				    optarg);
				exit(2);
			}
			if (ch == 'r') {
				opt.o_runs = (int)v;
				set_runs = 1;
			} else {
				opt.o_events = v;
				set_events = 1;
			}
			break;
		case 'c':
			opt.o_csv = 1;
			break;
		case 'q':
			opt.o_quick = 1;
			break;
		case 'P':
			opt.o_nopin = 1;
			break;
		case 'h':
			usage(stdout);
			return (0);
		default:
			usage(stderr);
			return (2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		return (2);
	}
	if (opt.o_quick) {
		if (!set_runs)
			opt.o_runs = QUICK_RUNS;
		if (!set_events)
			opt.o_events = QUICK_EVENTS;
		opt.o_memfds = QUICK_MEM_FDS;
	}
	opt.o_tty = isatty(STDERR_FILENO);
	pin_init();

	machine_line();
	if (opt.o_csv) {
		printf("workload,mechanism,batch,events,ns_per_event,"
		    "events_per_s\n");
		fflush(stdout);
	} else
		printf("%d runs of %ld events per measurement; ns/event is "
		    "the median, min and max over the runs;\n%s\n",
		    opt.o_runs, opt.o_events, pin_cpu[0] >= 0 ?
		    "consumer and producer pinned to two CPUs" :
		    "threads not pinned");
	t0 = now_ns();
	for (i = 0; i < NELEM(workloads); i++)
		if (inlist(opt.o_wl, workloads[i].w_name))
			workloads[i].w_run(&workloads[i]);
	progress_done();
	note("\nevbench: done in %.1f s", (double)(now_ns() - t0) / 1e9);
	if (nfailed != 0)
		note("; %d measurement(s) FAILED their checks", nfailed);
	note("\n");
	free(results);
	return (nfailed != 0 ? 1 : 0);
}
