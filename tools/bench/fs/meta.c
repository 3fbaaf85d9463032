/* meta.c: the metadata benchmark of fs_bench.sh.
 *
 * In a fresh directory DIR/meta.<pid>, creates COUNT empty files (open O_CREAT|O_EXCL, close),
 * then stats each one, then unlinks each one, in that order, from one thread; then removes the
 * directory. Prints one line:
 *
 *   <ops/s> <seconds> <create s> <stat s> <unlink s>
 *
 * where ops = 3 * COUNT and seconds is the wall time of the three phases together. Exits non-zero
 * with a message naming the failing call and file if any operation fails (libfuse's passthrough_hp
 * runs out of descriptors here: it keeps one O_PATH fd per inode).
 *
 * A bash loop forks or at least pays an interpreter per operation, which is slower than the
 * filesystem under test; this is three system calls per file and nothing else.
 *
 * Usage: meta DIR [COUNT]   (COUNT defaults to 20000)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *call, const char *path) {
  fprintf(stderr, "meta: %s %s: %s\n", call, path, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: meta DIR [COUNT]\n");
    return 2;
  }
  long count = argc == 3 ? strtol(argv[2], NULL, 10) : 20000;
  if (count <= 0) {
    fprintf(stderr, "meta: bad COUNT %s\n", argv[2]);
    return 2;
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/meta.%ld", argv[1], (long)getpid());
  if (mkdir(dir, 0755) != 0) {
    die("mkdir", dir);
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    die("open", dir);
  }

  char name[64];
  struct stat st;
  double t0 = now();
  for (long i = 0; i < count; i++) {
    snprintf(name, sizeof name, "file-%06ld", i);
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      die("create", name);
    }
    close(fd);
  }
  double t1 = now();
  for (long i = 0; i < count; i++) {
    snprintf(name, sizeof name, "file-%06ld", i);
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      die("stat", name);
    }
  }
  double t2 = now();
  for (long i = 0; i < count; i++) {
    snprintf(name, sizeof name, "file-%06ld", i);
    if (unlinkat(dfd, name, 0) != 0) {
      die("unlink", name);
    }
  }
  double t3 = now();
  close(dfd);
  if (rmdir(dir) != 0) {
    die("rmdir", dir);
  }
  double total = t3 - t0;
  printf("%.0f %.3f %.3f %.3f %.3f\n", 3.0 * (double)count / total, total, t1 - t0, t2 - t1, t3 - t2);
  return 0;
}
