/* Internal to workloads/scenario*.c: what scenario.c and scenario_workload.c share. */
#ifndef SS_WORKLOADS_SCENARIO_INT_H
#define SS_WORKLOADS_SCENARIO_INT_H

#include <stdio.h>

#include "workloads/scenario.h"

/* The terminating row of an ss_key table. */
#define END_ROW {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL}

/* Load the `workload:` mapping `node` (NULL: absent) of sc's document into sc->workload;
 * errors are located at the offending key. Needs sc's model, pools and replica loaded. */
ss_rc ss_scen_load_workload(ss_scenario *sc, yaml_node_t *node, yaml_node_t *root, ss_diag *d);
/* One "## title" section of the scenario reference with its key-table header. */
void ss_scen_doc_section(FILE *out, const char *title, const char *text);
/* The workload sections of the scenario reference (after `replica`, before `output`). */
void ss_scen_workload_doc_markdown(FILE *out);

#endif
