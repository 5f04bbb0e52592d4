//go:build race && unix

package raceexit

import (
	"os"
	"strings"
	"syscall"
)

// option is the GORACE setting NoSleep adds.
const option = "atexit_sleep_ms=0"

// NoSleep re-executes the running test binary with GORACE extended by
// atexit_sleep_ms=0, unless GORACE already sets atexit_sleep_ms. It returns
// only when there is nothing to do or the exec failed (the tests then run
// as they are, with the sleep).
func NoSleep() {
	gorace := os.Getenv("GORACE")
	if strings.Contains(gorace, "atexit_sleep_ms") {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), "GORACE="+strings.TrimSpace(gorace+" "+option))
	_ = syscall.Exec(exe, os.Args, env) // replaces the process on success
}
