/* One verdict for every child a test starts. */
#include "verdict.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void print_file(const char *title, const char *path)
{
    FILE *in = fopen(path, "r");
    char line[1024];

    if (!in)
        return;
    fprintf(stderr, "%s (%s):\n", title, path);
    while (fgets(line, sizeof(line), in))
        fprintf(stderr, "  %s", line);
    fclose(in);
}

int sanitizer_report(const char *who, pid_t pid)
{
    const char *dir = getenv("SCN_SANITIZER_DIR");
    char path[512], title[128];
    FILE *in;

    if (!dir || !*dir)
        return 0;
    snprintf(path, sizeof(path), "%s/report.%d", dir, (int)pid);
    if (!(in = fopen(path, "r")))
        return 0;
    fclose(in);
    snprintf(title, sizeof(title), "sanitizer report of %s (pid %d)", who,
             (int)pid);
    print_file(title, path);
    return 1;
}

int child_verdict(const char *who, pid_t pid, int status, int expect,
                  const char *err_path)
{
    int ok = expect >= 0 ? WIFEXITED(status) && WEXITSTATUS(status) == expect
                         : WIFSIGNALED(status) && WTERMSIG(status) == -expect;

    if (!ok) {
        if (WIFEXITED(status))
            fprintf(stderr, "%s (pid %d) exited with %d\n", who, (int)pid,
                    WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
            fprintf(stderr, "%s (pid %d) was killed by signal %d (%s)\n", who,
                    (int)pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
        if (err_path)
            print_file("its stderr", err_path);
    }
    if (sanitizer_report(who, pid))
        ok = 0;
    return ok ? 0 : -1;
}
