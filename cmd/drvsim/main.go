// Command drvsim runs drvsim's narrated demos of the Linux driver lifecycle
// and its deterministic explorer.
//
//	drvsim [-format F]              the default demo: a USB device unplugged mid-read
//	drvsim demo [-format F] [NAME]  list the demos, or run one
//	drvsim explore [flags] NAME     explore a scenario under many schedules
//	drvsim zoo [NAME]               real kernel bugs, found and shown fixed
//	drvsim shell [flags] [SCRIPT]   an interactive machine
//	drvsim serve [flags]            the machine in a browser, and time travel through schedules
//	drvsim help [COMMAND]           usage
//	drvsim version                  the version (also: drvsim --version)
//
// -format is text (the default), json (the trace events as JSON lines on
// stdout, the narration on stderr) or mermaid (a Markdown document with a
// Mermaid sequence diagram per phase). The exit status is 0 on success, 1
// when a run does not end as it should (a sanitizer report where none is
// expected, or none where one is; or when standard output cannot be
// written), 2 on bad usage (one line on stderr says what is wrong).
// docs/cli.md describes every command.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

func main() {
	tuneGC(os.Getenv)
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// tuneGC sets the collector to sim.GCPercent unless the environment sets
// GOGC: explorations on every core run about 1.4 times as fast with it
// (see sim.GCPercent). It reports whether it set it.
func tuneGC(getenv func(string) string) bool {
	if getenv("GOGC") != "" {
		return false
	}
	debug.SetGCPercent(sim.GCPercent)
	return true
}

const usage = `usage:
  drvsim [-format F]              run the default demo (usb-unplug)
  drvsim demo [-format F] [NAME]  list the demos, or run the named one
  drvsim explore [flags] NAME     explore a scenario under many schedules
  drvsim zoo [NAME]               real kernel bugs, found and shown fixed
  drvsim shell [flags] [SCRIPT]   an interactive machine: plug, bind, open, read
  drvsim serve [flags]            the machine in a browser; step through schedules
  drvsim help [COMMAND]           this help, or a command's
  drvsim version                  the version of drvsim (also: drvsim --version)

The format F is text (the default), json (the trace events as JSON lines on
stdout, the headings and notes on stderr) or mermaid (a Markdown document:
the headings, and each phase's trace as a Mermaid sequence diagram).

Exit status: 0 success, 1 a run did not end as it should (or standard
output could not be written), 2 bad usage (one line on stderr says what).
`

// run is main without the process: it returns the exit status, 0 on
// success, 1 on a failed run or when standard output could not be written
// (a full disk, a closed descriptor: what was meant to be printed was
// not), 2 on bad usage.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	out := &checkedWriter{w: stdout}
	status := dispatch(args, stdin, out, stderr)
	if out.err != nil && !out.reported {
		fmt.Fprintf(stderr, "drvsim: writing standard output: %v\n", out.err)
	}
	if out.err != nil && status == 0 {
		status = 1
	}
	return status
}

// dispatch runs the command args name.
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
		case "serve":
			return runServe(args[1:], stdout, stderr)
		case "help":
			return runHelp(args[1:], stdin, stdout, stderr)
		case "version":
			return runVersion(args[1:], stdout, stderr)
		}
		if !strings.HasPrefix(args[0], "-") {
			return usageError(stderr, "", "unknown command %q", args[0])
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
		return usageError(stderr, "", "unknown command %q", pos[0])
	}
	if *showVersion {
		return runVersion(nil, stdout, stderr)
	}
	f, err := trace.ParseFormat(*format)
	if err != nil {
		return usageError(stderr, "", "%v", err)
	}
	d, _ := lookupDemo(defaultDemo)
	return runDemo(d, f, stdout, stderr)
}

// usageError reports bad usage of drvsim or of its command cmd ("" for
// drvsim itself) on one line of stderr, saying where the usage is, and
// returns the status of bad usage, 2:
//
//	drvsim explore: -schedules 0: want at least 1 (see drvsim help explore)
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	name, help := "drvsim", "drvsim help"
	if cmd != "" {
		name = name + " " + cmd
	}
	if cmd != "" && cmd != "help" {
		help = help + " " + cmd
	}
	msg := strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ")
	fmt.Fprintf(stderr, "%s: %s (see %s)\n", name, msg, help)
	return 2
}

// checkedWriter is standard output with its first write error kept: once
// a write failed, later writes fail at once, and run turns the error into
// status 1. reported says the command has already told the user.
type checkedWriter struct {
	w        io.Writer
	err      error
	reported bool
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		c.err = err
	}
	return n, err
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
		return usageError(stderr, "help", "takes one command name, got %d", len(args))
	}
	switch args[0] {
	case "demo", "explore", "zoo", "shell", "serve":
		return dispatch([]string{args[0], "--help"}, stdin, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version":
		fmt.Fprint(stdout, versionUsage)
		return 0
	}
	return usageError(stderr, "help", "unknown command %q", args[0])
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
		return usageError(stderr, "demo", "%v", err)
	}
	switch len(pos) {
	case 0:
		listDemos(stdout)
		return 0
	case 1:
	default:
		return usageError(stderr, "demo", "one demo name at most, got %d", len(pos))
	}
	d, ok := lookupDemo(pos[0])
	if !ok {
		return usageError(stderr, "demo", "no demo %q", pos[0])
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
// stdout and returns status 0; on a bad flag, the one line of a usage
// error to stderr and status 2. Status -1 means: go on.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer, help func(io.Writer, *flag.FlagSet)) ([]string, int) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	cmd := fs.Name()
	if cmd == "drvsim" {
		cmd = ""
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help(stdout, fs)
				return nil, 0
			}
			return nil, usageError(stderr, cmd, "%v", err)
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
