/* Error codes and the diagnostic record that carries the first error to the top.
 *
 * Functions return ss_rc (0 = OK, negative = error, as libuv does). The first failure fills
 * an ss_diag owned by the caller (file, line, column, key path, message), the way SQLite keeps
 * the message on the connection; the CLI prints it once and exits non-zero. Later failures
 * never overwrite the first one: the root cause is what the user needs to see. */
#ifndef SS_CORE_DIAG_H
#define SS_CORE_DIAG_H

#include <stddef.h>

/* X-macro: code, value, phrase. One list gives the enum and the phrase table. */
#define SS_RC_LIST(X)                                                  \
    X(SS_OK, 0, "ok")                                                  \
    X(SS_ERR_INVALID, -1, "invalid input")                            \
    X(SS_ERR_NOMEM, -2, "out of memory")                              \
    X(SS_ERR_IO, -3, "input/output error")                            \
    X(SS_ERR_UNSUPPORTED, -4, "not yet supported")                    \
    X(SS_ERR_NOTFOUND, -5, "not found")                               \
    X(SS_ERR_DB, -6, "results database error")                        \
    X(SS_ERR_INTERNAL, -7, "internal error")

typedef enum ss_rc {
#define SS_RC_ENUM(name, value, phrase) name = value,
    SS_RC_LIST(SS_RC_ENUM)
#undef SS_RC_ENUM
} ss_rc;

/* Where an error happened and what it was. file/key may be empty; line/col are 1-based,
 * 0 when unknown. */
typedef struct ss_diag {
    ss_rc rc;
    int line;
    int col;
    char file[512];
    char key[256];
    char msg[1024];
} ss_diag;

/* Phrase for a code ("invalid input"). Never NULL. */
const char *ss_rc_str(ss_rc rc);

/* Reset to "no error". */
void ss_diag_clear(ss_diag *d);

/* Record an error unless one is already recorded; returns rc so callers can write
 * `return ss_diag_set(d, SS_ERR_INVALID, file, line, col, key, "...", ...);`.
 * d may be NULL (the error is then only returned). file/key may be NULL. */
ss_rc ss_diag_set(ss_diag *d, ss_rc rc, const char *file, int line, int col, const char *key,
                  const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Shorthand without a location. */
ss_rc ss_diag_fail(ss_diag *d, ss_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "file:line:col: key 'k': message" (parts that are unknown are left out). */
void ss_diag_format(const ss_diag *d, char *buf, size_t n);

#endif
