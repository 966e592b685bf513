/*
 * scn-stream: stream olfaction frames from a device and print them.
 *
 * The key comes from SCENTIENCE_API_KEY or --key-file; there is no option
 * that takes the key itself, so it never lands in shell history or ps.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <scentience/scentience.h>

#include "cli.h"
#include "output.h"

typedef struct app {
    output out;
    uint64_t count; /* stop after this many frames; 0: no limit */
    uint64_t printed;
    int sample;       /* --sample: one reading on request */
    int sample_acked; /* the stream-off before the sample was acked */
    int done;
    int exit_code;
    int status_line; /* stderr is a terminal */
    int quiet;
    scn_state state;
    int last_reason;
    int opened; /* the link was open once: the next open is a reconnect */
    const char *url, *device;
} app;

/* As the user typed it, for messages. */
#define P "scn-stream"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f)
{
    fputs("usage: scn-stream --url ws[s]://HOST:PORT[/PATH] [options]\n"
          "  --device UID        select a device by UID (serial number)\n"
          "  --count N           stop after N frames\n"
          "  --duration S        stop after S seconds\n"
          "  --format F          jsonl (default), csv or table\n"
          "  --sample            request a single reading and exit\n"
          "  --rate HZ           ask the device to stream at HZ\n"
          "  --key-file PATH     read the API key from PATH (mode 0600)\n"
          "  --max-attempts N    give up after N failed connection attempts\n"
          "  --ca-file PATH      trust this CA for wss://\n"
          "  --insecure          do not verify TLS certificates (testing)\n"
          "  --quiet             no status or summary on stderr\n"
          "  --verbose           library log lines on stderr\n"
          "The API key comes from $SCENTIENCE_API_KEY or --key-file.\n"
          "Exit: 0 done (count, duration, sample, the server's end of "
          "stream, Ctrl-C),\n"
          "64 usage, 69 unreachable after --max-attempts or refused (no "
          "such device),\n"
          "70 internal error, 74 cannot write the output, 77 key rejected, "
          "78 no usable key.\n",
          f);
}

/* Why the link ended for good, in the user's terms: a 404 names the
 * device asked for, or the path when none was. */
static void say_failed(const app *a, const scn_state_event *ev)
{
    const char *cr = a->status_line ? "\r\033[K" : "";
    char why[256];

    if (ev->reason == SCN_ERR_DEVICE_UNKNOWN && a->device)
        fprintf(stderr, "%sscn-stream: no device %s is served at %s%s\n", cr,
                a->device, a->url,
                ev->close_code ? " any more (close 4004)" : " (HTTP 404)");
    else if (ev->reason == SCN_ERR_DEVICE_UNKNOWN && ev->http_status)
        fprintf(stderr,
                "%sscn-stream: nothing is served at %s (HTTP 404): check "
                "the URL's path\n",
                cr, a->url);
    else if (ev->reason == SCN_ERR_DEVICE_UNKNOWN)
        fprintf(stderr,
                "%sscn-stream: the server's device went away (close "
                "4004)\n",
                cr);
    else
        fprintf(stderr, "%sscn-stream: %s\n", cr,
                cli_failed_why(ev, why, sizeof(why)));
}

static void on_state(scn_session *s, const scn_state_event *ev, void *user)
{
    app *a = user;
    const char *cr = a->status_line ? "\r\033[K" : "";

    (void)s;
    a->state = ev->state;
    if (ev->reason)
        a->last_reason = ev->reason;
    if (ev->state == SCN_STATE_OPEN) {
        if (a->opened && !a->quiet)
            fprintf(stderr, "%sscn-stream: reconnected to %s\n", cr, a->url);
        a->opened = 1;
    }
    if (!a->quiet && ev->state == SCN_STATE_RECONNECTING)
        fprintf(stderr, "%sscn-stream: %s; reconnecting in %u ms\n", cr,
                scn_strerror(ev->reason), ev->delay_ms);
    if (ev->state == SCN_STATE_FAILED) {
        if (!a->quiet)
            say_failed(a, ev);
        a->exit_code = cli_exit_for_error(ev->reason);
        a->done = 1;
    }
    if (ev->state == SCN_STATE_CLOSED) {
        /* The server's end of stream (a replay at its end): done, 0. */
        if (ev->reason == SCN_ERR_END_OF_STREAM && !a->quiet)
            fprintf(stderr, "%sscn-stream: %s\n", cr, scn_strerror(ev->reason));
        a->done = 1;
    }
}

static void on_frame(scn_session *s, const scn_frame *f, void *user)
{
    app *a = user;

    (void)s;
    if (a->done || (a->sample && !a->sample_acked))
        return;
    if (output_frame(&a->out, f) != 0) {
        a->exit_code = CLI_EX_IOERR;
        a->done = 1;
        return;
    }
    a->printed++;
    if (a->count && a->printed >= a->count)
        a->done = 1;
}

static void on_message(scn_session *s, const char *type, const char *json,
                       size_t len, void *user)
{
    app *a = user;

    (void)s;
    (void)len;
    /* --sample: frames streamed before the device acknowledged "stream
     * off" are not the sample; the first frame after it is. */
    if (a->sample && strcmp(type, "ack") == 0 && strstr(json, "\"stream\""))
        a->sample_acked = 1;
}

static void on_error(scn_session *s, int err, const char *detail, void *user)
{
    app *a = user;

    (void)s;
    if (!a->quiet && err != SCN_ERR_MALFORMED)
        fprintf(stderr, "%sscn-stream: %s (%s)\n",
                a->status_line ? "\r\033[K" : "", scn_strerror(err), detail);
}

static void print_status(app *a, scn_session *s, double elapsed)
{
    scn_session_stats st;

    scn_session_get_stats(s, &st);
    fprintf(stderr,
            "\r\033[K%s  %.1f frames/s  frames %llu  reconnects %llu  "
            "dropped %llu  malformed %llu",
            scn_state_name(a->state),
            elapsed > 0 ? (double)st.frames_in / elapsed : 0.0,
            (unsigned long long)st.frames_in, (unsigned long long)st.reconnects,
            (unsigned long long)(st.dropped_telemetry + st.dropped_inbound),
            (unsigned long long)st.malformed_in);
}

static void print_summary(scn_session *s, double elapsed)
{
    scn_session_stats st;

    scn_session_get_stats(s, &st);
    fprintf(stderr,
            "scn-stream: %llu frames in %.1f s, %llu malformed, %llu seq "
            "gaps, %llu reconnects, %llu oversize, key %s\n",
            (unsigned long long)st.frames_in, elapsed,
            (unsigned long long)st.malformed_in,
            (unsigned long long)st.seq_gaps, (unsigned long long)st.reconnects,
            (unsigned long long)st.oversize_in, scn_session_key_redacted(s));
    /* SEQ restarts per connection: frames lost across a reconnect are no
     * seq gaps, so say how long the stream was broken. */
    if (st.discontinuities)
        fprintf(stderr,
                "scn-stream: stream discontinuous %llu time%s: %.1f s "
                "without frames across reconnects (not counted as seq "
                "gaps)\n",
                (unsigned long long)st.discontinuities,
                st.discontinuities == 1 ? "" : "s",
                (double)st.discontinuity_ms / 1000.0);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"device", required_argument, NULL, 'd'},
        {"count", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 't'},
        {"format", required_argument, NULL, 'f'},
        {"sample", no_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},
        {"key-file", required_argument, NULL, 'k'},
        {"max-attempts", required_argument, NULL, 'm'},
        {"ca-file", required_argument, NULL, 'c'},
        {"insecure", no_argument, NULL, 'I'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    scn_session_options so;
    scn_loop_options lo;
    output_format format = OUTPUT_JSONL;
    scn_loop *loop = NULL;
    scn_session *s = NULL;
    double duration = 0, rate = 0;
    uint64_t count = 0, attempts = 0;
    app a;
    int opt, rc;

    memset(&a, 0, sizeof(a));
    scn_session_options_init(&so);
    scn_loop_options_init(&lo);
    if (cli_exact_long_options(P, argc, argv, longopts))
        return CLI_EX_USAGE;
    while ((opt = cli_getopt(P, argc, argv, "h", longopts)) != -1) {
        switch (opt) {
        case 'u':
            so.url = optarg;
            break;
        case 'd':
            so.device_uid = optarg;
            break;
        case 'n':
            if (cli_opt_u64(P, "--count", optarg, 1, UINT64_MAX, &count))
                return CLI_EX_USAGE;
            break;
        case 't':
            if (cli_opt_double(P, "--duration", optarg, 0.001, 1e9, &duration))
                return CLI_EX_USAGE;
            break;
        case 'f':
            if (output_format_parse(optarg, &format))
                return cli_usage_error(
                    P, "--format %s: must be jsonl, csv or table", optarg);
            break;
        case 's':
            a.sample = 1;
            break;
        case 'r':
            if (cli_opt_double(P, "--rate", optarg, 0.1, 1000, &rate))
                return CLI_EX_USAGE;
            break;
        case 'k':
            so.key_file = optarg;
            break;
        case 'm':
            if (cli_opt_u64(P, "--max-attempts", optarg, 1, UINT32_MAX,
                            &attempts))
                return CLI_EX_USAGE;
            break;
        case 'c':
            so.ca_file = optarg;
            break;
        case 'I':
            so.insecure = 1;
            break;
        case 'q':
            a.quiet = 1;
            break;
        case 'v':
            lo.log = scn_log_to_stderr;
            lo.log_level = SCN_LOG_INFO;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return CLI_EX_USAGE; /* reported by cli_getopt */
        }
    }
    if (optind != argc)
        return cli_usage_error(P, "unexpected argument '%s'", argv[optind]);
    if (!so.url)
        return cli_usage_error(P, "--url is required");
    if (a.sample)
        count = 1;

    a.count = count;
    a.url = so.url;
    a.device = so.device_uid;
    a.status_line = !a.quiet && isatty(STDERR_FILENO);
    output_init(&a.out, format, stdout);
    so.backoff.max_attempts = (uint32_t)attempts;
    so.stream_rate_hz = rate;
    so.callbacks.on_state = on_state;
    so.callbacks.on_frame = on_frame;
    so.callbacks.on_message = on_message;
    so.callbacks.on_error = on_error;
    so.user = &a;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    if ((rc = scn_loop_new(&lo, &loop)) != 0) {
        fprintf(stderr, "scn-stream: %s\n", scn_strerror(rc));
        return CLI_EX_SOFTWARE;
    }
    rc = scn_session_new(loop, &so, &s);
    if (rc) {
        scn_loop_free(loop);
        return cli_link_error(P, rc, "--url", so.url, so.key_file);
    }
    if (a.sample) {
        scn_session_request_stream(s, 0, 0);
        scn_session_request_sample(s);
    }

    uint64_t start = scn_loop_now_ms(loop), last_status = 0;
    while (!a.done && !interrupted) {
        uint64_t now;

        scn_loop_run_once(loop, 100);
        /* Lines go out before the loop waits again: consumers are often
         * pipes to tools that act on each reading as it comes. The frames
         * of one read share one write. */
        if (output_flush(&a.out) != 0) {
            a.exit_code = CLI_EX_IOERR;
            a.done = 1;
        }
        now = scn_loop_now_ms(loop);
        if (duration > 0 && (double)(now - start) >= duration * 1000.0)
            break;
        if (a.status_line && now - last_status >= 500) {
            print_status(&a, s, (double)(now - start) / 1000.0);
            last_status = now;
        }
    }
    double elapsed = (double)(scn_loop_now_ms(loop) - start) / 1000.0;
    if (a.status_line)
        fputs("\r\033[K", stderr);

    /* A clean close: the server sees 1000, not a dropped link. */
    if (scn_session_close(s) == 0) {
        uint64_t until = scn_loop_now_ms(loop) + 2000;
        while (scn_session_state(s) != SCN_STATE_CLOSED &&
               scn_loop_now_ms(loop) < until)
            scn_loop_run_once(loop, 50);
    }
    if (!a.quiet)
        print_summary(s, elapsed);
    scn_session_free(s);
    scn_loop_free(loop);
    output_free(&a.out);
    return a.exit_code;
}
