// Stop requests from signals (SIGINT, SIGTERM), for StopSignal in Training/StopSignal.swift.
//
// The handler does only what a signal handler may: it stores the signal's number in a
// `volatile sig_atomic_t` and writes one fixed line with write(2); the second time it ends the
// process with _exit(128 + signal). The training loop polls the number between steps. The number is
// the one piece of process-wide state here, as the signal dispositions themselves are process-wide.
#ifndef AWESOMEGRAD_SIGNALS_H
#define AWESOMEGRAD_SIGNALS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Installs the handler for each of `signals` (sigaction, SA_RESTART) and unblocks them in the
/// calling thread. With `announce`, the first signal writes "SIGTERM: stopping after the current
/// step (send it again to stop at once)" to standard error. Returns 0, or -1 when sigaction fails
/// (errno says why).
int awesomegrad_stop_signals_install(const int *signals, int count, int announce);

/// Gives each of `signals` its default action back.
void awesomegrad_stop_signals_uninstall(const int *signals, int count);

/// The number of the signal that requested a stop, or 0.
int awesomegrad_stop_signal_received(void);

/// Forgets a received signal (so that a later install starts afresh).
void awesomegrad_stop_signal_clear(void);

#ifdef __cplusplus
}
#endif

#endif
