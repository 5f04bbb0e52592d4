// Command drvsim runs drvsim's narrated demos of the Linux driver lifecycle
// and its deterministic explorer.
//
//	drvsim                 the default demo: a USB device unplugged mid-read
//	drvsim demo [NAME]     list the demos, or run one
//	drvsim explore NAME    explore a design-lab scenario under many schedules
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage:
  drvsim                     run the default demo (usb-unplug)
  drvsim demo [NAME]         list the demos, or run the named one
  drvsim explore [flags] NAME
                             explore a scenario under many schedules
  drvsim shell [SCRIPT]      an interactive machine: plug, bind, open, read
`

// run is main without the process: it returns the exit status, 0 on
// success, 1 on a failed run, 2 on bad usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runDemo("usb-unplug", stdout, stderr)
	}
	switch args[0] {
	case "demo":
		fs := flag.NewFlagSet("demo", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() { fmt.Fprint(stderr, "usage: drvsim demo [NAME]\n\n"); listDemos(stderr) }
		if err := fs.Parse(args[1:]); err != nil {
			return usageStatus(err)
		}
		if fs.NArg() == 0 {
			listDemos(stdout)
			return 0
		}
		return runDemo(fs.Arg(0), stdout, stderr)
	case "explore":
		return runExplore(args[1:], stdout, stderr)
	case "shell":
		return runShell(args[1:], stdin, stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "drvsim: unknown command %q\n%s", args[0], usage)
	return 2
}

// usageStatus maps a flag parse error to an exit status: help is success.
func usageStatus(err error) int {
	if err == flag.ErrHelp {
		return 0
	}
	return 2
}
