/*
 * Built by "make install-check" against an installed tree, through
 * pkg-config, the way a user's program is: the headers must be
 * self-contained and the library must export what they declare.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/evring.h>

#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	struct kevent kev, out;
	struct timespec zero = { 0, 0 };
	int kq, n;

	if ((kq = kqueue()) == -1) {
		perror("kqueue");
		return (1);
	}
	EV_SET(&kev, 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
	if (kevent(kq, &kev, 1, NULL, 0, NULL) == -1) {
		perror("kevent add");
		return (1);
	}
	EV_SET(&kev, 1, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
	n = kevent(kq, &kev, 1, &out, 1, &zero);
	if (n != 1 || out.ident != 1 || out.filter != EVFILT_USER) {
		fprintf(stderr, "kevent: got %d events, expected 1\n", n);
		return (1);
	}
	if (evring_stat(EVRING_STAT_KQUEUES) < 1) {
		fprintf(stderr, "evring_stat: no queue counted\n");
		return (1);
	}
	if (close(kq) == -1) {
		perror("close");
		return (1);
	}
	return (0);
}
