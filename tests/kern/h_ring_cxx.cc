// h_ring_cxx: the installed ring header's inline helpers, compiled as C++
// (t_ring_cxx runs it).  It attaches a ring, posts user events, and reads
// them back with every helper; any mismatch exits non-zero with a message.
#include <sys/event.h>
#include <sys/evring.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#define	CHECK(cond) do {						\
	if (!(cond)) {							\
		std::fprintf(stderr, "%s:%d: %s (errno %d)\n", __FILE__,	\
		    __LINE__, #cond, errno);				\
		std::exit(1);						\
	}								\
} while (0)

static void
trigger(int kq, uintptr_t id)
{
	struct kevent ch;

	EV_SET(&ch, id, EVFILT_USER, EV_ADD | EV_CLEAR, NOTE_TRIGGER, 0,
	    reinterpret_cast<void *>(id));
	CHECK(kevent(kq, &ch, 1, nullptr, 0, nullptr) == 0);
}

int
main()
{
	const struct kevent *kev;
	struct timespec zero = { 0, 0 };
	struct kevent got;
	struct evring r;
	uint32_t idx, n, state;
	int kq, seen;

	CHECK((kq = kqueue()) >= 0);
	CHECK(kevent_ring_attach(kq, 4) == 0);
	CHECK(kevent_ring_map(kq, &r) == 0);
	CHECK(evring_peek(&r, &state) == nullptr);
	CHECK(!evring_backlogged(&r));

	// Six events into four entries: two wait in the kernel.
	for (uintptr_t id = 1; id <= 6; id++)
		trigger(kq, id);
	CHECK(evring_ready(&r, &idx) == 4);
	CHECK(evring_backlogged(&r));
	seen = 0;
	evring_for_each(&r, idx, kev) {
		CHECK(kev->filter == EVFILT_USER);
		CHECK(kev->ident == static_cast<uintptr_t>(seen + 1));
		seen++;
	}
	CHECK(seen == 4);
	evring_advance(&r, static_cast<uint32_t>(seen));
	CHECK(evring_peek(&r, &state) == nullptr);

	// kevent_wait() moves the backlog in.
	n = static_cast<uint32_t>(kevent_wait(kq, state, &zero, nullptr));
	CHECK(n == 2);
	CHECK(!evring_backlogged(&r));
	kev = evring_peek(&r, nullptr);
	CHECK(kev != nullptr && kev->ident == 5);
	CHECK(evring_record(&r, idx) == kev);
	evring_advance(&r, 2);
	CHECK(evring_peek(&r, &state) == nullptr);
	CHECK(kevent_ring_unmap(&r) == 0);
	CHECK(close(kq) == 0);

	// The other discipline, on a ring of its own: evring_take().
	CHECK((kq = kqueue()) >= 0);
	CHECK(kevent_ring_attach(kq, 4) == 0);
	CHECK(kevent_ring_map(kq, &r) == 0);
	trigger(kq, 7);
	trigger(kq, 8);
	CHECK(evring_take(&r, &got, &state) == 1);
	CHECK(got.ident == 7 && got.udata == reinterpret_cast<void *>(7));
	CHECK(evring_take(&r, &got, &state) == 1);
	CHECK(got.ident == 8);
	CHECK(evring_take(&r, &got, &state) == 0);
	CHECK(kevent_ring_unmap(&r) == 0);
	CHECK(close(kq) == 0);
	std::printf("ok\n");
	return (0);
}
