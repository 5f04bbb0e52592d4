// Package outcheck holds the checks the examples' tests share: a program's
// key lines appear in its output in order, and two runs print the same
// bytes. It is test support for examples/, not part of drvsim's API.
package outcheck

import (
	"bytes"
	"io"
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
