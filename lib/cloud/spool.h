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
 * The newest segment is never deleted, only emptied and renamed to the
 * next seq ("rotated"): its name keeps the seq floor on disk even when
 * every record is acknowledged and the ack could not be saved.
 *
 * A full disk degrades, never stops the spool: segments are sized to the
 * space the file system leaves (statvfs), and when a write still finds no
 * room the oldest records go first (counted, reported through on_drop),
 * down to the newest segment itself; only when nothing is left to free is
 * the new record refused (SCN_ERR_SPOOL_FULL). When space returns,
 * segments grow back by themselves.
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
    /* Default: the owner calls scn__spool_sync() after each batch of
     * appends (e.g. once per loop turn), one fdatasync per batch. */
    SCN_SPOOL_FSYNC_BATCH = 0,
    SCN_SPOOL_FSYNC_EVERY,    /* after every append */
    SCN_SPOOL_FSYNC_INTERVAL, /* on append when interval_ms has passed
                                 since the last sync, and on sync() */
    SCN_SPOOL_FSYNC_NEVER     /* leave it to the kernel */
} scn_spool_fsync;

/* Seqs travel as JSON numbers, exact only below 2^53: no seq, segment
 * name or ack above this is ever handed out or accepted from disk. */
#define SCN_SPOOL_SEQ_MAX ((UINT64_C(1) << 53) - 1)

typedef enum scn_spool_drop_reason {
    SCN_SPOOL_DROP_CAP = 0, /* the size cap */
    SCN_SPOOL_DROP_DISK     /* the file system had no room */
} scn_spool_drop_reason;

/* One run of unacknowledged records dropped, oldest first: every record
 * the spool held with first_seq <= seq <= last_seq (count of them; seqs in
 * between that it did not hold were never records). */
typedef struct scn_spool_drop {
    uint64_t first_seq;
    uint64_t last_seq;
    uint64_t count;
    scn_spool_drop_reason reason;
} scn_spool_drop;

typedef struct scn_spool_opts {
    uint64_t cap_bytes;     /* bound on the segments' total size */
    uint64_t segment_bytes; /* 0: cap / 8; at most cap / 2 */
    scn_spool_fsync fsync;
    uint32_t interval_ms; /* for SCN_SPOOL_FSYNC_INTERVAL; 0: 1000 */
    /* Optional, called synchronously from the call that caused it: */
    /* unacknowledged records dropped (one call per append that dropped) */
    void (*on_drop)(const scn_spool_drop *drop, void *user);
    /* something refused or failed that the spool survives: err says what
     * (SCN_ERR_SPOOL_INVALID: a file or value on disk refused at open,
     * left untouched; SCN_ERR_SPOOL_FULL, SCN_ERR_IO), line names it. */
    void (*on_report)(int err, const char *line, void *user);
    void *user;
} scn_spool_opts;

typedef struct scn_spool_stats {
    uint64_t records; /* unacknowledged records held */
    uint64_t bytes;   /* segment bytes on disk (acked included) */
    uint64_t segments;
    uint64_t next_seq;          /* seq the next append gets */
    uint64_t acked;             /* cumulative ack (0: none) */
    uint64_t dropped_full;      /* unacked records lost to the size cap */
    uint64_t dropped_disk;      /* unacked records lost to a full disk */
    uint64_t refused_full;      /* appends refused: no room left at all */
    uint64_t disk_full;         /* writes that found the disk full */
    uint64_t torn_tail_repairs; /* segments cut at a bad record on open */
    uint64_t repaired_bytes;    /* bytes cut off by those repairs */
    uint64_t refused;           /* files and values refused at open */
    uint64_t budget;            /* the cap, or less when the disk is small */
    int ack_saved;              /* the ack in the meta file is current */
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
 * impossible length, seq not increasing, seq 0 or above
 * SCN_SPOOL_SEQ_MAX: the bytes after it cannot be framed reliably, so they
 * are truncated, never skipped), reads the ack. The next seq is past every
 * seq that may ever have been handed out.
 * What it does not trust is refused, reported (on_report,
 * SCN_ERR_SPOOL_INVALID) and counted (refused), without losing valid
 * data: a seg-*.log name that is not 20 digits or is 0 or above
 * SCN_SPOOL_SEQ_MAX, or a segment that is not a regular file (a symlink is
 * never followed), is left alone and not read; a meta file that does not
 * parse gives a new stream id; an ack above SCN_SPOOL_SEQ_MAX is replaced
 * by 0 (everything held is sent again; the cloud drops duplicates).
 * Returns: 0; SCN_ERR_INVALID_ARG (NULL, cap below SCN_SPOOL_MIN_CAP,
 * segment size above cap / 2); SCN_ERR_SPOOL_BUSY (another process has
 * it open); SCN_ERR_IO (also when the directory cannot be listed to the
 * end: a partial listing could reuse seqs); SCN_ERR_NOMEM.
 */
int scn__spool_open(const char *dir, uint64_t cap_bytes, scn_spool **out);
int scn__spool_open_opts(const char *dir, const scn_spool_opts *opts,
                         scn_spool **out);

/* Syncs as the policy says (BATCH, INTERVAL: now), closes, frees; NULL ok. */
void scn__spool_close(scn_spool *sp);

/*
 * Appends one record and assigns its seq (*seq may be NULL). When the
 * segments would exceed the cap (or the room the disk leaves), whole
 * oldest segments are deleted first; when a write finds the disk full,
 * the oldest segments are deleted and the newest rotated until it fits.
 * Their unacknowledged records are counted (dropped_full, dropped_disk),
 * reported to on_drop and added to *dropped (may be NULL).
 * Returns: 0; SCN_ERR_MESSAGE_TOO_BIG (record larger than a segment);
 * SCN_ERR_SPOOL_FULL (the disk has no room even with nothing else held:
 * not appended, counted in refused_full); SCN_ERR_OUT_OF_RANGE (the seqs
 * are exhausted: the next would exceed SCN_SPOOL_SEQ_MAX); SCN_ERR_IO
 * (nothing was appended, *seq untouched; or, under FSYNC_EVERY and
 * INTERVAL, the record was appended, *seq set, but the sync failed: it
 * stays pending for the next sync); SCN_ERR_NOMEM; SCN_ERR_INVALID_ARG.
 */
int scn__spool_append(scn_spool *sp, const void *payload, size_t len,
                      uint64_t *seq, uint64_t *dropped);

/* Forces appended records and new segment names to disk (not under
 * FSYNC_NEVER), rotates the newest segment when every record in it is
 * acknowledged, and saves the ack when it changed (also under NEVER).
 * Returns 0, SCN_ERR_IO or SCN_ERR_SPOOL_FULL (the ack could not be
 * saved: it is tried again at the next sync; meanwhile a restart only
 * resends records the cloud drops as duplicates). */
int scn__spool_sync(scn_spool *sp);

/*
 * Cumulative ack: every record with seq <= seq is done. Takes effect at
 * once in memory: older segments entirely at or below it are deleted (the
 * newest segment's name keeps the seq floor, so this is safe before the
 * ack is saved); the ack is saved by the next scn__spool_sync(). An ack at
 * or below the current one is a no-op (the cloud re-acks duplicates).
 * Returns: 0; SCN_ERR_OUT_OF_RANGE (seq never handed out: nothing
 * changes).
 */
int scn__spool_ack(scn_spool *sp, uint64_t seq);

/* Sets cur to the first unacknowledged record (resend after reconnect). */
void scn__spool_rewind(const scn_spool *sp, scn_spool_cursor *cur);

/*
 * The first unacknowledged record with seq >= cur->next, without moving.
 * Returns: 0; SCN_ERR_NOT_FOUND (nothing more); SCN_ERR_SPOOL_CORRUPT
 * (a record read back changed on disk since it was written; the one just
 * appended is served from memory, not read back); SCN_ERR_IO; SCN_ERR_NOMEM.
 */
int scn__spool_peek(scn_spool *sp, const scn_spool_cursor *cur,
                    scn_spool_rec *rec);

/* Moves cur past rec (the record peek returned). */
void scn__spool_next(scn_spool_cursor *cur, const scn_spool_rec *rec);

/* The stream id: 32 hex digits made when the spool was created. The cloud
 * keys its last acked seq by it, so a new spool starts a new stream. */
const char *scn__spool_stream_id(const scn_spool *sp);

void scn__spool_get_stats(const scn_spool *sp, scn_spool_stats *st);

#endif
