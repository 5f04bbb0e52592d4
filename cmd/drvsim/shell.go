package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/drvsim/drvsim/env"
)

const shellUsage = `usage: drvsim shell [--help] [SCRIPT]

A simulated machine at a prompt: a driver core with a USB core on it. Add
USB buses, plug and unplug devices, bind and unbind drivers, set
driver_override, open the device files and read and write them, and look
at the device tree and at the trace of every step.

With SCRIPT (a file, or - for standard input) the commands are read from
it and echoed after the prompt "drvsim> ", comments and blank lines too,
so that the output reads as a transcript of the lesson. Without SCRIPT the
commands come from standard input: with a prompt when it is a terminal,
echoed as a script when it is not.

Errors are one line, "error: ..." on standard error; the session goes on.
Type "help" at the prompt for the commands.

Exit status: 0 when every command succeeded, 1 when one failed, 2 on bad
usage (an unknown flag, a script that cannot be opened).
`

// shellPrompt is the shell's prompt, printed before a command typed at a
// terminal and before the echo of a scripted one.
const shellPrompt = "drvsim> "

// runShell is `drvsim shell`: it parses the arguments, chooses the input
// (a script, or standard input with or without a prompt) and runs the
// session. It returns the exit status.
func runShell(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shell", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, shellUsage)
			return 0
		}
		fmt.Fprint(stderr, shellUsage)
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(stderr, "drvsim shell: one script at most, got %d arguments\n%s", fs.NArg(), shellUsage)
		return 2
	}
	in, interactive := stdin, shellIsTerminal(stdin)
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "drvsim shell: %v\n", err)
			return 2
		}
		defer f.Close()
		in, interactive = f, false
	}
	m, err := newShellMachine()
	if err != nil {
		fmt.Fprintf(stderr, "drvsim shell: booting the machine: %v\n", err)
		return 1
	}
	s := &shellSession{m: m, out: stdout, errw: stderr, interactive: interactive, mark: m.sys.Log().Seq()}
	defer m.close()
	if s.run(in) {
		return 1
	}
	return 0
}

// shellIsTerminal reports whether r is a character device (a terminal), the
// case in which the shell prompts.
func shellIsTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// shellSession is one run of the shell: its machine, where it writes, how far
// the trace has been shown and whether a command failed.
type shellSession struct {
	m           *shellMachine
	out, errw   io.Writer
	interactive bool
	// mark is the sequence number of the last trace event shown (or of the
	// last boot event): `trace` shows what happened since.
	mark   uint64
	line   int
	failed bool
	quit   bool
}

// run reads commands from in until its end or quit and runs them. It
// reports whether a command failed.
func (s *shellSession) run(in io.Reader) bool {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	if s.interactive {
		fmt.Fprintln(s.out, `drvsim shell: a simulated machine. Type "help" for the commands, "quit" to leave.`)
	}
	for !s.quit {
		if s.interactive {
			fmt.Fprint(s.out, shellPrompt)
		}
		if !sc.Scan() {
			if s.interactive {
				fmt.Fprintln(s.out)
			}
			break
		}
		s.line++
		s.exec(sc.Text())
	}
	if err := sc.Err(); err != nil {
		s.line++
		s.fail("", fmt.Errorf("reading commands: %w", err))
	}
	return s.failed
}

// exec runs one line: a blank line or a comment is echoed (in a script)
// and skipped; a command is echoed, run, and its error reported.
func (s *shellSession) exec(raw string) {
	line := strings.TrimSpace(raw)
	if !s.interactive {
		switch {
		case line == "":
			fmt.Fprintln(s.out)
		case strings.HasPrefix(line, "#"):
			fmt.Fprintln(s.out, line)
		default:
			fmt.Fprintln(s.out, shellPrompt+line)
		}
	}
	if line == "" || strings.HasPrefix(line, "#") {
		return
	}
	line, expectFail := strings.CutPrefix(line, "!")
	words, err := shellWords(line)
	if err != nil {
		s.fail("", err)
		return
	}
	if len(words) == 0 {
		s.fail("", errors.New("! needs a command"))
		return
	}
	cmd := lookupShellCommand(words[0])
	if cmd == nil {
		s.fail("", fmt.Errorf("unknown command %q (try help)", words[0]))
		return
	}
	bug, err := s.call(cmd, words[1:])
	if bug != nil {
		s.fail(cmd.name, bug) // the sanitizer's report: a bug, expected or not
	}
	switch {
	case err != nil && expectFail:
		s.report(cmd.name, err)
	case err != nil:
		s.fail(cmd.name, err)
	case expectFail:
		s.fail(cmd.name, errors.New("succeeded, but the script expects it to fail (!)"))
	}
}

// call runs cmd with args, lets the machine settle, and writes what the
// command changed (devices and nodes) to the session's output. It returns
// the command's error and the first sanitizer report the command caused,
// nil when there was none.
func (s *shellSession) call(cmd *shellCommand, args []string) (bug *env.Report, err error) {
	before := s.m.snapshot()
	reports := len(s.m.usb.Memory().Reports())
	err = cmd.run(s, args)
	s.m.flush()
	s.m.snapshot().diff(before, s.out)
	if r := s.m.usb.Memory().Reports(); len(r) > reports {
		bug = r[reports]
	}
	return bug, err
}

// fail reports a failed command on one line and remembers the failure.
func (s *shellSession) fail(cmd string, err error) {
	s.failed = true
	s.report(cmd, err)
}

// report writes the one line of a command's error.
func (s *shellSession) report(cmd string, err error) {
	var b strings.Builder
	b.WriteString("error: ")
	if !s.interactive {
		fmt.Fprintf(&b, "line %d: ", s.line)
	}
	if cmd != "" {
		b.WriteString(cmd + ": ")
	}
	b.WriteString(strings.ReplaceAll(err.Error(), "\n", "; "))
	fmt.Fprintln(s.errw, b.String())
}

// shellWords splits a command line into words at white space. A word in
// double quotes may hold spaces and Go escapes ("a b\n", "\x00").
func shellWords(line string) ([]string, error) {
	var words []string
	for i := 0; i < len(line); {
		switch c := line[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return nil, fmt.Errorf("unterminated quoted word: %s", line[i:])
			}
			w, err := strconv.Unquote(line[i : j+1])
			if err != nil {
				return nil, fmt.Errorf("bad quoted word %s: %v", line[i:j+1], err)
			}
			words = append(words, w)
			i = j + 1
		default:
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				j++
			}
			words = append(words, line[i:j])
			i = j
		}
	}
	return words, nil
}
