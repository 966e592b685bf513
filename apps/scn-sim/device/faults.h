/*
 * Fault switches: what a misbehaving device or link does, on a schedule, so
 * that clients can be tested against it. Time-based faults (drop, stall)
 * act on every open connection, their periods are the skeleton's
 * (sim_opts); count-based ones (malformed, oversize) on
 * each connection's own frame count, so a test can predict them.
 */
#ifndef SCN_SIM_FAULTS_H
#define SCN_SIM_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#define FAULTS_STALL_FOR_DEFAULT_S 30.0
#define FAULTS_OVERSIZE_DEFAULT    (2u * 1024 * 1024)

typedef enum faults_malformed {
    FAULT_MALFORMED_TRUNCATED,   /* a frame cut in the middle: invalid JSON */
    FAULT_MALFORMED_NOT_OBJECT,  /* valid JSON, but an array */
    FAULT_MALFORMED_WRONG_TYPE,  /* a known key with a string value */
    FAULT_MALFORMED_MISSING_UID, /* a frame without its UID */
    FAULT_MALFORMED_KINDS
} faults_malformed;

typedef struct faults {
    double stall_for_s;       /* how long a stall lasts */
    uint64_t malformed_every; /* 0: off */
    uint64_t oversize_every;  /* 0: off */
    uint64_t oversize_bytes;  /* size of each oversize message */
} faults;

void faults_init(faults *f);

/* Whether frame number seq (1-based, per connection) is to be replaced by
 * a malformed message. */
int faults_frame_malformed(const faults *f, uint64_t seq);
/* Which kind the n-th malformed message of a connection is (n from 0):
 * the kinds rotate so that every one is exercised. */
faults_malformed faults_malformed_kind(uint64_t n);
const char *faults_malformed_name(faults_malformed k);
/* Whether an oversize message follows frame number seq. */
int faults_oversize_after(const faults *f, uint64_t seq);

/* Writes the malformed variant k of a valid frame (frame[0..len), a flat
 * JSON object starting with "{\"UID\":") into out (cap bytes). Returns the
 * length written, or 0 when it does not fit. */
size_t faults_malform(faults_malformed k, const char *frame, size_t len,
                      uint64_t seq, char *out, size_t cap);

/* Fills out[0..size) with one valid JSON text of exactly size bytes: a
 * typed message the client does not know, padded with a string. Returns
 * size, or 0 when size is below the message's minimum (under 80 bytes;
 * the command line asks for at least 128). */
size_t faults_oversize_fill(char *out, size_t size, uint64_t seq);

#endif
