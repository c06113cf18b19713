/*
 * bench/compress - what record compression (src/compress.c) saves and
 * costs on realistic bodies.
 *
 *	bench/bodies -n 6000 | bench/compress [-k TRAIN] [-l LEVELS]
 *	    [-D SIZES] [-r ROUNDS] [FILE]
 *
 * Reads bodies in bench/bodies' format (decimal length, LF, the bytes, LF)
 * from FILE or stdin, trains a dictionary of each size in SIZES (KiB,
 * default "8,16,32,64,110") on the first TRAIN bodies (default 2000), then
 * packs and unpacks every other body at each level of LEVELS (default
 * "-5,-1,1,2,3,4,6,9"), without and with each dictionary, and prints one
 * line per (level, dictionary): raw and packed bytes (headers included),
 * their ratio, the bodies stored raw, and the µs per pack and per unpack
 * (CPU time, the best of ROUNDS passes, default 3).  Every
 * unpacked body is compared with the original.  The dictionary is
 * finalised for the level it is used at, as the store would train it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "compress.h"

#define MAX_LIST	16

struct corpus {
	char	*data;		/* the bodies end to end */
	size_t	*off, *len;
	size_t	 n, total;
};

static void
die(const char *what)
{
	fprintf(stderr, "bench/compress: %s\n", what);
	exit(1);
}

static double
now_us(void)
{
	struct timespec ts;

	/* CPU time, not wall time: other work on the machine adds none. */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Read bench/bodies' stream: "LEN\n" then LEN bytes then "\n". */
static void
read_corpus(FILE *f, struct corpus *c)
{
	struct pt_buf all = { 0 };
	size_t cap = 0, len;
	char line[32];

	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *end;

		errno = 0;
		len = strtoul(line, &end, 10);
		if (errno != 0 || end == line || *end != '\n' ||
		    len > PT_Z_MAX_LEN)
			die("input is not bench/bodies' format");
		if (c->n == cap) {
			cap = cap ? cap * 2 : 1024;
			c->off = realloc(c->off, cap * sizeof(*c->off));
			c->len = realloc(c->len, cap * sizeof(*c->len));
			if (c->off == NULL || c->len == NULL)
				die("out of memory");
		}
		if (pt_buf_reserve(&all, len + 1) != PT_OK)
			die("out of memory");
		if (fread(all.data + all.len, 1, len + 1, f) != len + 1 ||
		    all.data[all.len + len] != '\n')
			die("a body is cut short");
		c->off[c->n] = all.len;
		c->len[c->n] = len;
		all.len += len;
		c->total += len;
		c->n++;
	}
	c->data = all.data;
}

/* "1,2,3" into "v" (at most MAX_LIST); returns the count. */
static size_t
parse_list(const char *s, int *v)
{
	size_t n = 0;
	char *end;
	long x;

	while (*s != '\0' && n < MAX_LIST) {
		errno = 0;
		x = strtol(s, &end, 10);
		if (errno != 0 || end == s || x < -100 || x > 100000 ||
		    (*end != ',' && *end != '\0'))
			die("a list is numbers separated by commas");
		v[n++] = (int)x;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

/*
 * Pack and unpack bodies first..n-1 of "c" with "zc" and dictionary "id"
 * (0: none); print the line.
 */
static void
measure(const struct corpus *c, size_t first, struct pt_zcache *zc,
    uint32_t id, int level, const char *dict_name, int rounds)
{
	struct pt_buf *packed, out = { 0 };
	double t, best_pack = 1e30, best_unpack = 1e30;
	size_t i, raw = 0, bytes = 0, stored_raw = 0, count = c->n - first;
	struct pt_zinfo zi;
	int round;

	if ((packed = calloc(count, sizeof(*packed))) == NULL)
		die("out of memory");
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < count; i++)
			pt_buf_reset(&packed[i]);
		t = now_us();
		for (i = 0; i < count; i++)
			if (pt_zpack(zc, id, c->data + c->off[first + i],
			    c->len[first + i], &packed[i]) != PT_OK)
				die("pt_zpack failed");
		t = now_us() - t;
		if (t < best_pack)
			best_pack = t;
		t = now_us();
		for (i = 0; i < count; i++) {
			pt_buf_reset(&out);
			if (pt_zunpack(zc, packed[i].data, packed[i].len, &out) !=
			    PT_OK)
				die("pt_zunpack failed");
		}
		t = now_us() - t;
		if (t < best_unpack)
			best_unpack = t;
	}
	for (i = 0; i < count; i++) {
		pt_buf_reset(&out);
		if (pt_zunpack(zc, packed[i].data, packed[i].len, &out) != PT_OK ||
		    out.len != c->len[first + i] ||
		    memcmp(out.data, c->data + c->off[first + i], out.len) != 0)
			die("a body does not come back as it was");
		if (pt_zinfo(packed[i].data, packed[i].len, &zi) == PT_OK &&
		    zi.method == PT_Z_RAW)
			stored_raw++;
		raw += c->len[first + i];
		bytes += packed[i].len;
		pt_buf_free(&packed[i]);
	}
	free(packed);
	pt_buf_free(&out);
	printf("%5d  %-6s %10zu %10zu  %5.3f  %6.1f %%  %5zu  %7.2f  %7.2f\n",
	    level, dict_name, raw, bytes, (double)bytes / (double)raw,
	    100.0 * (1.0 - (double)bytes / (double)raw), stored_raw,
	    best_pack / (double)count, best_unpack / (double)count);
	fflush(stdout);
}

int
main(int argc, char *argv[])
{
	int levels[MAX_LIST] = { -5, -1, 1, 2, 3, 4, 6, 9 };
	int sizes[MAX_LIST] = { 8, 16, 32, 64, 110 };
	size_t nlevels = 8, nsizes = 5, train = 2000, i, j;
	int rounds = 3, opt;
	struct corpus c;
	FILE *f = stdin;

	while ((opt = getopt(argc, argv, "k:l:D:r:h")) != -1) {
		switch (opt) {
		case 'k':
			train = strtoul(optarg, NULL, 10);
			break;
		case 'l':
			nlevels = parse_list(optarg, levels);
			break;
		case 'D':
			nsizes = parse_list(optarg, sizes);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: bench/compress [-k TRAIN] "
			    "[-l LEVELS] [-D KIB,...] [-r ROUNDS] [FILE]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > 100)
		die("ROUNDS is 1..100");
	if (optind < argc && (f = fopen(argv[optind], "rb")) == NULL)
		die("cannot open the input");
	read_corpus(f, &c);
	if (train < 1 || c.n < train + 100)
		die("need at least TRAIN + 100 bodies");
	{
		size_t tb = 0;

		for (i = 0; i < train; i++)
			tb += c.len[i];
		printf("%zu bodies, %zu bytes (mean %.0f); training on the "
		    "first %zu (%zu bytes), measuring the other %zu\n", c.n,
		    c.total, (double)c.total / (double)c.n, train, tb,
		    c.n - train);
	}
	printf("level  dict        raw bytes     packed  ratio   saved   raw"
	    "   µs/pack µs/unpack\n");
	for (i = 0; i < nlevels; i++) {
		struct pt_zcache *zc;

		if (pt_zcache_new(levels[i], &zc) != PT_OK)
			die("bad level");
		measure(&c, train, zc, 0, levels[i], "none", rounds);
		for (j = 0; j < nsizes; j++) {
			struct pt_buf dict = { 0 };
			char name[16];
			uint32_t id = (uint32_t)j + 1;
			double t = now_us();

			if (pt_zdict_train(c.data, c.len, train,
			    (size_t)sizes[j] << 10, id, levels[i], &dict) !=
			    PT_OK)
				die("training failed");
			t = now_us() - t;
			if (pt_zcache_add(zc, dict.data, dict.len, NULL) != PT_OK)
				die("the dictionary does not load");
			snprintf(name, sizeof(name), "%dK", sizes[j]);
			measure(&c, train, zc, id, levels[i], name, rounds);
			if (i == 0)
				printf("#      %s dictionary: %zu bytes, trained in "
				    "%.0f ms\n", name, dict.len, t / 1e3);
			pt_buf_free(&dict);
		}
		pt_zcache_free(zc);
	}
	pt_zthread_free();
	free(c.data);
	free(c.off);
	free(c.len);
	return 0;
}
