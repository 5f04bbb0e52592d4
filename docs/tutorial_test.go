package docs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The tutorial's outputs are those of its program, run as the reader runs
// it: go run ./examples/firstdriver N. The example's own tests keep each
// step's output in examples/firstdriver/testdata/stepN.golden; the
// generators read those files.
const firstdriver = "./examples/firstdriver"

func tutorialStep(n string) generator {
	return fileText(filepath.Join("..", firstdriver, "testdata", "step"+n+".golden"))
}

// tutorialStep4 is step 4's output without the trace part of the failure
// report (the schedule above it tells the same story).
func tutorialStep4() (string, error) {
	out, err := tutorialStep("4")()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	cut := false
	for _, l := range strings.SplitAfter(out, "\n") {
		switch {
		case strings.HasPrefix(l, "trace (last "):
			cut = true
			b.WriteString("...\n")
		case strings.HasPrefix(l, "replay: "):
			cut = false
		}
		if !cut {
			b.WriteString(l)
		}
	}
	return b.String(), nil
}

// TestTutorialCodeExcerpts checks that the Go excerpts of tutorial.md are
// still in the example's source: every line of a ```go block, apart from
// "..." elisions, must be a line of some file of examples/firstdriver
// (compared without leading and trailing blanks).
func TestTutorialCodeExcerpts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", firstdriver, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources in %s: %v", firstdriver, err)
	}
	page, err := os.ReadFile("tutorial.md")
	if err != nil {
		t.Fatal(err)
	}
	lines := goExcerptLines(string(page), 1)
	if len(lines) == 0 {
		t.Error("tutorial.md has no ```go excerpt")
	}
	bad, err := missingFromSources("tutorial.md", lines, files...)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
}
