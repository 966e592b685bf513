/*
 * RFC 6455 framing for both ends: a reader for the frames the other end
 * sends and the headers of the frames we send. Pure: bytes in, events out;
 * nothing here reads or writes a socket. The servers read client frames
 * with it, the client sessions (lib/lws/ws_adapter.c) server frames.
 *
 * The reader enforces what an endpoint must (RFC 6455 5.1-5.5, 8.1): every
 * client frame masked and no server frame masked, no reserved bits (no
 * extension is negotiated), no reserved opcode, continuation frames only inside
 * a fragmented message, control frames short and unfragmented, text valid UTF-8
 * across its fragments, a close frame's code and reason well formed. It refuses
 * a message over max_message as soon as its length is known, before any of it
 * is buffered.
 */
#ifndef SCN_WS_FRAME_H
#define SCN_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "utf8.h"

enum {
    SCN_WS_CONT = 0x0,
    SCN_WS_TEXT = 0x1,
    SCN_WS_BINARY = 0x2,
    SCN_WS_CLOSE = 0x8,
    SCN_WS_PING = 0x9,
    SCN_WS_PONG = 0xA
};

/* Close codes the reader returns. */
#define SCN_WS_PROTOCOL_ERROR 1002
#define SCN_WS_INVALID_DATA   1007
#define SCN_WS_TOO_BIG        1009

/* The longest header of a server frame (unmasked, 64-bit length). */
#define SCN_WS_HDR_MAX 10
/* A control frame's payload is at most this long. */
#define SCN_WS_CONTROL_MAX 125

typedef struct scn_ws_events {
    /* A piece of a data message's payload, unmasked: first marks the
     * message's first piece, last its last (the message is then complete;
     * an empty message is one piece of length 0 with both set). Returns 0,
     * or a close code that stops the reader. */
    int (*data)(void *user, unsigned char *p, size_t n, bool binary, bool first,
                bool last);
    /* A complete control frame (ping, pong or close), payload unmasked. A
     * close frame has been checked (see scn__ws_close_payload). Returns 0
     * or a close code. */
    int (*control)(void *user, int opcode, const unsigned char *p, size_t n);
} scn_ws_events;

typedef struct scn_ws_reader {
    uint64_t max_message; /* longest data message, all fragments */
    bool masked;          /* frames come masked (from a client) */
    bool check_utf8;      /* text must be UTF-8 (1007) */

    /* Parse state. */
    int state;
    unsigned char hdr[14];
    size_t hlen, hneed;
    int opcode;
    bool fin;
    unsigned char mask[4];
    unsigned mask_at;
    uint64_t left;   /* payload bytes of this frame still to come */
    bool in_message; /* a fragmented message is under way */
    bool msg_binary;
    bool msg_started; /* its first piece was reported */
    uint64_t msg_len; /* its length so far, all frames */
    scn_utf8 utf8;
    unsigned char ctl[SCN_WS_CONTROL_MAX];
    size_t ctl_len;
    bool done; /* a close frame or an error: the rest is ignored */
} scn_ws_reader;

/* A server's reader: every frame must come masked. */
void scn__ws_reader_init(scn_ws_reader *r, uint64_t max_message);
/* A client's reader: no frame may come masked. Text is not checked for
 * UTF-8: a client session delivers what the server sent (escaped where
 * it is shown), as it did when lws read its frames. */
void scn__ws_reader_init_client(scn_ws_reader *r, uint64_t max_message);

/* Feeds n bytes, unmasking payload in place. Returns 0, or the close code
 * the connection must be closed with: 1002 (a protocol error), 1007 (text
 * or a close reason that is not UTF-8), 1009 (a message over
 * max_message), or a callback's nonzero return. After a close frame or an
 * error, every later byte is ignored. */
int scn__ws_reader_feed(scn_ws_reader *r, unsigned char *in, size_t n,
                        const scn_ws_events *ev, void *user);

/* A callback's return that stops scn__ws_reader_feed_some where it is,
 * without ending the reader: the caller keeps the rest for later. */
#define SCN_WS_PAUSE (-1)

/* As scn__ws_reader_feed, but a callback may return SCN_WS_PAUSE: the
 * feed then returns SCN_WS_PAUSE with *used the bytes taken (the rest,
 * fed later, continues where it stopped). Otherwise *used is n. */
int scn__ws_reader_feed_some(scn_ws_reader *r, unsigned char *in, size_t n,
                             const scn_ws_events *ev, void *user, size_t *used);

/* Whether a close frame's payload is well formed: empty (*code 1005), or a
 * code an endpoint may send and a UTF-8 reason. Returns 0, 1002 or 1007. */
int scn__ws_close_payload(const unsigned char *p, size_t n, int *code);

/* Whether an endpoint may send code in a close frame. */
bool scn__ws_close_code_ok(int code);

/* Writes the header of an unmasked final frame of opcode carrying len
 * bytes into h (SCN_WS_HDR_MAX bytes); returns its size. */
size_t scn__ws_header(unsigned char *h, int opcode, uint64_t len);

/* The longest header of a client frame (masked, 64-bit length). */
#define SCN_WS_CLIENT_HDR_MAX (SCN_WS_HDR_MAX + 4)

/* Size of the header of a masked client frame carrying len bytes. */
size_t scn__ws_client_header_size(uint64_t len);

/* XORs the n bytes at p with the 4-byte key, starting at key[phase & 3]:
 * masks and unmasks (RFC 6455 section 5.3). */
void scn__ws_mask(unsigned char *p, size_t n, const unsigned char key[4],
                  unsigned phase);

/* Makes a final client frame of opcode in place: masks the len bytes at p
 * with mask and writes the header into the scn__ws_client_header_size(len)
 * bytes before p, which the caller reserved. */
void scn__ws_client_frame(unsigned char *p, int opcode, size_t len,
                          const unsigned char mask[4]);

#endif
