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

static int read_port(int fd, int *port)
{
    char buf[512];
    size_t len = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    time_t deadline = time(NULL) + 10;

    while (time(NULL) < deadline && len < sizeof(buf) - 1) {
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
        /* If the test dies (crash, timeout kill), the simulator dies too:
         * no orphan keeps a port or a pipe open. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(exe, argv);
        _exit(127);
    }
    close(pipefd[1]);
    if (read_port(pipefd[0], &p->port) != 0) {
        close(pipefd[0]);
        sim_kill(p);
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

static void reap(sim_proc *p, int first_sig, int wait_ms)
{
    int status;

    if (p->pid <= 0)
        return;
    kill(p->pid, first_sig);
    for (int waited = 0; waited < wait_ms; waited += 20) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return;
        }
        usleep(20 * 1000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
}

void sim_stop(sim_proc *p)
{
    reap(p, SIGTERM, 3000);
}

void sim_kill(sim_proc *p)
{
    reap(p, SIGKILL, 3000);
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
    int n;

    for (uint32_t waited = 0;; waited += 20) {
        n = sim_log_count(p, needle);
        if (n >= min || waited >= timeout_ms)
            return n;
        usleep(20 * 1000);
    }
}

bool run_until(scn_loop *loop, cond_fn cond, void *arg, uint32_t timeout_ms)
{
    uint64_t end = scn_loop_now_ms(loop) + timeout_ms;

    while (!cond(arg)) {
        if (scn_loop_now_ms(loop) >= end)
            return false;
        scn_loop_run_once(loop, 20);
    }
    return true;
}

static bool flag_set(void *arg)
{
    return *(const volatile bool *)arg;
}

bool run_until_flag(scn_loop *loop, const volatile bool *flag,
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
