/*
 * A dashboard token from a file (never from a command line: argv is
 * visible to every user of the machine): one line, a regular file
 * readable by its owner only, the form scn_live_token_ok() accepts.
 */
#ifndef SCN_APP_TOKEN_FILE_H
#define SCN_APP_TOKEN_FILE_H

#include <stddef.h>

/* Reads path into out (cap bytes). Returns 0, or -1 after printing
 * "PROG: OPT PATH: why" (out wiped). */
int token_file_read(const char *prog, const char *opt, const char *path,
                    char *out, size_t cap);

/* Nonzero when addr is a loopback IP literal (127.0.0.0/8, ::1). */
int token_bind_is_loopback(const char *addr);

#endif
