package main

import (
	"fmt"
	"io"
)

// runShell is `drvsim shell`. Placeholder until the shell lands.
func runShell(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "drvsim: shell: not yet available")
	return 1
}
