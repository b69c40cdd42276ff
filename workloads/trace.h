/* Request-trace readers: servesim's own CSV format and importers for public traces.
 *
 * A reader streams one file row by row (memory is O(1) in the number of rows; the line
 * buffer grows to the longest line and the hash array to the longest hash list). Files may
 * be gzip-compressed or plain: zlib reads both with the same code. Four formats:
 *
 *   native    servesim's CSV (docs/traces.md): arrival_s, prompt_tokens, output_tokens and
 *             optional class, prefix_id, block_hashes, block_tokens, in any order.
 *   azure     Azure LLM inference trace 2023: TIMESTAMP, ContextTokens, GeneratedTokens.
 *   mooncake  Mooncake (FAST'25) JSON Lines: timestamp (ms), input_length, output_length,
 *             hash_ids (one hash per 512-token prompt block).
 *   lengths   length-only tables: num_prefill_tokens, num_decode_tokens and optional
 *             num_total_tokens, pd_ratio (no arrival times).
 *
 * Every value is checked; times are converted to integer nanoseconds exactly (string
 * arithmetic, never through a double). A malformed row is an error naming the file, the
 * line and the field; in lenient mode it is skipped and counted instead. Errors are returned
 * and carried in ss_diag, never printed. See docs/traces.md for the formats and messages. */
#ifndef SS_WORKLOADS_TRACE_H
#define SS_WORKLOADS_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/core/diag.h"
#include "sim/core/time.h"

/* The trace formats. The order is the order of ss_trace_format_name's names. */
typedef enum ss_trace_format {
    SS_TRACE_NATIVE,
    SS_TRACE_AZURE,
    SS_TRACE_MOONCAKE,
    SS_TRACE_LENGTHS,
    SS_TRACE_FORMAT_COUNT
} ss_trace_format;

/* Name of a format: "native", "azure", "mooncake", "lengths"; "?" for a value out of range. */
const char *ss_trace_format_name(ss_trace_format f);

/* Format for a name (exact, case-sensitive match of ss_trace_format_name); -1 if unknown or
 * NULL. */
int ss_trace_format_from_name(const char *name);

/* Default longest accepted line, in bytes without the line ending (64 MiB). */
#define SS_TRACE_MAX_LINE_DEFAULT ((size_t)64 << 20)

/* Reader options. Start from ss_trace_opts_defaults(): a zero-filled struct turns the sort
 * check off. */
typedef struct ss_trace_opts {
    /* 0: the first malformed row is an error. 1: malformed rows (and blank lines before more
     * data) are skipped and counted (ss_trace_skipped); errors that concern the whole file
     * (cannot open, bad header, corrupt gzip, over-long line) still stop the reader. */
    int lenient;
    /* 1 (default): a row earlier than the previous returned row is malformed. 0: rows may go
     * back in time and ss_trace_row.t may then be negative (it stays relative to the first
     * returned row); the caller must sort. Equal times are always allowed. */
    int require_sorted;
    /* Longest line accepted, in bytes without the line ending; 0 means
     * SS_TRACE_MAX_LINE_DEFAULT. A longer line stops the reader with an error (it is never
     * truncated). Tests shrink it to exercise the limit. */
    size_t max_line_bytes;
} ss_trace_opts;

/* Defaults: strict, require_sorted = 1, max_line_bytes = 0 (SS_TRACE_MAX_LINE_DEFAULT). */
ss_trace_opts ss_trace_opts_defaults(void);

/* One request of a trace. */
typedef struct ss_trace_row {
    int64_t line;               /* 1-based line number in the decompressed file */
    int has_time;               /* 1 for native, azure, mooncake; 0 for length-only tables */
    ss_time_ns t;               /* arrival relative to the FIRST returned row (which is 0);
                                   0 when has_time = 0 */
    uint32_t prompt_tokens;     /* >= 1 */
    uint32_t output_tokens;     /* >= 1 */
    char cls[32];               /* native `class` column; "" if absent or empty */
    int64_t prefix_id;          /* native `prefix_id` column; -1 if absent or empty */
    uint32_t nhashes;           /* number of entries in hashes (0 if none) */
    const uint64_t *hashes;     /* mooncake hash_ids / native block_hashes, block 0 first;
                                   owned by the reader, valid until the next ss_trace_next or
                                   ss_trace_close; NULL when nhashes = 0 */
    uint32_t hash_block_tokens; /* prompt tokens per hashed block: 512 for mooncake; native:
                                   the row's `block_tokens` column (0 if absent or empty);
                                   0 for azure and lengths */
} ss_trace_row;

/* An open trace reader (opaque; one owner). */
typedef struct ss_trace ss_trace;

/* Open `path` (gzip or plain) and read its header. `format` is an ss_trace_format, or < 0 to
 * detect it from the first non-blank line: a JSON object line containing "timestamp" is
 * mooncake; otherwise it is a CSV header, and a column arrival_s means native, TIMESTAMP
 * means azure, num_prefill_tokens with num_decode_tokens means lengths. `opts` may be NULL
 * (defaults). On success *out owns the reader (free with ss_trace_close); on failure *out is
 * NULL, nothing needs freeing, and d names the file (and line). */
ss_rc ss_trace_open(const char *path, int format, const ss_trace_opts *opts, ss_trace **out,
                    ss_diag *d);

/* Read the next row: returns 1 with *row filled, 0 at the end of the file, or a negative
 * ss_rc with d filled, e.g. "FILE:LINE: field 'ContextTokens': expected a non-negative
 * integer, got 'x'" (ss_diag_format). After an error every later call returns the same error
 * again. d may be NULL. */
int ss_trace_next(ss_trace *t, ss_trace_row *row, ss_diag *d);

/* The reader's format (detected or given). */
ss_trace_format ss_trace_get_format(const ss_trace *t);

/* The path given to ss_trace_open (owned by the reader). */
const char *ss_trace_path(const ss_trace *t);

/* Rows returned so far. */
uint64_t ss_trace_rows(const ss_trace *t);

/* Malformed rows and blank lines skipped so far (lenient mode only; 0 otherwise). */
uint64_t ss_trace_skipped(const ss_trace *t);

/* The error of the first skipped row (lenient mode), so that a caller can say why rows were
 * skipped; NULL if nothing was skipped. Owned by the reader. */
const ss_diag *ss_trace_first_skipped(const ss_trace *t);

/* Close the reader and free everything it owns. NULL is a no-op. */
void ss_trace_close(ss_trace *t);

#endif
