// SPDX-License-Identifier: GPL-2.0
/*
 * tbprof: a QEMU TCG plugin for `make profile`. It counts how often each
 * translated block runs; a block's count times its instruction count is the
 * guest instructions executed there, which tools/perf/profile-report
 * attributes to the guest's /proc/kallsyms.
 *
 * Arguments: ctl=PATH, a file polled every 50 ms whose lines are commands:
 *   reset        zero every count (start a window)
 *   dump PATH    write "<hex address> <instructions> <count> <entries>"
 *                per block that ran since the last reset to PATH (end a
 *                window)
 * <entries> counts the runs of a block entered from a block on other pages:
 * in system emulation TCG chains a jump to the next block only within the
 * pages of the block it leaves, so each of these went through the
 * emulator's block lookup (as every indirect jump and return does too).
 * The file is deleted once its commands ran. Counts are exact with one
 * guest thread (-icount or one vCPU), as `make profile` runs QEMU.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* One record per (address, length): a block may be translated again with
 * another length; records are never freed (generated code points at them). */
struct block {
	uint64_t addr;
	uint64_t insns;
	uint64_t count;		/* incremented by the generated code */
	uint64_t base;		/* count at the last reset */
	uint64_t last_page;	/* page of the block's last instruction */
	uint64_t entries;	/* runs entered from a block on other pages */
	uint64_t entries_base;	/* entries at the last reset */
};

/* Pages of the block that ran last (one guest thread: see above). */
static uint64_t prev_first = UINT64_MAX, prev_last = UINT64_MAX;

static GMutex lock;
static GHashTable *blocks;
static char *ctl_path;
static GThread *ctl_thread;
static gint quit;

static guint block_hash(gconstpointer p)
{
	const struct block *b = p;
	uint64_t h = b->addr * 0x9e3779b97f4a7c15ULL ^ b->insns;

	return (guint)(h ^ (h >> 32));
}

static gboolean block_equal(gconstpointer a, gconstpointer b)
{
	const struct block *x = a, *y = b;

	return x->addr == y->addr && x->insns == y->insns;
}

static void tb_exec(unsigned int vcpu, void *udata)
{
	struct block *b = udata;
	uint64_t page = b->addr >> 12;

	if (page != prev_first && page != prev_last)
		b->entries++;
	prev_first = page;
	prev_last = b->last_page;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct block key = { qemu_plugin_tb_vaddr(tb), qemu_plugin_tb_n_insns(tb) };
	struct block *b;

	struct qemu_plugin_insn *last = qemu_plugin_tb_get_insn(tb, key.insns - 1);

	key.last_page = (qemu_plugin_insn_vaddr(last) + qemu_plugin_insn_size(last) - 1) >> 12;
	g_mutex_lock(&lock);
	b = g_hash_table_lookup(blocks, &key);
	if (!b) {
		b = g_new0(struct block, 1);
		*b = key;
		g_hash_table_add(blocks, b);
	}
	g_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->count, 1);
	qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void command(char *line)
{
	GHashTableIter it;
	gpointer p;

	g_strstrip(line);
	g_hash_table_iter_init(&it, blocks);
	if (!strcmp(line, "reset")) {
		while (g_hash_table_iter_next(&it, &p, NULL)) {
			((struct block *)p)->base = ((struct block *)p)->count;
			((struct block *)p)->entries_base = ((struct block *)p)->entries;
		}
	} else if (!strncmp(line, "dump ", 5)) {
		FILE *f = fopen(g_strstrip(line + 5), "w");

		if (!f) {
			fprintf(stderr, "tbprof: %s: %s\n", line + 5, strerror(errno));
			return;
		}
		while (g_hash_table_iter_next(&it, &p, NULL)) {
			struct block *b = p;

			if (b->count != b->base)
				fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", b->addr,
					b->insns, b->count - b->base, b->entries - b->entries_base);
		}
		fclose(f);
	} else if (*line) {
		fprintf(stderr, "tbprof: unknown command '%s'\n", line);
	}
}

static gpointer ctl_loop(gpointer unused)
{
	while (!g_atomic_int_get(&quit)) {
		g_autofree char *buf = NULL;

		g_usleep(50 * 1000);
		if (!g_file_get_contents(ctl_path, &buf, NULL, NULL))
			continue;
		g_auto(GStrv) lines = g_strsplit(buf, "\n", -1);
		g_mutex_lock(&lock);
		for (int i = 0; lines[i]; i++)
			command(lines[i]);
		g_mutex_unlock(&lock);
		unlink(ctl_path);
	}
	return NULL;
}

static void plugin_exit(qemu_plugin_id_t id, void *p)
{
	g_atomic_int_set(&quit, 1);
	g_thread_join(ctl_thread);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "ctl=", 4))
			ctl_path = g_strdup(argv[i] + 4);
	}
	if (!ctl_path) {
		fprintf(stderr, "tbprof: ctl=PATH is required\n");
		return -1;
	}
	blocks = g_hash_table_new(block_hash, block_equal);
	unlink(ctl_path);
	ctl_thread = g_thread_new("tbprof-ctl", ctl_loop, NULL);
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
	return 0;
}
