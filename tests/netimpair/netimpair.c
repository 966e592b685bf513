/*
 * netimpair: a userspace impairment router for tests of field link faults
 * (this kernel has no netem). It owns a TUN device; the test routes the
 * traffic between two network namespaces through it (see
 * tests/integration/netns.py, which builds the whole topology), and every
 * packet read from the device is dropped, delayed, reordered or held back
 * by the policy of impair.c before it is written back, to be forwarded on.
 *
 *   netimpair --tun NAME --control PATH [--seed N] [--drop P]
 *             [--delay MS] [--jitter MS] [--reorder P] [--reorder-gap MS]
 *             [--flap UP_MS:DOWN_MS] [--blackout] [--queue-packets N]
 *
 * Runtime control: a UNIX stream socket at PATH, one command per line, one
 * answer line each ("ok ..." or "error ..."):
 *   set drop=P delay=MS jitter=MS reorder=P reorder_gap=MS   (any subset)
 *   blackout [MS]     everything dropped for MS (no MS: until restore)
 *   flap UP_MS DOWN_MS
 *   restore           no blackout, no flapping
 *   stats             counters, the link's state and the time
 * blackout, flap and restore answer "ok t=SECONDS" with the wall-clock
 * time (CLOCK_REALTIME, ms) at which the change took effect, so a test can
 * compare it with other programs' logs. SIGUSR1 starts a blackout until
 * restore, SIGUSR2 restores; SIGTERM and SIGINT end the program.
 *
 * Once the device is up and the socket listens, it prints "netimpair:
 * ready" on stdout. Events go to stderr with their wall-clock time.
 */
/* accept4, signalfd */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "impair.h"
#include "pktq.h"

#define MAX_CLIENTS    8
#define CLIENT_BUF     1024
#define PACKET_MAX     65536
#define READS_PER_TURN 256

typedef struct client {
    int fd;
    char buf[CLIENT_BUF];
    size_t len;
} client;

typedef struct router {
    int tun, listen_fd, sig_fd;
    const char *control_path;
    impair im;
    pktq q;
    uint64_t dropped_overflow, write_errors;
    client clients[MAX_CLIENTS];
    unsigned char pkt[PACKET_MAX];
} router;

static uint64_t mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double wall_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1000.0;
}

static void note(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "netimpair: %.3f ", wall_s());
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int open_tun(const char *name)
{
    struct ifreq ifr;
    int fd, s;

    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        note("cannot open /dev/net/tun: %s", strerror(errno));
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        note("cannot create TUN device %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    /* Up, so that routes through it can be added at once. */
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
        note("cannot bring %s up: %s", name, strerror(errno));
        if (s >= 0)
            close(s);
        close(fd);
        return -1;
    }
    close(s);
    return fd;
}

static int open_control(const char *path)
{
    struct sockaddr_un sa;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        note("control path too long: %s", path);
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, MAX_CLIENTS) < 0) {
        note("cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int open_signals(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void tun_write(router *r, const void *data, size_t len)
{
    if (write(r->tun, data, len) != (ssize_t)len)
        r->write_errors++;
}

/* Writes every packet whose time has come (or drops it: the link went
 * down while it was on the wire). */
static void release_due(router *r, uint64_t now)
{
    const pkt *p;
    pkt out;

    while ((p = pktq_peek(&r->q)) && p->release_us <= now) {
        pktq_pop(&r->q, &out);
        if (impair_release(&r->im, now) == IMPAIR_PASS)
            tun_write(r, out.data, out.len);
        free(out.data);
    }
}

static void read_tun(router *r)
{
    for (int i = 0; i < READS_PER_TURN; i++) {
        ssize_t n = read(r->tun, r->pkt, sizeof(r->pkt));
        uint64_t now = mono_us(), at;

        if (n <= 0)
            return;
        if (impair_admit(&r->im, now, &at) != IMPAIR_PASS)
            continue;
        /* Nothing ahead of it and no wait: straight through. */
        if (at <= now && !pktq_peek(&r->q)) {
            if (impair_release(&r->im, now) == IMPAIR_PASS)
                tun_write(r, r->pkt, (size_t)n);
            continue;
        }
        if (pktq_push(&r->q, at, r->pkt, (size_t)n) != 0)
            r->dropped_overflow++;
    }
}

/* "ok t=SECONDS": when a change took effect, on the wall clock. */
static void answer_time(char *out, size_t cap)
{
    snprintf(out, cap, "ok t=%.3f", wall_s());
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_ms(const char *s, uint32_t *out)
{
    double v;

    if (parse_double(s, 0, 3600000, &v))
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* "key=value" of the set command into cfg. */
static int set_one(impair_cfg *cfg, char *kv)
{
    char *eq = strchr(kv, '=');

    if (!eq)
        return -1;
    *eq++ = '\0';
    if (!strcmp(kv, "drop"))
        return parse_double(eq, 0, 1, &cfg->drop);
    if (!strcmp(kv, "reorder"))
        return parse_double(eq, 0, 1, &cfg->reorder);
    if (!strcmp(kv, "delay"))
        return parse_ms(eq, &cfg->delay_ms);
    if (!strcmp(kv, "jitter"))
        return parse_ms(eq, &cfg->jitter_ms);
    if (!strcmp(kv, "reorder_gap"))
        return parse_ms(eq, &cfg->reorder_ms);
    return -1;
}

static void stats_line(router *r, char *out, size_t cap)
{
    const impair_counts *n = &r->im.n;

    snprintf(out, cap,
             "ok link=%s passed=%llu dropped_random=%llu "
             "dropped_blackout=%llu dropped_flap=%llu dropped_overflow=%llu "
             "reordered=%llu queued=%zu write_errors=%llu t=%.3f",
             impair_link_up(&r->im, mono_us()) ? "up" : "down",
             (unsigned long long)n->passed,
             (unsigned long long)n->dropped_random,
             (unsigned long long)n->dropped_blackout,
             (unsigned long long)n->dropped_flap,
             (unsigned long long)r->dropped_overflow,
             (unsigned long long)n->reordered, r->q.count,
             (unsigned long long)r->write_errors, wall_s());
}

static void command(router *r, char *line, char *out, size_t cap)
{
    char *save = NULL, *word = strtok_r(line, " \t", &save), *arg;
    uint32_t a = 0, b = 0;

    if (!word) {
        snprintf(out, cap, "error empty command");
    } else if (!strcmp(word, "set")) {
        impair_cfg cfg = r->im.cfg;

        while ((arg = strtok_r(NULL, " \t", &save)))
            if (set_one(&cfg, arg)) {
                snprintf(out, cap, "error bad setting %s", arg);
                return;
            }
        r->im.cfg = cfg;
        note("set drop=%.3f delay=%u jitter=%u reorder=%.3f reorder_gap=%u",
             cfg.drop, cfg.delay_ms, cfg.jitter_ms, cfg.reorder,
             cfg.reorder_ms);
        answer_time(out, cap);
    } else if (!strcmp(word, "blackout")) {
        arg = strtok_r(NULL, " \t", &save);
        if (arg && parse_ms(arg, &a)) {
            snprintf(out, cap, "error bad duration %s", arg);
            return;
        }
        impair_blackout(&r->im, mono_us(), a);
        if (a)
            note("blackout on for %u ms", a);
        else
            note("blackout on until restore");
        answer_time(out, cap);
    } else if (!strcmp(word, "flap")) {
        char *up = strtok_r(NULL, " \t", &save);
        char *down = strtok_r(NULL, " \t", &save);

        if (!up || !down || parse_ms(up, &a) || parse_ms(down, &b) || !a ||
            !b) {
            snprintf(out, cap, "error usage: flap UP_MS DOWN_MS");
            return;
        }
        impair_flap(&r->im, mono_us(), a, b);
        note("flap up %u ms, down %u ms", a, b);
        answer_time(out, cap);
    } else if (!strcmp(word, "restore")) {
        impair_restore(&r->im);
        note("restore: link up");
        answer_time(out, cap);
    } else if (!strcmp(word, "stats")) {
        stats_line(r, out, cap);
    } else {
        snprintf(out, cap, "error unknown command %s", word);
    }
}

static void client_close(client *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static void client_read(router *r, client *c)
{
    char out[512];
    char *nl;
    ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);

    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            client_close(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    while ((nl = strchr(c->buf, '\n'))) {
        size_t used = (size_t)(nl - c->buf) + 1;

        *nl = '\0';
        if (nl > c->buf && nl[-1] == '\r')
            nl[-1] = '\0';
        command(r, c->buf, out, sizeof(out) - 1);
        strcat(out, "\n"); /* room kept above */
        if (write(c->fd, out, strlen(out)) < 0) {
            client_close(c);
            return;
        }
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        c->buf[c->len] = '\0';
    }
    if (c->len == sizeof(c->buf) - 1)
        client_close(c); /* a line longer than any command */
}

static void accept_client(router *r)
{
    int fd = accept4(r->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (r->clients[i].fd < 0) {
            r->clients[i].fd = fd;
            r->clients[i].len = 0;
            return;
        }
    close(fd);
}

/* Returns 1 when the program should end. */
static int on_signal(router *r)
{
    struct signalfd_siginfo si;

    while (read(r->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGUSR1) {
            impair_blackout(&r->im, mono_us(), 0);
            note("blackout on (SIGUSR1, until restore)");
        } else if (si.ssi_signo == SIGUSR2) {
            impair_restore(&r->im);
            note("restore (SIGUSR2): link up");
        } else {
            return 1;
        }
    }
    return 0;
}

static int poll_timeout(const router *r)
{
    const pkt *p = pktq_peek(&r->q);
    uint64_t now;

    if (!p)
        return -1;
    now = mono_us();
    if (p->release_us <= now)
        return 0;
    /* Rounded up: waking early would only spin. */
    return (int)((p->release_us - now + 999) / 1000);
}

static int run(router *r)
{
    struct pollfd fds[3 + MAX_CLIENTS];

    for (;;) {
        int n = 0, rc;

        release_due(r, mono_us());
        fds[n++] = (struct pollfd){.fd = r->tun, .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = r->listen_fd, .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = r->sig_fd, .events = POLLIN};
        for (int i = 0; i < MAX_CLIENTS; i++)
            if (r->clients[i].fd >= 0)
                fds[n++] =
                    (struct pollfd){.fd = r->clients[i].fd, .events = POLLIN};
        rc = poll(fds, (nfds_t)n, poll_timeout(r));
        if (rc < 0 && errno != EINTR) {
            note("poll: %s", strerror(errno));
            return 1;
        }
        if (rc <= 0)
            continue;
        if ((fds[2].revents & POLLIN) && on_signal(r))
            return 0;
        if (fds[0].revents & POLLIN)
            read_tun(r);
        if (fds[1].revents & POLLIN)
            accept_client(r);
        for (int i = 0; i < MAX_CLIENTS; i++)
            for (int k = 3; k < n; k++)
                if (r->clients[i].fd >= 0 && fds[k].fd == r->clients[i].fd &&
                    fds[k].revents)
                    client_read(r, &r->clients[i]);
    }
}

static void usage(FILE *f)
{
    fputs("usage: netimpair --tun NAME --control PATH [--seed N] [--drop P]\n"
          "       [--delay MS] [--jitter MS] [--reorder P] [--reorder-gap "
          "MS]\n"
          "       [--flap UP_MS:DOWN_MS] [--blackout] [--queue-packets N]\n"
          "Control commands on PATH: set k=v..., blackout [MS], flap UP DOWN,"
          "\nrestore, stats (see the top of tests/netimpair/netimpair.c).\n",
          f);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tun", required_argument, NULL, 't'},
        {"control", required_argument, NULL, 'c'},
        {"seed", required_argument, NULL, 's'},
        {"drop", required_argument, NULL, 'd'},
        {"delay", required_argument, NULL, 'D'},
        {"jitter", required_argument, NULL, 'j'},
        {"reorder", required_argument, NULL, 'r'},
        {"reorder-gap", required_argument, NULL, 'g'},
        {"flap", required_argument, NULL, 'f'},
        {"blackout", no_argument, NULL, 'b'},
        {"queue-packets", required_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static router r;
    const char *tun_name = NULL;
    uint32_t up = 0, down = 0;
    double seed = 1, queue = 20000;
    int opt, dark = 0, rc;
    char kv[64];

    impair_init(&r.im, 1);
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        rc = 0;
        switch (opt) {
        case 't':
            tun_name = optarg;
            break;
        case 'c':
            r.control_path = optarg;
            break;
        case 's':
            rc = parse_double(optarg, 1, 9e15, &seed);
            break;
        case 'd':
        case 'D':
        case 'j':
        case 'r':
        case 'g':
            snprintf(kv, sizeof(kv), "%s=%s",
                     opt == 'd'   ? "drop"
                     : opt == 'D' ? "delay"
                     : opt == 'j' ? "jitter"
                     : opt == 'r' ? "reorder"
                                  : "reorder_gap",
                     optarg);
            rc = set_one(&r.im.cfg, kv);
            break;
        case 'f':
            rc =
                sscanf(optarg, "%u:%u", &up, &down) == 2 && up && down ? 0 : -1;
            break;
        case 'b':
            dark = 1;
            break;
        case 'q':
            rc = parse_double(optarg, 1, 1e6, &queue);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 64;
        }
        if (rc) {
            fprintf(stderr, "netimpair: bad option value: %s\n", optarg);
            return 64;
        }
    }
    if (!tun_name || !r.control_path || optind != argc) {
        usage(stderr);
        return 64;
    }
    r.im.rng = (uint64_t)seed;
    for (int i = 0; i < MAX_CLIENTS; i++)
        r.clients[i].fd = -1;
    if (pktq_init(&r.q, (size_t)queue, 64u << 20) != 0)
        return 70;
    if ((r.sig_fd = open_signals()) < 0 || (r.tun = open_tun(tun_name)) < 0 ||
        (r.listen_fd = open_control(r.control_path)) < 0)
        return 71;
    if (up)
        impair_flap(&r.im, mono_us(), up, down);
    if (dark)
        impair_blackout(&r.im, mono_us(), 0);
    printf("netimpair: ready\n");
    fflush(stdout);
    note("ready: tun %s, control %s", tun_name, r.control_path);
    rc = run(&r);
    unlink(r.control_path);
    pktq_free(&r.q);
    note("exit: passed %llu, dropped %llu random, %llu blackout, %llu flap, "
         "%llu overflow",
         (unsigned long long)r.im.n.passed,
         (unsigned long long)r.im.n.dropped_random,
         (unsigned long long)r.im.n.dropped_blackout,
         (unsigned long long)r.im.n.dropped_flap,
         (unsigned long long)r.dropped_overflow);
    return rc;
}
