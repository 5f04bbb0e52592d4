// Command drvsim runs drvsim's narrated demos of the Linux driver lifecycle.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/trace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "drvsim: unknown command %q\n", args[0])
		return 2
	}
	demoDevres(stdout)
	return 0
}

// demoDevres tells the story of managed resources released in reverse.
func demoDevres(w io.Writer) {
	fmt.Fprintln(w, "== A driver acquires three resources with devm_* helpers")
	log := trace.NewLog()
	l := devres.NewList("/sys/devices/platform/serial0")
	l.Attach(log, nil)
	_, _ = l.Add("clk_disable_unprepare", func() {})
	_, _ = l.Add("free_irq", func() {})
	_, _ = l.Add("iounmap", func() {})
	fmt.Fprintln(w, "== The device is unbound: devres_release_all runs them newest first")
	l.ReleaseAll()
	fmt.Fprint(w, log.String())
}
