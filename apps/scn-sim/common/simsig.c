/* Async-signal-safe signal capture. */
#include "simsig.h"

#include <errno.h>
#include <libwebsockets.h>
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t pending[NSIG];
static volatile sig_atomic_t stop;
static struct lws_context *volatile wake_ctx;

static void on_signal(int sig)
{
    int saved = errno;
    struct lws_context *ctx = wake_ctx;

    if (sig > 0 && sig < NSIG)
        pending[sig] = 1;
    if (sig == SIGINT || sig == SIGTERM)
        stop = 1;
    /* Writes one byte to lws's wake pipe: safe in a handler. */
    if (ctx)
        lws_cancel_service(ctx);
    errno = saved;
}

int simsig_install(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL))
            return -1;
    sa.sa_handler = SIG_IGN;
    return sigaction(SIGPIPE, &sa, NULL);
}

void simsig_set_context(struct lws_context *ctx)
{
    wake_ctx = ctx;
}

int simsig_take(int sig)
{
    if (sig <= 0 || sig >= NSIG || !pending[sig])
        return 0;
    pending[sig] = 0;
    return 1;
}

int simsig_stop_requested(void)
{
    return stop;
}
