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

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

const shellUsage = `usage: drvsim shell [-trace-limit N] [SCRIPT]

A simulated machine at a prompt: a driver core with a USB core on it. Add
USB buses, plug and unplug devices, boot a board from a device tree and
apply and remove overlays, bind and unbind drivers, set driver_override,
open the device files and read and write them, and look at the device
tree and at the trace of every step.

With SCRIPT (a file, or - for standard input) the commands are read from
it and echoed after the prompt "drvsim> ", comments and blank lines too,
so that the output reads as a transcript of the lesson. Without SCRIPT the
commands come from standard input: with a prompt when it is a terminal,
echoed as a script when it is not.

Errors are one line, "error: ..." on standard error; the session goes on
(a line longer than 1 MiB is such an error). Type "help" at the prompt for
the commands. The machine keeps the newest -trace-limit trace events (the
trace command says when older ones are gone).

Exit status: 0 when every command succeeded, 1 when one failed (or
standard output could not be written: the session ends there), 2 on bad
usage (an unknown flag, a script that cannot be opened or is a directory).

flags:
`

// shellPrompt is the shell's prompt, printed before a command typed at a
// terminal and before the echo of a scripted one.
const shellPrompt = "drvsim> "

// shellMaxLine bounds a command line (the bytes before its newline): a
// longer line is an error, skipped to its end, and the session goes on.
const shellMaxLine = 1 << 20

// shellMaxTraceLimit bounds -trace-limit: 16 Mi events, a few gigabytes.
const shellMaxTraceLimit = 1 << 24

func shellHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, shellUsage)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// runShell is `drvsim shell`: it parses the arguments, chooses the input
// (a script, or standard input with or without a prompt) and runs the
// session. It returns the exit status.
func runShell(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shell", flag.ContinueOnError)
	traceLimit := fs.Int("trace-limit", drvsim.DefaultTraceLimit,
		fmt.Sprintf("keep the newest `N` trace events, 1 to %d", shellMaxTraceLimit))
	pos, status := parseFlags(fs, args, stdout, stderr, shellHelp)
	if status >= 0 {
		return status
	}
	if len(pos) > 1 {
		return usageError(stderr, "shell", "one script at most, got %d arguments", len(pos))
	}
	if *traceLimit < 1 || *traceLimit > shellMaxTraceLimit {
		return usageError(stderr, "shell", "-trace-limit %d: want 1 to %d", *traceLimit, shellMaxTraceLimit)
	}
	in, interactive := stdin, isTerminal(stdin)
	if len(pos) == 1 && pos[0] != "-" {
		f, err := openScript(pos[0])
		if err != nil {
			return usageError(stderr, "shell", "%v", err)
		}
		defer f.Close()
		in, interactive = f, false
	}
	m, err := newShellMachine(*traceLimit)
	if err != nil {
		fmt.Fprintf(stderr, "drvsim shell: booting the machine: %v\n", err)
		return 1
	}
	out, ok := stdout.(*checkedWriter)
	if !ok {
		out = &checkedWriter{w: stdout}
	}
	s := &shellSession{m: m, out: out, errw: stderr, interactive: interactive, mark: m.sys.Log().Seq()}
	defer m.close()
	failed := s.run(in)
	if out.err != nil {
		fmt.Fprintf(stderr, "drvsim shell: writing standard output: %v: session ended after line %d\n", out.err, s.line)
		out.reported = true
		return 1
	}
	if failed {
		return 1
	}
	return 0
}

// openScript opens a script file; a directory is refused (reading it
// would fail only at the first command).
func openScript(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.IsDir() {
		f.Close()
		if err == nil {
			err = fmt.Errorf("%s is a directory, not a script", path)
		}
		return nil, err
	}
	return f, nil
}

// shellSession is one run of the shell: its machine, where it writes, how far
// the trace has been shown and whether a command failed.
type shellSession struct {
	m           *shellMachine
	out         *checkedWriter
	errw        io.Writer
	interactive bool
	// mark is the sequence number of the last trace event shown (or of the
	// last boot event): `trace` shows what happened since.
	mark   uint64
	line   int
	failed bool
	quit   bool
}

// run reads commands from in until its end, quit or a failed write to
// standard output, and runs them. It reports whether a command failed.
func (s *shellSession) run(in io.Reader) bool {
	lines := &lineReader{r: bufio.NewReader(in), max: shellMaxLine}
	if s.interactive {
		fmt.Fprintln(s.out, `drvsim shell: a simulated machine. Type "help" for the commands, "quit" to leave.`)
	}
	for !s.quit && s.out.err == nil {
		if s.interactive {
			fmt.Fprint(s.out, shellPrompt)
		}
		line, tooLong, err := lines.next()
		if err != nil {
			if s.interactive {
				fmt.Fprintln(s.out)
			}
			if err != io.EOF {
				s.line++
				s.fail("", fmt.Errorf("reading commands: %w", err))
			}
			break
		}
		s.line++
		if tooLong {
			s.fail("", fmt.Errorf("line longer than %d bytes: skipped", lines.max))
			continue
		}
		s.exec(line)
	}
	return s.failed
}

// lineReader reads the lines of a script, each at most max bytes before
// its newline; a longer one is read to its end and reported, without
// keeping more than max bytes of it.
type lineReader struct {
	r   *bufio.Reader
	max int
}

// next returns the next line without its newline (nor a carriage return
// before it); tooLong when the line had more than max bytes, its text then
// dropped; io.EOF after the last line.
func (l *lineReader) next() (line string, tooLong bool, err error) {
	var buf []byte
	n := 0 // bytes of the line, its newline included
	for {
		chunk, err := l.r.ReadSlice('\n')
		n += len(chunk)
		if len(buf) <= l.max {
			buf = append(buf, chunk...)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && n == 0:
			return "", false, io.EOF
		case err != nil && err != io.EOF:
			return "", false, err
		}
		if err == nil { // ended by its newline
			n--
			buf = buf[:len(buf)-1]
		}
		if n > l.max {
			return "", true, nil
		}
		return strings.TrimSuffix(string(buf), "\r"), false, nil
	}
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
			fmt.Fprintln(s.out, shellText(line))
		default:
			fmt.Fprintln(s.out, shellPrompt+shellText(line))
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
	b.WriteString(shellText(strings.ReplaceAll(err.Error(), "\n", "; ")))
	fmt.Fprintln(s.errw, b.String())
}

// shellText renders text that came from the user (a command line, a name,
// an error quoting them) for one line of the transcript: as it is, unless
// it holds a control character, invalid UTF-8 or an invisible format
// character; then as trace.Escape renders it (backslashes doubled, so
// that the rendering is unambiguous). A line of output is always one line
// that a terminal shows as it is.
func shellText(s string) string {
	if e := trace.Escape(s); e != strings.ReplaceAll(s, `\`, `\\`) {
		return e
	}
	return s
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
