/*
 * The live listener as the apps offer it (--live-* options): the same
 * names, ranges and rules in every app that serves dashboards
 * (scn-companion, scn-fleet), and one way to start it: the token from a
 * file, a token required off loopback, certificate and key together, the
 * allow list and extra origins split from comma lists.
 */
#ifndef SCN_APP_LIVE_LISTEN_H
#define SCN_APP_LIVE_LISTEN_H

#include <stddef.h>
#include <stdint.h>

#include <scentience/live.h>

typedef struct live_listen_settings {
    int port;               /* 0: no listener */
    const char *bind;       /* NULL: 127.0.0.1 */
    const char *allow;      /* "CIDR,...": the peers allowed; NULL: all */
    const char *token_file; /* the dashboard token; required off loopback */
    const char *cert, *key; /* TLS (https, wss): both or neither */
    const char *origins;    /* "URL,...": more allowed browser origins */
    int max, max_per_address, queue_msgs, flush_ms;
    uint64_t queue_bytes;
} live_listen_settings;

/* --help lines of the options every app has alike (the queue and flush
 * lines follow in each app: their defaults differ). */
#define LIVE_LISTEN_USAGE                                                      \
    "  --live-port N         dashboard, Foxglove (ws://HOST:N/) and /live "    \
    "(8765; 0: off)\n"                                                         \
    "  --live-bind ADDR      address it listens on (127.0.0.1; 0.0.0.0: "      \
    "all)\n"                                                                   \
    "  --live-allow CIDR,... peers allowed to connect (all)\n"                 \
    "  --live-token-file FILE  dashboard token (0600), required off "          \
    "loopback\n"                                                               \
    "  --live-cert FILE --live-key FILE  TLS: https and wss\n"                 \
    "  --live-origin URL,... more allowed browser origins\n"                   \
    "  --live-max-subscribers N  connections at once (64)\n"                   \
    "  --live-max-per-address N  connections from one address (16)\n"

/* Port 8765 on 127.0.0.1 and the library's limits (scn_live_options). */
void live_listen_defaults(live_listen_settings *s);

/* Takes option name (without "--", e.g. "live-allow") with arg. Returns
 * 0, 1 when name is not a live listener option, or -1 with what is
 * accepted in why. */
int live_listen_option(live_listen_settings *s, const char *name,
                       const char *arg, char *why, size_t why_cap);

/* The settings as a whole (what each needs of the others): 0, or -1 with
 * the first problem in why. */
int live_listen_check(const live_listen_settings *s, char *why, size_t cap);

/* Starts the listener on loop (nothing when s->port is 0: *out NULL) and
 * says on stderr where it serves (the token never). Returns 0 or an exit
 * code, the reason printed as "PROG: ...". */
int live_listen_start(const char *prog, scn_loop *loop,
                      const live_listen_settings *s, scn_live **out);

#endif
