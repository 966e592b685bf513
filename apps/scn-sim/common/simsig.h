/*
 * Signals for every simulator mode. The handler only records the signal
 * and wakes the event loop (lws_cancel_service); the loop then takes the
 * pending signals and does the work outside the handler.
 */
#ifndef SCN_SIM_SIG_H
#define SCN_SIM_SIG_H

struct lws_context;

/* Catches SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2; ignores SIGPIPE. */
int simsig_install(void);
/* The context to wake on a signal (NULL: none). */
void simsig_set_context(struct lws_context *ctx);
/* 1 when sig arrived since the last call (and clears it), else 0. */
int simsig_take(int sig);
/* 1 when SIGINT or SIGTERM has arrived (does not clear). */
int simsig_stop_requested(void);

#endif
