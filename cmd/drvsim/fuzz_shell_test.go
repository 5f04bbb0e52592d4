package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drvsim/drvsim"
)

// FuzzShell runs the shell on any script. Whatever the script holds, the
// shell does not panic or hang, and:
//
//   - every line it writes is valid UTF-8 without control characters but
//     tabs (its output keeps its shape);
//   - every line on standard error is a command's error ("error: line N:")
//     or a trace note;
//   - the same script writes the same bytes twice (determinism).
//
// Scripts are bounded (4 KiB, 64 lines) so that each run is short, and the
// device-tree sources a script names are not read from the file system.
// `go test` runs the seeds below and testdata/fuzz/FuzzShell; docs/testing.md
// says how to fuzz it.
func FuzzShell(f *testing.F) {
	lessons, err := filepath.Glob("testdata/*.drvsh")
	if err != nil || len(lessons) == 0 {
		f.Fatalf("no lessons: %v", err)
	}
	for _, l := range lessons {
		b, err := os.ReadFile(l)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"bus add usb\nplug fff0:fff0 1-1\nopen /dev/skel0\nfeed 1-1 hi\nread 3 0\nread 3\nwrite 3 \"a\\x00b\"\nunplug 1-1\nread 3\nclose 3\n",
		"bus add usb ports=99999999999999999999\nbus add usb ports=31\nhub add 1-31 ports=9223372036854775807\nbus remove usb1\nbus remove usb1\n",
		"bus add usb\nhub add 1-1\nhub add 1-1.1\nhub add 1-1.1.1\nhub add 1-1.1.1.1\nhub add 1-1.1.1.1.1\nhub add 1-1.1.1.1.1.1\nplug fff0:fff0 1-1.1.1.1.1.1.1\n",
		"# \x1b[2J\r\n\"x\xff\nbus add\x07 usb\noverride usb1 \"\\u202e\\n\"\ndevices\ntrace --all --format mermaid\n",
		"driver load skel-broken\nbus add usb\nplug fff0:fff0 1-1\nopen /dev/skel0\nunbind skel-broken 1-1:1.0\n! read 3\ntrace --since 0 --format json\n",
		"driver load udl\nbus add usb\nplug 17e9:0103 1-2\nopen /dev/dri/card0\nioctl 3 version\nunplug 1-2\nioctl 3 version\nfiles\nquit\nhelp\n",
		"dt load board\noverlay apply sensor\noverlay list\noverlay remove 1\ndt show\ntree --format dot\n",
		"trace --since -1\ntrace --all --since 2\nread 3 -1\nopen /dev/nothing\n! \n!\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) > 4096 || bytes.Count(script, []byte("\n")) > 64 {
			return
		}
		failed, out, errs := fuzzShellRun(t, script)
		for _, s := range []string{out, errs} {
			if !utf8.ValidString(s) {
				t.Fatalf("output is not UTF-8: %q", s)
			}
			if i := strings.IndexFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }); i >= 0 {
				t.Fatalf("a control character in the output at %d: %q", i, s[max(0, i-40):min(len(s), i+40)])
			}
		}
		for _, l := range strings.Split(strings.TrimSuffix(errs, "\n"), "\n") {
			if l != "" && !strings.HasPrefix(l, "error: line ") && !strings.HasPrefix(l, "note: trace: ") {
				t.Fatalf("a line on stderr that is neither an error nor a note: %q", l)
			}
		}
		if failed && !strings.Contains(errs, "error: line ") {
			t.Fatalf("the run failed without an error line")
		}
		failed2, out2, errs2 := fuzzShellRun(t, script)
		if failed != failed2 || out != out2 || errs != errs2 {
			t.Fatalf("not deterministic:\n%s\n---\n%s", out+errs, out2+errs2)
		}
	})
}

// fuzzShellRun runs one session of script on a fresh machine whose
// device-tree sources are not read from the file system.
func fuzzShellRun(t *testing.T, script []byte) (failed bool, out, errs string) {
	t.Helper()
	m, err := newShellMachine(drvsim.DefaultTraceLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	m.readSource = func(path string) ([]byte, error) {
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	var o, e bytes.Buffer
	s := &shellSession{m: m, out: &checkedWriter{w: &o}, errw: &e, mark: m.sys.Log().Seq()}
	failed = s.run(bytes.NewReader(script))
	return failed, o.String(), e.String()
}
