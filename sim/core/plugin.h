/* What every plug-in (scheduler, arrival process, cost model, ...) starts with, and the
 * generic lookup over a kind's NULL-terminated table of built-ins.
 *
 * Each kind keeps an explicit `static const` table (Lua's linit.c): visible, ordered, and it
 * survives static linking, unlike constructor-attribute self-registration. The leading
 * abi_version copies SQLite's iVersion so an interface can grow without breaking old
 * plug-ins. */
#ifndef SS_CORE_PLUGIN_H
#define SS_CORE_PLUGIN_H

#include <stddef.h>
#include <stdio.h>

#include "sim/core/diag.h"

typedef struct ss_plugin_info {
    unsigned abi_version; /* of the kind's interface this plug-in implements */
    const char *name;     /* what users write in scenario files */
    const char *help;     /* one line for `servesim list` */
    const char *source;   /* paper, engine version or datasheet it follows */
} ss_plugin_info;

/* The functions below take a kind's NULL-terminated table of pointers to ops structs that
 * begin with an ss_plugin_info (C guarantees a pointer to a struct, converted, points to its
 * first member). Pass it as (const void *const *)table. */

/* Entry named `name` (as a pointer to its info), or NULL. */
const ss_plugin_info *ss_plugin_find(const void *const *table, const char *name);

/* "a, b, c": the names of a table, for "unknown X 'y' (valid: ...)" messages. */
void ss_plugin_names(const void *const *table, char *buf, size_t n);

/* One line per entry: "  name  help  [source]". */
void ss_plugin_list(const void *const *table, FILE *out);

#endif
