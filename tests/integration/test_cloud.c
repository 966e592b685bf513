/*
 * The cloud stream (scn_cloud) against the independent Python emulator
 * tests/interop/test_cloud_emulator.py: nothing submitted is lost and
 * nothing is accepted twice across a SIGKILL of the cloud and a restart
 * of the client on the same spool.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <scentience/cloud.h>

#include "harness.h"

#define NREC 200
/* Test keys (SCN_TEST_ prefix: the log scanner looks for them). */
#define KEY_LAB   "SCN_TEST_cloudoptionkey00031"
#define KEY_OTHER "SCN_TEST_cloudunknownkey0032"

static const char FRAME[] = "{\"UID\":\"SCN001\",\"TIMESTAMP\":"
                            "\"2025-08-29T21:00:00.250Z\",\"NH3\":270,"
                            "\"VOC\":2917}";
static const char STATE[] = "{\"x\":120,\"y\":-30,\"bat\":83}";

typedef struct fixture {
    scn_loop *loop;
    FILE *log;
    pid_t emu;
    int port;
    char dir[128];
    char spool[160];
    char journal[160];
    char url[96];
    uint64_t inferences_voc;
    sim_proc sim;                   /* test_option_key_against_sim's */
    char store[512];                /* its key store */
    scn_cloud_spool_drop drops[64]; /* on_spool_drop, in order */
    int ndrops;
} fixture;

/* Starts the emulator on port (0: any) and reads its port from its first
 * stdout line. PR_SET_PDEATHSIG: a crashed test leaves no server. */
static int emu_start(fixture *f, int port)
{
    const char *src = getenv("SCN_SOURCE_DIR");
    char script[512], sport[16], line[64];
    struct pollfd pfd;
    int fds[2];
    size_t n = 0;

    if (src)
        snprintf(script, sizeof(script),
                 "%s/tests/interop/test_cloud_emulator.py", src);
    else
        /* __FILE__ is absolute under CMake: its folder's sibling. */
        snprintf(script, sizeof(script),
                 "%.*s../interop/test_cloud_emulator.py",
                 (int)(strrchr(__FILE__, '/') - __FILE__ + 1), __FILE__);
    snprintf(sport, sizeof(sport), "%d", port);
    if (pipe(fds))
        return -1;
    f->emu = fork();
    if (f->emu < 0)
        return -1;
    if (f->emu == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3", script, "--serve", "--port", sport,
              "--state-file", f->journal, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    pfd.fd = fds[0];
    pfd.events = POLLIN;
    while (n < sizeof(line) - 1) {
        ssize_t r;
        if (poll(&pfd, 1, (int)scaled_ms(10000)) <= 0)
            break;
        r = read(fds[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(fds[0]);
    if (sscanf(line, "port %d", &f->port) != 1)
        return -1;
    snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%d/v1/stream", f->port);
    return 0;
}

static void emu_kill(fixture *f)
{
    if (f->emu > 0) {
        kill(f->emu, SIGKILL);
        waitpid(f->emu, NULL, 0);
        f->emu = 0;
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    scn_loop_options lo;
    char name[64], path[256];

    *state = f;
    if (!mkdtemp(test_tmp_path(f->dir, sizeof(f->dir), "scn-cloud-XXXXXX")))
        return -1;
    snprintf(f->spool, sizeof(f->spool), "%s/spool", f->dir);
    snprintf(f->journal, sizeof(f->journal), "%s/journal.jsonl", f->dir);
    snprintf(name, sizeof(name), "cloud-%d.log", (int)getpid());
    f->log = fopen(test_log_path(name, path, sizeof(path)), "a");
    scn_loop_options_init(&lo);
    lo.log = harness_log_to_file;
    lo.log_user = f->log;
    lo.log_level = SCN_LOG_DEBUG;
    if (scn_loop_new(&lo, &f->loop))
        return -1;
    /* Reserved: the tests kill the cloud and restart it on its port. */
    return emu_start(f, reserve_port());
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[160];
    int rc;

    emu_kill(f);
    rc = sim_stop(&f->sim);
    if (f->store[0])
        unlink(f->store);
    scn_loop_free(f->loop);
    if (f->log)
        fclose(f->log);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return rc;
}

static void on_inference(scn_cloud *c, const scn_cloud_result *r, void *user)
{
    fixture *f = user;

    (void)c;
    if (r->has_target && strcmp(r->compound, "VOC") == 0)
        f->inferences_voc++;
}

static void on_spool_drop(scn_cloud *c, const scn_cloud_spool_drop *d,
                          void *user)
{
    fixture *f = user;

    (void)c;
    assert_true(f->ndrops < 64);
    f->drops[f->ndrops++] = *d;
}

static scn_cloud *cloud_open_cap(fixture *f, uint64_t cap)
{
    scn_cloud_options o;
    scn_session_options link_so;
    scn_cloud *c = NULL;

    scn_cloud_options_init(&o);
    scn_session_options_init(&link_so);
    o.session = &link_so;
    link_so.url = f->url;
    link_so.no_key = 1;
    link_so.backoff.initial_ms = 100;
    link_so.backoff.max_ms = 300;
    o.spool_dir = f->spool;
    o.spool_cap_bytes = cap;
    o.window = 16; /* small, so the window is exercised */
    o.on_inference = on_inference;
    o.on_spool_drop = on_spool_drop;
    o.user = f;
    assert_int_equal(scn_cloud_new(f->loop, &o, &c), 0);
    return c;
}

static scn_cloud *cloud_open(fixture *f)
{
    return cloud_open_cap(f, 1u << 20);
}

typedef struct acked_arg {
    scn_cloud *c;
    uint64_t want;
} acked_arg;

static bool acked_reached(void *arg)
{
    acked_arg *a = arg;
    scn_cloud_stats st;

    scn_cloud_get_stats(a->c, &st);
    assert_true(st.inflight <= 16);
    return st.acked >= a->want && st.spooled == 0;
}

static void submit(scn_cloud *c, uint64_t want_seq)
{
    uint64_t seq = 0;

    assert_int_equal(scn_cloud_submit(c, FRAME, strlen(FRAME), STATE, 40, &seq),
                     0);
    assert_true(seq == want_seq);
}

/* Counts accepted and duplicate seqs in the journal; asserts 1..n were
 * each accepted exactly once and nothing else was. */
static void check_journal(const fixture *f, uint64_t n)
{
    static unsigned char seen[NREC + 1];
    char line[512];
    FILE *fp = fopen(f->journal, "r");
    uint64_t i, dups = 0;

    assert_non_null(fp);
    memset(seen, 0, sizeof(seen));
    while (fgets(line, sizeof(line), fp)) {
        const char *p = strstr(line, "\"seq\": ");
        unsigned long long seq;
        assert_non_null(p);
        assert_int_equal(sscanf(p, "\"seq\": %llu", &seq), 1);
        assert_true(seq >= 1 && seq <= n);
        if (strstr(line, "\"accept\"")) {
            assert_int_equal(seen[seq], 0);
            seen[seq] = 1;
        } else {
            dups++;
        }
    }
    fclose(fp);
    for (i = 1; i <= n; i++)
        if (!seen[i])
            fail_msg("seq %" PRIu64 " never accepted", i);
    print_message("journal: %" PRIu64 " accepted once, %" PRIu64
                  " duplicates dropped\n",
                  n, dups);
}

/* 200 records; the cloud is SIGKILLed mid-stream and restarted on the
 * same port with its journal: every seq arrives exactly once. */
static void test_cloud_killed_midway(void **state)
{
    fixture *f = *state;
    scn_cloud *c = cloud_open(f);
    scn_cloud_stats st;
    acked_arg a = {c, 0};
    uint64_t i;

    for (i = 1; i <= NREC / 2; i++) {
        submit(c, i);
        if (i % 10 == 0)
            run_for(f->loop, 10);
    }
    emu_kill(f); /* records are in flight and unacked here */
    for (; i <= NREC; i++) {
        submit(c, i);
        if (i % 10 == 0)
            run_for(f->loop, 5);
    }
    scn_cloud_get_stats(c, &st);
    assert_true(st.spooled > 0);
    assert_int_equal(emu_start(f, f->port), 0);
    a.want = NREC;
    assert_true(run_until(f->loop, acked_reached, &a, 30000));
    scn_cloud_get_stats(c, &st);
    print_message("sent %" PRIu64 " resent %" PRIu64 " hellos %" PRIu64
                  " inferences %" PRIu64 " recycled %" PRIu64 "\n",
                  st.sent, st.resent, st.hellos, st.inferences, st.recycled);
    assert_true(st.submitted == NREC);
    assert_true(st.sent == NREC);
    assert_true(st.hellos >= 2);
    assert_true(st.dropped_full == 0);
    assert_true(f->inferences_voc > 0);
    scn_cloud_free(c);
    check_journal(f, NREC);
}

/* The client is freed with records spooled and unsent (a process
 * restart); a new scn_cloud on the same spool keeps the stream id and
 * sends them first, then continues the seqs. */
static void test_client_restart_resumes(void **state)
{
    fixture *f = *state;
    scn_cloud *c = cloud_open(f);
    scn_cloud_stats st;
    acked_arg a;
    char id[40];
    uint64_t i;

    snprintf(id, sizeof(id), "%s", scn_cloud_stream_id(c));
    for (i = 1; i <= 40; i++)
        submit(c, i);
    run_for(f->loop, 300); /* some go out and get acked */
    for (; i <= 70; i++)
        submit(c, i); /* these stay unsent: the loop does not run */
    scn_cloud_free(c);

    c = cloud_open(f);
    assert_string_equal(scn_cloud_stream_id(c), id);
    scn_cloud_get_stats(c, &st);
    assert_true(st.spooled >= 30);
    for (; i <= 100; i++)
        submit(c, i);
    a.c = c;
    a.want = 100;
    assert_true(run_until(f->loop, acked_reached, &a, 30000));
    scn_cloud_free(c);
    check_journal(f, 100);
}

/* A small spool while the cloud is down: the oldest records are dropped
 * and counted, the rest arrive once each, in order, the newest included. */
static void test_spool_full_drops_oldest(void **state)
{
    fixture *f = *state;
    scn_cloud *c = cloud_open_cap(f, 4096);
    scn_cloud_stats st;
    acked_arg a = {c, 0};
    char line[512];
    unsigned long long seq, last = 0, count = 0;
    static unsigned char dropped[101];
    uint64_t i, reported = 0;
    FILE *fp;

    emu_kill(f);
    for (i = 1; i <= 100; i++)
        submit(c, i);
    scn_cloud_get_stats(c, &st);
    assert_true(st.dropped_full > 0);
    assert_true(st.spooled + st.dropped_full == 100);
    assert_int_equal(st.dropped_disk, 0);
    /* Every drop was reported, the oldest first, never sent. */
    memset(dropped, 0, sizeof(dropped));
    assert_true(f->ndrops > 0);
    for (int k = 0; k < f->ndrops; k++) {
        const scn_cloud_spool_drop *d = &f->drops[k];

        assert_int_equal(d->first_seq, reported + 1);
        assert_int_equal(d->count, d->last_seq - d->first_seq + 1);
        assert_int_equal(d->sent, 0);
        assert_int_equal(d->disk_full, 0);
        for (i = d->first_seq; i <= d->last_seq; i++)
            dropped[i] = 1;
        reported = d->last_seq;
    }
    assert_int_equal(reported, st.dropped_full);
    assert_int_equal(emu_start(f, f->port), 0);
    a.want = 100;
    assert_true(run_until(f->loop, acked_reached, &a, 30000));
    scn_cloud_free(c);
    fp = fopen(f->journal, "r");
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        assert_non_null(strstr(line, "\"accept\""));
        assert_int_equal(
            sscanf(strstr(line, "\"seq\": "), "\"seq\": %llu", &seq), 1);
        assert_true(seq > last);
        /* What the cloud got is exactly what was not reported dropped. */
        while (++last < seq)
            assert_true(dropped[last]);
        assert_false(dropped[seq]);
        count++;
    }
    fclose(fp);
    assert_true(last == 100);
    assert_true(count == 100 - st.dropped_full);
}

/* Syncs and ack saves are batched: over a steady stream of records, one
 * per sync_interval_ms at most (plus the first); with 0, one per loop turn
 * that appended. Counted, not timed: the bound is computed from the time
 * the stream actually took. */
static void test_sync_interval_batches_flushes(void **state)
{
    fixture *f = *state;
    scn_cloud_stats st;
    acked_arg a;

    for (int round = 0; round < 2; round++) {
        scn_cloud_options o;
        scn_session_options link_so;
        scn_cloud *c = NULL;
        uint64_t start, elapsed, base;

        scn_cloud_options_init(&o);
        scn_session_options_init(&link_so);
        o.session = &link_so;
        assert_int_equal(o.sync_interval_ms, 1000);
        link_so.url = f->url;
        link_so.no_key = 1;
        o.spool_dir = f->spool;
        o.sync_interval_ms = round == 0 ? 1000 : 0;
        assert_int_equal(scn_cloud_new(f->loop, &o, &c), 0);
        scn_cloud_get_stats(c, &st);
        base = (uint64_t)round * 150; /* seqs continue in the spool */
        start = scn_loop_now_ms(f->loop);
        for (uint64_t i = 1; i <= 150; i++) {
            submit(c, base + i);
            run_for(f->loop, 10);
        }
        elapsed = scn_loop_now_ms(f->loop) - start;
        scn_cloud_get_stats(c, &st);
        print_message("sync_interval_ms %u: %" PRIu64 " flushes in %" PRIu64
                      " ms\n",
                      o.sync_interval_ms, st.flushes, elapsed);
        if (round == 0)
            assert_true(st.flushes <= elapsed / 1000 + 2);
        else
            assert_true(st.flushes >= 100);
        a.c = c;
        a.want = base + 150;
        assert_true(run_until(f->loop, acked_reached, &a, 30000));
        scn_cloud_free(c);
    }
}

static void on_key_state(scn_cloud *c, const scn_state_event *ev, void *user)
{
    int *reason = user;

    (void)c;
    if (ev->reason)
        *reason = ev->reason;
}

static bool reason_set(void *arg)
{
    return *(int *)arg != 0;
}

/* A key given as an option, against scn-sim cloud with a key store: the
 * cloud keeps its own copy (the caller's buffer is wiped right after
 * scn_cloud_new, as a careful caller does), which it uses for the
 * handshake; a key the store does not hold is rejected as invalid. */
static void test_option_key_against_sim(void **state)
{
    fixture *f = *state;
    const char *store_json =
        "{\"keys\":[{\"name\":\"lab\",\"key\":\"" KEY_LAB "\"}]}";
    char *store = f->store, name[96], key[64], url[96];
    const char *args[] = {"cloud", "--keys", store, NULL};
    sim_proc *sim = &f->sim;
    scn_cloud_options o;
    scn_session_options link_so;
    scn_cloud *c = NULL;
    acked_arg a;
    int reason = 0;

    snprintf(name, sizeof(name), "cloud-%d.keys.json", (int)getpid());
    test_secret_path(name, store, sizeof(f->store));
    assert_int_equal(write_file(store, store_json, 0600), 0);
    assert_int_equal(sim_start(sim, 0, args), 0);
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/v1/stream", sim->port);

    for (int round = 0; round < 2; round++) {
        snprintf(key, sizeof(key), "%s", round ? KEY_OTHER : KEY_LAB);
        scn_cloud_options_init(&o);
        scn_session_options_init(&link_so);
        o.session = &link_so;
        link_so.url = url;
        link_so.api_key = key;
        link_so.backoff.initial_ms = 100;
        link_so.backoff.max_ms = 300;
        o.spool_dir = f->spool;
        o.on_state = on_key_state;
        o.user = &reason;
        assert_int_equal(scn_cloud_new(f->loop, &o, &c), 0);
        explicit_bzero(key, sizeof(key));
        if (round == 0) {
            for (uint64_t i = 1; i <= 5; i++)
                submit(c, i);
            a.c = c;
            a.want = 5;
            assert_true(run_until(f->loop, acked_reached, &a, 20000));
            assert_int_equal(reason, 0);
        } else {
            assert_true(run_until(f->loop, reason_set, &reason, 20000));
            assert_int_equal(reason, SCN_ERR_KEY_INVALID);
        }
        scn_cloud_free(c);
    }
    assert_int_equal(sim_stop(sim), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cloud_killed_midway, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_restart_resumes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_spool_full_drops_oldest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_option_key_against_sim, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sync_interval_batches_flushes,
                                        setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
