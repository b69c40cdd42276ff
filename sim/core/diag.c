/* ss_diag: first-error-wins diagnostics; see diag.h. */
#include "sim/core/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ss_rc_str(ss_rc rc)
{
    switch (rc) {
#define SS_RC_CASE(name, value, phrase) \
    case name:                          \
        return phrase;
        SS_RC_LIST(SS_RC_CASE)
#undef SS_RC_CASE
    }
    return "unknown error";
}

void ss_diag_clear(ss_diag *d)
{
    if (d) memset(d, 0, sizeof *d);
}

static ss_rc vset(ss_diag *d, ss_rc rc, const char *file, int line, int col, const char *key,
                  const char *fmt, va_list ap)
{
    if (!d || d->rc != SS_OK) return rc;
    d->rc = rc;
    d->line = line;
    d->col = col;
    snprintf(d->file, sizeof d->file, "%s", file ? file : "");
    snprintf(d->key, sizeof d->key, "%s", key ? key : "");
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    return rc;
}

ss_rc ss_diag_set(ss_diag *d, ss_rc rc, const char *file, int line, int col, const char *key,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(d, rc, file, line, col, key, fmt, ap);
    va_end(ap);
    return rc;
}

ss_rc ss_diag_fail(ss_diag *d, ss_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(d, rc, NULL, 0, 0, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

void ss_diag_format(const ss_diag *d, char *buf, size_t n)
{
    size_t used = 0;
    int w;
    if (!n) return;
    buf[0] = '\0';
#define APPEND(...)                                                    \
    do {                                                               \
        w = snprintf(buf + used, n - used, __VA_ARGS__);               \
        if (w > 0) used += (size_t)w < n - used ? (size_t)w : n - used - 1; \
    } while (0)
    if (d->file[0]) {
        APPEND("%s:", d->file);
        if (d->line > 0) APPEND("%d:", d->line);
        if (d->line > 0 && d->col > 0) APPEND("%d:", d->col);
        APPEND(" ");
    }
    if (d->key[0]) APPEND("key '%s': ", d->key);
    APPEND("%s", d->msg[0] ? d->msg : ss_rc_str(d->rc));
#undef APPEND
}
