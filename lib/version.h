/* version: the one place the release number of agentd and auditctl lives. */
#ifndef AGENTD_VERSION_H
#define AGENTD_VERSION_H

#define AGENTD_VERSION	"0.1.0"

#endif
