// SPDX-License-Identifier: GPL-2.0
/*
 * diosweep: direct I/O from buffers at every offset within a page.
 *
 *   diosweep DEV REF SS ALIGN [REF_ALIGN]
 *
 * For buffer offsets 4, 8, ..., 508 and 512, 1024, ..., 3584 bytes into a
 * page-aligned buffer, and lengths of 1 to 8 sectors of SS bytes, writes
 * pseudo-random data to DEV with O_DIRECT from the buffer at that offset:
 * the write must succeed where the offset is a multiple of ALIGN + 1 (DEV's
 * dma_alignment; its logical block size is SS) and fail with EINVAL where it
 * is not. Each write that succeeded is read back through REF (another
 * mapping of the same data, e.g. crypt over the same device) with an aligned
 * buffer, and through DEV into a buffer at the same offset, and both must
 * equal what was written. With REF_ALIGN, REF's own unaligned writes are
 * tried once per offset and must get EINVAL where the offset is not a
 * multiple of REF_ALIGN + 1 (and succeed where it is).
 *
 * Prints a summary line; exits 0 if every verdict and every byte was as
 * expected, 1 otherwise (the first few differences are printed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <unistd.h>

#define PAGE 4096
#define MAX_SECTORS 8

static unsigned int bad;

static void fail(const char *fmt, unsigned int off, unsigned int len, const char *what)
{
	if (++bad <= 10)
		printf(fmt, off, len, what);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		p[i] = (unsigned char)rng;
	}
}

static int open_dev(const char *path, uint64_t *size)
{
	int fd = open(path, O_RDWR | O_DIRECT);

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, size) < 0) {
		perror(path);
		exit(2);
	}
	return fd;
}

int main(int argc, char **argv)
{
	unsigned int ss, align, ref_align = 0, writes = 0, accepted = 0, refused = 0;
	unsigned int unaligned_ok = 0, ref_checked = 0;
	unsigned char *buf, *rbuf, *data;
	uint64_t size, rsize, pos = 0;
	int fd, rfd;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: %s DEV REF SS ALIGN [REF_ALIGN]\n", argv[0]);
		return 2;
	}
	ss = strtoul(argv[3], NULL, 0);
	align = strtoul(argv[4], NULL, 0);
	if (argc == 6)
		ref_align = strtoul(argv[5], NULL, 0);
	if (ss < 512 || ss > PAGE || (ss & (ss - 1))) {
		fprintf(stderr, "bad sector size %u\n", ss);
		return 2;
	}
	fd = open_dev(argv[1], &size);
	rfd = open_dev(argv[2], &rsize);
	if (rsize < size)
		size = rsize;
	if (size < (uint64_t)MAX_SECTORS * ss * 2) {
		fprintf(stderr, "devices too small\n");
		return 2;
	}
	if (posix_memalign((void **)&buf, PAGE, PAGE + MAX_SECTORS * PAGE) ||
	    posix_memalign((void **)&rbuf, PAGE, PAGE + MAX_SECTORS * PAGE) ||
	    !(data = malloc(MAX_SECTORS * PAGE)))
		return 2;

	for (unsigned int off = 4; off <= 3584; off += off < 512 ? 4 : 512) {
		for (unsigned int n = 1; n <= MAX_SECTORS; n++) {
			size_t len = (size_t)n * ss;
			int ok_expected = off % (align + 1) == 0;
			ssize_t r;

			if (pos + len > size)
				pos = 0;
			fill(data, len);
			memcpy(buf + off, data, len);
			writes++;
			r = pwrite(fd, buf + off, len, pos);
			if (r < 0 && errno == EINVAL) {
				refused++;
				if (ok_expected)
					fail("offset %u, %u bytes: %s\n", off, (unsigned int)len,
					     "write refused (EINVAL) at an allowed alignment");
				continue;
			}
			if (r != (ssize_t)len) {
				fail("offset %u, %u bytes: %s\n", off, (unsigned int)len,
				     r < 0 ? strerror(errno) : "short write");
				continue;
			}
			accepted++;
			if (!ok_expected)
				fail("offset %u, %u bytes: %s\n", off, (unsigned int)len,
				     "write accepted below the DMA alignment");
			if (off % ss)
				unaligned_ok++;
			/* Through REF, aligned. */
			memset(rbuf, 0, len);
			if (pread(rfd, rbuf, len, pos) != (ssize_t)len || memcmp(rbuf, data, len))
				fail("offset %u, %u bytes: %s\n", off, (unsigned int)len,
				     "reference read differs");
			/* Through DEV, at the same offset. */
			memset(rbuf, 0, PAGE + len);
			if (pread(fd, rbuf + off, len, pos) != (ssize_t)len ||
			    memcmp(rbuf + off, data, len))
				fail("offset %u, %u bytes: %s\n", off, (unsigned int)len,
				     "read at the offset differs");
			pos += len;
		}
		if (argc == 6) {
			/* REF's own verdict for one sector at this offset. */
			int ok = off % (ref_align + 1) == 0;
			ssize_t r = pwrite(rfd, buf + off, ss, 0);

			ref_checked++;
			if (ok ? r != (ssize_t)ss : !(r < 0 && errno == EINVAL))
				fail("offset %u, %u bytes: %s\n", off, ss,
				     ok ? "reference refused an aligned write"
					: "reference did not refuse an unaligned write with EINVAL");
		}
	}
	printf("ss=%u align=%u: %u writes, %u accepted (%u from buffers not aligned to the sector), "
	       "%u refused with EINVAL; %u reference verdicts; %u wrong\n",
	       ss, align, writes, accepted, unaligned_ok, refused, ref_checked, bad);
	return bad ? 1 : 0;
}
