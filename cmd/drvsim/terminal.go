package main

import (
	"io"
	"os"
)

// isTerminal reports whether stream (a reader or writer the command was
// given) is a terminal: an *os.File whose descriptor answers the
// terminal's own request (tcgetattr on Unix, GetConsoleMode on Windows).
// Being a character device is not enough: /dev/null is one. The shell
// prompts, and the explorer draws its progress line, only on a terminal.
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok || f == nil {
		return false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	tty := false
	if err := rc.Control(func(fd uintptr) { tty = fdIsTerminal(fd) }); err != nil {
		return false
	}
	return tty
}

// writesToTerminal reports whether w is a terminal (isTerminal).
func writesToTerminal(w io.Writer) bool { return isTerminal(w) }
