/*
 * Lock-order checking under INVARIANTS, after FreeBSD's witness(4), small.
 *
 * Every lock (a host_lock, and so every hc_mtx) belongs to a class, named
 * when it is initialized: all queues' kq_lock are one class, the 64 file
 * knlist pool mutexes and the other knlist locks are one class "knlist".
 * Each thread keeps the list of locks it holds.  A blocking acquisition of
 * a lock of class C while holding a lock of class H records the order
 * H -> C, with the stack that first showed it, and panics if C -> H, or a
 * chain C -> ... -> H, was recorded before: two threads following the two
 * orders can deadlock, whether or not they ever did.  The documented order
 * of doc/design.md section 8 (and the host's, host_init.c) is recorded at
 * start, so that reversing it panics the first time it happens.
 *
 * As witness(4) does, a trylock is not checked (it cannot wait, so it
 * cannot deadlock) and records no order against the locks held, but the
 * lock it took is held, and locks taken after it are ordered after it.
 *
 * Two locks of one class are never held at once (each queue's locks
 * are taken alone, a knote's knlist lock is the one of its object), so
 * that panics too; a class whose locks may nest would need an explicit
 * rule here (witness(4)'s LO_DUPOK), and none does today.  A class named a
 * leaf in section 8 (fdt_lock) takes nothing after it.
 *
 * Cost: one thread-local count when no lock is held, otherwise one
 * relaxed load per lock held; the global mutex is taken only the first
 * time a class is seen and the first time an order is seen.
 */
#ifdef INVARIANTS

#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host_impl.h"

#define	W_MAXCLASS	64
#define	W_MAXHELD	24	/* fork's prepare handler holds 10 */
#define	W_STACKDEPTH	32

#define	W_LEAF		0x1	/* nothing is taken while one is held */

#define	W_BIT(c)	(1ULL << (c))

struct w_stack {
	int	ws_n;
	void	*ws_pc[W_STACKDEPTH];
};

/* Guards the class table, new orders and w_stacks. */
static pthread_mutex_t w_mtx = PTHREAD_MUTEX_INITIALIZER;
static int w_ready;
static const char *w_names[W_MAXCLASS];
static unsigned w_flags[W_MAXCLASS];
static int w_nclass;
/* Bit C of w_order[H]: H -> C was seen (or is documented). */
static _Atomic uint64_t w_order[W_MAXCLASS];
/* The transitive closure of w_order, for chains. */
static uint64_t w_reach[W_MAXCLASS];
/* The first stack of each order seen; NULL for a documented one. */
static struct w_stack *w_stacks[W_MAXCLASS][W_MAXCLASS];

/* The calling thread's held locks, oldest first. */
static __thread struct host_lock *w_held[W_MAXHELD]
    __attribute__((tls_model("initial-exec")));
static __thread int w_nheld
    __attribute__((tls_model("initial-exec")));
/* w_nheld when fork()'s prepare handler began. */
static __thread int w_forkheld
    __attribute__((tls_model("initial-exec")));

/*
 * The documented order: doc/design.md section 8 for the kernel's locks and
 * the host's own locks taken from kernel context, host_init.c for the
 * host's.  Each pair is "first, then second".
 */
static const char *const w_documented[][2] = {
	{ "ep_mtx", "ep_nest_mtx" },
	{ "dp_wlock", "kq_reglock" },
	{ "ep_nest_mtx", "kq_reglock" },
	{ "kq_reglock", "file_watch_lock" },
	{ "file_watch_lock", "knlist" },
	{ "knlist", "kq_lock" },
	{ "kq_lock", "dp_lock" },
	{ "kq_lock", "ktask_lock" },
	{ "kq_lock", "host callout lock" },
	{ "kq_lock", "host sleeper lock" },
	{ "host poll lock", "knlist" },
	{ "kq_reglock", "host poll lock" },
	{ "file_watch_lock", "host poll lock" },
	{ "host poll lock", "host sig lock" },
	{ "host sig lock", "host vnode lock" },
	{ "host vnode lock", "host proc lock" },
	{ "host proc lock", "host setup lock" },
	{ "host setup lock", "host sleeper lock" },
	{ "host sleeper lock", "host callout lock" },
};
static const char *const w_leaves[] = {
	"fdt_lock",
};

static void
w_write(const char *s)
{
	ssize_t n, off = 0, len = (ssize_t)strlen(s);

	while (off < len && (n = write(STDERR_FILENO, s + off,
	    (size_t)(len - off))) > 0)
		off += n;
}

static void
w_stack_print(const struct w_stack *ws)
{

	backtrace_symbols_fd(ws->ws_pc, ws->ws_n, STDERR_FILENO);
}

/* A panic about lock hl, acquired or released while holding held. */
static void __attribute__((noreturn))
w_panic1(const char *what, struct host_lock *hl, struct host_lock *held)
{
	struct w_stack ws;
	char buf[256];

	snprintf(buf, sizeof(buf), "witness: %s: \"%s\" (%p)", what,
	    hl->hl_name != NULL ? hl->hl_name : "(unnamed)", (void *)hl);
	w_write(buf);
	if (held != NULL) {
		snprintf(buf, sizeof(buf), " while holding \"%s\" (%p)",
		    held->hl_name, (void *)held);
		w_write(buf);
	}
	w_write("\n");
	ws.ws_n = backtrace(ws.ws_pc, W_STACKDEPTH);
	w_stack_print(&ws);
	snprintf(buf, sizeof(buf), "witness: %s", what);
	hc_panic(buf);
}

/* Under w_mtx. */
static int
w_class_find(const char *name)
{
	int i;

	for (i = 0; i < w_nclass; i++)
		if (strcmp(w_names[i], name) == 0)
			return (i);
	if (w_nclass == W_MAXCLASS)
		hc_panic("witness: more lock classes than W_MAXCLASS");
	w_names[w_nclass] = name;
	return (w_nclass++);
}

/* Under w_mtx: record h -> c and close the relation over it. */
static void
w_order_add(int h, int c, struct w_stack *ws)
{
	uint64_t add;
	int x;

	w_stacks[h][c] = ws;
	atomic_fetch_or_explicit(&w_order[h], W_BIT(c), memory_order_relaxed);
	add = W_BIT(c) | w_reach[c];
	for (x = 0; x < w_nclass; x++)
		if (x == h || (w_reach[x] & W_BIT(h)) != 0)
			w_reach[x] |= add;
}

/* Under w_mtx. */
static void
w_init_locked(void)
{
	void *pc[1];
	size_t i;

	if (w_ready)
		return;
	w_ready = 1;
	/* The first backtrace() loads libgcc: not in the middle of a panic. */
	(void)backtrace(pc, 1);
	for (i = 0; i < sizeof(w_documented) / sizeof(w_documented[0]); i++)
		w_order_add(w_class_find(w_documented[i][0]),
		    w_class_find(w_documented[i][1]), NULL);
	for (i = 0; i < sizeof(w_leaves) / sizeof(w_leaves[0]); i++)
		w_flags[w_class_find(w_leaves[i])] |= W_LEAF;
}

static int
w_class(struct host_lock *hl)
{
	int c;

	/* Acquire: w_flags[] was written before any class was published. */
	if ((c = atomic_load_explicit(&hl->hl_class,
	    memory_order_acquire)) != 0)
		return (c - 1);
	if (hl->hl_name == NULL)
		w_panic1("lock without a name", hl, NULL);
	pthread_mutex_lock(&w_mtx);
	w_init_locked();
	c = w_class_find(hl->hl_name);
	pthread_mutex_unlock(&w_mtx);
	atomic_store_explicit(&hl->hl_class, c + 1, memory_order_release);
	return (c);
}

/*
 * Under w_mtx: a shortest chain of recorded orders from c to h, as classes
 * path[0] = c .. path[n - 1] = h; returns n (0 if there is none).
 */
static int
w_chain(int c, int h, int *path)
{
	int prev[W_MAXCLASS], queue[W_MAXCLASS];
	int head = 0, tail = 0, n, x, y;

	for (x = 0; x < W_MAXCLASS; x++)
		prev[x] = -1;
	prev[c] = c;
	queue[tail++] = c;
	while (head < tail && prev[h] < 0) {
		x = queue[head++];
		for (y = 0; y < w_nclass; y++)
			if ((atomic_load_explicit(&w_order[x],
			    memory_order_relaxed) & W_BIT(y)) != 0 &&
			    prev[y] < 0) {
				prev[y] = x;
				queue[tail++] = y;
			}
	}
	if (prev[h] < 0)
		return (0);
	n = 0;
	for (x = h; x != c; x = prev[x])
		n++;
	path[n] = h;
	for (x = h, y = n; x != c; x = prev[x])
		path[--y] = prev[x];
	return (n + 1);
}

/* Under w_mtx: acquiring c (lock hl) while holding h reverses the order. */
static void __attribute__((noreturn))
w_reversal(int h, int c, struct host_lock *hl, struct w_stack *cur)
{
	struct w_stack *ws;
	int path[W_MAXCLASS], i, n;
	char buf[512];

	snprintf(buf, sizeof(buf), "witness: lock order reversal: "
	    "\"%s\" (%p) acquired while holding \"%s\", but \"%s\" -> \"%s\" "
	    "was established first:\n", w_names[c], (void *)hl, w_names[h],
	    w_names[c], w_names[h]);
	w_write(buf);
	n = w_chain(c, h, path);
	for (i = 0; i + 1 < n; i++) {
		ws = w_stacks[path[i]][path[i + 1]];
		snprintf(buf, sizeof(buf), " \"%s\" -> \"%s\" %s\n",
		    w_names[path[i]], w_names[path[i + 1]], ws != NULL ?
		    "first seen at:" : "documented (doc/design.md section 8)");
		w_write(buf);
		if (ws != NULL)
			w_stack_print(ws);
	}
	snprintf(buf, sizeof(buf), " \"%s\" -> \"%s\" now, at:\n",
	    w_names[h], w_names[c]);
	w_write(buf);
	w_stack_print(cur);
	hc_panic("witness: lock order reversal");
}

/* A new order h -> c, or a reversal. */
static void
w_order_new(int h, int c, struct host_lock *hl)
{
	struct w_stack *ws;

	ws = malloc(sizeof(*ws));
	if (ws == NULL)
		hc_panic("witness: out of memory");
	ws->ws_n = backtrace(ws->ws_pc, W_STACKDEPTH);
	pthread_mutex_lock(&w_mtx);
	if ((w_reach[c] & W_BIT(h)) != 0)
		w_reversal(h, c, hl, ws);
	if ((atomic_load_explicit(&w_order[h], memory_order_relaxed) &
	    W_BIT(c)) == 0) {
		w_order_add(h, c, ws);
		ws = NULL;
	}
	pthread_mutex_unlock(&w_mtx);
	free(ws);
}

void
host_witness_check(struct host_lock *hl)
{
	struct host_lock *held;
	int c, h, i, n;

	if ((n = w_nheld) == 0)
		return;
	c = w_class(hl);
	for (i = 0; i < n; i++) {
		held = w_held[i];
		if (held == hl)
			w_panic1("recursion on a non-recursive lock", hl,
			    NULL);
		h = atomic_load_explicit(&held->hl_class,
		    memory_order_acquire) - 1;
		if (h == c)
			w_panic1("two locks of one class", hl, held);
		if ((w_flags[h] & W_LEAF) != 0)
			w_panic1("a lock acquired after a leaf", hl, held);
		if ((atomic_load_explicit(&w_order[h], memory_order_relaxed) &
		    W_BIT(c)) == 0)
			w_order_new(h, c, hl);
	}
}

void
host_witness_lock(struct host_lock *hl)
{
	int n;

	(void)w_class(hl);
	if ((n = w_nheld) == W_MAXHELD)
		w_panic1("more locks held than W_MAXHELD", hl, NULL);
	w_held[n] = hl;
	w_nheld = n + 1;
}

void
host_witness_unlock(struct host_lock *hl)
{
	int i, n = w_nheld;

	/* Usually the last one taken; release order is free. */
	for (i = n - 1; i >= 0; i--)
		if (w_held[i] == hl)
			break;
	if (i < 0)
		w_panic1("releasing a lock not held", hl, NULL);
	for (; i + 1 < n; i++)
		w_held[i] = w_held[i + 1];
	w_nheld = n - 1;
}

/*
 * fork(): the child's only thread is the forking one, whose held list it
 * inherits, with the locks the prepare handlers took; each is released in
 * the child as in the parent (the kernel abandons its other locks, which
 * the forking thread does not hold), and host_witness_forkend() checks
 * that the list is back to what it was before the prepare handler.  w_mtx
 * is taken last, after every lock the handlers take (taking those may
 * record orders), so that no other thread holds it at fork.
 */
void
host_witness_forkbegin(void)
{

	w_forkheld = w_nheld;
}

void
host_witness_forkprepare(void)
{

	pthread_mutex_lock(&w_mtx);
}

void
host_witness_forkparent(void)
{

	pthread_mutex_unlock(&w_mtx);
}

void
host_witness_forkchild(void)
{

	/*
	 * Unlocked, not initialized afresh: the forking thread took it and
	 * is the child's only thread, and TSan, which would still see it
	 * held after an init, sees the unlock.
	 */
	pthread_mutex_unlock(&w_mtx);
}

void
host_witness_forkend(void)
{

	if (w_nheld != w_forkheld)
		hc_panic("witness: fork handlers changed the locks held");
}

#endif /* INVARIANTS */
