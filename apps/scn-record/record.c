/*
 * scn-record record: a device stream to MCAP through a libscentience
 * session. Frames go to /olfaction (log time: when received; publish time:
 * the frame's TIMESTAMP), connection events to /events. The key is
 * resolved by the session and never seen here: events carry
 * scn_session_key_redacted() only, and the URL is recorded without its
 * query and user info, where credentials could hide.
 *
 * An /events record is built on the heap and keeps every member whole (a
 * device message is as long as the session lets it be) up to event_cap()
 * (twice the largest message the session accepts, plus 64 KiB);
 * one that could not be kept whole (over it, or out of memory) says what
 * it left out, is counted, said on stderr and ends the run with 74.
 *
 * The file is written under a temporary name (OUT.partial) and takes its
 * name when the first frame is in it: a run that fails before (wrong key,
 * unreachable device) leaves nothing behind, and an existing OUT is never
 * replaced without --force (and never by a run that got nothing).
 *
 * With --cloud-url the device's frames also go to the cloud inference
 * stream (scn_cloud, as the companion sends them but without a drone
 * state, which section 9.3 allows): each record to /cloud/record, each
 * inference to /inference. At the end the recorder waits (bounded) for the
 * cloud to acknowledge what was sent, so the last frames' inferences are
 * in the file too; what is left stays in the spool for the next run.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <scentience/error.h>
#include <scentience/frame.h>
#include <scentience/loop.h>
#include <scentience/recorder.h>
#include <scentience/session.h>

#include "cli.h"
#include "cloud_json.h"
#include "cmds.h"
#include "gap_json.h"
#include "json_obj.h"
#include "ratelimit.h"

#define R "scn-record record"

typedef struct app {
    scn_recorder *rec;
    const char *out; /* the recording's name */
    char *partial;   /* the name it is written under until named */
    int named;       /* partial was renamed to out */
    int force;       /* --force: out may be replaced */
    int progress;    /* stderr is a terminal: show progress */
    uint16_t olfaction, events, inference, cloud_record;
    scn_cloud *cloud;
    char *cloud_url;   /* as recorded; NULL: no cloud */
    uint64_t last_seq; /* the last record submitted */
    uint64_t drain_ms; /* --drain */
    char *buf;         /* frame JSON, grown as needed */
    size_t cap;
    cloud_text cloud_json; /* /cloud/record and /inference, grown too */
    char *url;             /* as recorded */
    size_t event_cap;      /* an /events record's longest (event_cap()) */
    uint64_t count, frames;
    int done, exit_code, quiet;
    /* Records the cloud will never get: exit 74. */
    uint64_t spool_dropped, cloud_refused;
    /* /events records not kept whole, or not at all: exit 74. */
    uint64_t events_incomplete;
    cli_ratelimit rl_drop, rl_event;
} app;

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail_write(app *a, int rc)
{
    if (!a->quiet)
        fprintf(stderr, "%sscn-record: writing %s: %s\n",
                a->progress ? "\r\033[K" : "", a->out, scn_strerror(rc));
    a->exit_code = CLI_EX_IOERR;
    a->done = 1;
}

/* On a terminal: messages, bytes and time so far, on one line. */
static void show_progress(app *a, double elapsed)
{
    scn_recorder_stats st;

    scn_recorder_get_stats(a->rec, &st);
    fprintf(stderr,
            "\r\033[Kscn-record: %s: %llu frames, %llu messages, %.1f MB, "
            "%02u:%02u:%02u",
            a->out, (unsigned long long)a->frames,
            (unsigned long long)st.messages, (double)st.bytes / 1e6,
            (unsigned)(elapsed / 3600), (unsigned)((uint64_t)elapsed / 60 % 60),
            (unsigned)((uint64_t)elapsed % 60));
}

/* Gives the file its name: OUT is replaced only with --force (link()
 * refuses an existing name atomically). Returns 0 or an exit code. */
static int name_recording(app *a)
{
    int rc;

    if (a->named)
        return 0;
    if (a->force)
        rc = rename(a->partial, a->out);
    else if ((rc = link(a->partial, a->out)) == 0)
        unlink(a->partial);
    if (rc != 0) {
        fprintf(
            stderr, "%sscn-record: %s: %s%s\n", a->progress ? "\r\033[K" : "",
            a->out, scn_strerror(scn_err_from_errno(errno)),
            errno == EEXIST ? " (created meanwhile; --force replaces it)" : "");
        return CLI_EX_CANTCREAT;
    }
    a->named = 1;
    return 0;
}

/* The longest /events record: a device message of the largest size the
 * session accepts, its "type" (no longer than the message) and the other
 * members (short, ours). */
static size_t event_cap(size_t max_message_bytes)
{
    return 2 * max_message_bytes + 64 * 1024;
}

/* An /events record that could not be kept whole: it names what it left
 * out (when even that fits), and the loss is counted and said. */
static void event_incomplete(app *a, json_obj *o, const char *event)
{
    uint64_t held = 0;

    json_obj_name_left_out(o);
    a->events_incomplete++;
    if (a->quiet ||
        !cli_ratelimit_allow(&a->rl_event, realtime_ns() / 1000000, &held))
        return;
    fprintf(stderr, "%sscn-record: an /events ", a->progress ? "\r\033[K" : "");
    json_obj_say_incomplete(o, stderr, event, a->events_incomplete, held);
}

/* Records the event o (whose "event" is event) and frees it. */
static void write_event(app *a, json_obj *o, const char *event)
{
    size_t len;
    uint64_t now = realtime_ns();
    int rc;

    if (o->err)
        event_incomplete(a, o, event);
    len = json_obj_end(o);
    if (len && a->exit_code != CLI_EX_IOERR) {
        rc = scn_recorder_write(a->rec, a->events, now, now, o->buf, len);
        if (rc)
            fail_write(a, rc);
    }
    json_obj_free(o);
}

/* scheme://host:port/path, whole: user info, query and fragment dropped.
 * NULL when out of memory. */
static char *redact_url(const char *url)
{
    const char *host = strstr(url, "://"), *end, *at;
    char *out = malloc(strlen(url) + 1);
    size_t n;

    if (!out)
        return NULL;
    host = host ? host + 3 : url;
    end = host + strcspn(host, "/?#");
    at = memchr(host, '@', (size_t)(end - host));
    n = (size_t)(host - url);
    memcpy(out, url, n);
    if (at)
        host = at + 1;
    end = host + strcspn(host, "?#");
    memcpy(out + n, host, (size_t)(end - host));
    out[n + (size_t)(end - host)] = '\0';
    return out;
}

/* A link's state change: an event, and the end of the run on FAILED. */
static void link_state(app *a, const char *source, const char *url,
                       const char *key_redacted, const scn_state_event *ev)
{
    json_obj b;

    json_obj_begin(&b, a->event_cap);
    json_obj_str(&b, "event", "state");
    json_obj_str(&b, "source", source);
    json_obj_str(&b, "state", scn_state_name(ev->state));
    json_obj_str(&b, "previous", scn_state_name(ev->previous));
    if (ev->reason) {
        json_obj_str(&b, "reason", scn_err_name(ev->reason));
        json_obj_str(&b, "detail", scn_strerror(ev->reason));
    }
    if (ev->last_error)
        json_obj_str(&b, "last_error", scn_err_name(ev->last_error));
    if (ev->state == SCN_STATE_RECONNECTING) {
        json_obj_int(&b, "delay_ms", ev->delay_ms);
        json_obj_int(&b, "attempt", ev->attempt);
    }
    if (ev->http_status)
        json_obj_int(&b, "http_status", ev->http_status);
    if (ev->close_code)
        json_obj_int(&b, "close_code", ev->close_code);
    json_obj_str(&b, "url", url);
    if (key_redacted)
        json_obj_str(&b, "key", key_redacted);
    write_event(a, &b, "state");

    if (ev->state == SCN_STATE_RECONNECTING && !a->quiet)
        fprintf(stderr, "scn-record: %s: %s; reconnecting in %u ms\n", source,
                scn_strerror(ev->reason), ev->delay_ms);
    if (ev->state == SCN_STATE_FAILED) {
        char why[256];

        if (!a->quiet)
            fprintf(stderr, "scn-record: %s: %s\n", source,
                    cli_failed_why(ev, why, sizeof(why)));
        if (!a->exit_code)
            a->exit_code = cli_exit_for_error(ev->reason);
        a->done = 1;
    }
}

static void on_state(scn_session *s, const scn_state_event *ev, void *user)
{
    app *a = user;

    link_state(a, "device", a->url, scn_session_key_redacted(s), ev);
    if (ev->state == SCN_STATE_CLOSED)
        a->done = 1;
}

static void cloud_state(scn_cloud *c, const scn_state_event *ev, void *user)
{
    app *a = user;
    scn_session *s = scn_cloud_session(c);

    link_state(a, "cloud", a->cloud_url, s ? scn_session_key_redacted(s) : NULL,
               ev);
}

/* An error of a link (its reason and detail) as an event. */
static void error_event(app *a, const char *source, int err, const char *detail)
{
    json_obj b;

    json_obj_begin(&b, a->event_cap);
    json_obj_str(&b, "event", "error");
    json_obj_str(&b, "source", source);
    json_obj_str(&b, "reason", scn_err_name(err));
    json_obj_str(&b, "detail", detail ? detail : scn_strerror(err));
    write_event(a, &b, "error");
}

static void cloud_error(scn_cloud *c, int err, const char *detail, void *user)
{
    (void)c;
    error_event(user, "cloud", err, detail);
}

static void on_inference(scn_cloud *c, const scn_cloud_result *r, void *user)
{
    app *a = user;
    size_t len;
    uint64_t now = realtime_ns();
    int rc;

    (void)c;
    if (a->exit_code == CLI_EX_IOERR)
        return;
    /* No age: that needs the frame's time, which /cloud/record holds.
     * Only memory running out leaves it unwritten: that ends the run. */
    len = cloud_inference_text(&a->cloud_json, r, -1);
    rc = len ? scn_recorder_write(a->rec, a->inference, now, now,
                                  a->cloud_json.buf, len)
             : SCN_ERR_NOMEM;
    if (rc)
        fail_write(a, rc);
}

/* Records the spool dropped before the cloud had them: an event each
 * (exact seqs), a stderr line at most every 5 s. */
static void on_spool_drop(scn_cloud *c, const scn_cloud_spool_drop *d,
                          void *user)
{
    app *a = user;
    json_obj b;

    (void)c;
    a->spool_dropped += d->count;
    json_obj_begin(&b, a->event_cap);
    json_obj_str(&b, "event", "spool_drop");
    json_obj_str(&b, "source", "cloud");
    json_obj_str(&b, "reason", d->disk_full ? "disk_full" : "spool_cap");
    json_obj_int(&b, "first_seq", (int64_t)d->first_seq);
    json_obj_int(&b, "last_seq", (int64_t)d->last_seq);
    json_obj_int(&b, "count", (int64_t)d->count);
    json_obj_int(&b, "sent", (int64_t)d->sent);
    json_obj_int(&b, "total", (int64_t)a->spool_dropped);
    write_event(a, &b, "spool_drop");
    if (a->quiet ||
        !cli_ratelimit_allow(&a->rl_drop, realtime_ns() / 1000000, NULL))
        return;
    fprintf(stderr,
            "scn-record: cloud spool: %s: dropped records up to seq %llu "
            "before the cloud had them; %llu in all\n",
            d->disk_full ? "the disk is full" : "over its cap (--spool-cap)",
            (unsigned long long)d->last_seq,
            (unsigned long long)a->spool_dropped);
}

/* Sends the frame to the cloud and records what was sent. */
static void to_cloud(app *a, const scn_frame *f, size_t len, int64_t ts)
{
    uint64_t seq = 0;
    json_obj b;
    int rc;

    rc = scn_cloud_submit_frame(a->cloud, f, NULL, 0, &seq);
    if (rc) {
        if (rc == SCN_ERR_SPOOL_FULL)
            a->cloud_refused++;
        json_obj_begin(&b, a->event_cap);
        json_obj_str(&b, "event", "error");
        json_obj_str(&b, "source", "cloud");
        json_obj_str(&b, "reason", scn_err_name(rc));
        json_obj_str(&b, "detail", "frame not sent to the cloud");
        json_obj_str(&b, "cause", scn_cloud_submit_detail(a->cloud));
        write_event(a, &b, "error");
        return;
    }
    a->last_seq = seq;
    /* Grown as needed (a long UID or TIMESTAMP); only memory running out
     * leaves it unwritten, and that ends the run. */
    len = cloud_record_text(&a->cloud_json, 1024, seq,
                            scn_cloud_stream_id(a->cloud), scn_frame_uid(f),
                            scn_frame_timestamp(f), NULL, 0);
    rc = len ? scn_recorder_write(a->rec, a->cloud_record, realtime_ns(),
                                  ts > 0 ? (uint64_t)ts : 0, a->cloud_json.buf,
                                  len)
             : SCN_ERR_NOMEM;
    if (rc)
        fail_write(a, rc);
}

static void on_frame(scn_session *s, const scn_frame *f, void *user)
{
    app *a = user;
    int64_t ts = scn_frame_timestamp_ns(f);
    size_t len;
    int rc;

    (void)s;
    if (a->done)
        return;
    rc = scn_frame_to_json(f, a->buf, a->cap, &len);
    if (rc == SCN_ERR_NOMEM) {
        char *nb = realloc(a->buf, len);

        if (!nb) {
            fail_write(a, rc);
            return;
        }
        a->buf = nb;
        a->cap = len;
        rc = scn_frame_to_json(f, a->buf, a->cap, &len);
    }
    if (!rc)
        rc = scn_recorder_write(a->rec, a->olfaction, realtime_ns(),
                                ts > 0 ? (uint64_t)ts : 0, a->buf, len);
    if (rc) {
        fail_write(a, rc);
        return;
    }
    if (a->cloud)
        to_cloud(a, f, len, ts);
    /* The first frame is in: from now on the file is the recording. */
    if (!a->named && (rc = name_recording(a)) != 0) {
        a->exit_code = rc;
        a->done = 1;
        return;
    }
    if (++a->frames == a->count)
        a->done = 1;
}

/* Frames resumed on a new connection: the hole goes to /events, so that a
 * reader of the recording knows the stream is not continuous there. */
static void on_discontinuity(scn_session *s, const scn_discontinuity *d,
                             void *user)
{
    app *a = user;
    char buf[512], line[160];
    size_t len = gap_event_json(buf, sizeof(buf), "device", d);
    uint64_t now = realtime_ns();
    int rc;

    (void)s;
    if (!a->quiet) {
        gap_sentence(line, sizeof(line), d);
        fprintf(stderr, "scn-record: device: %s\n", line);
    }
    if (!len || a->exit_code == CLI_EX_IOERR)
        return;
    if ((rc = scn_recorder_write(a->rec, a->events, now, now, buf, len)) != 0)
        fail_write(a, rc);
}

static void on_message(scn_session *s, const char *type, const char *json,
                       size_t len, void *user)
{
    app *a = user;
    json_obj b;

    (void)s;
    json_obj_begin(&b, a->event_cap);
    json_obj_str(&b, "event", "message");
    json_obj_str(&b, "source", "device");
    json_obj_str(&b, "type", type);
    json_obj_raw(&b, "message", json, len);
    write_event(a, &b, "message");
}

static void on_error(scn_session *s, int err, const char *detail, void *user)
{
    (void)s;
    error_event(user, "device", err, detail);
}

static void usage(FILE *f)
{
    fputs("usage: scn-record record --url ws[s]://HOST:PORT[/PATH] [options] "
          "OUT.mcap\n"
          "  --force             replace OUT.mcap if it exists (once the "
          "first frame is in)\n"
          "  --key-file PATH     read the API key from PATH (mode 0600)\n"
          "  --count N           stop after N frames\n"
          "  --duration S        stop after S seconds\n"
          "  --device UID        select a device by UID\n"
          "  --cloud-url URL     also send every frame to this cloud "
          "inference stream\n"
          "                      and record /cloud/record and /inference\n"
          "  --spool-dir DIR     the cloud stream's spool (required with "
          "--cloud-url)\n"
          "  --drain S           at the end, wait up to S s for the cloud's "
          "acks (5)\n"
          "  --spool-cap SIZE    bound on the spool (64M); a smaller disk "
          "bounds it too\n"
          "  --rate HZ           ask the device to stream at HZ\n"
          "  --flush-ms MS       sync the file at least every MS ms "
          "(1000)\n"
          "  --flush-every N     and every N messages (default: off)\n"
          "  --chunk-size SIZE   target chunk size (256KiB)\n"
          "  --max-attempts N    give up after N failed connection "
          "attempts\n"
          "  --ca-file PATH      trust this CA for wss://\n"
          "  --insecure          do not verify TLS certificates (testing)\n"
          "  --quiet             no summary on stderr\n"
          "The API key comes from $SCENTIENCE_API_KEY or --key-file; it is "
          "never recorded.\n"
          "OUT.mcap gets its name when the first frame is in it (it is "
          "OUT.mcap.partial\nuntil then): a run that fails first leaves "
          "nothing. SIGINT or SIGTERM stops\nand finishes the file. On a "
          "terminal, progress is shown on stderr.\n"
          "Exit: 0 done, 64 usage, 69 unreachable after --max-attempts or "
          "refused, 70\ninternal error, 73 cannot create OUT.mcap (or it "
          "exists: --force) or the spool\ndirectory, 74 the file could not "
          "be written, records were dropped from the\nspool before the "
          "cloud had them, or an /events record could not be kept\nwhole, "
          "75 the spool is in use by another process, 77 key rejected, 78 "
          "no\nusable key.\n",
          f);
}

/* Parses the options into so and ro; returns 0, -1 after a usage error
 * was reported, 1 for --help. */
static int parse(int argc, char **argv, app *a, scn_session_options *so,
                 scn_cloud_options *co, scn_session_options *cloud_so,
                 scn_recorder_options *ro, double *duration)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"key-file", required_argument, NULL, 'k'},
        {"count", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 't'},
        {"device", required_argument, NULL, 'd'},
        {"cloud-url", required_argument, NULL, 'U'},
        {"spool-dir", required_argument, NULL, 'S'},
        {"drain", required_argument, NULL, 'D'},
        {"spool-cap", required_argument, NULL, 'P'},
        {"rate", required_argument, NULL, 'r'},
        {"flush-ms", required_argument, NULL, 'F'},
        {"flush-every", required_argument, NULL, 'E'},
        {"chunk-size", required_argument, NULL, 'C'},
        {"max-attempts", required_argument, NULL, 'm'},
        {"ca-file", required_argument, NULL, 'c'},
        {"insecure", no_argument, NULL, 'I'},
        {"force", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    uint64_t v;
    double drain;
    int opt;

    if (cli_exact_long_options(R, argc, argv, longopts))
        return -1;
    optind = 1;
    while ((opt = cli_getopt(R, argc, argv, "h", longopts)) != -1) {
        switch (opt) {
        case 'u':
            so->url = optarg;
            break;
        case 'k':
            so->key_file = optarg;
            break;
        case 'n':
            if (cli_opt_u64(R, "--count", optarg, 1, UINT64_MAX, &a->count))
                return -1;
            break;
        case 't':
            if (cli_opt_double(R, "--duration", optarg, 0.001, 1e9, duration))
                return -1;
            break;
        case 'd':
            so->device_uid = optarg;
            break;
        case 'U':
            cloud_so->url = optarg;
            break;
        case 'S':
            co->spool_dir = optarg;
            break;
        case 'D':
            if (cli_opt_double(R, "--drain", optarg, 0, 3600, &drain))
                return -1;
            a->drain_ms = (uint64_t)(drain * 1000.0);
            break;
        case 'P':
            if (cli_opt_size(R, "--spool-cap", optarg, 16 * 1024,
                             (uint64_t)1 << 40, &co->spool_cap_bytes))
                return -1;
            break;
        case 'r':
            if (cli_opt_double(R, "--rate", optarg, 0.1, 1000,
                               &so->stream_rate_hz))
                return -1;
            break;
        case 'F':
            if (cli_opt_u64(R, "--flush-ms", optarg, 0, UINT32_MAX, &v))
                return -1;
            ro->flush_interval_ms = (uint32_t)v;
            break;
        case 'E':
            if (cli_opt_u64(R, "--flush-every", optarg, 0, UINT32_MAX, &v))
                return -1;
            ro->flush_every_messages = (uint32_t)v;
            break;
        case 'C':
            if (cli_opt_size(R, "--chunk-size", optarg, 1024, 1u << 30, &v))
                return -1;
            ro->chunk_size = (size_t)v;
            break;
        case 'm':
            if (cli_opt_u64(R, "--max-attempts", optarg, 1, UINT32_MAX, &v))
                return -1;
            so->backoff.max_attempts = (uint32_t)v;
            break;
        case 'c':
            so->ca_file = optarg;
            break;
        case 'I':
            so->insecure = 1;
            break;
        case 'f':
            a->force = 1;
            break;
        case 'q':
            a->quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            return -1; /* reported by cli_getopt */
        }
    }
    if (!so->url)
        return cli_usage_error(R, "--url is required (the device, "
                                  "ws://HOST:9000)"),
               -1;
    if (optind == argc)
        return cli_usage_error(R, "the output file is missing (OUT.mcap)"), -1;
    if (optind != argc - 1)
        return cli_usage_error(R, "unexpected argument '%s'", argv[optind + 1]),
               -1;
    if (cloud_so->url && !co->spool_dir)
        return cli_usage_error(R, "--cloud-url needs --spool-dir (where "
                                  "records wait for the cloud)"),
               -1;
    if (co->spool_dir && !cloud_so->url)
        return cli_usage_error(R, "--spool-dir is for --cloud-url, which "
                                  "is missing"),
               -1;
    a->out = argv[optind];
    /* The cloud link shares the device link's key and TLS settings. */
    cloud_so->key_file = so->key_file;
    cloud_so->ca_file = so->ca_file;
    cloud_so->insecure = so->insecure;
    cloud_so->backoff.max_attempts = so->backoff.max_attempts;
    return 0;
}

static void start_event(app *a)
{
    json_obj b;

    json_obj_begin(&b, a->event_cap);
    json_obj_str(&b, "event", "start");
    json_obj_str(&b, "source", "scn-record");
    json_obj_str(&b, "url", a->url);
    if (a->cloud_url)
        json_obj_str(&b, "cloud_url", a->cloud_url);
    write_event(a, &b, "start");
}

static void stop_event(app *a, scn_session *s, const char *why)
{
    scn_session_stats st;
    json_obj b;

    scn_session_get_stats(s, &st);
    json_obj_begin(&b, a->event_cap);
    json_obj_str(&b, "event", "stop");
    json_obj_str(&b, "source", "scn-record");
    json_obj_str(&b, "reason", why);
    json_obj_int(&b, "frames", (int64_t)st.frames_in);
    json_obj_int(&b, "reconnects", (int64_t)st.reconnects);
    json_obj_int(&b, "malformed", (int64_t)st.malformed_in);
    if (a->cloud) {
        scn_cloud_stats cs;

        scn_cloud_get_stats(a->cloud, &cs);
        json_obj_int(&b, "cloud_submitted", (int64_t)cs.submitted);
        json_obj_int(&b, "cloud_acked", (int64_t)cs.acked);
        json_obj_int(&b, "cloud_resent", (int64_t)cs.resent);
        json_obj_int(&b, "inferences", (int64_t)cs.inferences);
        json_obj_int(&b, "cloud_dropped", (int64_t)a->spool_dropped);
        json_obj_int(&b, "cloud_refused", (int64_t)a->cloud_refused);
    }
    if (a->events_incomplete)
        json_obj_int(&b, "events_incomplete", (int64_t)a->events_incomplete);
    json_obj_str(&b, "key", scn_session_key_redacted(s));
    write_event(a, &b, "stop");
}

/* Gives the cloud up to drain_ms to acknowledge every record sent (the
 * reference cloud acks right after each inference). */
static void drain_cloud(app *a, scn_loop *loop)
{
    uint64_t until = scn_loop_now_ms(loop) + a->drain_ms;
    scn_cloud_stats cs;

    interrupted = 0; /* a second signal ends the wait */
    for (;;) {
        scn_cloud_get_stats(a->cloud, &cs);
        if (cs.acked >= a->last_seq || interrupted || a->exit_code ||
            scn_loop_now_ms(loop) >= until)
            return;
        scn_loop_run_once(loop, 50);
    }
}

/* Runs the loop until done, a signal, or the duration; returns why. */
static const char *run(app *a, scn_loop *loop, double duration)
{
    uint64_t start = scn_loop_now_ms(loop), shown = 0, now;
    int rc;

    while (!a->done && !interrupted) {
        scn_loop_run_once(loop, 100);
        now = scn_loop_now_ms(loop);
        if (a->progress && now - shown >= 500) {
            show_progress(a, (double)(now - start) / 1000.0);
            shown = now;
        }
        /* A quiet stream still reaches the disk at the interval. */
        if ((rc = scn_recorder_poll(a->rec)) != 0) {
            fail_write(a, rc);
            return "write error";
        }
        if (duration > 0 &&
            (double)(scn_loop_now_ms(loop) - start) >= duration * 1000.0)
            return "duration";
    }
    if (interrupted)
        return "signal";
    if (a->exit_code)
        return a->exit_code == CLI_EX_IOERR ? "write error" : "failed";
    return a->count ? "count" : "closed";
}

static void close_session(scn_loop *loop, scn_session *s)
{
    uint64_t until;

    if (scn_session_close(s) != 0)
        return;
    until = scn_loop_now_ms(loop) + 2000;
    while (scn_session_state(s) != SCN_STATE_CLOSED &&
           scn_loop_now_ms(loop) < until)
        scn_loop_run_once(loop, 50);
}

/* A run that got no frame (failed, or stopped first) leaves no file: the
 * partial one goes, an existing OUT stays as it was. */
static void drop_unnamed(app *a)
{
    if (a->named)
        return;
    unlink(a->partial);
    if (!a->quiet)
        fprintf(stderr, "scn-record: no frame recorded: %s %s\n", a->out,
                access(a->out, F_OK) == 0 ? "left as it was" : "not created");
}

int cmd_record(int argc, char **argv)
{
    scn_cloud_options co;
    scn_session_options so, cloud_so;
    scn_recorder_options ro;
    scn_loop_options lo;
    scn_loop *loop = NULL;
    scn_session *s = NULL;
    scn_recorder_stats st;
    const char *why;
    double duration = 0;
    app a;
    int rc;

    memset(&a, 0, sizeof(a));
    a.drain_ms = 5000;
    scn_session_options_init(&so);
    scn_cloud_options_init(&co);
    scn_session_options_init(&cloud_so);
    co.session = &cloud_so;
    scn_recorder_options_init(&ro);
    scn_loop_options_init(&lo);
    if ((rc = parse(argc, argv, &a, &so, &co, &cloud_so, &ro, &duration)) != 0)
        return rc > 0 ? CLI_EX_OK : CLI_EX_USAGE;
    if (!a.force && access(a.out, F_OK) == 0) {
        fprintf(stderr,
                "scn-record: %s exists: not overwritten (--force replaces "
                "it once the first frame is in)\n",
                a.out);
        return CLI_EX_CANTCREAT;
    }
    a.progress = !a.quiet && isatty(STDERR_FILENO);
    if (!(a.url = redact_url(so.url)) ||
        (cloud_so.url && !(a.cloud_url = redact_url(cloud_so.url)))) {
        fprintf(stderr, "scn-record: %s\n", scn_strerror(SCN_ERR_NOMEM));
        free(a.url);
        return CLI_EX_SOFTWARE;
    }
    a.event_cap = event_cap(so.max_message_bytes);
    co.on_inference = on_inference;
    co.on_state = cloud_state;
    co.on_error = cloud_error;
    co.on_spool_drop = on_spool_drop;
    co.user = &a;
    a.rl_drop.interval_ms = 5000;
    a.rl_event.interval_ms = 5000;
    so.callbacks.on_state = on_state;
    so.callbacks.on_frame = on_frame;
    so.callbacks.on_discontinuity = on_discontinuity;
    so.callbacks.on_message = on_message;
    so.callbacks.on_error = on_error;
    so.user = &a;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    if (!(a.partial = malloc(strlen(a.out) + sizeof(".partial")))) {
        free(a.url);
        free(a.cloud_url);
        return CLI_EX_SOFTWARE;
    }
    sprintf(a.partial, "%s.partial", a.out);
    if ((rc = scn_recorder_new(a.partial, &ro, &a.rec)) != 0) {
        fprintf(stderr, "scn-record: cannot create %s: %s\n", a.out,
                scn_strerror(rc));
        free(a.partial);
        free(a.url);
        free(a.cloud_url);
        return CLI_EX_CANTCREAT;
    }
    if ((rc = scn_recorder_stream_channel(a.rec, SCN_RECORD_OLFACTION,
                                          &a.olfaction)) ||
        (rc = scn_recorder_stream_channel(a.rec, SCN_RECORD_EVENTS,
                                          &a.events)) ||
        (cloud_so.url &&
         ((rc = scn_recorder_stream_channel(a.rec, SCN_RECORD_CLOUD_RECORD,
                                            &a.cloud_record)) ||
          (rc = scn_recorder_stream_channel(a.rec, SCN_RECORD_INFERENCE,
                                            &a.inference)))) ||
        (rc = scn_loop_new(&lo, &loop))) {
        fprintf(stderr, "scn-record: %s\n", scn_strerror(rc));
        a.exit_code = CLI_EX_SOFTWARE;
        goto out;
    }
    start_event(&a);
    /* The cloud first: frames arrive only once the device session exists. */
    if (cloud_so.url && (rc = scn_cloud_new(loop, &co, &a.cloud)) != 0) {
        if (!(a.exit_code = cli_spool_error("scn-record", rc, co.spool_dir)))
            a.exit_code = cli_link_error("scn-record", rc, "--cloud-url",
                                         cloud_so.url, so.key_file);
        goto out;
    }
    if ((rc = scn_session_new(loop, &so, &s)) != 0) {
        a.exit_code =
            cli_link_error("scn-record", rc, "--url", so.url, so.key_file);
        goto out;
    }

    why = run(&a, loop, duration);
    if (a.progress)
        fputs("\r\033[K", stderr);
    close_session(loop, s);
    if (a.cloud)
        drain_cloud(&a, loop);
    stop_event(&a, s, why);
    scn_cloud_free(a.cloud);
    a.cloud = NULL;
    if (a.spool_dropped + a.cloud_refused > 0) {
        if (!a.quiet)
            fprintf(stderr,
                    "scn-record: %llu records will never reach the cloud "
                    "(%llu dropped from the spool, %llu refused for lack of "
                    "room)\n",
                    (unsigned long long)(a.spool_dropped + a.cloud_refused),
                    (unsigned long long)a.spool_dropped,
                    (unsigned long long)a.cloud_refused);
        if (!a.exit_code)
            a.exit_code = CLI_EX_IOERR;
    }
    if (a.events_incomplete > 0) {
        if (!a.quiet)
            fprintf(stderr,
                    "scn-record: %llu /events records could not be kept "
                    "whole (each names what it left out)\n",
                    (unsigned long long)a.events_incomplete);
        if (!a.exit_code)
            a.exit_code = CLI_EX_IOERR;
    }
    if ((rc = scn_recorder_finish(a.rec)) != 0 && !a.exit_code) {
        fprintf(stderr, "scn-record: finishing %s: %s\n", a.out,
                scn_strerror(rc));
        a.exit_code = CLI_EX_IOERR;
    }
    drop_unnamed(&a);
    scn_recorder_get_stats(a.rec, &st);
    if (!a.quiet && a.named)
        fprintf(stderr,
                "scn-record: %llu frames, %llu messages, %llu bytes to %s "
                "(%s), key %s\n",
                (unsigned long long)a.frames, (unsigned long long)st.messages,
                (unsigned long long)st.bytes, a.out, why,
                scn_session_key_redacted(s));
out:
    scn_session_free(s);
    scn_cloud_free(a.cloud);
    scn_loop_free(loop);
    scn_recorder_free(a.rec);
    if (!a.named)
        unlink(a.partial);
    free(a.partial);
    free(a.buf);
    free(a.cloud_json.buf);
    free(a.url);
    free(a.cloud_url);
    return a.exit_code;
}
