/* SPDX-License-Identifier: MIT */
/*
 * sq_cpu WANT: where LIBOMPTARGET_IO_URING_SQ_CPU puts the SQPOLL thread
 * and its io-wq workers. Run with LIBOMPTARGET_IO_URING=1,
 * LIBOMPTARGET_IO_URING_MODE=sqpoll and LIBOMPTARGET_IO_URING_BUFFER=none.
 * stdout goes to a new file on tmpfs (/dev/shm when it is one), where the
 * kernel hands every write to an io-wq worker; a target region prints LINES
 * lines; then checks:
 *   - the file holds every line, once and in order;
 *   - the SQ thread ("iou-sqp-PID") and every io-wq worker ("iou-wrk-PID")
 *     may run on WANT's CPUs only: "auto" the last CPU this process may run
 *     on, "any" every one of them, a number that CPU; on tmpfs there must be
 *     a worker;
 *   - "outside" (a CPU this process may not run on): unpinned, as "any",
 *     and a warning on stderr that says so.
 * Prints what it found on the real stderr; exit 1 on a failed check.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define LINES 64
#define TMPFS_MAGIC 0x01021994

static FILE *report; /* the real stderr */

/*
 * CPU sets as the kernel prints them in "Cpus_allowed_list:" ("0-3,8"),
 * compared as printed. Not cpu_set_t: its macros are not declared when this
 * file is compiled for AMDGPU.
 */
struct cpus {
  char list[4096];
  long count, last;
};

static void parse_list(struct cpus *c) {
  c->count = 0;
  c->last = -1;
  for (const char *s = c->list; *s >= '0' && *s <= '9';) {
    char *end;
    long lo = strtol(s, &end, 10), hi = lo;
    if (*end == '-')
      hi = strtol(end + 1, &end, 10);
    c->count += hi - lo + 1;
    c->last = hi;
    s = *end == ',' ? end + 1 : end;
  }
}

/* The CPUs a thread may run on ("self" for this one), from /proc; 0: read. */
static int allowed(const char *tid, struct cpus *c) {
  char path[300], line[4200];
  snprintf(path, sizeof path, "/proc/self/task/%s/status", tid);
  if (!strcmp(tid, "self"))
    snprintf(path, sizeof path, "/proc/thread-self/status");
  FILE *f = fopen(path, "r");
  int rc = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "Cpus_allowed_list:", 18)) {
      const char *v = line + 18 + strspn(line + 18, " \t");
      snprintf(c->list, sizeof c->list, "%.*s", (int)strcspn(v, "\n"), v);
      parse_list(c);
      rc = 0;
    }
  if (f)
    fclose(f);
  return rc;
}

/* A file on tmpfs to put stdout in: /dev/shm when it is tmpfs, else TMPDIR or /tmp. */
static int tmpfs_file(char *path, size_t n, int *on_tmpfs) {
  struct statfs fs;
  const char *dir = getenv("TMPDIR");
  if (statfs("/dev/shm", &fs) == 0 && fs.f_type == TMPFS_MAGIC)
    dir = "/dev/shm";
  else if (!dir)
    dir = "/tmp";
  snprintf(path, n, "%s/sq_cpu.XXXXXX", dir);
  int fd = mkstemp(path);
  *on_tmpfs = fd >= 0 && fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
  return fd;
}

static int lines_ok(int fd) {
  static char text[LINES * 32], want[32];
  ssize_t n = pread(fd, text, sizeof text - 1, 0);
  if (n < 0)
    return 0;
  text[n] = 0;
  char *p = text;
  for (int i = 0; i < LINES; i++) {
    int k = snprintf(want, sizeof want, "sq_cpu line %d\n", i);
    if (strncmp(p, want, k))
      return 0;
    p += k;
  }
  return *p == 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: sq_cpu auto|any|outside|CPU\n");
    return 2;
  }
  const char *want = argv[1];
  static struct cpus mine, expect, set;
  if (allowed("self", &mine) || mine.count == 0)
    return 2;
  expect = mine;
  if (!strcmp(want, "auto") && mine.count > 1) /* one CPU: not pinned, which is the same */
    snprintf(expect.list, sizeof expect.list, "%ld", mine.last);
  else if (strcmp(want, "any") && strcmp(want, "outside") && strcmp(want, "auto"))
    snprintf(expect.list, sizeof expect.list, "%d", atoi(want));

  /* stdout into a tmpfs file, stderr into another, before the device starts. */
  char out_path[256], err_path[256];
  int on_tmpfs, ignored, out = tmpfs_file(out_path, sizeof out_path, &on_tmpfs);
  int err = tmpfs_file(err_path, sizeof err_path, &ignored);
  report = fdopen(dup(2), "w");
  if (out < 0 || err < 0 || !report || dup2(out, 1) < 0 || dup2(err, 2) < 0)
    return 2;
  unlink(out_path);
  unlink(err_path);

#pragma omp target
  for (int i = 0; i < LINES; i++)
    printf("sq_cpu line %d\n", i);

  int ok = lines_ok(out);
  fprintf(report, "sq_cpu %s: %d lines %s in a %s file\n", want, LINES, ok ? "once each" : "NOT all once",
          on_tmpfs ? "tmpfs" : "non-tmpfs");
  int sqp = 0, wrk = 0;
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char path[300], comm[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f)
      continue;
    if (!fgets(comm, sizeof comm, f))
      comm[0] = 0;
    fclose(f);
    int is_sqp = !strncmp(comm, "iou-sqp", 7), is_wrk = !strncmp(comm, "iou-wrk", 7);
    if (!is_sqp && !is_wrk)
      continue;
    sqp += is_sqp;
    wrk += is_wrk;
    int same = allowed(e->d_name, &set) == 0 && !strcmp(set.list, expect.list);
    comm[strcspn(comm, "\n")] = 0;
    fprintf(report, "sq_cpu %s: %s may run on CPUs %s (wanted %s)%s\n", want, comm, set.list,
            expect.list, same ? "" : ": NOT as wanted");
    ok &= same;
  }
  if (d)
    closedir(d);
  if (sqp != 1 || (on_tmpfs && wrk == 0)) {
    fprintf(report, "sq_cpu %s: %d SQ threads, %d io-wq workers: FAILED\n", want, sqp, wrk);
    ok = 0;
  }
  if (!strcmp(want, "outside")) {
    static char text[4096];
    ssize_t n = pread(err, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = 0;
    int warned = strstr(text, "is not a CPU this process may run on") != NULL;
    fprintf(report, "sq_cpu %s: %s\n", want, warned ? "warned" : "no warning on stderr");
    ok &= warned;
  }
  fprintf(report, "sq_cpu %s: %s\n", want, ok ? "ok" : "FAILED");
  return !ok;
}
