/*
 * Store-and-forward spool (see spool.h for the layout). An in-memory index
 * of every record (seq, offset, length) is rebuilt by the scan at open, so
 * counting, acking and resending never rescan files.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <scentience/error.h>

#include "log.h"

#define REC_HEAD     12u /* u32 len + u64 seq */
#define REC_OVERHEAD 16u
#define SEG_PREFIX   "seg-"
#define SEG_SUFFIX   ".log"
#define SEG_NAME_LEN (4 + 20 + 4)
/* Left free on the disk so that the meta file can always be replaced
 * (its temp copy needs a block beside the old one). */
#define DISK_RESERVE (64u * 1024)
/* Smallest segment the disk's size makes (a configured one may be less). */
#define SEG_MIN (4u * 1024)

typedef struct rec_ix {
    uint64_t seq;
    uint64_t off;
    uint32_t len;
} rec_ix;

typedef struct seg {
    uint64_t name; /* the first seq it was created (or rotated) for */
    int fd;
    uint64_t bytes;
    uint64_t limit; /* size it may grow to, set when it became active */
    rec_ix *recs;
    size_t nrec;
    size_t caprec;
} seg;

/* Records dropped by one call, reported together. */
typedef struct drop_acc {
    scn_spool_drop d;
    uint64_t *out; /* the caller's running count, may be NULL */
} drop_acc;

struct scn_spool {
    char *dir;
    int dirfd;
    int lockfd;
    scn_spool_opts opts;
    seg *segs; /* oldest first; the last one is the active segment */
    size_t nseg;
    size_t capseg;
    uint64_t total_bytes;
    uint64_t budget;    /* min(cap, the room the disk leaves) */
    uint64_t seg_limit; /* size of the next segment */
    uint64_t next_seq;
    uint64_t acked;
    uint64_t unacked; /* records with seq > acked */
    uint64_t dropped_full;
    uint64_t dropped_disk;
    uint64_t refused_full;
    uint64_t disk_full;
    uint64_t torn_tail_repairs;
    uint64_t repaired_bytes;
    uint64_t refused;
    bool dirty;      /* appended since the last sync */
    bool dir_dirty;  /* a segment was created or renamed since the sync */
    bool meta_dirty; /* the ack changed since it was saved */
    bool opened;     /* locked and recovered: close may sync */
    int64_t last_sync_ms;
    char stream_id[33];
    unsigned char *buf;
    size_t bufcap;
    /* buf holds the whole record of this seq, as written or verified:
     * peek of the record just appended needs no read back (the cloud
     * sends each record right after spooling it). */
    uint64_t buf_seq;
    bool buf_valid;
};

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t rec_crc(const unsigned char *head, const void *payload,
                        size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);

    c = crc32(c, head, REC_HEAD);
    /* zlib takes uInt lengths; records are far below 4 GiB (seg cap). */
    if (len > 0)
        c = crc32(c, payload, (uInt)len);
    return (uint32_t)c;
}

static int grow_buf(scn_spool *sp, size_t need)
{
    unsigned char *b;

    if (need <= sp->bufcap)
        return 0;
    b = realloc(sp->buf, need);
    if (b == NULL)
        return SCN_ERR_NOMEM;
    sp->buf = b;
    sp->bufcap = need;
    return 0;
}

static int seg_push(seg *s, uint64_t seq, uint64_t off, uint32_t len)
{
    if (s->nrec == s->caprec) {
        size_t n = s->caprec ? s->caprec * 2 : 64;
        rec_ix *r = realloc(s->recs, n * sizeof(*r));

        if (r == NULL)
            return SCN_ERR_NOMEM;
        s->recs = r;
        s->caprec = n;
    }
    s->recs[s->nrec].seq = seq;
    s->recs[s->nrec].off = off;
    s->recs[s->nrec].len = len;
    s->nrec++;
    return 0;
}

static void seg_name(char *buf, size_t cap, uint64_t name)
{
    snprintf(buf, cap, SEG_PREFIX "%020" PRIu64 SEG_SUFFIX, name);
}

/* The error for a failed write or create: a full disk (or quota) is told
 * apart, since the spool frees room and goes on. */
static int write_error(void)
{
    return errno == ENOSPC || errno == EDQUOT ? SCN_ERR_SPOOL_FULL : SCN_ERR_IO;
}

static void report(const scn_spool *sp, int err, const char *fmt, ...)
    SCN_PRINTF(3, 4);

static void report(const scn_spool *sp, int err, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    if (!sp->opts.on_report)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    sp->opts.on_report(err, line, sp->opts.user);
}

/* Reads exactly n bytes at off; a short read is reported as 1 (EOF). */
static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return SCN_ERR_IO;
        if (r == 0)
            return 1;
        got += (size_t)r;
    }
    return 0;
}

static int write_at(int fd, const void *buf, size_t n, uint64_t off)
{
    size_t done = 0;

    while (done < n) {
        ssize_t r =
            pwrite(fd, (const char *)buf + done, n - done, (off_t)(off + done));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return write_error();
        if (r == 0)
            return SCN_ERR_IO;
        done += (size_t)r;
    }
    return 0;
}

/*
 * Scans one segment, indexing its valid records and cutting it at the first
 * bad one. *last is the last seq seen before it (records must increase);
 * updated. *cut receives the bytes removed.
 */
static int seg_scan(scn_spool *sp, seg *s, uint64_t *last, uint64_t *cut)
{
    struct stat st;
    uint64_t off = 0, size;
    unsigned char head[REC_HEAD];
    bool out_of_range = false;
    int rc;

    sp->buf_valid = false; /* buf holds payloads at another offset */
    *cut = 0;
    if (fstat(s->fd, &st) != 0)
        return SCN_ERR_IO;
    size = (uint64_t)st.st_size;
    while (off < size) {
        uint32_t len;
        uint64_t seq;

        if (size - off < REC_OVERHEAD)
            break;
        rc = read_at(s->fd, head, REC_HEAD, off);
        if (rc < 0)
            return rc;
        if (rc > 0)
            break;
        len = get32(head);
        seq = get64(head + 4);
        /* A length that cannot be buffered here (len + 4 past a 32-bit
         * size_t, in a segment over 4 GiB) cannot be checked either. */
        if ((uint64_t)len > size - off - REC_OVERHEAD || seq <= *last ||
            (uint64_t)len + 4 > SIZE_MAX)
            break;
        if ((rc = grow_buf(sp, (size_t)len + 4)) != 0)
            return rc;
        rc = read_at(s->fd, sp->buf, (size_t)len + 4, off + REC_HEAD);
        if (rc < 0)
            return rc;
        if (rc > 0 || get32(sp->buf + len) != rec_crc(head, sp->buf, len))
            break;
        /* A well-formed record with a seq no JSON number can carry was
         * not written by a spool: what follows it is not trusted either. */
        if (seq > SCN_SPOOL_SEQ_MAX) {
            out_of_range = true;
            break;
        }
        if ((rc = seg_push(s, seq, off, len)) != 0)
            return rc;
        *last = seq;
        off += REC_OVERHEAD + len;
    }
    if (off < size) {
        /* Truncate, never skip: after a bad record the framing (its
         * length) cannot be trusted, and a later valid-looking record
         * could be a coincidence inside stale bytes. */
        if (ftruncate(s->fd, (off_t)off) != 0 || fsync(s->fd) != 0)
            return SCN_ERR_IO;
        *cut = size - off;
        if (out_of_range) {
            sp->refused++;
            report(sp, SCN_ERR_SPOOL_INVALID,
                   "segment %020" PRIu64 ": a record's seq is above 2^53-1: "
                   "refused, the segment cut there (%" PRIu64 " bytes)",
                   s->name, *cut);
        }
    }
    s->bytes = off;
    return 0;
}

static void seg_free(seg *s)
{
    if (s->fd >= 0)
        close(s->fd);
    free(s->recs);
    memset(s, 0, sizeof(*s));
    s->fd = -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static bool syncing(const scn_spool *sp)
{
    return sp->opts.fsync != SCN_SPOOL_FSYNC_NEVER;
}

static int fsync_dir(scn_spool *sp)
{
    if (syncing(sp) && fsync(sp->dirfd) != 0)
        return SCN_ERR_IO;
    sp->dir_dirty = false;
    return 0;
}

/* Replaces the meta file atomically: a crash leaves the old or the new,
 * and a failure (a full disk) leaves no temp file behind. */
static int write_meta(scn_spool *sp, uint64_t acked)
{
    char text[96];
    int n, fd, rc;

    n = snprintf(text, sizeof(text), "scn-spool 1\nid %s\nack %" PRIu64 "\n",
                 sp->stream_id, acked);
    fd = openat(sp->dirfd, "meta.tmp",
                O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return write_error();
    rc = write_at(fd, text, (size_t)n, 0);
    if (rc == 0 && syncing(sp) && fsync(fd) != 0)
        rc = write_error();
    close(fd);
    if (rc == 0 && renameat(sp->dirfd, "meta.tmp", sp->dirfd, "meta") != 0)
        rc = SCN_ERR_IO;
    if (rc != 0) {
        unlinkat(sp->dirfd, "meta.tmp", 0);
        return rc;
    }
    return fsync_dir(sp);
}

/* Reads meta; a missing file means a new stream (ack 0). A file that does
 * not parse is refused (a new stream id); so is an ack no seq can reach
 * (0 instead: a low ack only causes resends, which the cloud drops). */
static int read_meta(scn_spool *sp, bool *found)
{
    char text[128], id[64];
    uint64_t ack;
    ssize_t n;
    int end = -1;
    int fd = openat(sp->dirfd, "meta", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    *found = false;
    if (fd < 0 && errno == ENOENT)
        return 0;
    n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
    if (fd >= 0)
        close(fd);
    if (n >= 0)
        text[n] = '\0';
    /* An ack too long for a u64 reads as its maximum: refused below. */
    if (n < 0 ||
        sscanf(text, "scn-spool 1\nid %63s\nack %" SCNu64 "\n%n", id, &ack,
               &end) != 2 ||
        end != (int)n || strlen(id) != 32 ||
        strspn(id, "0123456789abcdef") != 32) {
        sp->refused++;
        report(sp, SCN_ERR_SPOOL_INVALID,
               "meta: not a spool meta file: refused, a new stream id is made "
               "(the records held are kept)");
        return 0;
    }
    memcpy(sp->stream_id, id, 33);
    *found = true;
    if (ack > SCN_SPOOL_SEQ_MAX) {
        sp->refused++;
        sp->meta_dirty = true;
        report(sp, SCN_ERR_SPOOL_INVALID,
               "meta: ack %" PRIu64 " is above 2^53-1: refused, every record "
               "held is sent again",
               ack);
        return 0;
    }
    sp->acked = ack;
    return 0;
}

static int make_stream_id(scn_spool *sp)
{
    unsigned char r[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return SCN_ERR_IO;
    rc = read_at(fd, r, sizeof(r), 0) == 0 ? 0 : SCN_ERR_IO;
    close(fd);
    for (int i = 0; i < 16; i++)
        snprintf(sp->stream_id + 2 * i, 3, "%02x", r[i]);
    return rc;
}

static int lock_dir(scn_spool *sp)
{
    struct flock fl;

    sp->lockfd = openat(sp->dirfd, "lock",
                        O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (sp->lockfd < 0)
        return SCN_ERR_IO;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(sp->lockfd, F_SETLK, &fl) != 0)
        return (errno == EACCES || errno == EAGAIN) ? SCN_ERR_SPOOL_BUSY
                                                    : SCN_ERR_IO;
    return 0;
}

static int add_seg(scn_spool *sp, uint64_t name, int fd)
{
    if (sp->nseg == sp->capseg) {
        size_t n = sp->capseg ? sp->capseg * 2 : 8;
        seg *s = realloc(sp->segs, n * sizeof(*s));

        if (s == NULL)
            return SCN_ERR_NOMEM;
        sp->segs = s;
        sp->capseg = n;
    }
    memset(&sp->segs[sp->nseg], 0, sizeof(seg));
    sp->segs[sp->nseg].name = name;
    sp->segs[sp->nseg].fd = fd;
    sp->segs[sp->nseg].limit = sp->seg_limit;
    sp->nseg++;
    return 0;
}

static void remove_seg(scn_spool *sp, size_t i)
{
    char name[64];

    seg_name(name, sizeof(name), sp->segs[i].name);
    unlinkat(sp->dirfd, name, 0);
    sp->total_bytes -= sp->segs[i].bytes;
    seg_free(&sp->segs[i]);
    memmove(&sp->segs[i], &sp->segs[i + 1], (sp->nseg - i - 1) * sizeof(seg));
    sp->nseg--;
}

/* Records of s with seq > acked. */
static size_t seg_unacked(const seg *s, uint64_t acked)
{
    size_t lo = 0, hi = s->nrec;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (s->recs[mid].seq <= acked)
            lo = mid + 1;
        else
            hi = mid;
    }
    return s->nrec - lo;
}

static bool seg_all_acked(const seg *s, uint64_t acked)
{
    return s->nrec == 0 || s->recs[s->nrec - 1].seq <= acked;
}

/*
 * Sizes the spool to the disk: the room it may take is what it holds plus
 * what the file system has free, less a reserve for the meta file; the
 * budget is the cap or that room, whichever is less, and a new segment an
 * eighth of it (as the cap's), so dropping one frees room before the disk
 * is full. Called when a segment is made and when a write found no room.
 */
static void size_to_disk(scn_spool *sp)
{
    struct statvfs vfs;
    uint64_t room, seg_bytes = sp->opts.segment_bytes;

    sp->budget = sp->opts.cap_bytes;
    if (fstatvfs(sp->dirfd, &vfs) == 0) {
        room = (uint64_t)vfs.f_bavail * vfs.f_frsize;
        for (size_t i = 0; i < sp->nseg; i++) {
            struct stat st;

            /* Blocks, not sizes: a file takes whole blocks. */
            if (fstat(sp->segs[i].fd, &st) == 0)
                room += (uint64_t)st.st_blocks * 512;
        }
        room = room > DISK_RESERVE ? room - DISK_RESERVE : 0;
        if (room < sp->budget)
            sp->budget = room;
    }
    if (sp->budget / 8 < seg_bytes) {
        seg_bytes = sp->budget / 8;
        if (seg_bytes < SEG_MIN)
            seg_bytes = SEG_MIN < sp->opts.segment_bytes
                            ? SEG_MIN
                            : sp->opts.segment_bytes;
    }
    sp->seg_limit = seg_bytes;
}

/* Lists the segment names in the directory, sorted. A seg-*.log name that
 * is not one the spool makes is refused (reported, never touched); every
 * other file is not the spool's business. A listing cut short by an error
 * is an error: the newest segment holds the seq floor. */
static int list_segs(scn_spool *sp, uint64_t **names, size_t *count)
{
    DIR *d;
    struct dirent *e;
    uint64_t *v = NULL;
    size_t n = 0, cap = 0;
    int fd = dup(sp->dirfd), err;

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return SCN_ERR_IO;
    }
    rewinddir(d);
    for (;;) {
        char want[64];
        unsigned long long x;
        size_t len;
        char *end;

        errno = 0;
        if ((e = readdir(d)) == NULL)
            break;
        len = strlen(e->d_name);
        if (strncmp(e->d_name, SEG_PREFIX, 4) != 0 || len < 8 ||
            strcmp(e->d_name + len - 4, SEG_SUFFIX) != 0)
            continue;
        errno = 0;
        x = strtoull(e->d_name + 4, &end, 10);
        seg_name(want, sizeof(want), (uint64_t)x);
        if (len != SEG_NAME_LEN || errno != 0 || strcmp(want, e->d_name) != 0 ||
            x == 0 || x > SCN_SPOOL_SEQ_MAX) {
            char shown[64];

            /* The name is anyone's: only printable ASCII reaches a log. */
            for (len = 0; len + 1 < sizeof(shown) && e->d_name[len]; len++)
                shown[len] = e->d_name[len] >= 0x20 && e->d_name[len] < 0x7f
                                 ? e->d_name[len]
                                 : '?';
            shown[len] = '\0';
            sp->refused++;
            report(sp, SCN_ERR_SPOOL_INVALID,
                   "%s: not a segment name (20 digits, 1 to 2^53-1): "
                   "refused, left as is",
                   shown);
            continue;
        }
        if (n == cap) {
            uint64_t *nv;

            cap = cap ? cap * 2 : 16;
            nv = realloc(v, cap * sizeof(*v));
            if (nv == NULL) {
                free(v);
                closedir(d);
                return SCN_ERR_NOMEM;
            }
            v = nv;
        }
        v[n++] = (uint64_t)x;
    }
    err = errno;
    closedir(d);
    if (err != 0) {
        /* EOVERFLOW on a 32-bit off_t build, EIO...: not the whole list. */
        report(sp, SCN_ERR_IO, "listing %s: %s", sp->dir, strerror(err));
        free(v);
        return SCN_ERR_IO;
    }
    if (n > 0)
        qsort(v, n, sizeof(*v), cmp_u64);
    *names = v;
    *count = n;
    return 0;
}

/* Opens a listed segment: a regular file, never through a symlink. *fd is
 * -1 (and 0 returned) when it is refused. */
static int open_seg(scn_spool *sp, const char *name, int *fd)
{
    struct stat st;

    /* Non-blocking: a FIFO planted under a segment's name must not hang
     * the open (it is refused below). */
    *fd = openat(sp->dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (*fd >= 0 && fstat(*fd, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    if (*fd < 0 && errno != ELOOP && errno != EISDIR && errno != ENXIO)
        return SCN_ERR_IO;
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
    sp->refused++;
    report(sp, SCN_ERR_SPOOL_INVALID,
           "%s: not a regular file: refused, left as is", name);
    return 0;
}

static int recover(scn_spool *sp)
{
    uint64_t *names = NULL, last = 0, base = 0, cut_last = 0;
    size_t n = 0, i;
    bool have_meta;
    int rc;

    /* Left by a crash between its write and its rename. */
    unlinkat(sp->dirfd, "meta.tmp", 0);
    if ((rc = read_meta(sp, &have_meta)) != 0)
        return rc;
    if ((rc = list_segs(sp, &names, &n)) != 0)
        return rc;
    for (i = 0; i < n && rc == 0; i++) {
        char name[64];
        uint64_t cut;
        seg *s;
        int fd;

        seg_name(name, sizeof(name), names[i]);
        if ((rc = open_seg(sp, name, &fd)) != 0 || fd < 0)
            continue;
        if ((rc = add_seg(sp, names[i], fd)) != 0) {
            close(fd);
            break;
        }
        s = &sp->segs[sp->nseg - 1];
        if ((rc = seg_scan(sp, s, &last, &cut)) != 0)
            break;
        if (cut > 0) {
            sp->torn_tail_repairs++;
            sp->repaired_bytes += cut;
        }
        /* Only the newest segment's cut tail can hold the newest seqs. */
        cut_last = cut;
        base = s->name - 1;
        if (base < last)
            base = last;
        sp->total_bytes += s->bytes;
    }
    free(names);
    if (rc != 0)
        return rc;
    /* Seqs are handed out one by one, so the records cut off from the
     * newest segment held at most cut / REC_OVERHEAD seqs past base: skip
     * them all, since the cloud may already have seen some. */
    sp->next_seq = base + 1 + cut_last / REC_OVERHEAD;
    if (sp->next_seq <= sp->acked)
        sp->next_seq = sp->acked + 1;
    /* Drop older segments that are empty or acknowledged entirely; the
     * newest stays, whatever it holds: its name is the seq floor. */
    for (i = 0; i + 1 < sp->nseg;) {
        if (seg_all_acked(&sp->segs[i], sp->acked))
            remove_seg(sp, i);
        else
            i++;
    }
    for (i = 0; i < sp->nseg; i++)
        sp->unacked += seg_unacked(&sp->segs[i], sp->acked);
    size_to_disk(sp);
    if (sp->nseg > 0)
        sp->segs[sp->nseg - 1].limit = sp->seg_limit;
    if (!have_meta) {
        if ((rc = make_stream_id(sp)) != 0)
            return rc;
        rc = write_meta(sp, sp->acked);
        /* A full disk must not stop a restart: saved at the next sync
         * (until then a new start would only make yet another id). */
        if (rc == SCN_ERR_SPOOL_FULL) {
            sp->meta_dirty = true;
            rc = 0;
        }
    }
    return rc;
}

int scn__spool_open_opts(const char *dir, const scn_spool_opts *opts,
                         scn_spool **out)
{
    scn_spool *sp;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (dir == NULL || opts == NULL || out == NULL ||
        opts->cap_bytes < SCN_SPOOL_MIN_CAP ||
        opts->segment_bytes > opts->cap_bytes / 2 ||
        (unsigned)opts->fsync > SCN_SPOOL_FSYNC_NEVER)
        return SCN_ERR_INVALID_ARG;
    sp = calloc(1, sizeof(*sp));
    if (sp == NULL)
        return SCN_ERR_NOMEM;
    sp->dirfd = sp->lockfd = -1;
    sp->opts = *opts;
    if (sp->opts.segment_bytes == 0)
        sp->opts.segment_bytes = sp->opts.cap_bytes / 8;
    if (sp->opts.segment_bytes > UINT32_MAX)
        sp->opts.segment_bytes = UINT32_MAX;
    if (sp->opts.interval_ms == 0)
        sp->opts.interval_ms = 1000;
    sp->dir = strdup(dir);
    if (sp->dir == NULL) {
        free(sp);
        return SCN_ERR_NOMEM;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        rc = scn_err_from_errno(errno);
    else if ((sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        rc = scn_err_from_errno(errno);
    else if ((rc = lock_dir(sp)) == 0)
        rc = recover(sp);
    if (rc != 0) {
        scn__spool_close(sp);
        return rc;
    }
    sp->last_sync_ms = now_ms();
    sp->opened = true;
    *out = sp;
    return 0;
}

int scn__spool_open(const char *dir, uint64_t cap_bytes, scn_spool **out)
{
    scn_spool_opts o;

    memset(&o, 0, sizeof(o));
    o.cap_bytes = cap_bytes;
    o.fsync = SCN_SPOOL_FSYNC_BATCH;
    return scn__spool_open_opts(dir, &o, out);
}

/*
 * Rotation: the newest segment is emptied and given the next seq's name.
 * Renamed first and the rename made durable (a directory sync, shared
 * with the meta file's when both happen), then truncated, so that no
 * crash leaves the floor below a seq handed out.
 */
static int rename_active(scn_spool *sp)
{
    seg *act = &sp->segs[sp->nseg - 1];
    char from[64], to[64];

    if (act->name == sp->next_seq)
        return 0;
    seg_name(from, sizeof(from), act->name);
    seg_name(to, sizeof(to), sp->next_seq);
    if (renameat(sp->dirfd, from, sp->dirfd, to) != 0)
        return SCN_ERR_IO;
    act->name = sp->next_seq;
    sp->dir_dirty = true;
    return 0;
}

/* Second half, once the rename is durable. */
static void empty_active(scn_spool *sp)
{
    seg *act = &sp->segs[sp->nseg - 1];

    /* If this fails, the records stay on disk under a name above their
     * seqs: a later open reads them, never reuses a seq. */
    if (ftruncate(act->fd, 0) != 0) {
        /* Kept: see above. */
    }
    sp->unacked -= seg_unacked(act, sp->acked);
    sp->total_bytes -= act->bytes;
    act->bytes = 0;
    act->nrec = 0;
    sp->dirty = false;
}

int scn__spool_sync(scn_spool *sp)
{
    seg *act;
    bool rotate;
    int rc = 0, meta_rc = 0;

    if (sp == NULL)
        return SCN_ERR_INVALID_ARG;
    act = sp->nseg > 0 ? &sp->segs[sp->nseg - 1] : NULL;
    if (syncing(sp) && sp->dirty && act != NULL && fdatasync(act->fd) != 0)
        rc = SCN_ERR_IO;
    /* Everything in the newest segment is acknowledged: reclaim it. */
    rotate = rc == 0 && act != NULL && act->nrec > 0 &&
             seg_all_acked(act, sp->acked);
    if (rotate && (rc = rename_active(sp)) != 0)
        rotate = false;
    if (sp->meta_dirty) {
        meta_rc = write_meta(sp, sp->acked); /* syncs the directory too */
        if (meta_rc == 0)
            sp->meta_dirty = false;
    }
    if (rc == 0 && sp->dir_dirty)
        rc = fsync_dir(sp);
    if (rotate && !sp->dir_dirty) {
        empty_active(sp);
        /* On a full disk the space just freed is what the meta needs. */
        if (meta_rc == SCN_ERR_SPOOL_FULL &&
            (meta_rc = write_meta(sp, sp->acked)) == 0)
            sp->meta_dirty = false;
    }
    if (rc == 0) {
        sp->dirty = false;
        sp->last_sync_ms = now_ms();
    }
    return rc != 0 ? rc : meta_rc;
}

void scn__spool_close(scn_spool *sp)
{
    if (sp == NULL)
        return;
    if (sp->opened)
        (void)scn__spool_sync(sp);
    for (size_t i = 0; i < sp->nseg; i++)
        seg_free(&sp->segs[i]);
    free(sp->segs);
    if (sp->lockfd >= 0)
        close(sp->lockfd); /* releases the fcntl lock */
    if (sp->dirfd >= 0)
        close(sp->dirfd);
    free(sp->buf);
    free(sp->dir);
    free(sp);
}

/* Makes a segment named name the active one, with room for rsize bytes.
 * An empty active segment is reused rather than replaced. */
static int new_segment(scn_spool *sp, uint64_t name, uint64_t rsize)
{
    char fname[64];
    seg *act = sp->nseg > 0 ? &sp->segs[sp->nseg - 1] : NULL;
    int fd, rc;

    size_to_disk(sp);
    if (act != NULL && act->nrec == 0) {
        act->limit = sp->seg_limit > rsize ? sp->seg_limit : rsize;
        return 0;
    }
    /* The segment that was active is complete: sync it before moving on,
     * so the BATCH policy's one fdatasync covers the new file only. */
    if (sp->dirty && syncing(sp) && act != NULL) {
        if (fdatasync(act->fd) != 0)
            return SCN_ERR_IO;
        sp->dirty = false;
    }
    seg_name(fname, sizeof(fname), name);
    fd = openat(sp->dirfd, fname,
                O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return write_error();
    if ((rc = add_seg(sp, name, fd)) != 0) {
        close(fd);
        unlinkat(sp->dirfd, fname, 0);
        return rc;
    }
    if (sp->segs[sp->nseg - 1].limit < rsize)
        sp->segs[sp->nseg - 1].limit = rsize;
    sp->dir_dirty = true;
    return 0;
}

/* Adds the unacknowledged records of the oldest segment (or of the only,
 * active one) to the drop being reported; counts them. */
static void count_drop(scn_spool *sp, const seg *s, scn_spool_drop_reason why,
                       drop_acc *acc)
{
    size_t lost = seg_unacked(s, sp->acked);

    if (lost == 0)
        return;
    if (acc->d.count > 0 && acc->d.reason != why) {
        /* One report per reason. */
        if (sp->opts.on_drop)
            sp->opts.on_drop(&acc->d, sp->opts.user);
        acc->d.count = 0;
    }
    if (acc->d.count == 0)
        acc->d.first_seq = s->recs[s->nrec - lost].seq;
    acc->d.last_seq = s->recs[s->nrec - 1].seq;
    acc->d.count += lost;
    acc->d.reason = why;
    if (why == SCN_SPOOL_DROP_CAP)
        sp->dropped_full += lost;
    else
        sp->dropped_disk += lost;
    if (acc->out != NULL)
        *acc->out += lost;
}

static void drop_oldest(scn_spool *sp, scn_spool_drop_reason why, drop_acc *acc)
{
    size_t lost = seg_unacked(&sp->segs[0], sp->acked);

    count_drop(sp, &sp->segs[0], why, acc);
    sp->unacked -= lost;
    remove_seg(sp, 0);
}

/* The disk is full: frees the oldest segment, or empties the only one.
 * Returns false when nothing is left to free. */
static bool free_room(scn_spool *sp, drop_acc *acc)
{
    seg *act;

    if (sp->nseg > 1) {
        drop_oldest(sp, SCN_SPOOL_DROP_DISK, acc);
        return true;
    }
    if (sp->nseg == 0 || (act = &sp->segs[0])->nrec == 0 ||
        rename_active(sp) != 0 || fsync_dir(sp) != 0)
        return false;
    count_drop(sp, act, SCN_SPOOL_DROP_DISK, acc);
    empty_active(sp);
    return true;
}

/* Writes the record at the end of the active segment. */
static int write_record(scn_spool *sp, uint64_t s, const void *payload,
                        size_t len)
{
    size_t rsize = (size_t)len + REC_OVERHEAD;
    seg *act = &sp->segs[sp->nseg - 1];
    int rc;

    sp->buf_valid = false;
    if ((rc = grow_buf(sp, rsize)) != 0)
        return rc;
    put32(sp->buf, (uint32_t)len);
    put64(sp->buf + 4, s);
    if (len > 0)
        memcpy(sp->buf + REC_HEAD, payload, len);
    put32(sp->buf + REC_HEAD + len, rec_crc(sp->buf, payload, len));
    if ((rc = seg_push(act, s, act->bytes, (uint32_t)len)) != 0)
        return rc;
    /* One write per record: a kill -9 leaves all of it or a torn tail
     * that the next open cuts off. */
    if ((rc = write_at(act->fd, sp->buf, rsize, act->bytes)) != 0) {
        act->nrec--;
        /* A partial write keeps its blocks: give them back. If this
         * fails, the next open cuts the partial record off. */
        if (ftruncate(act->fd, (off_t)act->bytes) != 0)
            rc = rc == SCN_ERR_SPOOL_FULL ? rc : SCN_ERR_IO;
        return rc;
    }
    act->bytes += rsize;
    sp->total_bytes += rsize;
    sp->buf_seq = s;
    sp->buf_valid = true;
    sp->next_seq = s + 1;
    sp->unacked++;
    sp->dirty = true;
    return 0;
}

int scn__spool_append(scn_spool *sp, const void *payload, size_t len,
                      uint64_t *seq, uint64_t *dropped)
{
    drop_acc acc;
    uint64_t rsize, s;
    int rc;

    if (sp == NULL || (payload == NULL && len > 0))
        return SCN_ERR_INVALID_ARG;
    rsize = (uint64_t)len + REC_OVERHEAD;
    if (len > UINT32_MAX || rsize > sp->opts.segment_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    s = sp->next_seq;
    if (s > SCN_SPOOL_SEQ_MAX)
        return SCN_ERR_OUT_OF_RANGE; /* never wrap: that reuses seqs */
    memset(&acc, 0, sizeof(acc));
    acc.out = dropped;
    for (;;) {
        seg *act = sp->nseg > 0 ? &sp->segs[sp->nseg - 1] : NULL;

        if (act == NULL || act->nrec == 0 || act->bytes + rsize > act->limit) {
            rc = new_segment(sp, s, rsize);
            if (rc == SCN_ERR_SPOOL_FULL && free_room(sp, &acc))
                continue;
            if (rc != 0)
                break;
        }
        /* Make room: a record and a segment are at most cap / 2 each, so
         * dropping whole older segments always frees enough. */
        while (sp->total_bytes + rsize > sp->budget && sp->nseg > 1)
            drop_oldest(sp,
                        sp->budget < sp->opts.cap_bytes ? SCN_SPOOL_DROP_DISK
                                                        : SCN_SPOOL_DROP_CAP,
                        &acc);
        rc = write_record(sp, s, payload, len);
        if (rc != SCN_ERR_SPOOL_FULL)
            break;
        /* Someone else took the room, or the disk is smaller than it
         * said: older records go, oldest first, before this new one. */
        sp->disk_full++;
        if (!free_room(sp, &acc))
            break;
    }
    if (acc.d.count > 0 && sp->opts.on_drop)
        sp->opts.on_drop(&acc.d, sp->opts.user);
    if (rc == SCN_ERR_SPOOL_FULL)
        sp->refused_full++;
    if (rc != 0)
        return rc;
    if (seq != NULL)
        *seq = s;
    if (sp->opts.fsync == SCN_SPOOL_FSYNC_EVERY ||
        (sp->opts.fsync == SCN_SPOOL_FSYNC_INTERVAL &&
         now_ms() - sp->last_sync_ms >= (int64_t)sp->opts.interval_ms)) {
        rc = scn__spool_sync(sp);
        /* The record is on disk; an ack not saved is tried again. */
        return rc == SCN_ERR_SPOOL_FULL ? 0 : rc;
    }
    return 0;
}

int scn__spool_ack(scn_spool *sp, uint64_t seq)
{
    if (sp == NULL)
        return SCN_ERR_INVALID_ARG;
    if (seq >= sp->next_seq)
        return SCN_ERR_OUT_OF_RANGE;
    if (seq <= sp->acked)
        return 0;
    for (size_t i = 0; i < sp->nseg; i++)
        sp->unacked -= seg_unacked(&sp->segs[i], sp->acked) -
                       seg_unacked(&sp->segs[i], seq);
    sp->acked = seq;
    sp->meta_dirty = true;
    /* The newest segment is rotated by the next sync, once the ack is
     * saved: deleting it now would take the seq floor with it. */
    while (sp->nseg > 1 && seg_all_acked(&sp->segs[0], seq))
        remove_seg(sp, 0);
    return 0;
}

void scn__spool_rewind(const scn_spool *sp, scn_spool_cursor *cur)
{
    cur->next = sp->acked + 1;
}
int scn__spool_peek(scn_spool *sp, const scn_spool_cursor *cur,
                    scn_spool_rec *rec)
{
    uint64_t want;
    unsigned char head[REC_HEAD];

    if (sp == NULL || cur == NULL || rec == NULL)
        return SCN_ERR_INVALID_ARG;
    want = cur->next > sp->acked ? cur->next : sp->acked + 1;
    for (size_t i = 0; i < sp->nseg; i++) {
        seg *s = &sp->segs[i];
        size_t k = s->nrec - seg_unacked(s, want - 1);
        const rec_ix *r;
        int rc;

        if (k == s->nrec)
            continue;
        r = &s->recs[k];
        if (sp->buf_valid && sp->buf_seq == r->seq)
            goto found;
        sp->buf_valid = false;
        if ((rc = grow_buf(sp, (size_t)r->len + REC_OVERHEAD)) != 0)
            return rc;
        rc = read_at(s->fd, sp->buf, (size_t)r->len + REC_OVERHEAD, r->off);
        if (rc < 0)
            return rc;
        memcpy(head, sp->buf, REC_HEAD);
        if (rc > 0 || get32(head) != r->len || get64(head + 4) != r->seq ||
            get32(sp->buf + REC_HEAD + r->len) !=
                rec_crc(head, sp->buf + REC_HEAD, r->len))
            return SCN_ERR_SPOOL_CORRUPT;
        sp->buf_seq = r->seq;
        sp->buf_valid = true;
    found:
        rec->seq = r->seq;
        rec->data = sp->buf + REC_HEAD;
        rec->len = r->len;
        return 0;
    }
    return SCN_ERR_NOT_FOUND;
}

void scn__spool_next(scn_spool_cursor *cur, const scn_spool_rec *rec)
{
    cur->next = rec->seq + 1;
}

const char *scn__spool_stream_id(const scn_spool *sp)
{
    return sp->stream_id;
}

void scn__spool_get_stats(const scn_spool *sp, scn_spool_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->records = sp->unacked;
    st->bytes = sp->total_bytes;
    st->segments = sp->nseg;
    st->next_seq = sp->next_seq;
    st->acked = sp->acked;
    st->dropped_full = sp->dropped_full;
    st->dropped_disk = sp->dropped_disk;
    st->refused_full = sp->refused_full;
    st->disk_full = sp->disk_full;
    st->torn_tail_repairs = sp->torn_tail_repairs;
    st->repaired_bytes = sp->repaired_bytes;
    st->refused = sp->refused;
    st->budget = sp->budget;
    st->ack_saved = !sp->meta_dirty;
}
