package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/internal/raceexit"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// recorder is a TestingT that records a failure instead of stopping the
// test.
type recorder struct{ failed bool }

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) FailNow()              { r.failed = true; panic(r) }
func (r *recorder) Helper()               {}

// run calls check and reports whether it failed.
func run(path, got string, update bool) (failed bool) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		failed = r.failed
	}()
	check(r, path, got, update)
	return false
}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	assert.True(t, run(path, "a\n", false), "no file yet")
	assert.False(t, run(path, "a\n", true), "update creates it")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "a\n", string(data))
	assert.False(t, run(path, "a\n", false))
	assert.True(t, run(path, "a", false), "byte for byte")
	assert.True(t, run(path, "b\n", false))
}

func TestJoinLines(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{nil, ""},
		{[]string{"a"}, "a\n"},
		{[]string{"a", "", "b"}, "a\n\nb\n"},
	} {
		assert.Equal(t, tc.want, joinLines(tc.lines), fmt.Sprint(tc.lines))
	}
}
