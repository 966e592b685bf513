/**
 * @file
 *
 * The app's state server (default port 8890): the drone connects and pushes
 * "key:value;" state strings (docs/PROTOCOL.md 8.5). Each one is parsed;
 * a malformed one is counted and dropped and the server stays up. Only the
 * drone's address may connect unless allow_any_peer is set.
 */
#ifndef SCENTIENCE_UAV_STATE_SERVER_H
#define SCENTIENCE_UAV_STATE_SERVER_H

#include <scentience/options.h>
#include <scentience/loop.h>
#include <scentience/uav.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The server the drone pushes its state strings to (UAV-Sockets port 8890;
 * opaque). */
typedef struct scn_uav_state_server scn_uav_state_server;

/** Counters of a state server (scn_uav_state_server_get_stats()). */
typedef struct scn_uav_state_stats {
    uint64_t received;      /**< state strings parsed */
    uint64_t malformed;     /**< dropped: did not parse */
    uint64_t refused_peers; /**< connections from other addresses */
    uint64_t stale_events;  /**< times the state went stale */
    uint64_t connections;   /**< drone connections accepted */
} scn_uav_state_stats;

/** Options of scn_uav_state_server_new(); initialise with
 * scn_uav_state_server_options_init(). */
typedef struct scn_uav_state_server_options {
    size_t struct_size;       /**< set by _options_init() (options.h) */
    const char *bind_address; /**< "0.0.0.0" */
    int port;                 /**< 8890; 0: ephemeral */
    /** The drone's command URL: its host's addresses (every one
     * a name resolves to) are the ones allowed. */
    const char *drone_url;
    const char *allow_peer; /**< overrides the address from drone_url */
    int allow_any_peer;     /**< accept any address (explicit opt-in) */
    uint32_t stale_ms;      /**< no state this long: stale (1000) */
    /** Every state string, parsed. */
    void (*on_state)(scn_uav_state_server *srv, const scn_uav_state *st,
                     void *user);
    /** The state went stale (1: no state for stale_ms) or fresh again (0). */
    void (*on_stale)(scn_uav_state_server *srv, int stale, void *user);
    /** A non-fatal problem (malformed state, refused peer); the server stays
     * up. */
    void (*on_error)(scn_uav_state_server *srv, int err, const char *detail,
                     void *user);
    void *user; /**< passed to every callback */
} scn_uav_state_server_options;

/** What scn_uav_state_server_options_init() calls, with the caller's
 * sizeof(scn_uav_state_server_options) (scentience/options.h). */
SCN_API void
scn_uav_state_server_options_init_sized(scn_uav_state_server_options *o,
                                        size_t size);

/** Fills o with every default. */
static inline void
scn_uav_state_server_options_init(scn_uav_state_server_options *o)
{
    scn_uav_state_server_options_init_sized(o, sizeof(*o));
}
/** Returns 0, SCN_ERR_INVALID_ARG, SCN_ERR_URL, SCN_ERR_NOMEM, or the
 * socket errors of scn_server_new() (SCN_ERR_ADDRESS_IN_USE...). */
SCN_API int scn_uav_state_server_new(scn_loop *loop,
                                     const scn_uav_state_server_options *o,
                                     scn_uav_state_server **out);
/** Closes the drone's connection and frees. NULL is allowed. */
SCN_API void scn_uav_state_server_free(scn_uav_state_server *srv);
/** The port it listens on (the one the kernel chose for port 0). */
SCN_API int scn_uav_state_server_port(const scn_uav_state_server *srv);
/** Thread-safe copy of the latest state and its age. Returns 0 or
 * SCN_ERR_ABSENT (none yet). */
SCN_API int scn_uav_state_server_latest(scn_uav_state_server *srv,
                                        scn_uav_state *out, uint64_t *age_ms);
/** Thread-safe copy of the counters. */
SCN_API void scn_uav_state_server_get_stats(scn_uav_state_server *srv,
                                            scn_uav_state_stats *out);

#ifdef __cplusplus
}
#endif

#endif
