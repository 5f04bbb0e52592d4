package outcheck

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// recorder is a testing.TB that records a failure instead of stopping the
// test, so the checks' failures can be asserted.
type recorder struct{ failed bool }

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) FailNow()              { r.failed = true; panic(r) }

func fails(check func(t TestingT)) (failed bool) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
		failed = r.failed
	}()
	check(r)
	return r.failed
}

func TestRequireInOrder(t *testing.T) {
	out := "   1 probe a\n   2 [t] release b\nsay: done\n"
	assert.False(t, fails(func(t TestingT) { RequireInOrder(t, out, "probe a", "[t] release b", "say: done") }))
	assert.True(t, fails(func(t TestingT) { RequireInOrder(t, out, "[t] release b", "probe a") }), "out of order")
	assert.True(t, fails(func(t TestingT) { RequireInOrder(t, out, "probe") }), "a part of a line is not a line")
}

func TestRunTwice(t *testing.T) {
	assert.Equal(t, "same\n", RunTwice(t, func(w io.Writer) error { _, err := fmt.Fprintln(w, "same"); return err }))
	n := 0
	assert.True(t, fails(func(t TestingT) {
		RunTwice(t, func(w io.Writer) error { n++; _, err := fmt.Fprintln(w, n); return err })
	}))
}

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "testdata", "output.golden")
	assert.True(t, fails(func(t TestingT) { golden(t, path, "a\n", false) }), "no file yet")
	assert.False(t, fails(func(t TestingT) { golden(t, path, "a (x.go:1)\n", true) }), "update creates it")
	data, err := os.ReadFile(path)
	assert.NoError(t, err)
	assert.Equal(t, "a (x.go:1)\n", string(data))
	assert.False(t, fails(func(t TestingT) { golden(t, path, "a (x.go:7)\n", false) }), "a moved line is not a change")
	assert.True(t, fails(func(t TestingT) { golden(t, path, "b (x.go:1)\n", false) }), "a changed line is")
}

func TestAsProgram(t *testing.T) {
	in := "BUG: x\n    firstdriver.(*ec).xfer (step2.go:50)\n    revocable.Try (r.go:1)\nfirstdriver. says\n    main.run (main.go:3)\n"
	want := "BUG: x\n    main.(*ec).xfer (step2.go:50)\n    revocable.Try (r.go:1)\nfirstdriver. says\n    main.run (main.go:3)\n"
	assert.Equal(t, want, AsProgram(in, "firstdriver"))
	assert.Equal(t, "    main.f (a.go:1)\n", AsProgram("    lifecycle-test.f (a.go:1)\n", "lifecycle-test"))
}
