/* Fault schedules and the faulty messages themselves. */
#include "faults.h"

#include <stdio.h>
#include <string.h>

void faults_init(faults *f)
{
    memset(f, 0, sizeof(*f));
    f->stall_for_s = FAULTS_STALL_FOR_DEFAULT_S;
    f->oversize_bytes = FAULTS_OVERSIZE_DEFAULT;
}

int faults_frame_malformed(const faults *f, uint64_t seq)
{
    return f->malformed_every && seq && seq % f->malformed_every == 0;
}

faults_malformed faults_malformed_kind(uint64_t n)
{
    return (faults_malformed)(n % FAULT_MALFORMED_KINDS);
}

const char *faults_malformed_name(faults_malformed k)
{
    switch (k) {
    case FAULT_MALFORMED_TRUNCATED:
        return "truncated";
    case FAULT_MALFORMED_NOT_OBJECT:
        return "not_object";
    case FAULT_MALFORMED_WRONG_TYPE:
        return "wrong_type";
    case FAULT_MALFORMED_MISSING_UID:
        return "missing_uid";
    default:
        return "?";
    }
}

int faults_oversize_after(const faults *f, uint64_t seq)
{
    return f->oversize_every && seq && seq % f->oversize_every == 0;
}

/* Appends src[0..n) to out at *at; fails (returns -1) past cap. */
static int put(char *out, size_t cap, size_t *at, const char *src, size_t n)
{
    if (n > cap - *at)
        return -1;
    memcpy(out + *at, src, n);
    *at += n;
    return 0;
}

/* "CO2":"high": a known key with a string where a number belongs. Replaces
 * the value when the frame has CO2, else inserts the member first, so the
 * frame never holds the key twice. */
static size_t wrong_type(const char *frame, size_t len, char *out, size_t cap)
{
    static const char key[] = "\"CO2\":", bad[] = "\"high\"";
    const char *hit = NULL, *p;
    size_t at = 0;

    for (p = frame; p + sizeof(key) - 1 <= frame + len; p++)
        if (!memcmp(p, key, sizeof(key) - 1)) {
            hit = p;
            break;
        }
    if (hit) {
        const char *v = hit + sizeof(key) - 1, *e = v;

        while (e < frame + len && *e != ',' && *e != '}')
            e++;
        if (put(out, cap, &at, frame, (size_t)(v - frame)) ||
            put(out, cap, &at, bad, sizeof(bad) - 1) ||
            put(out, cap, &at, e, (size_t)(frame + len - e)))
            return 0;
        return at;
    }
    if (len < 2 || put(out, cap, &at, "{", 1) ||
        put(out, cap, &at, key, sizeof(key) - 1) ||
        put(out, cap, &at, bad, sizeof(bad) - 1) ||
        put(out, cap, &at, ",", 1) || put(out, cap, &at, frame + 1, len - 1))
        return 0;
    return at;
}

/* Drops the leading "UID":"..." member (UIDs hold no quote or comma). */
static size_t missing_uid(const char *frame, size_t len, char *out, size_t cap)
{
    static const char head[] = "{\"UID\":\"";
    const char *q;
    size_t at = 0;

    if (len < sizeof(head) || memcmp(frame, head, sizeof(head) - 1))
        return 0;
    q = memchr(frame + sizeof(head) - 1, '"', len - (sizeof(head) - 1));
    if (!q || q + 2 > frame + len || q[1] != ',')
        return 0;
    q += 2;
    if (put(out, cap, &at, "{", 1) ||
        put(out, cap, &at, q, (size_t)(frame + len - q)))
        return 0;
    return at;
}

size_t faults_malform(faults_malformed k, const char *frame, size_t len,
                      uint64_t seq, char *out, size_t cap)
{
    int n;

    switch (k) {
    case FAULT_MALFORMED_TRUNCATED:
        /* Half a frame: cuts inside a member, never a valid text. */
        if (len / 2 > cap)
            return 0;
        memcpy(out, frame, len / 2);
        return len / 2;
    case FAULT_MALFORMED_NOT_OBJECT:
        n = snprintf(out, cap, "[%llu,\"not an object\"]",
                     (unsigned long long)seq);
        return n > 0 && (size_t)n < cap ? (size_t)n : 0;
    case FAULT_MALFORMED_WRONG_TYPE:
        return wrong_type(frame, len, out, cap);
    case FAULT_MALFORMED_MISSING_UID:
        return missing_uid(frame, len, out, cap);
    default:
        return 0;
    }
}

size_t faults_oversize_fill(char *out, size_t size, uint64_t seq)
{
    char head[80];
    static const char tail[] = "\"}";
    int n = snprintf(head, sizeof(head),
                     "{\"type\":\"_sim_oversize\",\"seq\":%llu,\"pad\":\"",
                     (unsigned long long)seq);
    size_t hl = (size_t)n, tl = sizeof(tail) - 1, pad;

    pad = size > hl + tl ? size - hl - tl : 0;
    if (hl + pad + tl > size)
        return 0; /* size is below the minimum */
    memcpy(out, head, hl);
    memset(out + hl, 'x', pad);
    memcpy(out + hl + pad, tail, tl);
    return hl + pad + tl;
}
