/*
 * TLS against a real scn-sim serving wss://: a server trusted through
 * ca_file opens; the system trust store, an unrelated self-signed
 * certificate and a certificate for another name are refused as TLS
 * failures; insecure mode connects anyway and says so in the log; a server
 * that requires client certificates takes only one signed by its CA.
 * Reading paused behind a slow consumer resumes with what TLS already
 * decrypted-to-be (records read from the socket but not yet parsed).
 *
 * Certificates are made for each test with the openssl command in a 0700
 * directory outside the log directory, removed at teardown.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "client.h"

#define KEY "SCN_TEST_tls0000000000000001"

/* The simulator copies each argument into 128 bytes (harness.h). */
#define PATH_CAP       128
#define CMD_TIMEOUT_MS 20000

/* ca: the test CA. srv: signed by it for IP 127.0.0.1 and localhost.
 * lh: signed by it for localhost only. self: self-signed, trusted by
 * nobody. cli: a client certificate signed by the CA. */
enum { CA, SRV, LH, SELF, CLI, N_CERTS };

static const char *const cert_names[N_CERTS] = {"ca", "srv", "lh", "self",
                                                "cli"};
static const char *const cert_subjects[N_CERTS] = {
    "/CN=scn-test-ca", "/CN=127.0.0.1", "/CN=localhost", "/CN=127.0.0.1",
    "/CN=scn-test-client"};

/* One extension section per certificate, named as in cert_names. The
 * server certificate names the address in an IP SAN: that is what a
 * client connecting to 127.0.0.1 checks. */
static const char openssl_cnf[] =
    "[req]\n"
    "distinguished_name = dn\n"
    "prompt = no\n"
    "[dn]\n"
    "[ca]\n"
    "basicConstraints = critical, CA:TRUE\n"
    "keyUsage = critical, keyCertSign, cRLSign\n"
    "subjectKeyIdentifier = hash\n"
    "[srv]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
    "[lh]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = serverAuth\n"
    "subjectAltName = DNS:localhost\n"
    "[self]\n"
    "basicConstraints = CA:FALSE\n"
    "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
    "[cli]\n"
    "basicConstraints = CA:FALSE\n"
    "extendedKeyUsage = clientAuth\n";

typedef struct fixture {
    char dir[PATH_CAP];
    char cnf[PATH_CAP];
    char out[PATH_CAP]; /* what openssl printed, shown when it fails */
    char crt[N_CERTS][PATH_CAP];
    char key[N_CERTS][PATH_CAP];
    sim_proc sim;
    client c;
    scn_session_options o;
    char url[64];
    char log[512];
    scn_server_conn *conn; /* test_paused_reading_resumes_tls_records */
} fixture;

static int path_in(const fixture *f, const char *name, const char *ext,
                   char *buf)
{
    int n = snprintf(buf, PATH_CAP, "%s/%s%s", f->dir, name, ext);

    return n > 0 && n < PATH_CAP ? 0 : -1;
}

static void show_file(const char *path)
{
    FILE *in = fopen(path, "r");
    char line[256];

    if (!in)
        return;
    while (fgets(line, sizeof(line), in))
        fprintf(stderr, "  %s", line);
    fclose(in);
}

/* Runs openssl with argv[1..], its output to f->out; bounded in time. */
static int run_openssl(const fixture *f, const char *const *argv)
{
    pid_t pid = fork();
    int status;

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(f->out, O_WRONLY | O_CREAT | O_APPEND, 0600);

        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        execvp("openssl", (char *const *)argv);
        _exit(127);
    }
    for (uint32_t waited = 0; waited < scaled_ms(CMD_TIMEOUT_MS);
         waited += 10) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
            fprintf(stderr, "openssl %s failed:\n", argv[1]);
            show_file(f->out);
            return -1;
        }
        usleep(10 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fprintf(stderr, "openssl %s timed out\n", argv[1]);
    return -1;
}

/* P-256 keys: quick to make, and every TLS stack takes them. Two days of
 * validity keep a slow clock from mattering. */
#define NEWKEY "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"

static int self_signed(const fixture *f, int i)
{
    const char *argv[] = {
        "openssl",        "req",         "-x509", "-config", f->cnf,
        "-extensions",    cert_names[i], NEWKEY,  "-keyout", f->key[i],
        "-out",           f->crt[i],     "-days", "2",       "-subj",
        cert_subjects[i], NULL};

    return run_openssl(f, argv);
}

static int ca_signed(const fixture *f, int i, const char *serial)
{
    char csr[PATH_CAP];
    const char *req[] = {"openssl", "req",  "-new",    "-config",
                         f->cnf,    NEWKEY, "-keyout", f->key[i],
                         "-out",    csr,    "-subj",   cert_subjects[i],
                         NULL};
    const char *sign[] = {
        "openssl",     "x509",        "-req",   "-in",      csr,
        "-CA",         f->crt[CA],    "-CAkey", f->key[CA], "-set_serial",
        serial,        "-days",       "2",      "-extfile", f->cnf,
        "-extensions", cert_names[i], "-out",   f->crt[i],  NULL};

    if (path_in(f, cert_names[i], ".csr", csr))
        return -1;
    return run_openssl(f, req) || run_openssl(f, sign) ? -1 : 0;
}

static void remove_dir(const char *dir)
{
    char path[PATH_CAP + 256];
    struct dirent *e;
    DIR *d = opendir(dir);

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int make_certs(fixture *f)
{
    char name[32];

    snprintf(name, sizeof(name), "tls-%d-XXXXXX", (int)getpid());
    if (!test_secret_path(name, f->dir, sizeof(f->dir)) ||
        strlen(f->dir) + 16 >= PATH_CAP || !mkdtemp(f->dir)) {
        f->dir[0] = '\0';
        return -1;
    }
    if (path_in(f, "openssl", ".cnf", f->cnf) ||
        path_in(f, "openssl", ".out", f->out) ||
        write_file(f->cnf, openssl_cnf, 0600))
        return -1;
    for (int i = 0; i < N_CERTS; i++)
        if (path_in(f, cert_names[i], ".pem", f->crt[i]) ||
            path_in(f, cert_names[i], ".key", f->key[i]))
            return -1;
    return self_signed(f, CA) || ca_signed(f, SRV, "2") ||
                   ca_signed(f, LH, "3") || ca_signed(f, CLI, "4") ||
                   self_signed(f, SELF)
               ? -1
               : 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    int rc;

    if (!f)
        return 0;
    /* The simulator and the keys go first: they must not outlive a crash
     * in the client's teardown. */
    rc = sim_stop(&f->sim);
    if (f->dir[0])
        remove_dir(f->dir);
    client_free(&f->c);
    free(f);
    *state = NULL;
    return rc;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    *state = f;
    if (!f || make_certs(f) != 0) {
        /* cmocka skips the teardown of a failed setup. */
        teardown(state);
        return -1;
    }
    return 0;
}

/* Starts the simulator serving certificate i; with client_ca, it requires
 * client certificates signed by the test CA (without, the NULL in the
 * middle ends the arguments there). */
static void start_sim(fixture *f, int i, bool client_ca)
{
    const char *args[] = {"--rate",
                          "50",
                          "--tls-cert",
                          f->crt[i],
                          "--tls-key",
                          f->key[i],
                          client_ca ? "--tls-client-ca" : NULL,
                          f->crt[CA],
                          NULL};

    assert_int_equal(sim_start(&f->sim, 0, args), 0);
    snprintf(f->url, sizeof(f->url), "wss://127.0.0.1:%d", f->sim.port);
}

/* A client for test (its log file is named after it), not yet connected:
 * the test sets its TLS options. */
static void init_client(fixture *f, const char *test)
{
    char name[128];

    assert_int_equal(client_init(&f->c, test, &f->o), 0);
    snprintf(name, sizeof(name), "%s-%d.log", test, (int)getpid());
    test_log_path(name, f->log, sizeof(f->log));
    f->o.url = f->url;
    f->o.api_key = KEY;
    f->o.backoff.initial_ms = 100;
    f->o.backoff.max_ms = 300;
    /* A TLS handshake under valgrind on a loaded machine is slow; 60 s is
     * the most a session accepts (SCN_CONNECT_TIMEOUT_MAX_MS). */
    f->o.connect_timeout_ms =
        scaled_ms(10000) < 60000 ? scaled_ms(10000) : 60000;
}

static void assert_opens_and_streams(fixture *f)
{
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(client_wait_state(&f->c, SCN_STATE_OPEN, 0, 10000) >= 0);
    assert_true(client_wait_frames(&f->c, 5, 10000));
    assert_string_equal(scn_session_subprotocol(f->c.s), "scentience.v1");
    assert_true(sim_wait_log(&f->sim, "\"event\":\"connect\"", 1, 2000) >= 1);
}

static bool two_retries(void *arg)
{
    const client *c = arg;
    int n = 0;

    for (int i = 0; i < c->nevents; i++)
        n += c->events[i].state == SCN_STATE_RECONNECTING;
    return n >= 2;
}

/* The session never opens: every failed attempt is a TLS failure, retried,
 * and the simulator never sees a WebSocket upgrade. */
static void assert_refused_as_tls(fixture *f)
{
    int i, failures = 0;

    assert_int_equal(client_connect(&f->c, &f->o), 0);
    i = client_wait_state(&f->c, SCN_STATE_RECONNECTING, 0, 10000);
    assert_true(i >= 0);
    assert_int_equal(f->c.events[i].reason, SCN_ERR_TLS);
    /* A few more attempts: the verdict does not change. */
    assert_true(run_until(f->c.loop, two_retries, &f->c, 10000));
    for (i = 0; i < f->c.nevents; i++) {
        assert_int_not_equal(f->c.events[i].state, SCN_STATE_OPEN);
        assert_int_not_equal(f->c.events[i].state, SCN_STATE_FAILED);
        if (f->c.events[i].state == SCN_STATE_RECONNECTING) {
            assert_int_equal(f->c.events[i].reason, SCN_ERR_TLS);
            failures++;
        }
    }
    assert_true(failures >= 2);
    assert_int_equal(f->c.opens, 0);
    assert_int_equal(f->c.frames, 0);
    assert_int_equal(sim_log_count(&f->sim, "\"event\":\"connect\""), 0);
}

static int log_count(const char *path, const char *needle)
{
    FILE *in = fopen(path, "r");
    char line[1024];
    int n = 0;

    if (!in)
        return 0;
    while (fgets(line, sizeof(line), in))
        if (strstr(line, needle))
            n++;
    fclose(in);
    return n;
}

static void test_trusted_by_ca_file(void **state)
{
    fixture *f = *state;

    start_sim(f, SRV, false);
    init_client(f, "tls-ca-file");
    f->o.ca_file = f->crt[CA];
    assert_opens_and_streams(f);
    /* Verified: nothing to warn about. */
    assert_int_equal(log_count(f->log, "insecure"), 0);
}

static void test_untrusted_by_default(void **state)
{
    fixture *f = *state;

    /* The test CA is in no system trust store. */
    start_sim(f, SRV, false);
    init_client(f, "tls-default-trust");
    assert_refused_as_tls(f);
}

static void test_insecure_accepts_self_signed_and_warns(void **state)
{
    fixture *f = *state;

    start_sim(f, SELF, false);
    init_client(f, "tls-insecure");
    f->o.insecure = 1;
    assert_opens_and_streams(f);
    assert_true(
        log_count(f->log, "[warn] tls: certificate verification is OFF") >= 1);
    assert_true(log_count(f->log, "insecure mode") >= 1);
}

static void test_self_signed_refused_when_verifying(void **state)
{
    fixture *f = *state;

    /* Trusting the test CA does not extend to an unrelated certificate. */
    start_sim(f, SELF, false);
    init_client(f, "tls-self-signed");
    f->o.ca_file = f->crt[CA];
    assert_refused_as_tls(f);
}

static void test_hostname_mismatch(void **state)
{
    fixture *f = *state;

    /* Signed by a trusted CA, but for localhost, not 127.0.0.1. */
    start_sim(f, LH, false);
    init_client(f, "tls-hostname");
    f->o.ca_file = f->crt[CA];
    assert_refused_as_tls(f);
}

static void test_client_cert_missing(void **state)
{
    fixture *f = *state;
    int i;

    start_sim(f, SRV, true);
    init_client(f, "tls-client-cert-missing");
    f->o.ca_file = f->crt[CA];
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    i = client_wait_state(&f->c, SCN_STATE_RECONNECTING, 0, 5000);
    assert_true(i >= 0);
    run_for(f->c.loop, 600);
    assert_int_equal(f->c.opens, 0);
    assert_int_equal(f->c.frames, 0);
    assert_int_equal(sim_log_count(&f->sim, "\"event\":\"connect\""), 0);
}

static void test_client_cert_from_another_issuer(void **state)
{
    fixture *f = *state;
    int i;

    /* The server must check who signed the client's certificate, not only
     * that there is one. */
    start_sim(f, SRV, true);
    init_client(f, "tls-client-cert-foreign");
    f->o.ca_file = f->crt[CA];
    f->o.client_cert_file = f->crt[SELF];
    f->o.client_key_file = f->key[SELF];
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    i = client_wait_state(&f->c, SCN_STATE_RECONNECTING, 0, 5000);
    assert_true(i >= 0);
    run_for(f->c.loop, 600);
    assert_int_equal(f->c.opens, 0);
    assert_int_equal(sim_log_count(&f->sim, "\"event\":\"connect\""), 0);
}

static void test_client_cert_presented(void **state)
{
    fixture *f = *state;

    start_sim(f, SRV, true);
    init_client(f, "tls-client-cert");
    f->o.ca_file = f->crt[CA];
    f->o.client_cert_file = f->crt[CLI];
    f->o.client_key_file = f->key[CLI];
    assert_opens_and_streams(f);
}

static int accept_conn(scn_server *srv, scn_server_conn *conn, const char *peer,
                       const char *path, void *user)
{
    fixture *f = user;

    (void)srv, (void)peer, (void)path;
    f->conn = conn;
    return 0;
}

static bool is_open(void *arg)
{
    const client *c = arg;

    return c->state == SCN_STATE_OPEN;
}

#define BURST       40
#define BURST_BYTES 5000 /* about 3 messages per TLS record */

/* A server on this loop (our own, with TLS) sends a burst and then
 * nothing; the client holds 2 messages before reading pauses. Each pause
 * leaves whole records that were read from the socket inside TLS, and
 * the last ones come with no socket event after them: resuming must read
 * them, or the end of the burst waits for traffic that never comes. */
static void test_paused_reading_resumes_tls_records(void **state)
{
    fixture *f = *state;
    static const char *const origins[] = {"http://127.0.0.1"};
    scn_server_options so;
    scn_server *srv = NULL;
    scn_session_stats st;
    char *msg = malloc(BURST_BYTES + 1);
    uint64_t end;
    int delivered = 0;

    assert_non_null(msg);
    init_client(f, "tls-paused");
    scn_server_options_init(&so);
    so.subprotocol = "scentience.v1";
    so.tls_cert_file = f->crt[SRV];
    so.tls_key_file = f->key[SRV];
    /* A session sends the Origin lws did: http://HOST. */
    so.origins = origins;
    so.origin_count = 1;
    so.callbacks.on_connect = accept_conn;
    so.user = f;
    assert_int_equal(scn_server_new(f->c.loop, &so, &srv), 0);
    snprintf(f->url, sizeof(f->url), "wss://127.0.0.1:%d/",
             scn_server_port(srv));
    f->o.ca_file = f->crt[CA];
    f->o.manual_dispatch = 1;
    f->o.inbound_queue_msgs = 2;
    /* No keepalive traffic that would bring a socket event. */
    f->o.ping_interval_ms = 600000;
    assert_int_equal(client_connect(&f->c, &f->o), 0);
    assert_true(run_until(f->c.loop, is_open, &f->c, 10000));
    assert_non_null(f->conn);
    for (int i = 1; i <= BURST; i++) {
        int n = snprintf(msg, BURST_BYTES + 1,
                         "{\"UID\":\"SCN001\",\"TIMESTAMP\":"
                         "\"2026-12-07T19:00:00.000Z\",\"SEQ\":%d,"
                         "\"CO2\":1.5,\"_pad\":\"",
                         i);

        memset(msg + n, 'x', BURST_BYTES - n - 2);
        memcpy(msg + BURST_BYTES - 2, "\"}", 2);
        assert_int_equal(scn_server_conn_send(f->conn, msg, BURST_BYTES, 0), 0);
    }
    free(msg);
    /* Dispatching one at a time, each resume finds records in TLS. */
    end = deadline_ms(f->c.loop, 20000);
    while (f->c.frames < BURST && scn_loop_now_ms(f->c.loop) < end) {
        int n = scn_session_dispatch(f->c.s, 1);

        assert_true(n >= 0);
        delivered += n;
        if (!n)
            scn_loop_run_once(f->c.loop, 50);
    }
    assert_int_equal(f->c.frames, BURST);
    assert_int_equal(delivered, BURST);
    assert_int_equal(f->c.last_seq, BURST);
    assert_int_equal(f->c.seq_errors, 0);
    scn_session_get_stats(f->c.s, &st);
    assert_true(st.rx_pauses >= 2);
    assert_int_equal(st.dropped_inbound, 0);
    assert_int_equal(f->c.opens, 1);
    scn_server_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_trusted_by_ca_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_untrusted_by_default, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_insecure_accepts_self_signed_and_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_signed_refused_when_verifying,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostname_mismatch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_cert_missing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_cert_from_another_issuer,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_cert_presented, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paused_reading_resumes_tls_records,
                                        setup, teardown),
    };
    unsetenv("SCENTIENCE_API_KEY");
    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
