package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/drvsim/drvsim/zoo"
)

const zooUsage = `usage: drvsim zoo [-time] [NAME]

The bug zoo: lifecycle bugs that shipped in Linux, each rebuilt from its
fix commit as the code before and after the fix. Without NAME, lists them.
With NAME, hunts the bug: explores the code before the fix until a
schedule fails as the original report did, then explores the fixed code's
every schedule within two preemptions, and tells the story: the report,
the race, the failing schedule with its trace and replay command, the fix
and the fixed run. The status is 1 when an outcome is not the predicted
one, 2 on bad usage.

flags:
`

func zooHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, zooUsage)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w)
	listZoo(w)
}

// listZoo writes the zoo's table: name, subsystem, symptom or status, fix.
func listZoo(w io.Writer) {
	fmt.Fprintf(w, "%-22s %-40s %-18s %s\n", "BUG", "SUBSYSTEM", "FOUND AS", "FIX")
	for _, b := range zoo.Bugs() {
		found := "not reproduced"
		if b.Reproduced() {
			found = string(b.Before.Want.Bug)
		}
		fmt.Fprintf(w, "%-22s %-40s %-18s %s %s\n", b.Name, b.Subsystem, found, b.ShortCommit(), b.Subject)
	}
}

// runZoo is `drvsim zoo`.
func runZoo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zoo", flag.ContinueOnError)
	timing := fs.Bool("time", false, "report how long each exploration took (on stderr)")
	pos, status := parseFlags(fs, args, stdout, stderr, zooHelp)
	if status >= 0 {
		return status
	}
	switch len(pos) {
	case 0:
		listZoo(stdout)
		return 0
	case 1:
	default:
		fmt.Fprintln(stderr, "drvsim: zoo takes one bug name")
		zooHelp(stderr, fs)
		return 2
	}
	b, ok := zoo.Lookup(pos[0])
	if !ok {
		fmt.Fprintf(stderr, "drvsim: no bug %q in the zoo\n", pos[0])
		zooHelp(stderr, fs)
		return 2
	}
	h, err := b.Hunt()
	if errors.Is(err, zoo.ErrNotReproduced) {
		fmt.Fprintf(stdout, "== %s (%s)\nfix: %s\n     %q (%s)\n\n== the report\n%s\n== the race\n%s\n== the fix\n%s\n== not reproduced\n%s",
			b.Name, b.Subsystem, b.Commit, b.Subject, b.Author,
			zoo.Wrap(b.Report, 76), zoo.Wrap(b.Race, 76), zoo.Wrap(b.Fix, 76), zoo.Wrap(b.Pending, 76))
		return 0
	}
	fmt.Fprint(stdout, h.Story())
	if *timing {
		fmt.Fprintf(stderr, "drvsim: %s found in %s, %s proven in %s\n",
			b.Before.Name, h.FoundIn.Round(1e6), b.After.Name, h.FixedIn.Round(1e6))
	}
	if err != nil {
		fmt.Fprintf(stderr, "drvsim: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return 1
	}
	return 0
}
