// Package outcheck holds the checks the examples' tests share: a program's
// key lines appear in its output in order, two runs print the same bytes,
// and the output is its golden file's. It is test support for examples/,
// not part of drvsim's API.
package outcheck

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/stretchr/testify/require"
)

// TestingT is what the checks need of a *testing.T.
type TestingT interface {
	require.TestingT
	Helper()
}

// RequireInOrder checks that every line of want appears in out, in that
// order, each on a line of its own. Trace lines are compared without their
// sequence number (the leading digits and spaces).
func RequireInOrder(t TestingT, out string, want ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		for i < len(lines) && strings.TrimLeft(lines[i], " 0123456789") != w {
			i++
		}
		require.Less(t, i, len(lines), "missing, or out of order: %q\noutput:\n%s", w, out)
		i++
	}
}

// RunTwice runs run twice, requires both runs to succeed and to print the
// same bytes, and returns the output.
func RunTwice(t TestingT, run func(io.Writer) error) string {
	t.Helper()
	var a, b bytes.Buffer
	require.NoError(t, run(&a))
	require.NoError(t, run(&b))
	require.Equal(t, a.String(), b.String(), "two runs differ")
	return a.String()
}

// frameLine matches the file:line of a stack frame, e.g. "(probe.go:169)".
var frameLine = regexp.MustCompile(`\.go:[0-9]+\)`)

// maskFrameLines replaces the line numbers of stack frames with N.
func maskFrameLines(s string) string { return frameLine.ReplaceAllString(s, ".go:N)") }

// Golden checks that got, a program's output, is the contents of the
// golden file path (e.g. testdata/output.golden), which docs/ quotes from.
// With -update, it first writes got to path, creating its directory.
// The line numbers of stack frames ("(file.go:123)") are not compared:
// moving a line of source is not a change of the output; update still
// refreshes them.
func Golden(t TestingT, path, got string) {
	t.Helper()
	golden(t, path, got, *update)
}

// update is the -update flag of every example's tests: one command,
// go test ./examples/... -update, rewrites all their golden files.
var update = flag.Bool("update", false, "rewrite the example's testdata/*.golden from its output")

func golden(t TestingT, path, got string, update bool) {
	t.Helper()
	if update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: rerun the test with -update to create it")
	require.Equal(t, maskFrameLines(string(want)), maskFrameLines(got),
		"the output differs from %s: review, then rerun the test with -update", path)
}

// AsProgram returns out, printed by the main package pkg (the last element
// of its import path, e.g. "firstdriver") inside its test binary, as the
// program itself prints it: a sanitizer report names the functions of its
// stack frames by package, and a test binary's main package is named
// after its import path ("    firstdriver.(*ec).xfer (step2.go:50)")
// where the program's is main ("    main.(*ec).xfer (step2.go:50)").
func AsProgram(out, pkg string) string {
	return regexp.MustCompile(`(?m)^    `+regexp.QuoteMeta(pkg)+`\.`).ReplaceAllLiteralString(out, "    main.")
}
