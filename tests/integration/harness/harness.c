/* Process and loop helpers for the integration tests. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *test_log_path(const char *name, char *buf, size_t cap)
{
    const char *dir = env_or("SCN_LOG_DIR", "/tmp/scn-test-logs");

    mkdir(dir, 0755);
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

const char *test_secret_path(const char *name, char *buf, size_t cap)
{
    char dir[128];

    snprintf(dir, sizeof(dir), "%s/scn-test-secrets-%d",
             env_or("TMPDIR", "/tmp"), (int)getuid());
    mkdir(dir, 0700);
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

int write_file(const char *path, const char *text, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    size_t len = strlen(text);

    if (fd < 0)
        return -1;
    fchmod(fd, (mode_t)mode);
    if (write(fd, text, len) != (ssize_t)len) {
        close(fd);
        return -1;
    }
    return close(fd);
}

void harness_log_to_file(scn_log_level level, const char *component,
                         const char *message, void *user)
{
    FILE *f = user;

    if (f) {
        fprintf(f, "[%s] %s: %s\n", scn_log_level_name(level), component,
                message);
        fflush(f);
    }
}

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The port of the first stdout line, "scn-sim: listening on HOST:PORT".
 * A simulator that exits or stays silent fails within the deadline. */
static int read_port(int fd, int *port)
{
    char buf[512];
    size_t len = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    uint64_t deadline = mono_ms() + scaled_ms(10000);

    while (mono_ms() < deadline && len < sizeof(buf) - 1) {
        ssize_t n;
        char *nl, *colon;

        if (poll(&pfd, 1, 200) <= 0)
            continue;
        n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        nl = strchr(buf, '\n');
        if (!nl)
            continue;
        *nl = '\0';
        colon = strrchr(buf, ':');
        if (!strstr(buf, "listening on") || !colon)
            return -1;
        *port = atoi(colon + 1);
        return *port > 0 ? 0 : -1;
    }
    return -1;
}

static int reap(sim_proc *p, int sig, uint32_t wait_ms, int expect);

static int spawn(sim_proc *p, int port)
{
    const char *bin = env_or("SCN_BIN_DIR", ".");
    char exe[512], portarg[16];
    char *argv[40];
    int pipefd[2], n = 0;

    snprintf(exe, sizeof(exe), "%s/scn-sim", bin);
    snprintf(portarg, sizeof(portarg), "%d", port);
    argv[n++] = exe;
    for (int i = 0; i < p->nargs; i++)
        argv[n++] = p->args[i];
    argv[n++] = "--host";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--port";
    argv[n++] = portarg;
    argv[n++] = "--log";
    argv[n++] = p->log_path;
    argv[n++] = "--quiet";
    argv[n] = NULL;
    if (pipe(pipefd) != 0)
        return -1;
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        int err = open(p->err_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

        /* If the test dies (crash, timeout kill), the simulator dies too:
         * no orphan keeps a port or a pipe open. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (err >= 0)
            dup2(err, STDERR_FILENO);
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(exe, argv);
        _exit(127);
    }
    close(pipefd[1]);
    if (read_port(pipefd[0], &p->port) != 0) {
        close(pipefd[0]);
        fprintf(stderr, "scn-sim did not start\n");
        (void)reap(p, SIGKILL, 5000, -SIGKILL); /* said why it failed */
        return -1;
    }
    /* Keep reading nothing more: the simulator prints only that line to
     * stdout; closing our end is harmless as it ignores SIGPIPE. */
    close(pipefd[0]);
    snprintf(p->url, sizeof(p->url), "ws://127.0.0.1:%d", p->port);
    return 0;
}

int sim_start(sim_proc *p, int port, const char *const *args)
{
    static unsigned serial;
    char name[64];

    memset(p, 0, sizeof(*p));
    for (; args && *args && p->nargs < 16; args++)
        snprintf(p->args[p->nargs++], sizeof(p->args[0]), "%s", *args);
    snprintf(name, sizeof(name), "sim-%d-%u.log", (int)getpid(), ++serial);
    test_log_path(name, p->log_path, sizeof(p->log_path));
    snprintf(name, sizeof(name), "sim-%d-%u.stderr", (int)getpid(), serial);
    test_log_path(name, p->err_path, sizeof(p->err_path));
    unlink(p->err_path);
    return spawn(p, port);
}

int sim_restart(sim_proc *p)
{
    int port = p->port;

    /* The old socket may linger briefly in the kernel; retry a few times. */
    for (int i = 0; i < 20; i++) {
        if (spawn(p, port) == 0 && p->port == port)
            return 0;
        usleep(100 * 1000);
    }
    return -1;
}

/* Sends sig, waits up to wait_ms (scaled) for the exit, SIGKILL after;
 * judges the end against expect (see child_verdict). */
static int reap(sim_proc *p, int sig, uint32_t wait_ms, int expect)
{
    uint64_t deadline = mono_ms() + scaled_ms(wait_ms);
    pid_t pid = p->pid;
    int status = 0;

    if (pid <= 0)
        return 0;
    p->pid = 0;
    /* Dead already (a crash), it is judged as it died. */
    if (waitpid(pid, &status, WNOHANG) == pid)
        return child_verdict("scn-sim", pid, status, expect, p->err_path);
    kill(pid, sig);
    while (mono_ms() < deadline) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return child_verdict("scn-sim", pid, status, expect, p->err_path);
        usleep(20 * 1000);
    }
    fprintf(stderr, "scn-sim (pid %d) outlived signal %d\n", (int)pid, sig);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    (void)child_verdict("scn-sim", pid, status, -SIGKILL, p->err_path);
    return -1;
}

int sim_stop(sim_proc *p)
{
    return reap(p, SIGTERM, 5000, 0);
}

int sim_kill(sim_proc *p)
{
    return reap(p, SIGKILL, 5000, -SIGKILL);
}

int sim_signal(sim_proc *p, int sig)
{
    return p->pid > 0 ? kill(p->pid, sig) : -1;
}

int sim_log_count(const sim_proc *p, const char *needle)
{
    FILE *f = fopen(p->log_path, "r");
    char line[8192];
    int n = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

int sim_log_index(const sim_proc *p, const char *needle)
{
    FILE *f = fopen(p->log_path, "r");
    char line[8192];
    int n = 0;

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strstr(line, needle)) {
            fclose(f);
            return n;
        }
        n++;
    }
    fclose(f);
    return -1;
}

int sim_log_number(const sim_proc *p, const char *needle, const char *key,
                   double *value)
{
    FILE *f = fopen(p->log_path, "r");
    char line[8192], pat[128];
    int found = -1;

    if (!f)
        return -1;
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    while (fgets(line, sizeof(line), f)) {
        char *at;
        if (!strstr(line, needle) || !(at = strstr(line, pat)))
            continue;
        *value = strtod(at + strlen(pat), NULL);
        found = 0;
    }
    fclose(f);
    return found;
}

int sim_wait_log(const sim_proc *p, const char *needle, int min,
                 uint32_t timeout_ms)
{
    uint64_t deadline = mono_ms() + scaled_ms(timeout_ms);
    int n;

    for (;;) {
        n = sim_log_count(p, needle);
        if (n >= min || mono_ms() >= deadline)
            return n;
        usleep(20 * 1000);
    }
}

int run_until_logged(scn_loop *loop, const sim_proc *p, const char *needle,
                     int min, uint32_t timeout_ms)
{
    uint64_t end = deadline_ms(loop, timeout_ms);
    int n;

    for (;;) {
        n = sim_log_count(p, needle);
        if (n >= min || scn_loop_now_ms(loop) >= end)
            return n;
        scn_loop_run_once(loop, 20);
    }
}

uint64_t deadline_ms(scn_loop *loop, uint32_t timeout_ms)
{
    return scn_loop_now_ms(loop) + scaled_ms(timeout_ms);
}

bool run_until(scn_loop *loop, cond_fn cond, void *arg, uint32_t timeout_ms)
{
    uint64_t end = deadline_ms(loop, timeout_ms);

    while (!cond(arg)) {
        if (scn_loop_now_ms(loop) >= end)
            return false;
        scn_loop_run_once(loop, 20);
    }
    return true;
}

static bool flag_set(void *arg)
{
    return atomic_load((const atomic_bool *)arg);
}

bool run_until_flag(scn_loop *loop, const atomic_bool *flag,
                    uint32_t timeout_ms)
{
    return run_until(loop, flag_set, (void *)flag, timeout_ms);
}

void run_for(scn_loop *loop, uint32_t ms)
{
    uint64_t end = scn_loop_now_ms(loop) + ms;

    while (scn_loop_now_ms(loop) < end)
        scn_loop_run_once(loop, 20);
}
