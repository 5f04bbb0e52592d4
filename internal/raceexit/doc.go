// Package raceexit spares every drvsim test binary the race detector's
// one-second sleep at exit.
//
// Under `go test -race`, the race runtime (ThreadSanitizer) waits
// atexit_sleep_ms, one second by default, before a process exits, whether
// or not it found a race. With some thirty test packages that is a quarter
// of the suite's time on two cores. NoSleep, called first in every
// TestMain, re-executes the test binary with atexit_sleep_ms=0 added to
// GORACE when the detector is on and the option is not set yet. Races are
// still reported, and still fail the run: only the sleep goes.
package raceexit
