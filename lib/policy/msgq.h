/*
 * A FIFO of byte messages bounded in count and bytes. Each message is copied
 * into one allocation with `headroom` spare bytes before the payload, so the
 * WebSocket adapter can write it in place (libwebsockets needs LWS_PRE bytes
 * in front). Not thread-safe: the owner locks.
 */
#ifndef SCN_MSGQ_H
#define SCN_MSGQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct scn_msg {
    unsigned char *buf; /* headroom + len bytes; payload at buf + headroom */
    size_t len;
    uint64_t tag; /* the owner's number for it; 0: none */
} scn_msg;

typedef struct scn_msgq {
    scn_msg *ring;
    size_t cap_msgs, cap_bytes, headroom;
    size_t head, count, bytes; /* bytes: payload bytes queued */
} scn_msgq;

/* Returns 0, SCN_ERR_INVALID_ARG (cap_msgs or cap_bytes 0), SCN_ERR_NOMEM. */
int scn__msgq_init(scn_msgq *q, size_t cap_msgs, size_t cap_bytes,
                   size_t headroom);
/* Frees every queued message and the ring. */
void scn__msgq_free(scn_msgq *q);
/* Whether a message of len bytes fits now. */
bool scn__msgq_fits(const scn_msgq *q, size_t len);
/* Copies data in. Returns 0, SCN_ERR_MESSAGE_TOO_BIG (len > cap_bytes),
 * SCN_ERR_QUEUE_FULL, SCN_ERR_NOMEM. */
int scn__msgq_push(scn_msgq *q, const void *data, size_t len);
/* Like scn__msgq_push, but the message becomes the next one out. */
int scn__msgq_push_front(scn_msgq *q, const void *data, size_t len);
/* Either of the two (front: the next one out), the message tagged. */
int scn__msgq_push_tagged(scn_msgq *q, const void *data, size_t len, bool front,
                          uint64_t tag);
/* Oldest message or NULL; payload at msg->buf + q->headroom. */
scn_msg *scn__msgq_peek(scn_msgq *q);
/* Frees the oldest message. No-op when empty. */
void scn__msgq_pop(scn_msgq *q);
/* Takes the oldest message out without freeing it: the caller owns
 * msg.buf and frees it with free(). Returns false when empty. */
bool scn__msgq_take(scn_msgq *q, scn_msg *msg);
/* Frees every queued message; returns how many there were. */
size_t scn__msgq_clear(scn_msgq *q);

#endif
