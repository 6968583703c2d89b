// See include/awesomegrad_signals.h: stop requests from signals, with nothing in the handler but a
// sig_atomic_t store, write(2) and _exit(2), which are async-signal-safe.
#include "awesomegrad_signals.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t received = 0;
static volatile sig_atomic_t announce_first = 0;

/// Writes `text` to standard error, from a handler (write(2) only).
static void say(const char *text) {
  size_t length = strlen(text);  // strlen is async-signal-safe since POSIX.1-2016
  while (length > 0) {
    ssize_t written = write(STDERR_FILENO, text, length);
    if (written <= 0) return;
    text += written;
    length -= (size_t)written;
  }
}

static const char *signal_name(int number) {
  switch (number) {
  case SIGINT: return "SIGINT";
  case SIGTERM: return "SIGTERM";
  case SIGHUP: return "SIGHUP";
  case SIGUSR1: return "SIGUSR1";
  case SIGUSR2: return "SIGUSR2";
  default: return "a signal";
  }
}

static void handle(int number) {
  if (received != 0) {
    say(signal_name(number));
    say(" again: stopping now, without a checkpoint\n");
    _exit(128 + number);
  }
  received = number;
  if (announce_first) {
    say(signal_name(number));
    say(": stopping after the current step (send it again to stop at once)\n");
  }
}

int awesomegrad_stop_signals_install(const int *signals, int count, int announce) {
  announce_first = announce != 0;
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = handle;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int i = 0; i < count; i++) sigaddset(&action.sa_mask, signals[i]);  // one handler at a time
  for (int i = 0; i < count; i++) {
    if (sigaction(signals[i], &action, NULL) != 0) return -1;
  }
  // A process started from a thread that blocks every signal (Dispatch's and Swift concurrency's
  // worker threads do, and posix_spawn passes the mask on) would never see them: unblock them here.
  return pthread_sigmask(SIG_UNBLOCK, &action.sa_mask, NULL) == 0 ? 0 : -1;
}

void awesomegrad_stop_signals_uninstall(const int *signals, int count) {
  for (int i = 0; i < count; i++) signal(signals[i], SIG_DFL);
}

int awesomegrad_stop_signal_received(void) { return received; }

void awesomegrad_stop_signal_clear(void) { received = 0; }
