// Probes of what a durable commit's write and sync cost on this machine, beside the store:
// whether CPU work can hide behind the write, and what the idle vCPU's halt costs.
//
//   cc -O2 -pthread -o /tmp/sync-overlap Benchmarks/probes/sync-overlap.c
//   /tmp/sync-overlap overlap DIR CPU_US COUNT   # three orders of CPU work and write+sync
//   /tmp/sync-overlap spinner DIR COUNT          # pwrite+fdatasync with idle spinners
//
// `overlap` times COUNT 200-byte writes over preallocated zeros, each made durable, with
// CPU_US microseconds of busy work per write: (serial) before a buffered pwrite and fdatasync;
// (overlapped) between sync_file_range(SYNC_FILE_RANGE_WRITE), which starts the write, and the
// fdatasync that waits for it; (direct) before one O_DIRECT | O_DSYNC write of the block.
// `spinner` times pwrite and fdatasync alone, then with a SCHED_IDLE thread spinning on the
// writer's CPU, on the other CPU, and on both: a CPU that never idles is never halted.
// Microseconds per write go to standard output. Documentation/Benchmarks.md has the figures.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void busy(double microseconds) {
  double end = now_seconds() + microseconds * 1e-6;
  while (now_seconds() < end) {
  }
}

// A file of `count` 200-byte records' worth of zeros (plus a block), written and synced, so
// that every timed write lands on allocated, initialized blocks.
static int zeroed_file(const char *path, int count) {
  int file = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (file < 0) { perror("open"); exit(1); }
  size_t size = (size_t)count * 200 + 8192;
  char *zeros = calloc(1, size);
  if (!zeros || write(file, zeros, size) != (ssize_t)size || fsync(file) != 0) {
    perror("preallocate");
    exit(1);
  }
  free(zeros);
  return file;
}

static void check(int ok, const char *what) {
  if (!ok) { perror(what); exit(1); }
}

static void overlap(const char *directory, double cpu, int count) {
  char path[4096];
  snprintf(path, sizeof path, "%s/sync-overlap.probe", directory);
  char record[200];
  memset(record, 'x', sizeof record);
  const char *names[] = {"serial", "overlapped", "direct"};
  for (int mode = 0; mode < 3; mode++) {
    int file = zeroed_file(path, count);
    int direct = open(path, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
    check(direct >= 0, "open O_DIRECT");
    void *block;
    check(posix_memalign(&block, 4096, 8192) == 0, "posix_memalign");
    memset(block, 'x', 8192);
    double start = now_seconds();
    for (int index = 0; index < count; index++) {
      off_t offset = (off_t)index * 200;
      if (mode == 0) {
        busy(cpu);
        check(pwrite(file, record, 200, offset) == 200, "pwrite");
        check(fdatasync(file) == 0, "fdatasync");
      } else if (mode == 1) {
        check(pwrite(file, record, 200, offset) == 200, "pwrite");
        check(sync_file_range(file, offset, 200, SYNC_FILE_RANGE_WRITE) == 0, "sync_file_range");
        busy(cpu);
        check(fdatasync(file) == 0, "fdatasync");
      } else {
        busy(cpu);
        off_t first = offset & ~(off_t)4095;
        size_t length = (size_t)(((offset + 200 + 4095) & ~(off_t)4095) - first);
        check(pwrite(direct, block, length, first) == (ssize_t)length, "pwrite O_DIRECT");
      }
    }
    double seconds = now_seconds() - start;
    printf("{\"probe\":\"overlap\",\"mode\":\"%s\",\"cpu_us\":%.0f,\"us_per_write\":%.1f}\n",
           names[mode], cpu, seconds / count * 1e6);
    free(block);
    close(direct);
    close(file);
  }
  unlink(path);
}

static atomic_int stop_spinning;

static void *spin(void *argument) {
  int cpu = (int)(long)argument;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  struct sched_param parameters = {0};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &parameters);
  while (!atomic_load(&stop_spinning)) {
  }
  return NULL;
}

static void spinner(const char *directory, int count) {
  char path[4096];
  snprintf(path, sizeof path, "%s/sync-spinner.probe", directory);
  char record[200];
  memset(record, 'x', sizeof record);
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  check(sched_setaffinity(0, sizeof set, &set) == 0, "sched_setaffinity");
  const char *names[] = {"none", "same_cpu", "other_cpu", "both_cpus"};
  for (int mode = 0; mode < 4; mode++) {
    pthread_t threads[2];
    int started = 0;
    atomic_store(&stop_spinning, 0);
    if (mode == 1 || mode == 3) pthread_create(&threads[started++], NULL, spin, (void *)0L);
    if (mode == 2 || mode == 3) pthread_create(&threads[started++], NULL, spin, (void *)1L);
    int file = zeroed_file(path, count);
    double start = now_seconds();
    for (int index = 0; index < count; index++) {
      check(pwrite(file, record, 200, (off_t)index * 200) == 200, "pwrite");
      check(fdatasync(file) == 0, "fdatasync");
    }
    double seconds = now_seconds() - start;
    atomic_store(&stop_spinning, 1);
    for (int thread = 0; thread < started; thread++) pthread_join(threads[thread], NULL);
    printf("{\"probe\":\"spinner\",\"spinners\":\"%s\",\"us_per_write\":%.1f}\n", names[mode],
           seconds / count * 1e6);
    close(file);
  }
  unlink(path);
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "overlap") == 0) {
    overlap(argv[2], atof(argv[3]), atoi(argv[4]));
  } else if (argc == 4 && strcmp(argv[1], "spinner") == 0) {
    spinner(argv[2], atoi(argv[3]));
  } else {
    fprintf(stderr, "usage: sync-overlap overlap DIR CPU_US COUNT | spinner DIR COUNT\n");
    return 64;
  }
  return 0;
}
