/*
 * EVFILT_SIGNAL: data counts deliveries of a signal since the last report.
 *
 * The host counts deliveries without taking them from the program: its
 * handler passes each signal on to the program's own disposition (see
 * hc_sig_watch()).  One knlist per signal number holds the knotes of every
 * queue watching it.
 */
#include <sys/ktypes.h>
#include <sys/eventvar.h>

static struct knlist sig_knlist[KSIG_MAXSIG + 1];
static struct hc_mtx *sig_lock;

int
kern_sig_init(void)
{
	int error, i;

	/* Again after a start that failed: keep the lock it made. */
	if (sig_lock == NULL && (error = hc_mtx_init(&sig_lock, "knlist")) != 0)
		return (error);
	for (i = 0; i <= KSIG_MAXSIG; i++)
		knlist_init(&sig_knlist[i], sig_lock);
	return (0);
}

void
kern_sig_forkchild(void)
{

	struct hc_mtx *old = sig_lock;

	/* A new lock: another thread may have held the old at fork. */
	sig_lock = NULL;
	if (kern_sig_init() != 0)
		sig_lock = old;
}

void
sig_deliver(int signo, unsigned count)
{

	if (signo <= 0 || signo > KSIG_MAXSIG || count == 0)
		return;
	knote(&sig_knlist[signo], KNH_SIGNAL |
	    ((long long)(count & 0xffffff) << 8) | signo);
}

static int
filt_sigattach(struct knote *kn, struct knslot *ks __unused)
{
	int error;

	if (kn->kn_ident == 0 || kn->kn_ident > KSIG_MAXSIG)
		return (EINVAL);
	if ((error = hc_sig_watch((int)kn->kn_ident)) != 0)
		return (error);
	knlist_add(&sig_knlist[kn->kn_ident], kn);
	return (0);
}

static void
filt_sigdetach(struct knote *kn, struct knslot *ks __unused)
{

	knlist_remove(&sig_knlist[kn->kn_ident], kn);
	hc_sig_unwatch((int)kn->kn_ident);
}

static int
filt_signal(struct knote *kn, struct knslot *ks, long long hint)
{

	if ((hint & KNH_SIGNAL) &&
	    (uintptr_t)(KNH_DETAIL(hint) & 0xff) == kn->kn_ident)
		ks->ks_data += KNH_DETAIL(hint) >> 8;
	return (ks->ks_data != 0);
}

const struct filterops sig_filtops = {
	.f_class = KNC_SIGNAL,
	.f_flags = EV_CLEAR,
	.f_attach = filt_sigattach,
	.f_detach = filt_sigdetach,
	.f_event = filt_signal,
};
