/*
 * store_lmdb.c - the LMDB backend of the storage interface (store.h,
 * store_int.h).  The only file that includes <lmdb.h>.
 *
 * One environment per process, opened after any fork (lmdb.h caveat).  Each
 * pt_table is a named database.  MDB_NOTLS lets a read transaction move
 * between threads (the group committer hands work around); write
 * transactions stay on the thread that began them.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <lmdb.h>

#include "alloc.h"
#include "store_int.h"

#define PT_DEFAULT_MAP_SIZE	(4ULL << 30)	/* 4 GiB, sparse */
#define PT_MAX_READERS		510

struct lmdb_store {
	struct pt_store		 pub;
	MDB_env			*env;
	MDB_dbi			 dbi[PT_T__MAX];
	int			 have[PT_T__MAX];	/* dbi exists */
	enum pt_durability	 durability;
	int			 threaded;	/* several threads use it */
	int			 resized;	/* another process grew the map */
	uint64_t		 full_room;	/* room when a write of this
						   process last found none */
	/*
	 * Held shared by every top-level transaction of the process and
	 * exclusively to change the map's size: LMDB allows that only
	 * with no transaction of the process open.
	 */
	pthread_rwlock_t	 remap;
	uint64_t		 ceiling;	/* the map grows to at most this;
						   0: as far as the disk allows */
	uint64_t		 disk_reserve;	/* free disk it leaves */
	pt_room_fn		 make_room;	/* at the ceiling (store.h) */
	void			*make_room_arg;
	int			 clamp_due;	/* the map may exceed the
						   ceiling: clamp (clamp()) */
	size_t			 settled_at;	/* last txn id when make_room
						   counted on freed pages */
	int64_t			 reaped_at;	/* second of the last
						   reap_readers() */
};

struct lmdb_txn {
	struct pt_txn	 pub;
	struct lmdb_store *store;	/* pub.store, typed */
	MDB_txn		*txn;
	int		 locked;	/* holds store->remap shared */
};

struct lmdb_cursor {
	struct pt_cursor pub;
	struct lmdb_txn	*txn;		/* pub.txn, typed */
	MDB_cursor	*cur;	/* NULL: the table does not exist (empty) */
};


/*
 * Below this much free space an EIO from a commit is taken for a full
 * file system (a write can be up to a 16 MiB body and its indexes).
 */
#define PT_FULL_SLACK	(16ULL << 20)
/* Room under a ceiling kept for the deletes that make room. */
#define DELETE_ROOM	(256ULL << 10)
static uint64_t
delete_room(uint64_t ceiling)
{
	uint64_t r = ceiling / 32 > DELETE_ROOM ? ceiling / 32 : DELETE_ROOM;

	return (r + 65535) / 65536 * 65536;	/* whole pages */
}

/* The map grows by at least this (and in steps of it). */
#define GROW_MIN	(1ULL << 20)

/*
 * Bytes the file system holding "s" has left for the map to grow into.
 * NOTE: fstatfs is in the seccomp allow-list (sandbox.c).
 */
static uint64_t
fs_room(struct lmdb_store *s)
{
	struct statvfs sv;
	int fd;

	if (mdb_env_get_fd(s->env, &fd) != 0 || fstatvfs(fd, &sv) != 0)
		return UINT64_MAX;
	return (uint64_t)sv.f_bavail * sv.f_frsize;
}

/* The free disk the store leaves (PT_DISK_RESERVE_AUTO: store.h). */
static uint64_t
disk_reserve(struct lmdb_store *s)
{
	uint64_t r = __atomic_load_n(&s->disk_reserve, __ATOMIC_RELAXED);
	struct statvfs sv;
	int fd;

	if (r != PT_DISK_RESERVE_AUTO)
		return r;
	if (mdb_env_get_fd(s->env, &fd) != 0 || fstatvfs(fd, &sv) != 0)
		return PT_DISK_RESERVE_DEFAULT;
	r = (uint64_t)sv.f_blocks * sv.f_frsize / 20;
	return r < PT_DISK_RESERVE_DEFAULT ? r : PT_DISK_RESERVE_DEFAULT;
}

/* Is the file system holding "s" (almost) full? */
static int
fs_full(struct lmdb_store *s)
{
	return fs_room(s) < PT_FULL_SLACK;
}

/*
 * A write found the map or the disk too full for it: remember how much
 * room there was then, for /healthz (pt_store_stat's room_at_full).  Not
 * for MDB_TXN_FULL, a transaction too big for any store, nor for another
 * process growing the map.  Later writes do not clear it: a small one
 * that fits says nothing about the next event.
 */
static void
note_room(struct lmdb_store *s, int lrc)
{
	uint64_t room;

	if (lrc != MDB_MAP_FULL && lrc != ENOSPC && lrc != EDQUOT)
		return;
	if ((room = pt_store_room(&s->pub)) == UINT64_MAX)
		room = UINT64_MAX - 1;
	__atomic_store_n(&s->full_room, room, __ATOMIC_RELAXED);
}

/*
 * Map an LMDB (or errno) code to pt_err and remember its text for the log.
 */
static enum pt_err
map_rc(int rc, const char *what)
{
	if (rc == 0)
		return PT_OK;
	if (rc != MDB_NOTFOUND && rc != MDB_KEYEXIST)
		pt_store_errf("%s: %s", what,
		    mdb_strerror(rc));
	switch (rc) {
	case MDB_NOTFOUND:
		return PT_ENOTFOUND;
	case MDB_KEYEXIST:
		return PT_EEXIST;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case ENOSPC:
	case EDQUOT:
		return PT_EFULL;
	case ENOMEM:
		return PT_ENOMEM;
	case MDB_READERS_FULL:
	case EAGAIN:
	case EBUSY:
		return PT_EBUSY;
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_PAGE_NOTFOUND:
		return PT_ECORRUPT;
	case MDB_BAD_VALSIZE:
		return PT_ETOOBIG;
	case EINVAL:
	case MDB_BAD_DBI:
	case MDB_BAD_TXN:
		return PT_EINVAL;
	default:
		return PT_EIO;
	}
}

/*
 * Prepare "dir": create it (0700) when allowed, and refuse one that anybody
 * may write to -- another user could swap the data files.
 */
static enum pt_err
check_dir(const char *dir, int create, char *errbuf, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) == -1) {
		if (errno != ENOENT || !create) {
			snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
			return errno == ENOENT ? PT_ENOTFOUND : PT_EIO;
		}
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			snprintf(errbuf, errlen, "mkdir %s: %s", dir,
			    strerror(errno));
			return PT_EIO;
		}
		if (stat(dir, &st) == -1) {
			snprintf(errbuf, errlen, "%s: %s", dir, strerror(errno));
			return PT_EIO;
		}
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(errbuf, errlen, "%s: not a directory", dir);
		return PT_EINVAL;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(errbuf, errlen, "%s is world-writable: refusing to use "
		    "it (chmod o-w, or better 0700)", dir);
		return PT_EINVAL;
	}
	return PT_OK;
}

/* Open every table's dbi; in read-only mode missing ones stay absent. */
static enum pt_err
open_dbis(struct lmdb_store *s, char *errbuf, size_t errlen)
{
	MDB_txn *txn;
	unsigned flags = s->pub.read_only ? 0 : MDB_CREATE;
	int rc, t;

	if ((rc = mdb_txn_begin(s->env, NULL, s->pub.read_only ? MDB_RDONLY : 0,
	    &txn)) != 0) {
		snprintf(errbuf, errlen, "begin: %s", mdb_strerror(rc));
		return map_rc(rc, "mdb_txn_begin");
	}
	for (t = 0; t < PT_T__MAX; t++) {
		rc = mdb_dbi_open(txn, pt_table_name(t), flags, &s->dbi[t]);
		if (rc == MDB_NOTFOUND && s->pub.read_only)
			continue;
		if (rc != 0) {
			snprintf(errbuf, errlen, "open table %s: %s",
			    pt_table_name(t), mdb_strerror(rc));
			mdb_txn_abort(txn);
			return map_rc(rc, "mdb_dbi_open");
		}
		s->have[t] = 1;
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		snprintf(errbuf, errlen, "commit: %s", mdb_strerror(rc));
		return map_rc(rc, "mdb_txn_commit");
	}
	return PT_OK;
}

static const struct pt_backend lmdb_backend;

enum pt_err
pt_lmdb_open(const char *dir, const struct pt_store_opts *opts,
    struct pt_store **out, char *errbuf, size_t errlen)
{
	struct lmdb_store *s = NULL;
	struct pt_store_opts defaults = { 0 };
	unsigned flags = MDB_NOTLS;
	enum pt_err rc;
	mode_t omask;
	int lrc;

	*out = NULL;
	if (opts == NULL)
		opts = &defaults;
	if ((rc = check_dir(dir, !opts->read_only, errbuf, errlen)) != PT_OK)
		return rc;
	if ((s = pt_calloc(1, sizeof(*s))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		return PT_ENOMEM;
	}
	s->pub.be = &lmdb_backend;
	s->pub.read_only = opts->read_only;
	s->durability = opts->durability;
	s->full_room = UINT64_MAX;
	s->disk_reserve = PT_DISK_RESERVE_AUTO;
	pthread_rwlock_init(&s->remap, NULL);
	if ((lrc = mdb_env_create(&s->env)) != 0)
		goto lmdb_fail;
	if ((lrc = mdb_env_set_maxdbs(s->env, PT_T__MAX + 4)) != 0 ||
	    (lrc = mdb_env_set_maxreaders(s->env, PT_MAX_READERS)) != 0)
		goto lmdb_fail;
	if (opts->map_size && (lrc = mdb_env_set_mapsize(s->env,
	    (size_t)opts->map_size)) != 0)
		goto lmdb_fail;
	if (!opts->map_size && (lrc = mdb_env_set_mapsize(s->env,
	    (size_t)PT_DEFAULT_MAP_SIZE)) != 0)
		goto lmdb_fail;
	if (opts->read_only)
		flags |= MDB_RDONLY;
	if (opts->durability == PT_DURABLE_RELAXED)
		flags |= MDB_NOSYNC;
	/* The data and lock files are private to Porter's user. */
	omask = umask(077);
	lrc = mdb_env_open(s->env, dir, flags, 0600);
	umask(omask);
	if (lrc != 0)
		goto lmdb_fail;
	/*
	 * Without a size asked for, an existing store keeps the one it
	 * grew to (LMDB keeps it in the file): adopt it, not the default.
	 */
	if (!opts->map_size && (lrc = mdb_env_set_mapsize(s->env, 0)) != 0)
		goto lmdb_fail;
	if ((rc = open_dbis(s, errbuf, errlen)) != PT_OK)
		goto fail;
	/*
	 * A process killed inside a read transaction keeps its reader slot,
	 * and that old snapshot keeps every page freed since from reuse:
	 * the file grows.  LMDB clears the table only for the first process
	 * to open it, which another (a responder still exiting) may not be.
	 */
	if (!opts->read_only)
		(void)mdb_reader_check(s->env, &lrc);
	*out = &s->pub;
	return PT_OK;
lmdb_fail:
	snprintf(errbuf, errlen, "%s: %s", dir, mdb_strerror(lrc));
	rc = map_rc(lrc, "mdb_env_open");
fail:
	if (s->env)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->remap);
	pt_free(s);
	return rc;
}

static void
lmdb_close(struct pt_store *ps)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;

	if (s == NULL)
		return;
	if (!s->pub.read_only && s->durability == PT_DURABLE_RELAXED)
		mdb_env_sync(s->env, 1);
	mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->remap);
	pt_free(s);
}

static enum pt_err
lmdb_sync(struct pt_store *ps)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;

	if (s->pub.read_only)
		return PT_OK;
	return map_rc(mdb_env_sync(s->env, 1), "mdb_env_sync");
}

static void
lmdb_set_durability(struct pt_store *ps, enum pt_durability d)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;

	if (s->pub.read_only || s->durability == d)
		return;
	/* Going back to full: make what relaxed commits left safe first. */
	if (d == PT_DURABLE_FULL)
		mdb_env_sync(s->env, 1);
	mdb_env_set_flags(s->env, MDB_NOSYNC, d == PT_DURABLE_RELAXED);
	s->durability = d;
}

/*
 * Set the map's size ("size" 0: adopt what another process set) once no
 * transaction of this process is open, waiting for them at most
 * REMAP_WAIT_MS.  0, or -1 when they did not end or LMDB refused.
 */
#define REMAP_WAIT_MS	2000
static int	clamp_locked(struct lmdb_store *);

static int
remap(struct lmdb_store *s, uint64_t size)
{
	struct timespec until;
	int rc;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += REMAP_WAIT_MS / 1000;
	if (pthread_rwlock_timedwrlock(&s->remap, &until) != 0)
		return -1;
	rc = mdb_env_set_mapsize(s->env, (size_t)size);
	/* Adopting another process's size: not past the ceiling. */
	if (rc == 0 && size == 0)
		rc = clamp_locked(s);
	pthread_rwlock_unlock(&s->remap);
	return rc == 0 ? 0 : -1;
}

/*
 * Under a ceiling, the map of every process spans at most the ceiling,
 * or the pages in use when those are more: the pages past it are the
 * room the deletes that make room need (pt_store_make_room), which
 * writes must not take.  LMDB keeps the largest size any process set
 * and gives it to the others; with "s->remap" held exclusively.
 */
static int
clamp_locked(struct lmdb_store *s)
{
	uint64_t ceiling = __atomic_load_n(&s->ceiling, __ATOMIC_RELAXED);
	MDB_envinfo info;

	if (ceiling == 0 || s->pub.read_only ||
	    mdb_env_info(s->env, &info) != 0 || info.me_mapsize <= ceiling)
		return 0;
	/* LMDB raises a size below the pages in use to them. */
	return mdb_env_set_mapsize(s->env, (size_t)ceiling);
}

/* Clamp when due and no transaction of the process is open (no wait). */
static void
clamp(struct lmdb_store *s)
{
	if (!__atomic_load_n(&s->clamp_due, __ATOMIC_RELAXED) ||
	    pthread_rwlock_trywrlock(&s->remap) != 0)
		return;
	if (clamp_locked(s) == 0)
		__atomic_store_n(&s->clamp_due, 0, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&s->remap);
}

static void
lmdb_set_limits(struct pt_store *ps, uint64_t ceiling,
    uint64_t disk_reserve)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;

	if (__atomic_exchange_n(&s->ceiling, ceiling, __ATOMIC_RELAXED) !=
	    ceiling && ceiling != 0)
		__atomic_store_n(&s->clamp_due, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->disk_reserve, disk_reserve, __ATOMIC_RELAXED);
}

static void
lmdb_set_make_room(struct pt_store *ps, pt_room_fn fn, void *arg)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;

	s->make_room = fn;
	s->make_room_arg = arg;
}

static uint64_t	free_bytes(struct lmdb_store *, unsigned, int);
static size_t	oldest_reader(struct lmdb_store *, size_t);

/*
 * LMDB reuses a page that transaction T freed only from T+2 on, and once
 * no reader still sees a snapshot before T+1: after deletes (T), commit a
 * small write (T+1) and return its id, 0 when there was no room even for
 * that.  A reader slot of a process that died pins pages for ever: clear
 * those first.
 */
static size_t
bump(struct lmdb_store *s)
{
	static const char key[] = "store:settled";
	struct pt_txn *txn;
	MDB_envinfo info;
	size_t id;
	int dead;

	(void)mdb_reader_check(s->env, &dead);
	if (pt_txn_begin(&s->pub, NULL, PT_TXN_WRITE, &txn) != PT_OK)
		return 0;
	id = mdb_txn_id(((struct lmdb_txn *)txn)->txn);
	if (pt_put(txn, PT_T_META, key, sizeof(key) - 1, &id,
	    sizeof(id), 0) != PT_OK) {
		pt_txn_abort(txn);
		return 0;
	}
	if (pt_txn_commit(txn) != PT_OK || mdb_env_info(s->env, &info) != 0)
		return 0;
	return info.me_last_txnid;
}

/* Wait (SETTLE_WAIT_MS at most) for every reader to see snapshot "id". */
#define SETTLE_WAIT_MS	500
static void
wait_readers(struct lmdb_store *s, size_t id)
{
	struct timespec ts;
	long waited = 0, step = 1;

	while (oldest_reader(s, id) < id && waited < SETTLE_WAIT_MS) {
		ts.tv_sec = 0;
		ts.tv_nsec = step * 1000000L;
		nanosleep(&ts, NULL);
		waited += step;
		if (step < 32)
			step *= 2;
	}
}

static void
settle(struct lmdb_store *s)
{
	size_t id = bump(s);

	if (id != 0)
		wait_readers(s, id);
}

static enum pt_err
lmdb_make_room(struct pt_store *ps, uint64_t need)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t used, size, cap, fs, reserve, ceiling, enough;
	enum pt_err rc = PT_ENOTFOUND;
	size_t id;
	int lrc;
	char msg[200];

	if (s->pub.read_only)
		return PT_EINVAL;
	/* Pages a dead process's reader slot held are reusable at once. */
	if (mdb_reader_check(s->env, &lrc) == 0 && lrc > 0)
		return PT_OK;
	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &ms) != 0)
		return PT_EIO;
	used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	ceiling = __atomic_load_n(&s->ceiling, __ATOMIC_RELAXED);
	reserve = disk_reserve(s);
	/* Double it (few remaps), to the ceiling and what the disk has. */
	size = info.me_mapsize * 2;
	if (size < used + need + GROW_MIN)
		size = used + need + GROW_MIN;
	cap = ceiling ? ceiling : UINT64_MAX;
	fs = fs_room(s);
	if (fs != UINT64_MAX) {
		fs = fs > reserve ? fs - reserve : 0;
		/* The file's pages past "used" are there already. */
		if (cap > used + fs)
			cap = used + fs;
	}
	if (size > cap)
		size = cap;
	size -= size % GROW_MIN;
	if (size > info.me_mapsize && remap(s, size) == 0) {
		/* Room again: /healthz no longer goes by the last full write. */
		__atomic_store_n(&s->full_room, UINT64_MAX, __ATOMIC_RELAXED);
		snprintf(msg, sizeof(msg), "the store grew its map from %.1f to "
		    "%.1f MiB", (double)info.me_mapsize / 1048576.0,
		    (double)size / 1048576.0);
		pt_store_set_errstr(msg);
		return PT_OK;
	}
	/*
	 * It cannot grow.  The pages the last deletes freed may be what is
	 * missing, not yet reusable (bump): count on them once.  Called
	 * again with nothing committed since, they were not enough.
	 */
	enough = need < delete_room(ceiling) ? need : delete_room(ceiling);
	if (info.me_last_txnid != __atomic_load_n(&s->settled_at,
	    __ATOMIC_RELAXED)) {
		settle(s);
		if (mdb_env_info(s->env, &info) == 0)
			__atomic_store_n(&s->settled_at, info.me_last_txnid,
			    __ATOMIC_RELAXED);
		if (free_bytes(s, ms.ms_psize, 1) >= enough)
			return PT_OK;
	}
	if (s->make_room != NULL && (rc = s->make_room(&s->pub, s->make_room_arg)) ==
	    PT_OK) {
		settle(s);
		__atomic_store_n(&s->full_room, UINT64_MAX, __ATOMIC_RELAXED);
		return PT_OK;
	}
	/*
	 * Deleting copies pages too: in a map full to the last page, even
	 * the deletes that make room find none.  Past the ceiling by what
	 * they need (DELETE_ROOM, 1/32 of it at most), for those deletes
	 * only: the map is then clamped back to the ceiling (or the pages
	 * in use), so that writes do not take the room the next ones need.
	 */
	if (s->make_room != NULL && rc == PT_EFULL && ceiling &&
	    info.me_mapsize < ceiling + delete_room(ceiling) &&
	    remap(s, ceiling + delete_room(ceiling)) == 0) {
		rc = s->make_room(&s->pub, s->make_room_arg);
		id = rc == PT_OK ? bump(s) : 0;
		(void)remap(s, ceiling);
		if (rc == PT_OK) {
			if (id != 0)
				wait_readers(s, id);
			__atomic_store_n(&s->full_room, UINT64_MAX,
			    __ATOMIC_RELAXED);
			return PT_OK;
		}
	}
	snprintf(msg, sizeof(msg), "the store is at its %s (%.1f MiB in use) "
	    "and nothing more may be deleted", ceiling && size >= ceiling ?
	    "ceiling, settings.max_store_bytes" : "disk's limit, "
	    "settings.min_free_disk_bytes", (double)used / 1048576.0);
	pt_store_set_errstr(msg);
	return PT_EFULL;
}

static int	room_stat(struct lmdb_store *, struct pt_store_stat *);

static enum pt_err
lmdb_reserve(struct pt_store *ps, uint64_t need)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t used, size, fs;

	if (s->pub.read_only)
		return PT_EINVAL;
	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &ms) != 0)
		return PT_EIO;
	used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	if (info.me_mapsize >= used + need)
		return PT_OK;
	size = (used + need + 65535) / 65536 * 65536;
	fs = fs_room(s);
	if (fs != UINT64_MAX && size - info.me_mapsize > fs) {
		pt_store_set_errstr("no room on the disk for the store to grow");
		return PT_EFULL;
	}
	if (remap(s, size) != 0) {
		pt_store_set_errstr("cannot grow the store's map");
		return PT_EFULL;
	}
	return PT_OK;
}

static int
lmdb_near_ceiling(struct pt_store *ps)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;
	struct pt_store_stat st;
	uint64_t ceiling = __atomic_load_n(&s->ceiling, __ATOMIC_RELAXED);
	uint64_t keep;

	/* Only an owner that makes room its own way deletes as it writes. */
	if (ceiling == 0 || s->make_room == NULL)
		return 0;
	memset(&st, 0, sizeof(st));
	if (room_stat(s, &st) != 0)
		return 0;
	keep = delete_room(ceiling);
	return st.used - (st.free < st.used ? st.free : st.used) + 2 * keep >=
	    ceiling;
}

static void
lmdb_set_threaded(struct pt_store *ps)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;

	__atomic_store_n(&s->threaded, 1, __ATOMIC_RELAXED);
}

static int
lmdb_resized(struct pt_store *ps)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;

	return __atomic_load_n(&s->resized, __ATOMIC_RELAXED);
}

/* Reading the configuration's generation is a page in the map: read it. */
static int
lmdb_meta_epoch(struct pt_store *ps, uint64_t *epoch)
{
	(void)ps;
	(void)epoch;
	return 0;
}

/* mdb_reader_list's lines: "pid thread txnid", txnid "-" when idle. */
static int
reader_line(const char *line, void *arg)
{
	unsigned long long txnid;
	size_t *oldest = arg, tid;
	int pid;

	if (sscanf(line, "%d %zx %llu", &pid, &tid, &txnid) == 3 &&
	    txnid < *oldest)
		*oldest = (size_t)txnid;
	return 0;
}

/* The oldest snapshot a reader of any process sees; "last" if none. */
static size_t
oldest_reader(struct lmdb_store *s, size_t last)
{
	size_t oldest = last;

	(void)mdb_reader_list(s->env, reader_line, &oldest);
	return oldest;
}

/*
 * Bytes in the free pages inside the file that the next write may reuse
 * before it grows the file.  The freelist (dbi 0) is keyed by the
 * transaction that freed the pages, each value a page list whose first
 * word is its length (as mdb_stat -f counts them).  A writer reuses only
 * pages freed before the last committed snapshot and before the oldest
 * one a reader still sees (mdb_page_alloc's "oldest"): with "now", only
 * those; else the newest records count too, as they soon will be.
 * NOTE: a write transaction cannot read the freelist; with MDB_NOTLS this
 * read transaction may be opened beside one.  0 when it cannot be read.
 */
static uint64_t
free_bytes(struct lmdb_store *s, unsigned psize, int now)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t pages = 0;
	size_t last, freed;

	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	last = mdb_txn_id(txn);
	if (now)
		last = oldest_reader(s, last);
	if (mdb_cursor_open(txn, 0, &cur) == 0) {
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			if (k.mv_size != sizeof(size_t) ||
			    v.mv_size < sizeof(size_t))
				continue;
			memcpy(&freed, k.mv_data, sizeof(freed));
			if (freed >= last)
				break;	/* keys ascend: the rest are newer */
			pages += *(const size_t *)v.mv_data;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return pages * psize;
}

/* Fill the size fields of "st" (the rest is left alone). */
static int
room_stat(struct lmdb_store *s, struct pt_store_stat *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t tail, fs, cap, reserve;
	int rc;

	if ((rc = mdb_env_info(s->env, &info)) != 0 ||
	    (rc = mdb_env_stat(s->env, &ms)) != 0)
		return rc;
	st->map_size = info.me_mapsize;
	st->used = (uint64_t)(info.me_last_pgno + 1) * ms.ms_psize;
	st->readers = info.me_numreaders;
	st->max_readers = info.me_maxreaders;
	st->free = free_bytes(s, ms.ms_psize, 0);
	/* The map grows itself (pt_store_make_room): up to the ceiling. */
	st->ceiling = __atomic_load_n(&s->ceiling, __ATOMIC_RELAXED);
	cap = st->ceiling ? st->ceiling : UINT64_MAX;
	/*
	 * Under a ceiling, the last pages are kept back: deleting the
	 * oldest logs to make room copies pages too, and needs some.
	 */
	if (st->ceiling)
		cap -= delete_room(st->ceiling);
	tail = cap > st->used ? cap - st->used : 0;
	/* The map is sparse: growing it takes space on the disk. */
	fs = fs_room(s);
	reserve = disk_reserve(s);
	fs = fs > reserve ? fs - reserve : 0;
	if (fs < tail)
		tail = fs;
	st->room = tail + st->free;
	st->read_only = s->pub.read_only;
	st->room_at_full = __atomic_load_n(&s->full_room, __ATOMIC_RELAXED);
	return 0;
}

static uint64_t
lmdb_room(struct pt_store *ps)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;
	struct pt_store_stat st;

	memset(&st, 0, sizeof(st));
	return room_stat(s, &st) == 0 ? st.room : UINT64_MAX;
}


static enum pt_err
lmdb_check_room(struct pt_store *ps, uint64_t need)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;
	int tries;

	/*
	 * Short: grow, or (at the ceiling) the owner's rules free some, the
	 * oldest logs; a few rounds, as a chunk may not be enough.
	 */
	for (tries = 0; pt_store_room(&s->pub) < need && s->make_room != NULL &&
	    !s->pub.read_only && tries < 4; tries++)
		if (pt_store_make_room(&s->pub, need) != PT_OK)
			break;
	return pt_store_has_room(&s->pub, need);
}

static enum pt_err
lmdb_stat(struct pt_store *ps, struct pt_store_stat *st)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;
	MDB_stat ms;
	MDB_txn *txn;
	int rc, t;

	memset(st, 0, sizeof(*st));
	if ((rc = room_stat(s, st)) != 0)
		return map_rc(rc, "mdb_env_info");
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		return map_rc(rc, "mdb_txn_begin");
	for (t = 0; t < PT_T__MAX; t++)
		if (s->have[t] && mdb_stat(txn, s->dbi[t], &ms) == 0)
			st->entries[t] = ms.ms_entries;
	mdb_txn_abort(txn);
	return PT_OK;
}

/*
 * Once a second, as a write begins: free the reader slots of processes
 * that died inside a read transaction (a responder killed mid-request
 * while a new one was opening, so LMDB did not reset the table).  Until
 * then such a slot keeps every page freed since from reuse, and the file
 * grows by all that is written (test_retention saw a day's writes go to
 * new pages).
 */
static void
reap_readers(struct lmdb_store *s)
{
	struct timespec ts;
	int dead;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0 ||
	    __atomic_exchange_n(&s->reaped_at, (int64_t)ts.tv_sec,
	    __ATOMIC_RELAXED) == (int64_t)ts.tv_sec)
		return;
	(void)mdb_reader_check(s->env, &dead);
}

static enum pt_err
lmdb_txn_begin(struct pt_store *ps, struct pt_txn *pparent, int flags,
    struct pt_txn **out)
{
	struct lmdb_store *s = (struct lmdb_store *)ps;
	struct lmdb_txn *parent = (struct lmdb_txn *)pparent;
	struct lmdb_txn *t;
	int rc, tries;

	*out = NULL;
	if ((t = pt_calloc(1, sizeof(*t))) == NULL)
		return PT_ENOMEM;
	pt_txn_init(&t->pub, ps, flags);
	t->store = s;
	if (parent == NULL)
		clamp(s);
	if (parent == NULL && t->pub.write)
		reap_readers(s);
	for (tries = 0; tries < 3; tries++) {
		if (parent == NULL) {
			pthread_rwlock_rdlock(&s->remap);
			t->locked = 1;
		}
		rc = mdb_txn_begin(s->env, parent ? parent->txn : NULL,
		    t->pub.write ? 0 : MDB_RDONLY, &t->txn);
		if (rc != MDB_MAP_RESIZED || parent != NULL)
			break;
		/*
		 * Another process grew the map.  Adopting its size is only
		 * allowed with no transaction open in this process: wait
		 * for the others to end (bounded), adopt it and retry.
		 * Should they not end, refuse (a retryable 503) and let the
		 * caller restart the process.
		 */
		pthread_rwlock_unlock(&s->remap);
		t->locked = 0;
		if (remap(s, 0) == 0)
			continue;
		__atomic_store_n(&s->resized, 1, __ATOMIC_RELAXED);
		pt_free(t);
		pt_store_set_errstr("another process grew the store: this one "
		    "restarts to map it");
		return PT_EFULL;
	}
	if (rc != 0) {
		if (t->locked)
			pthread_rwlock_unlock(&s->remap);
		pt_free(t);
		return map_rc(rc == MDB_MAP_RESIZED ? MDB_MAP_FULL : rc,
		    "mdb_txn_begin");
	}
	*out = &t->pub;
	return PT_OK;
}

static enum pt_err
lmdb_txn_commit(struct pt_txn *pt)
{
	struct lmdb_txn *t = (struct lmdb_txn *)pt;
	enum pt_err rc;
	int lrc;

	if (t->pub.failed) {
		rc = t->pub.fail_rc;
		mdb_txn_abort(t->txn);
	} else {
		lrc = mdb_txn_commit(t->txn);
		/*
		 * A full file system comes back as ENOSPC, or as EIO when
		 * pwrite(2) wrote only part of the pages (LMDB's
		 * mdb_page_flush: "short write, filesystem full?").  Found by
		 * tests/e2e/test_faults.py on a small tmpfs: such commits were
		 * answered 500, not the retryable 503 store_full.
		 */
		if (lrc == EIO && t->pub.write && fs_full(t->store))
			lrc = ENOSPC;
		if (t->pub.write)
			note_room(t->store, lrc);
		/*
		 * LMDB finds the map full while it saves the free list, before
		 * it writes a page: nothing of the transaction is on disk.
		 */
		pt_store_set_unwritten(lrc == MDB_MAP_FULL);
		rc = map_rc(lrc, "mdb_txn_commit");
	}
	if (t->locked)
		pthread_rwlock_unlock(&t->store->remap);
	pt_free(t);
	return rc;
}




static void
lmdb_txn_abort(struct pt_txn *pt)
{
	struct lmdb_txn *t = (struct lmdb_txn *)pt;

	if (t == NULL)
		return;
	mdb_txn_abort(t->txn);
	if (t->locked)
		pthread_rwlock_unlock(&t->store->remap);
	pt_free(t);
}

static enum pt_err
lmdb_get(struct pt_txn *pt, enum pt_table tab, const void *key, size_t keylen,
    struct pt_val *val)
{
	struct lmdb_txn *t = (struct lmdb_txn *)pt;
	MDB_val k = { keylen, (void *)key }, v;
	int rc;

	if (!t->store->have[tab])
		return PT_ENOTFOUND;
	if ((rc = mdb_get(t->txn, t->store->dbi[tab], &k, &v)) != 0)
		return map_rc(rc, "mdb_get");
	val->data = v.mv_data;
	val->len = v.mv_size;
	return PT_OK;
}

/*
 * A failed write leaves the LMDB transaction unusable for further writes
 * (MDB_TXN_ERROR): remember it so that commit reports the first error.
 */
static enum pt_err
write_failed(struct lmdb_txn *t, int rc, const char *what)
{
	enum pt_err e = map_rc(rc, what);

	note_room(t->store, rc);
	if (e != PT_ENOTFOUND && e != PT_EEXIST && !t->pub.failed) {
		t->pub.failed = 1;
		t->pub.fail_rc = e;
	}
	return e;
}

static enum pt_err
lmdb_put(struct pt_txn *pt, enum pt_table tab, const void *key, size_t keylen,
    const void *val, size_t vallen, int flags)
{
	struct lmdb_txn *t = (struct lmdb_txn *)pt;
	MDB_val k = { keylen, (void *)key }, v = { vallen, (void *)val };
	int rc;

	if (!t->pub.write || !t->store->have[tab])
		return PT_EINVAL;
	if (keylen == 0 || keylen > (size_t)mdb_env_get_maxkeysize(
	    t->store->env)) {
		pt_store_errf("key of %zu bytes for "
		    "table %s", keylen, pt_table_name(tab));
		return PT_ETOOBIG;
	}
	/*
	 * LMDB splits a full page in the middle unless told the key goes
	 * last: time-ordered records then took a page each, half empty.
	 * MDB_APPEND refuses (MDB_KEYEXIST, changing nothing) a key that
	 * is not above the last one: that one is put as usual.
	 */
	rc = MDB_KEYEXIST;
	if (flags & PT_PUT_APPEND)
		rc = mdb_put(t->txn, t->store->dbi[tab], &k, &v, MDB_APPEND |
		    ((flags & PT_PUT_NOOVERWRITE) ? MDB_NOOVERWRITE : 0));
	if (rc == MDB_KEYEXIST)
		rc = mdb_put(t->txn, t->store->dbi[tab], &k, &v,
		    (flags & PT_PUT_NOOVERWRITE) ? MDB_NOOVERWRITE : 0);
	if (rc != 0)
		return write_failed(t, rc, "mdb_put");
	return PT_OK;
}

static enum pt_err
lmdb_del(struct pt_txn *pt, enum pt_table tab, const void *key, size_t keylen)
{
	struct lmdb_txn *t = (struct lmdb_txn *)pt;
	MDB_val k = { keylen, (void *)key };
	int rc;

	if (!t->pub.write || !t->store->have[tab])
		return PT_EINVAL;
	if ((rc = mdb_del(t->txn, t->store->dbi[tab], &k, NULL)) != 0)
		return write_failed(t, rc, "mdb_del");
	return PT_OK;
}

static enum pt_err
lmdb_cursor_open(struct pt_txn *pt, enum pt_table tab, struct pt_cursor **out)
{
	struct lmdb_txn *t = (struct lmdb_txn *)pt;
	struct lmdb_cursor *c;
	int rc;

	*out = NULL;
	if ((c = pt_calloc(1, sizeof(*c))) == NULL)
		return PT_ENOMEM;
	c->pub.txn = pt;
	c->txn = t;
	if (t->store->have[tab] &&
	    (rc = mdb_cursor_open(t->txn, t->store->dbi[tab], &c->cur)) != 0) {
		pt_free(c);
		return map_rc(rc, "mdb_cursor_open");
	}
	*out = &c->pub;
	return PT_OK;
}

static void
lmdb_cursor_close(struct pt_cursor *pc)
{
	struct lmdb_cursor *c = (struct lmdb_cursor *)pc;

	if (c == NULL)
		return;
	if (c->cur)
		mdb_cursor_close(c->cur);
	pt_free(c);
}

static enum pt_err
cursor_op(struct lmdb_cursor *c, MDB_val *k, MDB_cursor_op op, struct pt_val *ko,
    struct pt_val *vo)
{
	MDB_val v;
	int rc;

	if (c->cur == NULL)
		return PT_ENOTFOUND;
	if ((rc = mdb_cursor_get(c->cur, k, &v, op)) != 0)
		return map_rc(rc, "mdb_cursor_get");
	if (ko) {
		ko->data = k->mv_data;
		ko->len = k->mv_size;
	}
	if (vo) {
		vo->data = v.mv_data;
		vo->len = v.mv_size;
	}
	return PT_OK;
}

static enum pt_err
lmdb_cursor_seek(struct pt_cursor *pc, const void *key, size_t keylen, int how,
    struct pt_val *ko, struct pt_val *vo)
{
	struct lmdb_cursor *c = (struct lmdb_cursor *)pc;
	MDB_val k = { keylen, (void *)key };
	enum pt_err rc;

	if (key == NULL)
		return cursor_op(c, &k, how == PT_SEEK_LE ? MDB_LAST : MDB_FIRST,
		    ko, vo);
	rc = cursor_op(c, &k, MDB_SET_RANGE, ko, vo);
	if (how == PT_SEEK_GE)
		return rc;
	/* LE: step back unless we landed exactly on "key". */
	if (rc == PT_ENOTFOUND)
		return cursor_op(c, &k, MDB_LAST, ko, vo);
	if (rc != PT_OK)
		return rc;
	if (k.mv_size == keylen && memcmp(k.mv_data, key, keylen) == 0)
		return PT_OK;
	return cursor_op(c, &k, MDB_PREV, ko, vo);
}

static enum pt_err
lmdb_cursor_next(struct pt_cursor *pc, struct pt_val *ko, struct pt_val *vo)
{
	struct lmdb_cursor *c = (struct lmdb_cursor *)pc;
	MDB_val k;

	return cursor_op(c, &k, MDB_NEXT, ko, vo);
}

static enum pt_err
lmdb_cursor_prev(struct pt_cursor *pc, struct pt_val *ko, struct pt_val *vo)
{
	struct lmdb_cursor *c = (struct lmdb_cursor *)pc;
	MDB_val k;

	return cursor_op(c, &k, MDB_PREV, ko, vo);
}

static enum pt_err
lmdb_cursor_del(struct pt_cursor *pc)
{
	struct lmdb_cursor *c = (struct lmdb_cursor *)pc;
	int rc;

	if (c->cur == NULL || !c->txn->pub.write)
		return PT_EINVAL;
	if ((rc = mdb_cursor_del(c->cur, 0)) != 0)
		return write_failed(c->txn, rc, "mdb_cursor_del");
	return PT_OK;
}

static const struct pt_backend lmdb_backend = {
	.name = "lmdb",
	.close = lmdb_close,
	.sync = lmdb_sync,
	.set_durability = lmdb_set_durability,
	.stat = lmdb_stat,
	.room = lmdb_room,
	.check_room = lmdb_check_room,
	.set_limits = lmdb_set_limits,
	.set_make_room = lmdb_set_make_room,
	.make_room = lmdb_make_room,
	.reserve = lmdb_reserve,
	.near_ceiling = lmdb_near_ceiling,
	.set_threaded = lmdb_set_threaded,
	.resized = lmdb_resized,
	.meta_epoch = lmdb_meta_epoch,
	.txn_begin = lmdb_txn_begin,
	.txn_commit = lmdb_txn_commit,
	.txn_abort = lmdb_txn_abort,
	.get = lmdb_get,
	.put = lmdb_put,
	.del = lmdb_del,
	.count = pt_count_by_get,
	.cursor_open = lmdb_cursor_open,
	.cursor_close = lmdb_cursor_close,
	.cursor_seek = lmdb_cursor_seek,
	.cursor_next = lmdb_cursor_next,
	.cursor_prev = lmdb_cursor_prev,
	.cursor_del = lmdb_cursor_del,
};
