/* `servesim search STUDY.yaml`: placeholder until the study parser lands. */
#include <stdio.h>

#include "sim/cli/cli.h"

int ss_cmd_search(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "servesim search: not yet available\n");
    return 2;
}
