/*
 * How a child process of a test ended, judged the same way for every child:
 * its exit status, and the sanitizer report tests/run-test makes it write
 * to $SCN_SANITIZER_DIR/report.PID instead of a stderr nobody reads.
 */
#ifndef SCN_TEST_VERDICT_H
#define SCN_TEST_VERDICT_H

#include <sys/types.h>

/* expect: the exit code wanted, or -SIG for the death by signal SIG that
 * the test itself caused. Returns 0 when the child ended so and left no
 * sanitizer report; else prints why (the report, and the file err_path
 * holding its stderr when not NULL) and returns -1. */
int child_verdict(const char *who, pid_t pid, int status, int expect,
                  const char *err_path);

/* Prints the sanitizer report of pid if there is one; returns whether. */
int sanitizer_report(const char *who, pid_t pid);

#endif
