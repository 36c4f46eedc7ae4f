// Baseline for test/bench/kernel-mapops.bench.ts: the same map operations through raw
// bpf(2) from C. Map: HASH, 8-byte key, 16-byte value, 65536 entries (preallocated).
// Prints one line per figure for one repetition of the
// phases named on the command line (single, batch; default both), as
// "<name> <wall ns> <thread cpu ns>" per element:
//   single updates: 100000 with key = i % 65536 (65536 inserts, then overwrites)
//   single lookups: 100000 hits; single deletes: 65536
//   batched (chunks of 1000) on a fresh map: 100000 updates, a dump of 65536, 65536 deletes
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ENTRIES 65536
#define UPDATES 100000
#define LOOKUPS 100000
#define CHUNK 1000

static long sys_bpf(int cmd, union bpf_attr *attr, unsigned int size)
{
	return syscall(__NR_bpf, cmd, attr, size);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Wall-clock and this thread's CPU time (robust to other processes on a shared
 * machine), started together and reported per element. */
struct stopwatch {
	uint64_t wall, cpu;
};

static struct stopwatch start_watch(void)
{
	struct stopwatch w = { clock_ns(CLOCK_MONOTONIC), clock_ns(CLOCK_THREAD_CPUTIME_ID) };
	return w;
}

static void report(const char *name, struct stopwatch w, int count)
{
	uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID), wall = clock_ns(CLOCK_MONOTONIC);
	printf("%s %.1f %.1f\n", name, (double)(wall - w.wall) / count, (double)(cpu - w.cpu) / count);
}

/* Lets the kernel finish freeing maps closed just before (deferred work), as the
 * TypeScript side does, so neither side times the other's cleanup. */
static void settle(void)
{
	usleep(50000);
}

static int create_map(void)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_HASH;
	attr.key_size = 8;
	attr.value_size = 16;
	attr.max_entries = ENTRIES;
	int fd = (int)sys_bpf(BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd < 0) {
		perror("map create");
		exit(1);
	}
	settle();
	return fd;
}

static void check(long ret, const char *what)
{
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", what, strerror(errno));
		exit(1);
	}
}

static void elem_op(const char *name, int fd, int cmd, uint64_t *key, void *value, int count, int mod, int set_value)
{
	union bpf_attr attr;
	struct stopwatch w = start_watch();
	for (int i = 0; i < count; i++) {
		*key = (uint64_t)(i % mod);
		if (set_value)
			*(uint32_t *)value = (uint32_t)i;
		memset(&attr, 0, 32);
		attr.map_fd = (uint32_t)fd;
		attr.key = (uint64_t)(uintptr_t)key;
		attr.value = (uint64_t)(uintptr_t)value;
		check(sys_bpf(cmd, &attr, 32), "element op");
	}
	report(name, w, count);
}

static void batch_update(int fd, uint64_t *keys, uint8_t *values)
{
	union bpf_attr attr;
	struct stopwatch w = start_watch();
	for (int done = 0; done < UPDATES; done += CHUNK) {
		for (int i = 0; i < CHUNK; i++) {
			keys[i] = (uint64_t)((done + i) % ENTRIES);
			*(uint32_t *)(values + i * 16) = (uint32_t)(done + i);
		}
		memset(&attr, 0, 56);
		attr.batch.keys = (uint64_t)(uintptr_t)keys;
		attr.batch.values = (uint64_t)(uintptr_t)values;
		attr.batch.count = CHUNK;
		attr.batch.map_fd = (uint32_t)fd;
		check(sys_bpf(BPF_MAP_UPDATE_BATCH, &attr, 56), "batch update");
	}
	report("batch-update", w, UPDATES);
}

static void batch_lookup(int fd, uint64_t *keys, uint8_t *values, int *total)
{
	union bpf_attr attr;
	uint32_t in_token = 0, out_token = 0;
	int first = 1;
	*total = 0;
	struct stopwatch w = start_watch();
	for (;;) {
		memset(&attr, 0, 56);
		attr.batch.in_batch = first ? 0 : (uint64_t)(uintptr_t)&in_token;
		attr.batch.out_batch = (uint64_t)(uintptr_t)&out_token;
		attr.batch.keys = (uint64_t)(uintptr_t)keys;
		attr.batch.values = (uint64_t)(uintptr_t)values;
		attr.batch.count = CHUNK;
		attr.batch.map_fd = (uint32_t)fd;
		long ret = sys_bpf(BPF_MAP_LOOKUP_BATCH, &attr, 56);
		*total += (int)attr.batch.count;
		if (ret < 0 && errno == ENOENT)
			break;
		check(ret, "batch lookup");
		in_token = out_token;
		first = 0;
	}
	report("batch-lookup", w, *total);
}

static void batch_delete(int fd, uint64_t *keys)
{
	union bpf_attr attr;
	struct stopwatch w = start_watch();
	for (int done = 0; done < ENTRIES; done += CHUNK) {
		int n = ENTRIES - done < CHUNK ? ENTRIES - done : CHUNK;
		for (int i = 0; i < n; i++)
			keys[i] = (uint64_t)(done + i);
		memset(&attr, 0, 56);
		attr.batch.keys = (uint64_t)(uintptr_t)keys;
		attr.batch.count = (uint32_t)n;
		attr.batch.map_fd = (uint32_t)fd;
		check(sys_bpf(BPF_MAP_DELETE_BATCH, &attr, 56), "batch delete");
	}
	report("batch-delete", w, ENTRIES);
}

static int wanted(int argc, char **argv, const char *phase)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], phase) == 0)
			return 1;
	return 0;
}

static void single_phase(void)
{
	uint64_t key = 0;
	uint8_t value[16] = { 0 };
	int fd = create_map();
	elem_op("update", fd, BPF_MAP_UPDATE_ELEM, &key, value, UPDATES, ENTRIES, 1);
	elem_op("lookup", fd, BPF_MAP_LOOKUP_ELEM, &key, value, LOOKUPS, ENTRIES, 0);
	elem_op("delete", fd, BPF_MAP_DELETE_ELEM, &key, NULL, ENTRIES, ENTRIES, 0);
	close(fd);
}

static void batch_phase(void)
{
	uint64_t *keys = calloc(CHUNK, sizeof(uint64_t));
	uint8_t *values = calloc(CHUNK, 16);
	int total = 0;
	int fd = create_map();
	batch_update(fd, keys, values);
	batch_lookup(fd, keys, values, &total);
	if (total != ENTRIES) {
		fprintf(stderr, "batch lookup returned %d entries\n", total);
		exit(1);
	}
	batch_delete(fd, keys);
	close(fd);
	free(keys);
	free(values);
}

int main(int argc, char **argv)
{
	if (wanted(argc, argv, "single"))
		single_phase();
	if (wanted(argc, argv, "batch"))
		batch_phase();
	return 0;
}
