/*
 * bench/event.h - the event the benchmarks send (bench/run posts the same
 * shape): a task assignment of about 1.5 KB, most of it a description.
 * Header-only; each benchmark includes it once.
 */
#ifndef PT_BENCH_EVENT_H
#define PT_BENCH_EVENT_H

#include <stdio.h>

/* Write the event into "buf" ("size" bytes, 2048 is enough); its length. */
static size_t
bench_event(char *buf, size_t size)
{
	char desc[1201];
	int i;

	for (i = 0; i < 1200; i++)
		desc[i] = "lorem ipsum "[i % 12];
	desc[1200] = '\0';
	return (size_t)snprintf(buf, size,
	    "{\"event_type\":\"task.assigned\",\"occurred_at\":"
	    "\"2026-11-23T10:15:00Z\",\"data\":{\"task_id\":\"task_123\","
	    "\"title\":\"Review the Q4 roadmap\",\"assigned_to\":\"user_456\","
	    "\"assigned_by\":\"user_789\",\"project_id\":\"proj_42\","
	    "\"labels\":[\"planning\",\"q4\"],\"description\":\"%s\"}}", desc);
}

#endif
