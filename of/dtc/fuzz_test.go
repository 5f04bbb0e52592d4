package dtc_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/of/dtc"
)

// FuzzParse feeds the parser arbitrary sources, seeded with the test
// sources and every refused one. It must never panic or hang; a refused
// source gives an *Error with a position inside the source that matches
// ErrInvalid or ErrFileTooBig; an accepted one formats to a source that
// parses and formats the same again.
//
//	go test ./of/dtc -run '^$' -fuzz FuzzParse -fuzztime 30s
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.dts*"))
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, tc := range badSources {
		f.Add([]byte(tc.src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		tree, err := dtc.Parse("fuzz.dts", src)
		if err != nil {
			var e *dtc.Error
			if !errors.As(err, &e) {
				t.Fatalf("not a *dtc.Error: %v", err)
			}
			if !errors.Is(err, device.ErrInvalid) && !errors.Is(err, device.ErrFileTooBig) {
				t.Fatalf("no errno: %v", err)
			}
			if e.Pos.Line < 1 || e.Pos.Col < 1 || e.Pos.Line > 1+countLines(src) {
				t.Fatalf("position %v outside the source: %v", e.Pos, err)
			}
			return
		}
		out := dtc.Format(tree)
		again, err := dtc.Parse("formatted.dts", []byte(out))
		if err != nil {
			t.Fatalf("formatted source refused: %v\n%s", err, out)
		}
		if out2 := dtc.Format(again); out2 != out {
			t.Fatalf("format not stable:\n%s\n---\n%s", out, out2)
		}
	})
}

func countLines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
