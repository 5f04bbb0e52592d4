// Command firstdriver is the code of docs/tutorial.md, "Write your first
// driver in drvsim": an embedded-controller driver ("ec") built up in four
// steps.
//
//  1. step1.go: a platform driver: register a device and a driver, probe
//     and remove, and read the trace of the bind.
//  2. step2.go: managed resources (devm): a probe that fails midway is
//     unwound newest first, and unbind runs devres_release_all.
//  3. step3.go: revocable: the driver hands its state to a file that
//     outlives the device; after unbind the file gets -ENODEV, and the
//     unbind waits for a read in flight.
//  4. step4.go: a race test: sim.Explore tries every interleaving of a read
//     and the unbind; the same test on a file without revocable finds the
//     use-after-free, with a seed that replays it. race_test.go is that
//     test as you would write it.
//
// Run every step, or one:
//
//	go run ./examples/firstdriver
//	go run ./examples/firstdriver 3
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
)

// steps are the tutorial's steps, in order.
var steps = []struct {
	title string
	run   func(w io.Writer) error
}{
	{"a platform driver", step1},
	{"managed resources (devm)", step2},
	{"a resource that outlives the device (revocable)", step3},
	{"a race test (sim.Explore)", step4},
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "firstdriver:", err)
		os.Exit(1)
	}
}

// run runs the step named by args[0] ("1" to "4"), or every step.
func run(args []string, w io.Writer) error {
	if len(args) > 1 {
		return fmt.Errorf("usage: firstdriver [step]")
	}
	first, last := 1, len(steps)
	if len(args) == 1 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > len(steps) {
			return fmt.Errorf("no step %q: steps are 1 to %d", args[0], len(steps))
		}
		first, last = n, n
	}
	for n := first; n <= last; n++ {
		if n > first {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "== step %d: %s\n", n, steps[n-1].title)
		if err := steps[n-1].run(w); err != nil {
			return fmt.Errorf("step %d: %w", n, err)
		}
	}
	return nil
}
