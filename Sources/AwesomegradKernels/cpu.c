// See include/awesomegrad_kernels.h: the cores this process may run on, and widening them.
#define _GNU_SOURCE
#include "awesomegrad_kernels.h"

#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif

int awesomegrad_available_cores(void) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
#endif
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? (int)online : 1;
}

int awesomegrad_allow_every_cpu(int task) {
#if defined(__linux__)
  cpu_set_t every;
  memset(&every, 0xff, sizeof every);
  return sched_setaffinity((pid_t)task, sizeof every, &every);
#else
  (void)task;
  return -1;
#endif
}
