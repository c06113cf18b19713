/*
 * dumpable.h - keep secrets out of core dumps.
 *
 * porter.fcgi and porterctl hold signing secrets, token hashes and every
 * logged body in memory; a core file (or a debugger of the same user)
 * would hand them to whoever reads it.  Both programs call
 * pt_dumpable_set() first thing: unless the operator asks for cores, the
 * process is marked not dumpable (prctl PR_SET_DUMPABLE 0), so the kernel
 * writes no core for it and only root may ptrace it or read its /proc
 * files.  Workflow handlers are not affected: execve makes them dumpable
 * again.
 */
#ifndef PT_DUMPABLE_H
#define PT_DUMPABLE_H

#include <stddef.h>

/*
 * The one call, as PORTER_CORE_DUMPS says: unset or "0" marks the process
 * not dumpable, "1" leaves it as it is (cores as the system's limits
 * allow, for a crash an operator wants to debug).  Returns 0, or -1 with
 * the reason in "why" (another value, or prctl failed); the caller must
 * then refuse to start.
 */
int	pt_dumpable_set(char *why, size_t whylen);

#endif
