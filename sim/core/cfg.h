/* YAML configuration files: loading with source marks, and declarative key tables.
 *
 * Every configuration object (scenario, model, hardware profile, plug-in parameters) is
 * described by a table of ss_key rows: name, type, field offset, default or "required",
 * bounds, unit and help. One generic checker applies a table to a YAML mapping, so unknown
 * keys, wrong types, missing required keys and out-of-range values are all reported the same
 * way, "file:line:col: key 'a.b': ...", from libyaml's marks (Redis static_configs[],
 * ROSS tw_opts). The same tables generate docs/scenario-reference.md.
 *
 * Values may carry units where the key's type says so: SS_KEY_BYTES accepts 80GiB, 80 GB,
 * 512MiB, 1e9; SS_KEY_DURATION accepts 2s, 150ms, 20us, 10ns (stored as ss_time_ns). */
#ifndef SS_CORE_CFG_H
#define SS_CORE_CFG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

#include "sim/core/diag.h"

/* ------------------------------------------------------------------ documents */

/* A parsed YAML document plus its name (file path) and text. Opaque. */
typedef struct ss_doc ss_doc;

/* Load a file. Errors (missing file, YAML syntax) name the file and line. */
ss_rc ss_doc_load_file(const char *path, ss_doc **out, ss_diag *d);
/* Load from memory; `name` is used in messages (e.g. "<built-in default>"). */
ss_rc ss_doc_load_string(const char *name, const char *text, size_t len, ss_doc **out,
                         ss_diag *d);
void ss_doc_free(ss_doc *doc);

const char *ss_doc_name(const ss_doc *doc);
const char *ss_doc_text(const ss_doc *doc);
/* Directory of the file ("." for in-memory documents), for resolving relative paths. */
const char *ss_doc_dir(const ss_doc *doc);
/* Root node, or NULL for an empty document. */
yaml_node_t *ss_doc_root(ss_doc *doc);

/* Override one value: `path` is a dotted key path with optional list indices
 * ("replica.scheduler", "cluster.pools[0].parallelism.tp"), `value` a YAML scalar. Missing
 * mapping keys along the path are created; an existing scalar is replaced; replacing a
 * mapping or list by a scalar is refused. Errors name the path. Overridden values keep no
 * file position, so later errors about them name only the key. Invalidates node pointers
 * obtained earlier. Used by `--set KEY=VALUE` and by sweeps. */
ss_rc ss_doc_set(ss_doc *doc, const char *path, const char *value, ss_diag *d);
/* The node at a key path of the same form (the empty path: the root), or NULL when the
 * document does not have it (a missing key, an index past a list's end, a key under a
 * scalar, a malformed path). */
yaml_node_t *ss_doc_get(ss_doc *doc, const char *path);

/* ------------------------------------------------------------------ node helpers */

/* 1-based line and column of a node (0 when node is NULL). */
void ss_node_mark(const yaml_node_t *node, int *line, int *col);
/* Value of `key` in a mapping, or NULL if absent (or map is not a mapping). */
yaml_node_t *ss_node_get(ss_doc *doc, yaml_node_t *map, const char *key);
/* Sequence length (0 if not a sequence) and i-th item. */
size_t ss_node_seq_len(const yaml_node_t *seq);
yaml_node_t *ss_node_seq_at(ss_doc *doc, yaml_node_t *seq, size_t i);
/* Mapping size (0 if not a mapping) and its i-th key and value (NULL when out of range). */
size_t ss_node_map_len(const yaml_node_t *map);
void ss_node_map_at(ss_doc *doc, yaml_node_t *map, size_t i, yaml_node_t **key,
                    yaml_node_t **value);
/* Scalar text, or NULL if the node is not a scalar. */
const char *ss_node_scalar(const yaml_node_t *node);
/* "mapping", "sequence", "scalar": for "expected X, got Y" messages. */
const char *ss_node_kind(const yaml_node_t *node);

/* Record an error located at `node` of `doc` (file:line:col: key 'keypath': ...). */
ss_rc ss_cfg_error(ss_diag *d, ss_rc rc, ss_doc *doc, const yaml_node_t *node,
                   const char *keypath, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* ------------------------------------------------------------------ key tables */

typedef enum ss_key_type {
    SS_KEY_INT,      /* int */
    SS_KEY_INT64,    /* int64_t */
    SS_KEY_DOUBLE,   /* double */
    SS_KEY_BOOL,     /* bool: true/false */
    SS_KEY_STRING,   /* char[size] */
    SS_KEY_BYTES,    /* uint64_t; number or number with B/KB/MB/GB/TB/KiB/MiB/GiB/TiB */
    SS_KEY_DURATION, /* ss_time_ns; number of seconds or number with ns/us/ms/s/min/h */
    SS_KEY_ENUM,     /* int index into `choices` */
    SS_KEY_NODE      /* yaml_node_t*: a sub-section the caller parses itself (NULL if absent) */
} ss_key_type;

/* Bound flags. */
#define SS_KEY_MIN_EXCL 1u /* value must be > min (e.g. a rate) rather than >= min */
#define SS_KEY_MAX_EXCL 2u
#define SS_KEY_NO_BOUNDS 4u /* ignore min/max */

typedef struct ss_key {
    const char *name;
    ss_key_type type;
    size_t offset; /* offsetof(struct, field) */
    size_t size;   /* buffer size for SS_KEY_STRING, else 0 */
    const char *def; /* default as YAML scalar text; NULL = required; "" = optional, no default
                        (field left as the caller initialised it) */
    double min, max; /* inclusive bounds for numeric types unless flags say otherwise */
    unsigned flags;
    const char *unit; /* for docs: "tokens", "req/s", "bytes", ... (may be NULL) */
    const char *help; /* one line for docs */
    const char *const *choices; /* SS_KEY_ENUM: NULL-terminated list of accepted names */
} ss_key;

/* Apply `keys` (terminated by a row with name == NULL) to the mapping `map`, writing into
 * `obj`. `path` is the key path of the mapping for messages ("" at the root, else e.g.
 * "workload.arrival"). Reports: map not a mapping, unknown key (listing valid ones),
 * duplicate key, wrong type, out of range, bad enum value (listing choices), missing required
 * key. If map is NULL every key takes its default (and a missing required key is an error
 * reported against `parent`, which may be NULL). */
ss_rc ss_cfg_apply(ss_doc *doc, yaml_node_t *map, yaml_node_t *parent, const char *path,
                   const ss_key *keys, void *obj, ss_diag *d);

/* Parse one scalar as the key's type (used by ss_cfg_apply; exposed for CLI overrides). */
ss_rc ss_cfg_parse_scalar(const ss_key *key, const char *text, void *obj, char *why,
                          size_t why_n);

/* Write the table as Markdown rows: | key | type | default | unit | description |.
 * `prefix` is prepended to key names (e.g. "workload.arrival."). */
void ss_cfg_doc_markdown(const ss_key *keys, const char *prefix, FILE *out);

#endif
