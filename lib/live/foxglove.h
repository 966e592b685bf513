/*
 * The Foxglove WebSocket protocol (foxglove.websocket.v1, also offered as
 * foxglove.sdk.v1), server side: the messages we send and the requests
 * we read. Pure: JSON text and bytes in and out, no sockets.
 * docs/PROTOCOL.md 11.2 lists what is implemented and what is refused.
 */
#ifndef SCN_FOXGLOVE_H
#define SCN_FOXGLOVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCN_FG_SUBPROTOCOL     "foxglove.websocket.v1"
#define SCN_FG_SUBPROTOCOL_SDK "foxglove.sdk.v1"
/* Message data: opcode 1, subscription id (u32 LE), receive time (u64 LE
 * ns), then the payload. */
#define SCN_FG_MESSAGE_PREFIX 13
/* Subscriptions one request may carry. */
#define SCN_FG_REQUEST_MAX 64

enum { SCN_FG_INFO = 0, SCN_FG_WARNING = 1, SCN_FG_ERROR = 2 };

typedef struct scn_fg_channel {
    uint32_t id;
    const char *topic;
    const char *schema_name;
    const char *schema; /* JSON Schema text */
} scn_fg_channel;

typedef enum scn_fg_op {
    SCN_FG_SUBSCRIBE,
    SCN_FG_UNSUBSCRIBE,
    SCN_FG_UNSUPPORTED, /* a known operation we do not offer */
    SCN_FG_BAD          /* not a request we understand */
} scn_fg_op;

typedef struct scn_fg_request {
    scn_fg_op op;
    size_t n;
    uint32_t sub_id[SCN_FG_REQUEST_MAX];
    uint32_t channel_id[SCN_FG_REQUEST_MAX]; /* subscribe only */
    char name[32];   /* the op as sent, for an answer (cut) */
    const char *why; /* SCN_FG_BAD: what is wrong */
} scn_fg_request;

/* Reads one client message (binary ones are client publishing and
 * service calls, which we do not offer: SCN_FG_UNSUPPORTED). */
void scn__fg_request_parse(const void *data, size_t len, bool binary,
                           scn_fg_request *out);

/* The text messages we send, as NUL-terminated JSON (malloc'd; NULL: no
 * memory). */
char *scn__fg_server_info(const char *name, const char *session_id);
char *scn__fg_advertise(const scn_fg_channel *ch, size_t n);
char *scn__fg_unadvertise(const uint32_t *ids, size_t n);
char *scn__fg_status(int level, const char *message);

/* The per-subscriber bytes in front of a message's payload. */
void scn__fg_message_prefix(unsigned char out[SCN_FG_MESSAGE_PREFIX],
                            uint32_t sub_id, uint64_t time_ns);

/* Puts another subscription id into a prefix (inline: once per
 * subscriber and message). */
static inline void
scn__fg_prefix_set_sub(unsigned char out[SCN_FG_MESSAGE_PREFIX],
                       uint32_t sub_id)
{
    out[1] = (unsigned char)sub_id;
    out[2] = (unsigned char)(sub_id >> 8);
    out[3] = (unsigned char)(sub_id >> 16);
    out[4] = (unsigned char)(sub_id >> 24);
}

#endif
