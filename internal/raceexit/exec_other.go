//go:build !race || !unix

package raceexit

// NoSleep does nothing without the race detector (or off unix, where the
// process cannot be replaced in place).
func NoSleep() {}
