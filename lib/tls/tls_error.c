/* Reporting OpenSSL load failures. */
#include "tls_error.h"

#include <openssl/err.h>
#include <scentience/error.h>
#include <stdio.h>

int scn__tls_load_failed(const scn_logger *log, const char *what,
                         const char *path)
{
    char why[160];
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "no reason given");
    ERR_clear_error();
    scn__log(log, SCN_LOG_ERROR, "tls", "cannot load %s %s: %s", what, path,
             why);
    return SCN_ERR_TLS;
}
