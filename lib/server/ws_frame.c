/* WebSocket framing: the frame reader (either end) and our frame
 * headers. */
#include "ws_frame.h"

#include <string.h>

enum { ST_HEADER, ST_PAYLOAD };

void scn__ws_reader_init(scn_ws_reader *r, uint64_t max_message)
{
    memset(r, 0, sizeof(*r));
    r->max_message = max_message;
    r->masked = true;
    r->check_utf8 = true;
    r->state = ST_HEADER;
    r->hneed = 2;
    scn__utf8_init(&r->utf8);
}

void scn__ws_reader_init_client(scn_ws_reader *r, uint64_t max_message)
{
    scn__ws_reader_init(r, max_message);
    r->masked = false;
    r->check_utf8 = false;
}

bool scn__ws_close_code_ok(int code)
{
    /* RFC 6455 7.4 and the IANA registry: 1004-1006 and 1015 are reserved
     * for reporting and never sent. */
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

int scn__ws_close_payload(const unsigned char *p, size_t n, int *code)
{
    *code = 1005;
    if (n == 0)
        return 0;
    if (n == 1)
        return SCN_WS_PROTOCOL_ERROR;
    *code = (p[0] << 8) | p[1];
    if (!scn__ws_close_code_ok(*code))
        return SCN_WS_PROTOCOL_ERROR;
    return scn__utf8_check(p + 2, n - 2) ? 0 : SCN_WS_INVALID_DATA;
}

size_t scn__ws_header(unsigned char *h, int opcode, uint64_t len)
{
    h[0] = (unsigned char)(0x80 | (opcode & 0x0F));
    if (len < 126) {
        h[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    return SCN_WS_HDR_MAX;
}

size_t scn__ws_client_header_size(uint64_t len)
{
    return (len < 126 ? 2 : len <= 0xFFFF ? 4 : SCN_WS_HDR_MAX) + 4;
}

void scn__ws_mask(unsigned char *p, size_t n, const unsigned char key[4],
                  unsigned phase)
{
    size_t i = 0;

    /* Eight bytes at a time with the key repeated from the phase on: the
     * XOR is byte-wise, so the word's byte order does not matter. */
    if (n >= 16) {
        unsigned char k8[8];
        uint64_t k, w;

        for (int j = 0; j < 8; j++)
            k8[j] = key[(phase + (unsigned)j) & 3];
        memcpy(&k, k8, 8);
        for (; i + 8 <= n; i += 8) {
            memcpy(&w, p + i, 8);
            w ^= k;
            memcpy(p + i, &w, 8);
        }
    }
    for (; i < n; i++)
        p[i] ^= key[(phase + i) & 3];
}

void scn__ws_client_frame(unsigned char *p, int opcode, size_t len,
                          const unsigned char mask[4])
{
    size_t hs = scn__ws_client_header_size(len);
    unsigned char *h = p - hs;

    scn__ws_header(h, opcode, len);
    h[1] |= 0x80;
    memcpy(h + hs - 4, mask, 4);
    scn__ws_mask(p, len, mask, 0);
}

/* The header is complete: check it. Returns 0 or a close code. */
static int header_done(scn_ws_reader *r)
{
    const unsigned char *h = r->hdr;
    size_t at = 2;
    uint64_t len = h[1] & 0x7F;
    bool control;

    r->fin = (h[0] & 0x80) != 0;
    r->opcode = h[0] & 0x0F;
    control = (r->opcode & 0x08) != 0;
    if (len == 126) {
        len = ((uint64_t)h[2] << 8) | h[3];
        at = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | h[2 + i];
        at = 10;
        if (len >> 63)
            return SCN_WS_PROTOCOL_ERROR;
    }
    if (r->masked)
        memcpy(r->mask, h + at, 4);
    r->mask_at = 0;
    r->left = len;
    if (h[0] & 0x70) /* no extension was negotiated */
        return SCN_WS_PROTOCOL_ERROR;
    switch (r->opcode) {
    case SCN_WS_CONT:
        if (!r->in_message)
            return SCN_WS_PROTOCOL_ERROR;
        break;
    case SCN_WS_TEXT:
    case SCN_WS_BINARY:
        if (r->in_message)
            return SCN_WS_PROTOCOL_ERROR;
        r->in_message = true;
        r->msg_binary = r->opcode == SCN_WS_BINARY;
        r->msg_started = false;
        r->msg_len = 0;
        scn__utf8_init(&r->utf8);
        break;
    case SCN_WS_CLOSE:
    case SCN_WS_PING:
    case SCN_WS_PONG:
        if (!r->fin || len > SCN_WS_CONTROL_MAX)
            return SCN_WS_PROTOCOL_ERROR;
        r->ctl_len = 0;
        break;
    default:
        return SCN_WS_PROTOCOL_ERROR;
    }
    if (!control) {
        /* Written as a subtraction: the sum could wrap on a hostile
         * length. */
        if (len > r->max_message || r->msg_len > r->max_message - len)
            return SCN_WS_TOO_BIG;
        r->msg_len += len;
    }
    return 0;
}

static void unmask(scn_ws_reader *r, unsigned char *p, size_t n)
{
    if (!r->masked)
        return;
    scn__ws_mask(p, n, r->mask, r->mask_at);
    r->mask_at = (unsigned)((r->mask_at + n) & 3);
}

/* Payload bytes of a data frame (possibly none: an empty final frame). */
static int data_piece(scn_ws_reader *r, unsigned char *p, size_t n,
                      const scn_ws_events *ev, void *user)
{
    bool last = r->fin && r->left == 0;
    bool first = !r->msg_started;
    int rc;

    if (!r->msg_binary && r->check_utf8) {
        if (!scn__utf8_feed(&r->utf8, p, n) ||
            (last && !scn__utf8_complete(&r->utf8)))
            return SCN_WS_INVALID_DATA;
    }
    /* Empty pieces in the middle of a message carry nothing. */
    if (n == 0 && !last)
        return 0;
    r->msg_started = true;
    if (last)
        r->in_message = false;
    rc = ev->data ? ev->data(user, p, n, r->msg_binary, first, last) : 0;
    return rc;
}

static int control_done(scn_ws_reader *r, const scn_ws_events *ev, void *user)
{
    int code, rc;

    if (r->opcode == SCN_WS_CLOSE) {
        rc = scn__ws_close_payload(r->ctl, r->ctl_len, &code);
        if (rc == SCN_WS_PROTOCOL_ERROR || (rc && r->check_utf8))
            return rc;
        r->done = true;
    }
    return ev->control ? ev->control(user, r->opcode, r->ctl, r->ctl_len) : 0;
}

/* The frame's header is complete and its payload (if any) starts next. */
static int frame_start(scn_ws_reader *r, const scn_ws_events *ev, void *user)
{
    int rc = header_done(r);

    if (rc)
        return rc;
    r->state = ST_PAYLOAD;
    if (r->left)
        return 0;
    /* No payload: the frame ends here. */
    r->state = ST_HEADER;
    r->hlen = 0;
    r->hneed = 2;
    if (r->opcode & 0x08)
        return control_done(r, ev, user);
    /* An empty piece, at a valid address for callers that copy it. */
    return r->fin ? data_piece(r, r->ctl, 0, ev, user) : 0;
}

int scn__ws_reader_feed(scn_ws_reader *r, unsigned char *in, size_t n,
                        const scn_ws_events *ev, void *user)
{
    size_t used;

    return scn__ws_reader_feed_some(r, in, n, ev, user, &used);
}

int scn__ws_reader_feed_some(scn_ws_reader *r, unsigned char *in, size_t n,
                             const scn_ws_events *ev, void *user, size_t *used)
{
    size_t at = 0;
    int rc = 0;

    while (at < n && !r->done && !rc) {
        if (r->state == ST_HEADER) {
            r->hdr[r->hlen++] = in[at++];
            if (r->hlen == 2) {
                size_t len7 = r->hdr[1] & 0x7F;

                /* A client MUST mask, a server MUST NOT. */
                if (!(r->hdr[1] & 0x80) != !r->masked) {
                    rc = SCN_WS_PROTOCOL_ERROR;
                    break;
                }
                r->hneed = 2 +
                           (len7 == 126   ? 2
                            : len7 == 127 ? 8
                                          : 0) +
                           (r->masked ? 4 : 0);
            }
            if (r->hlen == r->hneed)
                rc = frame_start(r, ev, user);
            continue;
        }
        /* Payload. */
        size_t take = n - at;

        if (take > r->left)
            take = (size_t)r->left;
        unmask(r, in + at, take);
        r->left -= take;
        if (r->opcode & 0x08) {
            memcpy(r->ctl + r->ctl_len, in + at, take);
            r->ctl_len += take;
        }
        at += take;
        if (!(r->opcode & 0x08))
            rc = data_piece(r, in + at - take, take, ev, user);
        if (r->left == 0) {
            r->state = ST_HEADER;
            r->hlen = 0;
            r->hneed = 2;
            if (!rc && (r->opcode & 0x08))
                rc = control_done(r, ev, user);
        }
    }
    *used = at;
    if (rc == SCN_WS_PAUSE)
        return rc;
    *used = n;
    if (rc)
        r->done = true;
    return rc;
}
