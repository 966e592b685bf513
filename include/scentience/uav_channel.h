/**
 * @file
 *
 * The UAV command channel: a persistent session to a drone's command port
 * (ws://DRONE:8889) carrying the text dialect of docs/PROTOCOL.md.
 *
 * - hello_scentience is sent after every (re)connect; other commands wait
 *   until it is answered ok. emergency never waits.
 * - Every command is validated before it is queued (scn_uav_cmd_*); an
 *   invalid one is refused and never sent.
 * - One command is in flight at a time; each has a timeout by class (short
 *   for reads and set commands, long for takeoff, land and motion). Reads
 *   may be retried on timeout; nothing else is ever retried.
 * - Every accepted command's reply callback runs exactly once: with the
 *   answer, or with an error: TIMEOUT (no answer in time; it may still be
 *   carried out), UAV_REFUSED, MALFORMED, UAV_SUPERSEDED, UAV_LINK_LOST
 *   (never written: not sent, not executed), UAV_OUTCOME_UNKNOWN (written,
 *   then the link died: it may have been executed), UAV_NOT_AIRBORNE
 *   (require_airborne), STATE at free (never written).
 * - A link the channel gives up on (no traffic for the channel's
 *   idle_timeout_ms, 5 s by default) is reset before anything is reported, and
 *   nothing not yet written is kept for the next link: once a command is
 *   reported, no byte of it can still reach the drone. A command written
 *   into an outage can arrive at most idle_timeout_ms late.
 * Callbacks run on the loop's thread; the reply is valid during the call.
 */
#ifndef SCENTIENCE_UAV_CHANNEL_H
#define SCENTIENCE_UAV_CHANNEL_H

#include <scentience/options.h>
#include <scentience/session.h>
#include <scentience/uav.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A drone's command channel: validated commands, one in flight, answers
 * matched (opaque). */
typedef struct scn_uav_channel scn_uav_channel;

/** How a command ended, as its callback receives it. */
typedef struct scn_uav_reply {
    int err;          /**< 0, or why the command did not succeed */
    const char *line; /**< the command as sent (passwords redacted) */
    const scn_uav_answer *answer; /**< parsed answer, NULL when none came */
    uint32_t attempts;            /**< times the line was written */
    uint32_t elapsed_ms;          /**< from queueing to completion */
} scn_uav_reply;

/** Called once per command when it ends (answered, failed, superseded). */
typedef void (*scn_uav_reply_fn)(scn_uav_channel *ch, const scn_uav_reply *r,
                                 void *user);

/** Counters of a channel (scn_uav_channel_get_stats()). */
typedef struct scn_uav_channel_stats {
    uint64_t sent;            /**< lines written */
    uint64_t answered;        /**< answers matched to their command */
    uint64_t timeouts;        /**< commands that got no answer in time */
    uint64_t retries;         /**< read commands written again */
    uint64_t late_answers;    /**< answers after a timeout, discarded */
    uint64_t refused;         /**< the drone answered error */
    uint64_t malformed;       /**< answers that could not be parsed */
    uint64_t rejected;        /**< commands refused by validation, never sent */
    uint64_t link_lost;       /**< commands not sent: the link was lost first */
    uint64_t activations;     /**< hello_scentience answered ok */
    uint64_t emergencies;     /**< emergency stops sent */
    uint64_t unknown_outcome; /**< written, then the link was lost */
    uint64_t not_airborne;    /**< refused: require_airborne, not airborne */
} scn_uav_channel_stats;

/** Options of scn_uav_channel_new(); initialise with
 * scn_uav_channel_options_init(). */
typedef struct scn_uav_channel_options {
    size_t struct_size; /**< set by _options_init() (options.h) */
    /** The link's session options (from scn_session_options_init()), read
     * by scn_uav_channel_new() only; required (url: ws://drone:8889). A
     * pointer, so that either struct can grow (scentience/options.h). Key,
     * backoff, TLS... as for a session; its callbacks, raw_text,
     * discard_unsent_on_link_loss and keepalive are the channel's own. */
    const scn_session_options *session;
    /** The link's keepalive, instead of the session's: a drone answers
     * pings at once, so a ping after this much silence (1000 ms)... */
    uint32_t ping_interval_ms;
    /** ...and the link given up after this long without traffic (5000 ms):
     * the sooner, the earlier a command written into an outage is known
     * lost (the aborted link drops it). */
    uint32_t idle_timeout_ms;
    uint32_t short_timeout_ms;    /**< reads, set, stream, oio (3000) */
    uint32_t long_timeout_ms;     /**< takeoff, land, motion (20000) */
    uint32_t resync_ms;           /**< quiet wait after a timeout (1000) */
    uint32_t read_retries;        /**< extra attempts for reads (1) */
    uint32_t activation_retry_ms; /**< after hello answered error (1000) */
    size_t queue_max;             /**< commands waiting (32) */
    /** Refuse (UAV_NOT_AIRBORNE) every command that moves or points the
     * drone (scn_uav_cmd_moves) unless a takeoff was answered ok on this
     * channel and no land or emergency since: checked when it is queued
     * and again when it is about to be written. For programs that act on
     * their own (a follow rule) rather than on a person's orders. */
    int require_airborne;
    /** Link state, as the session reports it. */
    void (*on_state)(scn_uav_channel *ch, const scn_state_event *ev,
                     void *user);
    /** SDK mode entered (1) or lost (0). */
    void (*on_active)(scn_uav_channel *ch, int active, void *user);
    /** Loud problems: an emergency that could not be sent or answered. */
    void (*on_error)(scn_uav_channel *ch, int err, const char *detail,
                     void *user);
    void *user; /**< passed to every callback */
} scn_uav_channel_options;

/** What scn_uav_channel_options_init() calls, with the caller's
 * sizeof(scn_uav_channel_options) (scentience/options.h). */
SCN_API void scn_uav_channel_options_init_sized(scn_uav_channel_options *opts,
                                                size_t size);

/** Fills opts with every default (session NULL: set it). */
static inline void scn_uav_channel_options_init(scn_uav_channel_options *opts)
{
    scn_uav_channel_options_init_sized(opts, sizeof(*opts));
}

/** Creates the channel and starts connecting. Returns 0 or the errors of
 * scn_session_new(). */
SCN_API int scn_uav_channel_new(scn_loop *loop,
                                const scn_uav_channel_options *opts,
                                scn_uav_channel **out);
/** Fails every pending command (SCN_ERR_STATE), closes and frees. Not from
 * inside the channel's callbacks. */
SCN_API void scn_uav_channel_free(scn_uav_channel *ch);

/**
 * Queues a typed command. It is validated first: an invalid command
 * returns its validation error with the explanation in why (when why_cap >
 * 0) and is never sent; cb is not called then. emergency is sent at once
 * (as scn_uav_channel_emergency).
 * Returns: 0; validation errors; SCN_ERR_QUEUE_FULL; SCN_ERR_STATE
 * (channel failed or closed).
 */
SCN_API int scn_uav_channel_send(scn_uav_channel *ch, const scn_uav_cmd *cmd,
                                 scn_uav_reply_fn cb, void *user, char *why,
                                 size_t why_cap);
/** The same for a raw command line, parsed and validated exactly like the
 * typed form. */
SCN_API int scn_uav_channel_send_text(scn_uav_channel *ch, const char *line,
                                      scn_uav_reply_fn cb, void *user,
                                      char *why, size_t why_cap);
/** Motors off now: written ahead of everything, even while another command
 * is in flight, which then completes with SCN_ERR_UAV_SUPERSEDED, as does
 * every queued command. Returns 0 or SCN_ERR_UAV_LINK_LOST (reported
 * through on_error as well: nothing was sent). */
SCN_API int scn_uav_channel_emergency(scn_uav_channel *ch, scn_uav_reply_fn cb,
                                      void *user);

/** Whether the drone is in SDK mode (hello_scentience answered ok on this
 * link). */
SCN_API int scn_uav_channel_active(const scn_uav_channel *ch);
/** What the channel knows of the flight: 1 airborne (takeoff answered ok),
 * 0 on the ground (land or emergency answered ok), -1 unknown (nothing
 * yet, or one of those written and not answered). */
SCN_API int scn_uav_channel_airborne(const scn_uav_channel *ch);
/** Sets what the channel knows of the flight (1, 0, -1 as above), for a
 * channel that takes over another's drone (a new key's link): it starts
 * from what the old one saw. */
SCN_API void scn_uav_channel_assume_airborne(scn_uav_channel *ch, int airborne);
/** Copies the counters into *out. */
SCN_API void scn_uav_channel_get_stats(const scn_uav_channel *ch,
                                       scn_uav_channel_stats *out);
/** The underlying session (statistics, state). */
SCN_API scn_session *scn_uav_channel_session(scn_uav_channel *ch);

#ifdef __cplusplus
}
#endif

#endif
