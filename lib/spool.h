/*
 * Store-and-forward spool: outgoing cloud records wait on disk until the
 * cloud acknowledges them, so a link outage or a kill -9 loses nothing
 * that was appended (docs/PROTOCOL.md, cloud stream, "Store and forward").
 *
 * Layout of the directory:
 *   seg-<first seq, 20 digits>.log  append-only segments of records
 *   meta                            stream id and cumulative ack, replaced
 *                                   atomically (temp + rename + fsync dir)
 *   lock                            fcntl lock: one process per spool
 * Record: [u32 len][u64 seq][len payload bytes][u32 crc], little-endian;
 * the CRC (zlib crc32) covers len, seq and payload.
 *
 * Sequence numbers are assigned here, strictly increasing and never
 * reused, even after a crash that cut records off: the cloud recognises a
 * resent record as a duplicate by its seq, so reusing one would make it
 * discard a new record. Gaps are allowed (dropped or repaired records).
 *
 * Not thread-safe: one owner (the event loop) per handle. No global state.
 * The lock is an fcntl lock: it keeps other processes out, not a second
 * open in the same process (which would also release it on close).
 */
#ifndef SCN_SPOOL_H
#define SCN_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct scn_spool scn_spool;

/* When appended records are forced to stable storage (fdatasync). Every
 * append is written to the file at once (one write(2)), so a kill -9 never
 * loses it; these only matter for power loss or a kernel crash. */
typedef enum scn_spool_fsync {
    /* Default: the owner calls scn_spool_sync() after each batch of
     * appends (e.g. once per loop turn), one fdatasync per batch. */
    SCN_SPOOL_FSYNC_BATCH = 0,
    SCN_SPOOL_FSYNC_EVERY,    /* after every append */
    SCN_SPOOL_FSYNC_INTERVAL, /* on append when interval_ms has passed
                                 since the last sync, and on sync() */
    SCN_SPOOL_FSYNC_NEVER     /* leave it to the kernel */
} scn_spool_fsync;

typedef struct scn_spool_opts {
    uint64_t cap_bytes;     /* bound on the segments' total size */
    uint64_t segment_bytes; /* 0: cap / 8; at most cap / 2 */
    scn_spool_fsync fsync;
    uint32_t interval_ms; /* for SCN_SPOOL_FSYNC_INTERVAL; 0: 1000 */
} scn_spool_opts;

typedef struct scn_spool_stats {
    uint64_t records; /* unacknowledged records held */
    uint64_t bytes;   /* segment bytes on disk (acked included) */
    uint64_t segments;
    uint64_t next_seq;          /* seq the next append gets */
    uint64_t acked;             /* cumulative ack (0: none) */
    uint64_t dropped_full;      /* unacked records lost to the size cap */
    uint64_t torn_tail_repairs; /* segments cut at a bad record on open */
    uint64_t repaired_bytes;    /* bytes cut off by those repairs */
} scn_spool_stats;

/* The resend position: the next seq wanted. Acks and drops under it are
 * harmless; peek always returns the first record still held at or after
 * it, so a cursor never goes stale. */
typedef struct scn_spool_cursor {
    uint64_t next;
} scn_spool_cursor;

typedef struct scn_spool_rec {
    uint64_t seq;
    const void *data; /* valid until the next call on the spool */
    size_t len;
} scn_spool_rec;

/* Smallest cap accepted: 8 segments of a few small records. */
#define SCN_SPOOL_MIN_CAP 1024u

/*
 * Opens (creating the final directory component, mode 0700, when missing)
 * and recovers the spool in dir: scans every segment, verifies every
 * record, cuts a segment at its first bad record (torn tail, CRC mismatch,
 * impossible length, seq not increasing: the bytes after it cannot be
 * framed reliably, so they are truncated, never skipped), reads the ack.
 * The next seq is past every seq that may ever have been handed out.
 * Returns: 0; SCN_ERR_INVALID_ARG (NULL, cap below SCN_SPOOL_MIN_CAP,
 * segment size above cap / 2); SCN_ERR_SPOOL_BUSY (another process has
 * it open); SCN_ERR_IO; SCN_ERR_NOMEM.
 */
int scn_spool_open(const char *dir, uint64_t cap_bytes, scn_spool **out);
int scn_spool_open_opts(const char *dir, const scn_spool_opts *opts,
                        scn_spool **out);

/* Syncs as the policy says (BATCH, INTERVAL: now), closes, frees; NULL ok. */
void scn_spool_close(scn_spool *sp);

/*
 * Appends one record and assigns its seq (*seq may be NULL). When the
 * segments would exceed the cap, whole oldest segments are deleted first;
 * their unacknowledged records are counted in dropped_full and added to
 * *dropped (may be NULL).
 * Returns: 0; SCN_ERR_MESSAGE_TOO_BIG (record larger than a segment);
 * SCN_ERR_IO (nothing was appended, *seq untouched; or, under FSYNC_EVERY
 * and INTERVAL, the record was appended, *seq set, but the sync failed:
 * it stays pending for the next sync); SCN_ERR_NOMEM;
 * SCN_ERR_INVALID_ARG.
 */
int scn_spool_append(scn_spool *sp, const void *payload, size_t len,
                     uint64_t *seq, uint64_t *dropped);

/* Forces appended records and new segment names to disk. */
int scn_spool_sync(scn_spool *sp);

/*
 * Cumulative ack: every record with seq <= seq is done. Persisted before
 * segments entirely at or below it are deleted. An ack at or below the
 * current one is a no-op (the cloud re-acks resent duplicates).
 * Returns: 0; SCN_ERR_OUT_OF_RANGE (seq never handed out: nothing
 * changes); SCN_ERR_IO.
 */
int scn_spool_ack(scn_spool *sp, uint64_t seq);

/* Sets cur to the first unacknowledged record (resend after reconnect). */
void scn_spool_rewind(const scn_spool *sp, scn_spool_cursor *cur);

/*
 * The first unacknowledged record with seq >= cur->next, without moving.
 * Returns: 0; SCN_ERR_NOT_FOUND (nothing more); SCN_ERR_SPOOL_CORRUPT
 * (the record changed on disk since open); SCN_ERR_IO; SCN_ERR_NOMEM.
 */
int scn_spool_peek(scn_spool *sp, const scn_spool_cursor *cur,
                   scn_spool_rec *rec);

/* Moves cur past rec (the record peek returned). */
void scn_spool_next(scn_spool_cursor *cur, const scn_spool_rec *rec);

/* The stream id: 32 hex digits made when the spool was created. The cloud
 * keys its last acked seq by it, so a new spool starts a new stream. */
const char *scn_spool_stream_id(const scn_spool *sp);

void scn_spool_get_stats(const scn_spool *sp, scn_spool_stats *st);

#endif
