/*
 * handler.h - the request core as a server or a tool sees it: the
 * context (ctx.h), a request in and a response out (route.h), replays
 * (replay.h) and crash recovery (recover.h).  Nothing in the core
 * includes this header; it is for the FastCGI loop, porterctl, the
 * benchmarks and the tests.
 */
#ifndef PT_HANDLER_H
#define PT_HANDLER_H

#include "ctx.h"
#include "recover.h"
#include "replay.h"
#include "route.h"

#endif
