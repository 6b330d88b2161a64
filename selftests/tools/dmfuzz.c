// SPDX-License-Identifier: GPL-2.0
/*
 * dmfuzz: differential driver of two device-mapper targets (crypt and
 * rcrypt) over the raw DM ioctls, fast enough for tens of thousands of
 * tables in one guest boot (dmsetup costs a process per call).
 *
 *   dmfuzz tables FILE
 *	Each line of FILE is "<length><TAB><params>": the table
 *	"0 <length> crypt <params>" is loaded into device fz_crypt and
 *	"0 <length> rcrypt <params>" into fz_rcrypt, byte for byte (no
 *	shell or dmsetup splitting), then cleared. Both verdicts (accepted,
 *	or the errno), and the device-mapper messages each load logged,
 *	must match. Tables whose start sector plus length does not fit in
 *	64 bits, which rcrypt refuses with "Device sector plus target length overflows"
 *	(dm-crypt takes them; dmfuzz checks the sum itself). A length that
 *	is not a decimal number below 2^64 cannot be loaded (the ioctl holds
 *	64 bits): such lines are counted and skipped.
 *
 *   dmfuzz classify
 *	The verdict comparison of `tables` on recorded outcomes, the known
 *	differences among them: exits 1 if it reports one wrongly.
 *
 *   dmfuzz messages FILE
 *	A script run on both devices, step by step: "table<TAB><length>
 *	<TAB><params>" (load and resume), "msg<TAB><text>", "suspend",
 *	"resume", "read" (the first 64 KiB of both devices, which must be
 *	equal when both are active), "remove". Verdicts and messages of
 *	every step must match.
 *
 *   dmfuzz fault-loads LENGTH PARAMS
 *	A fault-injection sweep of rcrypt's constructor: loads the table
 *	"0 LENGTH rcrypt PARAMS" into device fz_fault again and again, round
 *	n failing exactly the n-th allocation of the load (the task's
 *	fail-nth; STRIDE in the environment skips rounds after the first
 *	32), until a load makes fewer allocations. Every load must succeed
 *	or fail cleanly; prints the counts.
 *
 *   dmfuzz fault-io DEVICE CHUNKS
 *	Writes CHUNKS 64 KiB chunks of known data with O_DIRECT, then reads
 *	them, each syscall alone under make-it-fail (the caller sets the
 *	injection probability), then reads everything back without faults.
 *	A write or read may fail; a read that returns a whole chunk must
 *	return the right data, and every chunk whose write returned success
 *	must read back intact afterwards.
 *
 *   dmfuzz odirect r|w DEVICE FILE SHIFT [OFFSET]
 *	One O_DIRECT write of FILE's bytes to DEVICE at byte OFFSET (default
 *	0) (w), or one read of that many bytes into FILE (r), through a
 *	buffer SHIFT bytes past a page boundary, so that the bio's segments
 *	straddle pages. Prints "ok" or the errno name; exits 0 either way (1
 *	on a short transfer or a local error).
 *
 * Messages are read from /dev/kmsg; device names and numbers and the target
 * name are normalised before comparing. Any kernel record that looks like
 * a splat is echoed to stdout (so the run's splat scan sees it even when
 * the console log level is low) and fails the run.
 *
 * Prints the counts and the first mismatches; exits 1 on any mismatch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)
#define LOG_SIZE 4096
#define MAX_SHOWN 20

static const char *names[2] = { "fz_crypt", "fz_rcrypt" };
static const char *types[2] = { "crypt", "rcrypt" };

static int ctl = -1, kmsg = -1;
static unsigned long splats, mismatches, shown, range_only, bad_lengths;

static const char *splat_words[] = {
	"BUG:", "WARNING:", "KASAN", "UBSAN", "Oops", "general protection",
	"kernel BUG", "unreferenced object", "possible circular locking",
	"possible recursive locking", "inconsistent lock state",
	"DEBUG_LOCKS_WARN_ON", "suspicious RCU usage", "blocked for more than",
	"Call Trace:", NULL
};

/* Replaces every occurrence of `from` in `s` (in place, `to` not longer). */
static void replace_all(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	char *p = s;

	while ((p = strstr(p, from))) {
		memmove(p + tl, p + fl, strlen(p + fl) + 1);
		memcpy(p, to, tl);
		p += tl;
	}
}

/*
 * Reads the kernel records logged since the last call into `out`
 * (normalised, one per line); echoes splats.
 */
static void read_kmsg(char *out, size_t size)
{
	char rec[2048];
	size_t used = 0;

	out[0] = 0;
	for (;;) {
		ssize_t n = read(kmsg, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)
			continue; /* overwritten records: go on with the next */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		*strchrnul(msg, '\n') = 0;
		for (const char **w = splat_words; *w; w++) {
			if (strstr(msg, *w)) {
				printf("dmfuzz: kernel: %s\n", msg);
				splats++;
				break;
			}
		}
		/*
		 * Only device-mapper's records are compared, from "device-mapper"
		 * on: dm-crypt.c includes keys/trusted-type.h, whose pr_fmt puts
		 * "trusted_key: " in front of crypt's DMWARN/DMERR lines.
		 */
		if (!strstr(msg, "device-mapper"))
			continue;
		msg = strstr(msg, "device-mapper");
		replace_all(msg, "fz_rcrypt", "DEV");
		replace_all(msg, "fz_crypt", "DEV");
		replace_all(msg, "rcrypt", "TARGET");
		replace_all(msg, "crypt", "TARGET");
		/* "table: 254:3: " -> "table: DEV: " */
		for (char *p = msg; *p; p++) {
			size_t i = 0;

			while (p[i] >= '0' && p[i] <= '9')
				i++;
			if (i && p[i] == ':' && p[i + 1] >= '0' && p[i + 1] <= '9') {
				size_t j = i + 1;

				while (p[j] >= '0' && p[j] <= '9')
					j++;
				if (p[j] == ':') {
					memmove(p + 3, p + j, strlen(p + j) + 1);
					memcpy(p, "DEV", 3);
				}
			}
		}
		if (used + strlen(msg) + 2 < size) {
			used += sprintf(out + used, "%s\n", msg);
		}
	}
}

/*
 * Progress on the console, seen live even while the test's own output is
 * held back until it ends.
 */
static void progress(const char *fmt, ...)
{
	static FILE *console;
	va_list ap;

	if (!console)
		console = fopen("/dev/console", "w");
	if (!console)
		return;
	fprintf(console, "dmfuzz: ");
	va_start(ap, fmt);
	vfprintf(console, fmt, ap);
	va_end(ap);
	fprintf(console, "\n");
	fflush(console);
}

static struct dm_ioctl *dmi(char *buf, const char *name, uint32_t flags)
{
	struct dm_ioctl *io = (struct dm_ioctl *)buf;

	memset(buf, 0, sizeof(*io));
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = BUF_SIZE;
	io->data_start = sizeof(*io);
	io->flags = flags;
	snprintf(io->name, sizeof(io->name), "%s", name);
	return io;
}

/* Returns 0 or the errno of the ioctl. */
static int dm(unsigned long cmd, char *buf)
{
	return ioctl(ctl, cmd, buf) ? errno : 0;
}

static int load(int i, unsigned long long len, const char *params)
{
	static char buf[BUF_SIZE];
	struct dm_ioctl *io = dmi(buf, names[i], 0);
	struct dm_target_spec *spec = (void *)(buf + sizeof(*io));
	size_t plen = strlen(params);

	if (sizeof(*io) + sizeof(*spec) + plen + 1 > BUF_SIZE)
		return E2BIG;
	io->target_count = 1;
	memset(spec, 0, sizeof(*spec));
	spec->sector_start = 0;
	spec->length = len;
	snprintf(spec->target_type, sizeof(spec->target_type), "%s", types[i]);
	memcpy(spec + 1, params, plen + 1);
	/* Only what the table needs: the kernel copies data_size bytes. */
	io->data_size = (sizeof(*io) + sizeof(*spec) + plen + 1 + 7) & ~7u;
	return dm(DM_TABLE_LOAD, buf);
}

static int simple(int i, unsigned long cmd, uint32_t flags)
{
	static char buf[BUF_SIZE];

	dmi(buf, names[i], flags);
	return dm(cmd, buf);
}

static int message(int i, const char *text)
{
	static char buf[BUF_SIZE];
	struct dm_ioctl *io = dmi(buf, names[i], 0);
	struct dm_target_msg *m = (void *)(buf + sizeof(*io));

	if (sizeof(*io) + sizeof(*m) + strlen(text) + 1 > BUF_SIZE)
		return E2BIG;
	m->sector = 0;
	strcpy(m->message, text);
	return dm(DM_TARGET_MSG, buf);
}

/* The verdict and messages of one step on each device. */
struct outcome {
	int err;
	char log[LOG_SIZE];
};

/* The kernel's isspace() (Latin-1: 0xa0 too). */
static int kisspace(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

/*
 * Argument `n` of `params` as dm_split_args() makes it (whitespace
 * separated, a backslash quotes the next character) into `out`; returns
 * whether there is one.
 */
static int nth_arg(const char *p, int n, char *out, size_t size)
{
	for (int i = 0;; i++) {
		size_t len = 0;

		while (kisspace(*p))
			p++;
		if (!*p)
			return 0;
		while (*p && !kisspace(*p)) {
			if (*p == '\\' && p[1])
				p++;
			if (i == n && len + 1 < size)
				out[len++] = *p;
			p++;
		}
		if (i == n) {
			out[len] = 0;
			return 1;
		}
	}
}

/*
 * Whether the table's start sector (argument 4, read as the kernel's
 * sscanf("%llu%c") == 1 reads it: leading spaces, digits wrapping modulo
 * 2^64, nothing after) plus `len` does not fit in 64 bits.
 */
static int start_overflows(unsigned long long len, const char *params)
{
	char arg[400], *p = arg;
	unsigned long long start = 0;

	if (!params || !nth_arg(params, 4, arg, sizeof(arg)))
		return 0;
	while (kisspace(*p))
		p++;
	if (*p < '0' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++)
		start = start * 10 + (unsigned long long)(*p - '0');
	return !*p && start > ~0ull - len;
}

/* Whether the line `line` (`l` bytes, no newline) is one of the lines of `log`. */
static int has_line(const char *log, const char *line, size_t l)
{
	while (*log) {
		const char *nl = strchrnul(log, '\n');

		if ((size_t)(nl - log) == l && !strncmp(log, line, l))
			return 1;
		log = *nl ? nl + 1 : nl;
	}
	return 0;
}

/*
 * Whether `log` (rcrypt's) is the record "... TARGET: Device sector plus
 * target length overflows (<errno>)" with EINVAL, besides device-mapper's own
 * "error adding target to table" and lines `other` (crypt's log) has too,
 * such as a warning both constructors print before rcrypt checks the range:
 * the one rejection rcrypt makes where dm-crypt has none (rcrypt.rst).
 */
static int only_range_msg(const char *log, const char *other)
{
	static const char *const want[] = {
		"TARGET: Device sector plus target length overflows (-EINVAL)",
		"TARGET: Device sector plus target length overflows (-22)",
	};
	static const char core[] = "device-mapper: ioctl: error adding target to table";
	int found = 0;

	while (*log) {
		const char *nl = strchrnul(log, '\n');
		size_t l = (size_t)(nl - log);
		int ok = (l == strlen(core) && !strncmp(log, core, l)) || has_line(other, log, l);

		for (int i = 0; i < 2 && !ok; i++) {
			size_t n = strlen(want[i]);

			if (l >= n && !strncmp(nl - n, want[i], n)) {
				ok = 1;
				found++;
			}
		}
		if (!ok)
			return 0;
		log = *nl ? nl + 1 : nl;
	}
	return found == 1;
}

static void compare(const char *what, unsigned long line, const char *input,
		    struct outcome *o, unsigned long long len, const char *params)
{
	if (o[0].err == o[1].err && !strcmp(o[0].log, o[1].log))
		return;
	/*
	 * rcrypt refuses a table whose start + length overflows; crypt takes
	 * it (or dm core refuses it after crypt's constructor, on the first
	 * table of a device, whose area it checks). Counted apart when the
	 * table does overflow and rcrypt logged exactly that.
	 */
	if (o[1].err == EINVAL && start_overflows(len, params) && only_range_msg(o[1].log, o[0].log)) {
		range_only++;
		return;
	}
	mismatches++;
	if (shown++ >= MAX_SHOWN)
		return;
	printf("dmfuzz: MISMATCH %s line %lu: %.300s\n", what, line, input);
	for (int i = 0; i < 2; i++)
		printf("  %s: %s (%d)\n  %s log: %s", types[i],
		       o[i].err ? strerror(o[i].err) : "accepted", o[i].err,
		       types[i], o[i].log[0] ? o[i].log : "(none)\n");
}

static void create_devices(void)
{
	for (int i = 0; i < 2; i++) {
		simple(i, DM_DEV_REMOVE, 0);
		if (simple(i, DM_DEV_CREATE, 0)) {
			perror("dmfuzz: DM_DEV_CREATE");
			exit(2);
		}
	}
}

static void remove_devices(void)
{
	for (int i = 0; i < 2; i++)
		simple(i, DM_DEV_REMOVE, 0);
}

/*
 * Splits "<length>\t<rest>"; returns rest, or NULL when there is no tab
 * or the length is not a decimal number below 2^64 (such a length cannot
 * be loaded: the ioctl's length has 64 bits).
 */
static char *split_len(char *s, unsigned long long *len)
{
	char *tab = strchr(s, '\t'), *p;

	if (!tab)
		return NULL;
	*tab = 0;
	*len = 0;
	if (!*s)
		return NULL;
	for (p = s; *p; p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (d > 9 || *len > (~0ull - d) / 10)
			return NULL;
		*len = *len * 10 + d;
	}
	return tab + 1;
}

static unsigned long accepted, rejected;

static void do_tables(FILE *f)
{
	static struct outcome o[2];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long no = 0;

	create_devices();
	while ((n = getline(&line, &cap, f)) > 0) {
		unsigned long long len;
		char *params, copy[400];

		no++;
		if (line[n - 1] == '\n')
			line[n - 1] = 0;
		snprintf(copy, sizeof(copy), "%s", line);
		params = split_len(line, &len);
		if (!params) {
			bad_lengths++;
			continue;
		}
		read_kmsg(o[0].log, LOG_SIZE);
		for (int i = 0; i < 2; i++) {
			o[i].err = load(i, len, params);
			read_kmsg(o[i].log, LOG_SIZE);
			if (!o[i].err && simple(i, DM_TABLE_CLEAR, 0)) {
				perror("dmfuzz: DM_TABLE_CLEAR");
				exit(2);
			}
		}
		if (o[0].err == 0 && o[1].err == 0)
			accepted++;
		else if (o[0].err && o[1].err)
			rejected++;
		compare("table", no, copy, o, len, params);
		if (no % 1000 == 0)
			progress("%lu tables, %lu mismatches", no, mismatches);
	}
	free(line);
	remove_devices();
	printf("dmfuzz: %lu tables: %lu accepted by both, %lu rejected by both, %lu mismatches\n",
	       no, accepted, rejected, mismatches);
}

/* Opens device `i` through a node made from its current device number. */
static int open_dev(int i)
{
	static char buf[BUF_SIZE];
	struct dm_ioctl *io = dmi(buf, names[i], 0);
	char path[64];

	if (dm(DM_DEV_STATUS, buf))
		return -1;
	snprintf(path, sizeof(path), "/tmp/%s", names[i]);
	unlink(path);
	if (mknod(path, S_IFBLK | 0600, io->dev))
		return -1;
	return open(path, O_RDONLY | O_DIRECT);
}

/* Reads the first 64 KiB of both devices; returns whether they are equal. */
static int same_data(void)
{
	static char a[65536] __attribute__((aligned(4096)));
	static char b[65536] __attribute__((aligned(4096)));

	for (int i = 0; i < 2; i++) {
		int fd = open_dev(i);
		ssize_t n;

		if (fd < 0)
			return -1;
		n = pread(fd, i ? b : a, sizeof(a), 0);
		close(fd);
		if (n != (ssize_t)sizeof(a))
			return -1;
	}
	return !memcmp(a, b, sizeof(a));
}

static void do_messages(FILE *f)
{
	static struct outcome o[2];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long no = 0, steps = 0, reads = 0;
	int active = 0;

	create_devices();
	while ((n = getline(&line, &cap, f)) > 0) {
		char copy[400], *arg;

		no++;
		if (line[n - 1] == '\n')
			line[n - 1] = 0;
		snprintf(copy, sizeof(copy), "%s", line);
		arg = strchr(line, '\t');
		if (arg)
			*arg++ = 0;
		read_kmsg(o[0].log, LOG_SIZE);
		steps++;
		unsigned long long len = 0;
		char *params = arg && !strcmp(line, "table") ? split_len(arg, &len) : NULL;

		if (!strcmp(line, "table") && !params)
			bad_lengths++;

		for (int i = 0; i < 2; i++) {
			if (!strcmp(line, "table")) {
				o[i].err = params ? load(i, len, params) : EINVAL;
				if (!o[i].err)
					o[i].err = simple(i, DM_DEV_SUSPEND, 0);
			} else if (!strcmp(line, "msg")) {
				o[i].err = message(i, arg ? arg : "");
			} else if (!strcmp(line, "suspend")) {
				o[i].err = simple(i, DM_DEV_SUSPEND, DM_SUSPEND_FLAG);
			} else if (!strcmp(line, "resume")) {
				o[i].err = simple(i, DM_DEV_SUSPEND, 0);
			} else if (!strcmp(line, "remove")) {
				o[i].err = simple(i, DM_DEV_REMOVE, 0);
				if (!o[i].err)
					o[i].err = simple(i, DM_DEV_CREATE, 0);
			} else if (!strcmp(line, "read")) {
				o[i].err = 0;
			} else {
				fprintf(stderr, "dmfuzz: bad step at line %lu\n", no);
				exit(2);
			}
			read_kmsg(o[i].log, LOG_SIZE);
		}
		compare("step", no, copy, o, len, params);
		if (no % 1000 == 0)
			progress("%lu steps, %lu mismatches", no, mismatches);
		/* Whether both devices are live with a table, for "read". */
		if (!strcmp(line, "table") || !strcmp(line, "resume"))
			active = !o[0].err && !o[1].err ? 1 : active;
		if (!strcmp(line, "suspend") && !o[0].err)
			active = 0;
		if (!strcmp(line, "remove"))
			active = 0;
		if (!strcmp(line, "read") && active) {
			int r = same_data();

			reads++;
			if (r != 1) {
				mismatches++;
				printf("dmfuzz: MISMATCH data line %lu: %s\n", no,
				       r < 0 ? "read failed" : "the devices read different data");
			}
		}
	}
	free(line);
	remove_devices();
	printf("dmfuzz: %lu steps, %lu data comparisons, %lu mismatches\n", steps, reads, mismatches);
}

static int make_it_fail = -1;

/* Tags (or untags) this task for fault injection (task-filter). */
static void tag(int on)
{
	if (pwrite(make_it_fail, on ? "1" : "0", 1, 0) != 1) {
		perror("dmfuzz: make-it-fail");
		exit(2);
	}
}

/*
 * The task's fail-nth: its N-th allocation check from now fails (0: off).
 * The file stays open for the whole sweep and is only read and written
 * through that descriptor (pread/pwrite: it has no llseek): open() itself allocates, and with a count still
 * pending after a load (the load made fewer allocations) an open() would
 * take the injected failure.
 */
static int fail_nth_fd = -1;

static void set_fail_nth(unsigned long n)
{
	char v[32];

	snprintf(v, sizeof(v), "%lu", n);
	if (pwrite(fail_nth_fd, v, strlen(v), 0) != (ssize_t)strlen(v)) {
		perror("dmfuzz: fail-nth");
		exit(2);
	}
}

static unsigned long get_fail_nth(void)
{
	char v[32] = "";

	if (pread(fail_nth_fd, v, sizeof(v) - 1, 0) < 0) {
		perror("dmfuzz: fail-nth");
		exit(2);
	}
	return strtoul(v, NULL, 0);
}

static int do_fault_loads(unsigned long long len, const char *params)
{
	const char *stride_env = getenv("STRIDE");
	unsigned long stride = stride_env ? strtoul(stride_env, NULL, 0) : 1;
	unsigned long n, rounds = 0, failed = 0, ok = 0;

	if (!stride)
		stride = 1;
	fail_nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (fail_nth_fd < 0) {
		perror("dmfuzz: fail-nth");
		return 2;
	}
	names[0] = "fz_fault";
	types[0] = "rcrypt";
	simple(0, DM_DEV_REMOVE, 0);
	if (simple(0, DM_DEV_CREATE, 0)) {
		perror("dmfuzz: DM_DEV_CREATE");
		return 2;
	}
	/*
	 * Round n fails the n-th slab or page allocation of the table load
	 * (the task's fail-nth, whatever the failslab / fail_page_alloc
	 * probabilities); the sweep ends with the first load that makes
	 * fewer allocations than that. The first 32 in a row, then every
	 * STRIDE-th.
	 */
	for (n = 1; n < 100000; n += n < 32 ? 1 : stride) {
		int err;

		set_fail_nth(n);
		err = load(0, len, params);
		if (get_fail_nth()) {
			set_fail_nth(0);
			if (!err && simple(0, DM_TABLE_CLEAR, 0)) {
				perror("dmfuzz: DM_TABLE_CLEAR");
				return 2;
			}
			break; /* no allocation failed: past the last one */
		}
		rounds++;
		if (err) {
			failed++;
		} else {
			ok++;
			if (simple(0, DM_TABLE_CLEAR, 0)) {
				perror("dmfuzz: DM_TABLE_CLEAR");
				return 2;
			}
		}
	}
	/* Without faults the table loads, and the device can be removed. */
	if (load(0, len, params) || simple(0, DM_DEV_SUSPEND, 0)) {
		printf("dmfuzz: the table does not load after the sweep\n");
		return 1;
	}
	if (simple(0, DM_DEV_REMOVE, 0)) {
		printf("dmfuzz: cannot remove fz_fault\n");
		return 1;
	}
	printf("dmfuzz: constructor sweep (every %lu-th allocation after the first 32): "
	       "%lu allocations failed one at a time, %lu loads failed, %lu succeeded; "
	       "a load makes about %lu allocation calls\n", stride, rounds, failed, ok, n);
	return failed ? 0 : 1;
}

/* The known contents of chunk `i`. */
static void pattern(unsigned char *buf, size_t len, unsigned long i)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);

	for (size_t k = 0; k < len; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[k] = (unsigned char)x;
	}
}

static int do_fault_io(const char *dev, unsigned long chunks)
{
	const size_t sz = 65536;
	unsigned char *want, *got;
	unsigned char *written = calloc(chunks, 1);
	unsigned long w_ok = 0, w_err = 0, w_short = 0, r_ok = 0, r_err = 0, bad = 0;
	int fd = open(dev, O_RDWR | O_DIRECT);

	if (fd < 0 || !written || posix_memalign((void **)&want, 4096, sz) ||
	    posix_memalign((void **)&got, 4096, sz)) {
		perror("dmfuzz: fault-io setup");
		return 2;
	}
	for (unsigned long i = 0; i < chunks; i++) {
		ssize_t n;

		pattern(want, sz, i);
		tag(1);
		n = pwrite(fd, want, sz, (off_t)(i * sz));
		tag(0);
		if (n == (ssize_t)sz) {
			written[i] = 1;
			w_ok++;
		} else if (n < 0) {
			w_err++;
		} else {
			w_short++;
		}
	}
	for (unsigned long i = 0; i < chunks; i++) {
		ssize_t n;

		if (!written[i])
			continue;
		pattern(want, sz, i);
		tag(1);
		n = pread(fd, got, sz, (off_t)(i * sz));
		tag(0);
		if (n != (ssize_t)sz) {
			r_err++;
		} else if (memcmp(want, got, sz)) {
			printf("dmfuzz: chunk %lu: a whole read under faults returned wrong data\n", i);
			bad++;
		} else {
			r_ok++;
		}
	}
	for (unsigned long i = 0; i < chunks; i++) {
		if (!written[i])
			continue;
		pattern(want, sz, i);
		if (pread(fd, got, sz, (off_t)(i * sz)) != (ssize_t)sz || memcmp(want, got, sz)) {
			printf("dmfuzz: chunk %lu: written successfully, does not read back\n", i);
			bad++;
		}
	}
	close(fd);
	printf("dmfuzz: under faults: writes %lu ok, %lu failed, %lu short; reads %lu ok, %lu failed; "
	       "%lu chunks wrong\n", w_ok, w_err, w_short, r_ok, r_err, bad);
	return bad ? 1 : 0;
}

/* dmfuzz odirect r|w DEVICE FILE SHIFT [OFFSET]: see the top of the file. */
static int do_odirect(const char *op, const char *dev, const char *file, size_t shift, off_t offset)
{
	int fd, ffd, write_op = !strcmp(op, "w");
	struct stat st;
	size_t len;
	ssize_t n;
	char *mem;

	ffd = open(file, O_RDONLY);
	if (ffd < 0 || fstat(ffd, &st) || shift >= 4096) {
		perror("dmfuzz odirect: file");
		return 1;
	}
	len = st.st_size;
	if (posix_memalign((void **)&mem, 4096, len + 8192)) {
		perror("dmfuzz odirect: memory");
		return 1;
	}
	if (write_op && read(ffd, mem + shift, len) != (ssize_t)len) {
		perror("dmfuzz odirect: read file");
		return 1;
	}
	close(ffd);
	fd = open(dev, (write_op ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		perror("dmfuzz odirect: device");
		return 1;
	}
	n = write_op ? pwrite(fd, mem + shift, len, offset) : pread(fd, mem + shift, len, offset);
	if (n < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 0;
	}
	if ((size_t)n != len) {
		printf("short transfer: %zd of %zu\n", n, len);
		return 1;
	}
	if (!write_op) {
		ffd = open(file, O_WRONLY | O_TRUNC);
		if (ffd < 0 || write(ffd, mem + shift, len) != (ssize_t)len) {
			perror("dmfuzz odirect: write file");
			return 1;
		}
		close(ffd);
	}
	close(fd);
	printf("ok\n");
	return 0;
}

/*
 * `dmfuzz classify`: the verdict comparison on recorded outcomes, so that a
 * classifier that hides a mismatch, or reports a known difference as one,
 * fails before any table is loaded. Returns the number of wrong verdicts.
 */
static int do_classify(void)
{
	static const char range[] =
		"device-mapper: table: DEV: TARGET: Device sector plus target length overflows (-22)\n"
		"device-mapper: ioctl: error adding target to table\n";
	static const char ecb_warn[] = "device-mapper: TARGET: Selected cipher does not support IVs\n";
	static const struct {
		const char *what, *params;
		unsigned long long len;
		int crypt_err, rcrypt_err;
		const char *crypt_log, *rcrypt_log_head;
		int want_mismatch;
	} cases[] = {
		{ "overflow only", "aes-xts-plain64 00 0 /dev/ram0 18446744073709551615", 8,
		  0, EINVAL, "", "", 0 },
		/* make stress, seed 4189384720: a warning both log, then the overflow. */
		{ "overflow after a warning both log", "aes-ecb-bogus 00 0 /dev/ram0 18446744073709551608", 8,
		  0, EINVAL, ecb_warn, ecb_warn, 0 },
		{ "overflow after a line only rcrypt logs", "aes-ecb-bogus 00 0 /dev/ram0 18446744073709551608", 8,
		  0, EINVAL, "", ecb_warn, 1 },
		{ "overflow message without an overflow", "aes-xts-plain64 00 0 /dev/ram0 0", 8,
		  0, EINVAL, "", "", 1 },
	};
	int wrong = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct outcome o[2];
		unsigned long before = mismatches;

		o[0].err = cases[i].crypt_err;
		snprintf(o[0].log, sizeof(o[0].log), "%s", cases[i].crypt_log);
		o[1].err = cases[i].rcrypt_err;
		snprintf(o[1].log, sizeof(o[1].log), "%s%s", cases[i].rcrypt_log_head, range);
		shown = MAX_SHOWN;
		compare("classify", i, cases[i].params, o, cases[i].len, cases[i].params);
		if ((mismatches != before) != cases[i].want_mismatch) {
			printf("dmfuzz: classify: \"%s\" %s\n", cases[i].what,
			       cases[i].want_mismatch ? "not reported" : "reported as a mismatch");
			wrong++;
		}
	}
	printf("dmfuzz: classify: %zu cases, %d wrong\n", sizeof(cases) / sizeof(cases[0]), wrong);
	return wrong;
}

int main(int argc, char **argv)
{
	FILE *f;

	if (argc == 2 && !strcmp(argv[1], "classify"))
		return do_classify() ? 1 : 0;

	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "odirect") &&
	    (!strcmp(argv[2], "r") || !strcmp(argv[2], "w")))
		return do_odirect(argv[2], argv[3], argv[4], strtoul(argv[5], NULL, 0),
				  argc == 7 ? (off_t)strtoull(argv[6], NULL, 0) : 0);

	if (argc == 4 && (!strcmp(argv[1], "fault-loads") || !strcmp(argv[1], "fault-io"))) {
		make_it_fail = open("/proc/self/make-it-fail", O_WRONLY);
		ctl = open("/dev/mapper/control", O_RDWR);
		if (make_it_fail < 0 || ctl < 0) {
			perror("dmfuzz: open");
			return 2;
		}
		setvbuf(stdout, NULL, _IOLBF, 0);
		if (!strcmp(argv[1], "fault-loads"))
			return do_fault_loads(strtoull(argv[2], NULL, 0), argv[3]);
		return do_fault_io(argv[2], strtoul(argv[3], NULL, 0));
	}
	if (argc != 3 || (strcmp(argv[1], "tables") && strcmp(argv[1], "messages"))) {
		fprintf(stderr, "usage: dmfuzz tables|messages FILE\n"
				"       dmfuzz fault-loads LENGTH PARAMS\n"
				"       dmfuzz fault-io DEVICE CHUNKS\n"
				"       dmfuzz odirect r|w DEVICE FILE SHIFT [OFFSET]\n"
				"       dmfuzz classify\n");
		return 2;
	}
	f = fopen(argv[2], "r");
	ctl = open("/dev/mapper/control", O_RDWR);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (!f || ctl < 0 || kmsg < 0) {
		perror("dmfuzz: open");
		return 2;
	}
	lseek(kmsg, 0, SEEK_END);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "tables"))
		do_tables(f);
	else
		do_messages(f);
	if (range_only)
		printf("dmfuzz: %lu refused by rcrypt only, start + length past 2^64 - 1, apart\n",
		       range_only);
	if (bad_lengths)
		printf("dmfuzz: %lu lengths not below 2^64, not loaded\n", bad_lengths);
	if (splats)
		printf("dmfuzz: %lu kernel records looked like a splat\n", splats);
	return mismatches || splats ? 1 : 0;
}
