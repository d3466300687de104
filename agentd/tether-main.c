/* agentd-tether: the tether as its own small static program, so that the
 * exec on every session start loads no shared library (see tether.c). */
#include "agentd.h"

int
main(int argc, char **argv)
{
	return cmd_tether(argc, argv);
}
