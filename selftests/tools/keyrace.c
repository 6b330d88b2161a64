// SPDX-License-Identifier: GPL-2.0
/*
 * keyrace: "key wipe" racing resume on an rcrypt device, over the raw DM
 * ioctls (a message lands within microseconds of the resume, which
 * dmsetup's process per call cannot aim at).
 *
 *   keyrace NAME DATAFILE KEYHEX ROUNDS [MSGFILE]
 *
 * NAME is an active rcrypt device whose first bytes hold DATAFILE's
 * (written with KEYHEX, its key; /dev/mapper/NAME must exist); messages go
 * to its target at sector 0, which must hold at least the first 64 KiB. A
 * table of several targets widens the window aimed at below: device-mapper
 * runs every target's preresume before the first target's resume. Each round
 * suspends the device, then resumes it while a second thread sends "key
 * wipe" a moment before or after the resume ioctl begins. The moment moves
 * from round to round towards the window between the target's preresume
 * (which checks the key) and its resume: later after a wipe that came
 * before preresume (the resume was refused), earlier after a wipe that came
 * after resume (refused as not suspended). Then:
 *
 *  - resume refused: the wipe must have succeeded;
 *  - both succeeded (the wipe fell in the window): the device runs without
 *    a valid key, and a read and a write must both fail (not use the
 *    wipe's random key);
 *  - wipe refused: a read must return DATAFILE's bytes and a write of the
 *    same bytes must succeed.
 *
 * With MSGFILE (dmfuzz's message script: its "msg<TAB>TEXT" lines), every
 * other round races one of those messages, picked at random, instead of
 * "key wipe" (bad hex, other keys, other sizes, unknown words): whatever
 * it did, the round's end must hold.
 *
 * After each round "key set KEYHEX" and a resume must succeed and the data
 * read back right. Prints the count of each outcome; exits 1 on any
 * violation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 16384
#define CHUNK 65536

static int ctl = -1;
static const char *name;

static struct dm_ioctl *dmi(char *buf, uint32_t flags)
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
static int suspend_resume(int suspend)
{
	char buf[BUF_SIZE];

	dmi(buf, suspend ? DM_SUSPEND_FLAG : 0);
	return ioctl(ctl, DM_DEV_SUSPEND, buf) ? errno : 0;
}

static int message(const char *text)
{
	char buf[BUF_SIZE];
	struct dm_ioctl *io = dmi(buf, 0);
	struct dm_target_msg *m = (void *)(buf + sizeof(*io));

	if (sizeof(*io) + sizeof(*m) + strlen(text) + 1 > BUF_SIZE)
		return E2BIG;
	m->sector = 0;
	strcpy(m->message, text);
	return ioctl(ctl, DM_TARGET_MSG, buf) ? errno : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Both threads wait for the start time; then the wiper waits `wipe_wait`
 * ns and sends "key wipe", the main thread waits `resume_wait` ns and
 * resumes.
 */
static _Atomic uint64_t start_at;
static uint64_t wipe_wait, resume_wait;
static int wipe_err;
static const char *race_msg = "key wipe";

static void wait_start(uint64_t ns)
{
	uint64_t t0;

	while (!(t0 = atomic_load(&start_at)))
		;
	while (now_ns() < t0 + ns)
		;
}

static void *wiper(void *arg)
{
	(void)arg;
	wait_start(wipe_wait);
	wipe_err = message(race_msg);
	return NULL;
}

/* 0, or the errno of a failed or short O_DIRECT transfer of CHUNK bytes. */
static int transfer(int write, void *buf, off_t off)
{
	char path[300];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "/dev/mapper/%s", name);
	fd = open(path, (write ? O_WRONLY : O_RDONLY) | O_DIRECT);
	if (fd < 0)
		return errno;
	n = write ? pwrite(fd, buf, CHUNK, off) : pread(fd, buf, CHUNK, off);
	err = n < 0 ? errno : (n == CHUNK ? 0 : EIO);
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long rounds, refused = 0, keyless = 0, late = 0, fuzzed = 0, bad = 0;
	static char msgs[1024][512];
	size_t nmsgs = 0;
	/* The wipe's lead (< 0) or lag (> 0) on the resume, ns. */
	int64_t step = 16000, offset = 0;
	int last = 0; /* +1: the last move was later, -1: earlier */
	static char setkey[1024];
	unsigned char *data, *io;
	off_t chunks;
	FILE *f;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: keyrace NAME DATAFILE KEYHEX ROUNDS [MSGFILE]\n");
		return 2;
	}
	if (argc == 6) {
		char line[sizeof(msgs[0]) + 8];

		f = fopen(argv[5], "r");
		if (!f)
			return perror(argv[5]), 2;
		while (nmsgs < sizeof(msgs) / sizeof(msgs[0]) && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "msg\t", 4))
				continue;
			line[strcspn(line, "\n")] = 0;
			snprintf(msgs[nmsgs++], sizeof(msgs[0]), "%s", line + 4);
		}
		fclose(f);
	}
	name = argv[1];
	rounds = strtoul(argv[4], NULL, 10);
	snprintf(setkey, sizeof(setkey), "key set %s", argv[3]);
	if (posix_memalign((void **)&data, 4096, 16 * CHUNK) || posix_memalign((void **)&io, 4096, CHUNK))
		return 2;
	f = fopen(argv[2], "rb");
	if (!f)
		return perror(argv[2]), 2;
	chunks = (off_t)(fread(data, 1, 16 * CHUNK, f) / CHUNK);
	fclose(f);
	if (!chunks)
		return fprintf(stderr, "keyrace: %s: under 64 KiB\n", argv[2]), 2;
	ctl = open("/dev/mapper/control", O_RDWR);
	if (ctl < 0)
		return perror("/dev/mapper/control"), 2;

	for (unsigned long r = 1; r <= rounds && bad < 5; r++) {
		/* The first 64 KiB: the part of the device the message's target
		 * (the one at sector 0) holds, in a table of several. */
		off_t c = 0;
		unsigned char *want = data + c * CHUNK;
		pthread_t t;
		int rerr, err;

		if ((err = suspend_resume(1))) {
			printf("round %lu: suspend: %s\n", r, strerror(err));
			bad++;
			break;
		}
		atomic_store(&start_at, 0);
		{
			/* A little jitter, so that the wipe is not aimed at one spot. */
			int64_t o = offset + rand() % (step + 1) - step / 2;

			wipe_wait = o > 0 ? (uint64_t)o : 0;
			resume_wait = o < 0 ? (uint64_t)-o : 0;
		}
		race_msg = nmsgs && r % 2 ? msgs[(size_t)rand() % nmsgs] : "key wipe";
		pthread_create(&t, NULL, wiper, NULL);
		/* Let the wiper reach its wait before the start. */
		usleep(1000);
		atomic_store(&start_at, now_ns());
		wait_start(resume_wait);
		rerr = suspend_resume(0);
		pthread_join(t, NULL);

		if (strcmp(race_msg, "key wipe")) {
			/* A fuzzed message: only the end of the round is checked. */
			fuzzed++;
		} else if (rerr) {
			/* Refused: the wipe came before preresume. */
			if (wipe_err) {
				printf("round %lu: resume refused (%s) though the wipe was refused (%s)\n", r,
				       strerror(rerr), strerror(wipe_err));
				bad++;
			}
			refused++;
			/* A binary search for the edge, which noise moves. */
			if (last < 0 && step > 250)
				step /= 2;
			last = 1;
			offset += step;
		} else if (wipe_err) {
			/* The wipe came after resume: the device has its key. */
			if ((err = transfer(0, io, c * CHUNK)) || memcmp(io, want, CHUNK)) {
				printf("round %lu: the wipe was refused, yet a read %s\n", r,
				       err ? strerror(err) : "returned wrong data");
				bad++;
			} else if ((err = transfer(1, want, c * CHUNK))) {
				printf("round %lu: the wipe was refused, yet a write failed: %s\n", r, strerror(err));
				bad++;
			}
			late++;
			if (last > 0 && step > 250)
				step /= 2;
			last = -1;
			offset -= step;
		} else {
			/* Both succeeded: running without a valid key. */
			if (!transfer(0, io, c * CHUNK)) {
				printf("round %lu: a read succeeded after the key was wiped (%s data)\n", r,
				       memcmp(io, want, CHUNK) ? "wrong" : "right");
				bad++;
			}
			if (!transfer(1, want, c * CHUNK)) {
				printf("round %lu: a write succeeded after the key was wiped\n", r);
				bad++;
			}
			keyless++;
		}
		if (!rerr && (err = suspend_resume(1))) {
			printf("round %lu: suspend: %s\n", r, strerror(err));
			bad++;
			break;
		}
		if ((err = message(setkey))) {
			printf("round %lu: key set: %s\n", r, strerror(err));
			bad++;
			break;
		}
		if ((err = suspend_resume(0))) {
			printf("round %lu: resume after key set: %s\n", r, strerror(err));
			bad++;
			break;
		}
		if ((err = transfer(0, io, c * CHUNK)) || memcmp(io, want, CHUNK)) {
			printf("round %lu: after key set and resume, a read %s\n", r,
			       err ? strerror(err) : "returned wrong data");
			bad++;
		}
	}
	memset(setkey, 0, sizeof(setkey));
	printf("keyrace: %lu rounds: wipe before preresume (resume refused) %lu, "
	       "between preresume and resume (device keyless, I/O failed) %lu, after resume (refused) %lu, "
	       "fuzzed messages %lu; final offset of the wipe %lld ns; %lu violations\n",
	       rounds, refused, keyless, late, fuzzed, (long long)offset, bad);
	return bad ? 1 : 0;
}
