// Command drvsim runs drvsim's narrated demos of the Linux driver lifecycle
// and its deterministic explorer.
//
//	drvsim [-format F]              the default demo: a USB device unplugged mid-read
//	drvsim demo [-format F] [NAME]  list the demos, or run one
//	drvsim explore [flags] NAME     explore a scenario under many schedules
//	drvsim zoo [NAME]               real kernel bugs, found and shown fixed
//	drvsim shell [SCRIPT]           an interactive machine
//	drvsim help [COMMAND]           usage
//	drvsim version                  the version (also: drvsim --version)
//
// -format is text (the default), json (the trace events as JSON lines on
// stdout, the narration on stderr) or mermaid (a Markdown document with a
// Mermaid sequence diagram per phase). The exit status is 0 on success, 1
// when a run does not end as it should (a sanitizer report where none is
// expected, or none where one is), 2 on bad usage. docs/cli.md describes
// every command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/drvsim/drvsim/trace"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage:
  drvsim [-format F]              run the default demo (usb-unplug)
  drvsim demo [-format F] [NAME]  list the demos, or run the named one
  drvsim explore [flags] NAME     explore a scenario under many schedules
  drvsim zoo [NAME]               real kernel bugs, found and shown fixed
  drvsim shell [SCRIPT]           an interactive machine: plug, bind, open, read
  drvsim help [COMMAND]           this help, or a command's
  drvsim version                  the version of drvsim (also: drvsim --version)

The format F is text (the default), json (the trace events as JSON lines on
stdout, the headings and notes on stderr) or mermaid (a Markdown document:
the headings, and each phase's trace as a Mermaid sequence diagram).

Exit status: 0 success, 1 a run did not end as it should, 2 bad usage.
`

// run is main without the process: it returns the exit status, 0 on
// success, 1 on a failed run, 2 on bad usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "demo":
			return runDemoCmd(args[1:], stdout, stderr)
		case "explore":
			return runExplore(args[1:], stdout, stderr)
		case "zoo":
			return runZoo(args[1:], stdout, stderr)
		case "shell":
			return runShell(args[1:], stdin, stdout, stderr)
		case "help":
			return runHelp(args[1:], stdin, stdout, stderr)
		case "version":
			return runVersion(args[1:], stdout, stderr)
		}
		if !strings.HasPrefix(args[0], "-") {
			fmt.Fprintf(stderr, "drvsim: unknown command %q\n%s", args[0], usage)
			return 2
		}
	}
	fs := flag.NewFlagSet("drvsim", flag.ContinueOnError)
	format := formatFlag(fs)
	showVersion := fs.Bool("version", false, "print the version and exit")
	pos, status := parseFlags(fs, args, stdout, stderr, rootHelp)
	if status >= 0 {
		return status
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "drvsim: unknown command %q\n%s", pos[0], usage)
		return 2
	}
	if *showVersion {
		return runVersion(nil, stdout, stderr)
	}
	f, err := trace.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "drvsim: %v\n%s", err, usage)
		return 2
	}
	d, _ := lookupDemo(defaultDemo)
	return runDemo(d, f, stdout, stderr)
}

func rootHelp(w io.Writer, _ *flag.FlagSet) { fmt.Fprint(w, usage) }

// runHelp is `drvsim help [COMMAND]`: the usage of drvsim or of one
// command, on stdout.
func runHelp(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "drvsim: help takes one command name\n%s", usage)
		return 2
	}
	switch args[0] {
	case "demo", "explore", "shell", "zoo":
		return run([]string{args[0], "--help"}, stdin, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version":
		fmt.Fprint(stdout, versionUsage)
		return 0
	}
	fmt.Fprintf(stderr, "drvsim: help: unknown command %q\n%s", args[0], usage)
	return 2
}

const demoUsage = `usage: drvsim demo [-format F] [NAME]

Without NAME, lists the demos. With NAME, runs that demo: a narrated story,
short numbered headings between its phases, each phase shown by its trace.
The status is 1 if the story does not end as it should, 2 on bad usage.

flags:
`

func demoHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, demoUsage)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w)
	listDemos(w)
}

// runDemoCmd is `drvsim demo`.
func runDemoCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	format := formatFlag(fs)
	pos, status := parseFlags(fs, args, stdout, stderr, demoHelp)
	if status >= 0 {
		return status
	}
	f, err := trace.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "drvsim: %v\n", err)
		demoHelp(stderr, fs)
		return 2
	}
	switch len(pos) {
	case 0:
		listDemos(stdout)
		return 0
	case 1:
	default:
		fmt.Fprintln(stderr, "drvsim: demo takes one demo name")
		demoHelp(stderr, fs)
		return 2
	}
	d, ok := lookupDemo(pos[0])
	if !ok {
		fmt.Fprintf(stderr, "drvsim: no demo %q\n", pos[0])
		demoHelp(stderr, fs)
		return 2
	}
	return runDemo(d, f, stdout, stderr)
}

// formatFlag defines -format on fs.
func formatFlag(fs *flag.FlagSet) *string {
	return fs.String("format", string(trace.FormatText),
		"output `format`: text, json (events as JSON lines on stdout, narration on stderr) or mermaid (Markdown)")
}

// parseFlags parses args with fs, flags and positional arguments in any
// order ("demo NAME -format json" as well as "demo -format json NAME"),
// and returns the positional arguments. On -h or -help it writes help to
// stdout and returns status 0; on a bad flag, the error and help to
// stderr and status 2. Status -1 means: go on.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, help func(io.Writer, *flag.FlagSet)) ([]string, int) {
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help(stdout, fs)
				return nil, 0
			}
			help(stderr, fs)
			return nil, 2
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, -1
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			// Everything after "--" is positional.
			return append(pos, rest...), -1
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
