package main

import "syscall"

// fdIsTerminal reports whether the handle is a console (GetConsoleMode
// succeeds on consoles only).
func fdIsTerminal(fd uintptr) bool {
	var mode uint32
	return syscall.GetConsoleMode(syscall.Handle(fd), &mode) == nil
}
