// Package golden keeps a test's expected output in a file, so that a
// trace a test expects is data (testdata/NAME.golden) and not a pasted
// literal: Check compares, and `go test PKG -update` rewrites the files
// of the packages named from what their tests now produce (review the
// diff before committing it). It is test support, not drvsim API.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"strings"

	"github.com/stretchr/testify/require"
)

// update is the -update flag of every test binary that imports the
// package.
var update = flag.Bool("update", false, "rewrite the testdata/*.golden files from the tests' output")

// TestingT is what Check needs of a *testing.T.
type TestingT interface {
	require.TestingT
	Helper()
}

// Check requires got to be the contents of the golden file path, byte
// for byte. With -update it first writes got to path, creating its
// directory.
func Check(t TestingT, path, got string) {
	t.Helper()
	check(t, path, got, *update)
}

// Lines is Check for lines of text, one per line of the file (each
// ended by a newline): a trace in trace.Shorts form, for instance.
func Lines(t TestingT, path string, lines []string) {
	t.Helper()
	Check(t, path, joinLines(lines))
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

func check(t TestingT, path, got string, update bool) {
	t.Helper()
	if update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: run the test with -update to create it")
	require.Equal(t, string(want), got, "%s differs (- golden, + got); if the change is right, rerun with -update and review the diff", path)
}
