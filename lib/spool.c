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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <scentience/error.h>

#define REC_HEAD     12u /* u32 len + u64 seq */
#define REC_OVERHEAD 16u
#define SEG_PREFIX   "seg-"
#define SEG_SUFFIX   ".log"

typedef struct rec_ix {
    uint64_t seq;
    uint64_t off;
    uint32_t len;
} rec_ix;

typedef struct seg {
    uint64_t name; /* the first seq it was created for */
    int fd;
    uint64_t bytes;
    rec_ix *recs;
    size_t nrec;
    size_t caprec;
} seg;

struct scn_spool {
    char *dir;
    int dirfd;
    int lockfd;
    scn_spool_opts opts;
    seg *segs; /* oldest first; the last one is the active segment */
    size_t nseg;
    size_t capseg;
    uint64_t total_bytes;
    uint64_t next_seq;
    uint64_t acked;
    uint64_t unacked; /* records with seq > acked */
    uint64_t dropped_full;
    uint64_t torn_tail_repairs;
    uint64_t repaired_bytes;
    bool dirty;     /* appended since the last sync */
    bool dir_dirty; /* a segment was created since the last sync */
    int64_t last_sync_ms;
    char stream_id[33];
    unsigned char *buf;
    size_t bufcap;
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
        if (r <= 0)
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
    int rc;

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
        if ((uint64_t)len > size - off - REC_OVERHEAD || seq <= *last)
            break;
        if ((rc = grow_buf(sp, (size_t)len + 4)) != 0)
            return rc;
        rc = read_at(s->fd, sp->buf, (size_t)len + 4, off + REC_HEAD);
        if (rc < 0)
            return rc;
        if (rc > 0 || get32(sp->buf + len) != rec_crc(head, sp->buf, len))
            break;
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

static int fsync_dir(scn_spool *sp)
{
    return fsync(sp->dirfd) == 0 ? 0 : SCN_ERR_IO;
}

/* Replaces the meta file atomically: a crash leaves the old or the new. */
static int write_meta(scn_spool *sp, uint64_t acked)
{
    char text[96];
    int n, fd, rc;

    n = snprintf(text, sizeof(text), "scn-spool 1\nid %s\nack %" PRIu64 "\n",
                 sp->stream_id, acked);
    fd = openat(sp->dirfd, "meta.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                0600);
    if (fd < 0)
        return SCN_ERR_IO;
    rc = write_at(fd, text, (size_t)n, 0);
    if (rc == 0 && fsync(fd) != 0)
        rc = SCN_ERR_IO;
    close(fd);
    if (rc == 0 && renameat(sp->dirfd, "meta.tmp", sp->dirfd, "meta") != 0)
        rc = SCN_ERR_IO;
    if (rc == 0)
        rc = fsync_dir(sp);
    return rc;
}

/* Reads meta; a missing or unreadable file means a new stream (ack 0). A
 * wrong ack can only cause resends, which the cloud drops by seq. */
static int read_meta(scn_spool *sp, bool *found)
{
    char text[128], id[64];
    uint64_t ack;
    ssize_t n;
    int fd = openat(sp->dirfd, "meta", O_RDONLY | O_CLOEXEC);

    *found = false;
    if (fd < 0)
        return errno == ENOENT ? 0 : SCN_ERR_IO;
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    if (sscanf(text, "scn-spool 1\nid %63s\nack %" SCNu64, id, &ack) == 2 &&
        strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32) {
        memcpy(sp->stream_id, id, 33);
        sp->acked = ack;
        *found = true;
    }
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

    sp->lockfd = openat(sp->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
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

/* Lists the segment names in the directory, sorted. */
static int list_segs(scn_spool *sp, uint64_t **names, size_t *count)
{
    DIR *d;
    struct dirent *e;
    uint64_t *v = NULL;
    size_t n = 0, cap = 0;
    int fd = dup(sp->dirfd);

    if (fd < 0 || (d = fdopendir(fd)) == NULL) {
        if (fd >= 0)
            close(fd);
        return SCN_ERR_IO;
    }
    while ((e = readdir(d)) != NULL) {
        char want[64];
        unsigned long long x;
        char *end;

        if (strncmp(e->d_name, SEG_PREFIX, 4) != 0 ||
            strlen(e->d_name) != 4 + 20 + 4)
            continue;
        errno = 0;
        x = strtoull(e->d_name + 4, &end, 10);
        seg_name(want, sizeof(want), (uint64_t)x);
        if (errno != 0 || strcmp(want, e->d_name) != 0)
            continue;
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
    closedir(d);
    if (n > 0)
        qsort(v, n, sizeof(*v), cmp_u64);
    *names = v;
    *count = n;
    return 0;
}

static int recover(scn_spool *sp)
{
    uint64_t *names = NULL, last = 0, base = 0, cut_last = 0;
    size_t n = 0, i;
    bool have_meta;
    int rc;

    if ((rc = read_meta(sp, &have_meta)) != 0)
        return rc;
    if ((rc = list_segs(sp, &names, &n)) != 0)
        return rc;
    for (i = 0; i < n && rc == 0; i++) {
        char name[64];
        uint64_t cut;
        int fd;

        seg_name(name, sizeof(name), names[i]);
        fd = openat(sp->dirfd, name, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            rc = SCN_ERR_IO;
            break;
        }
        if ((rc = add_seg(sp, names[i], fd)) != 0) {
            close(fd);
            break;
        }
        rc = seg_scan(sp, &sp->segs[sp->nseg - 1], &last, &cut);
        if (rc != 0)
            break;
        if (cut > 0) {
            sp->torn_tail_repairs++;
            sp->repaired_bytes += cut;
        }
        /* Only the newest segment's cut tail can hold the newest seqs. */
        if (i == n - 1) {
            cut_last = cut;
            base = names[i] > 0 ? names[i] - 1 : 0;
            if (base < last)
                base = last;
        }
        sp->total_bytes += sp->segs[sp->nseg - 1].bytes;
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
    /* Drop segments that are empty or already acknowledged entirely. */
    for (i = 0; i < sp->nseg;) {
        seg *s = &sp->segs[i];

        if (s->nrec == 0 || s->recs[s->nrec - 1].seq <= sp->acked)
            remove_seg(sp, i);
        else
            i++;
    }
    for (i = 0; i < sp->nseg; i++)
        sp->unacked += seg_unacked(&sp->segs[i], sp->acked);
    if (!have_meta) {
        if ((rc = make_stream_id(sp)) != 0)
            return rc;
        return write_meta(sp, sp->acked);
    }
    return 0;
}

int scn_spool_open_opts(const char *dir, const scn_spool_opts *opts,
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
        scn_spool_close(sp);
        return rc;
    }
    sp->last_sync_ms = now_ms();
    *out = sp;
    return 0;
}

int scn_spool_open(const char *dir, uint64_t cap_bytes, scn_spool **out)
{
    scn_spool_opts o;

    memset(&o, 0, sizeof(o));
    o.cap_bytes = cap_bytes;
    o.fsync = SCN_SPOOL_FSYNC_BATCH;
    return scn_spool_open_opts(dir, &o, out);
}

int scn_spool_sync(scn_spool *sp)
{
    int rc = 0;

    if (sp == NULL)
        return SCN_ERR_INVALID_ARG;
    if (sp->opts.fsync == SCN_SPOOL_FSYNC_NEVER)
        return 0;
    if (sp->dirty && sp->nseg > 0 && fdatasync(sp->segs[sp->nseg - 1].fd) != 0)
        rc = SCN_ERR_IO;
    if (rc == 0 && sp->dir_dirty)
        rc = fsync_dir(sp);
    if (rc == 0) {
        sp->dirty = sp->dir_dirty = false;
        sp->last_sync_ms = now_ms();
    }
    return rc;
}

void scn_spool_close(scn_spool *sp)
{
    if (sp == NULL)
        return;
    if (sp->dirfd >= 0)
        (void)scn_spool_sync(sp);
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

static int new_segment(scn_spool *sp, uint64_t name)
{
    char fname[64];
    int fd, rc;

    /* The segment that was active is complete: sync it before moving on,
     * so the BATCH policy's one fdatasync covers the new file only. */
    if (sp->dirty && sp->opts.fsync != SCN_SPOOL_FSYNC_NEVER && sp->nseg > 0)
        if (fdatasync(sp->segs[sp->nseg - 1].fd) != 0)
            return SCN_ERR_IO;
    seg_name(fname, sizeof(fname), name);
    fd = openat(sp->dirfd, fname, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return SCN_ERR_IO;
    if ((rc = add_seg(sp, name, fd)) != 0) {
        close(fd);
        unlinkat(sp->dirfd, fname, 0);
        return rc;
    }
    sp->dir_dirty = true;
    return 0;
}

int scn_spool_append(scn_spool *sp, const void *payload, size_t len,
                     uint64_t *seq, uint64_t *dropped)
{
    uint64_t rsize, s;
    seg *act;
    int rc;

    if (sp == NULL || (payload == NULL && len > 0))
        return SCN_ERR_INVALID_ARG;
    rsize = (uint64_t)len + REC_OVERHEAD;
    if (len > UINT32_MAX || rsize > sp->opts.segment_bytes)
        return SCN_ERR_MESSAGE_TOO_BIG;
    s = sp->next_seq;
    if (sp->nseg == 0 ||
        sp->segs[sp->nseg - 1].bytes + rsize > sp->opts.segment_bytes)
        if ((rc = new_segment(sp, s)) != 0)
            return rc;
    /* Make room: a record and a segment are at most cap / 2 each, so
     * dropping whole older segments always frees enough. */
    while (sp->total_bytes + rsize > sp->opts.cap_bytes && sp->nseg > 1) {
        uint64_t lost = seg_unacked(&sp->segs[0], sp->acked);

        sp->dropped_full += lost;
        sp->unacked -= lost;
        if (dropped != NULL)
            *dropped += lost;
        remove_seg(sp, 0);
    }
    if ((rc = grow_buf(sp, (size_t)rsize)) != 0)
        return rc;
    act = &sp->segs[sp->nseg - 1];
    put32(sp->buf, (uint32_t)len);
    put64(sp->buf + 4, s);
    if (len > 0)
        memcpy(sp->buf + REC_HEAD, payload, len);
    put32(sp->buf + REC_HEAD + len, rec_crc(sp->buf, payload, len));
    if ((rc = seg_push(act, s, act->bytes, (uint32_t)len)) != 0)
        return rc;
    /* One write per record: a kill -9 leaves all of it or a torn tail
     * that the next open cuts off. */
    if (write_at(act->fd, sp->buf, (size_t)rsize, act->bytes) != 0) {
        act->nrec--;
        if (ftruncate(act->fd, (off_t)act->bytes) != 0) {
            /* The next open cuts the partial record off. */
        }
        return SCN_ERR_IO;
    }
    act->bytes += rsize;
    sp->total_bytes += rsize;
    sp->next_seq = s + 1;
    sp->unacked++;
    sp->dirty = true;
    if (seq != NULL)
        *seq = s;
    if (sp->opts.fsync == SCN_SPOOL_FSYNC_EVERY ||
        (sp->opts.fsync == SCN_SPOOL_FSYNC_INTERVAL &&
         now_ms() - sp->last_sync_ms >= (int64_t)sp->opts.interval_ms))
        return scn_spool_sync(sp);
    return 0;
}

int scn_spool_ack(scn_spool *sp, uint64_t seq)
{
    int rc;

    if (sp == NULL)
        return SCN_ERR_INVALID_ARG;
    if (seq >= sp->next_seq)
        return SCN_ERR_OUT_OF_RANGE;
    if (seq <= sp->acked)
        return 0;
    if ((rc = write_meta(sp, seq)) != 0)
        return rc;
    for (size_t i = 0; i < sp->nseg; i++)
        sp->unacked -= seg_unacked(&sp->segs[i], sp->acked) -
                       seg_unacked(&sp->segs[i], seq);
    sp->acked = seq;
    /* The active segment stays even when acked: appends continue in it. */
    while (sp->nseg > 1 && (sp->segs[0].nrec == 0 ||
                            sp->segs[0].recs[sp->segs[0].nrec - 1].seq <= seq))
        remove_seg(sp, 0);
    return 0;
}

void scn_spool_rewind(const scn_spool *sp, scn_spool_cursor *cur)
{
    cur->next = sp->acked + 1;
}

int scn_spool_peek(scn_spool *sp, const scn_spool_cursor *cur,
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
        rec->seq = r->seq;
        rec->data = sp->buf + REC_HEAD;
        rec->len = r->len;
        return 0;
    }
    return SCN_ERR_NOT_FOUND;
}

void scn_spool_next(scn_spool_cursor *cur, const scn_spool_rec *rec)
{
    cur->next = rec->seq + 1;
}

const char *scn_spool_stream_id(const scn_spool *sp)
{
    return sp->stream_id;
}

void scn_spool_get_stats(const scn_spool *sp, scn_spool_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->records = sp->unacked;
    st->bytes = sp->total_bytes;
    st->segments = sp->nseg;
    st->next_seq = sp->next_seq;
    st->acked = sp->acked;
    st->dropped_full = sp->dropped_full;
    st->torn_tail_repairs = sp->torn_tail_repairs;
    st->repaired_bytes = sp->repaired_bytes;
}
