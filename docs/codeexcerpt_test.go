package docs_test

import (
	"fmt"
	"os"
	"strings"
)

// codeExcerptLine is one line of a ```go excerpt on a page.
type codeExcerptLine struct {
	n    int    // line number in the text it was taken from
	text string // trimmed
}

// goExcerptLines returns the lines of the ```go blocks of text, trimmed,
// without blank lines and "..." elisions; first is the number of text's
// first line.
func goExcerptLines(text string, first int) []codeExcerptLine {
	var out []codeExcerptLine
	in := false
	for i, l := range strings.Split(text, "\n") {
		switch {
		case !in && l == "```go":
			in = true
			continue
		case in && l == "```":
			in = false
			continue
		case !in:
			continue
		}
		s := strings.TrimSpace(l)
		if s == "" || s == "..." || s == "// ..." {
			continue
		}
		out = append(out, codeExcerptLine{first + i, s})
	}
	return out
}

// missingFromSources returns, for every excerpt line that is not a line of
// one of the files (compared trimmed), a problem naming where it is: the
// check that a page's Go excerpts still quote the real code.
func missingFromSources(where string, lines []codeExcerptLine, files ...string) ([]string, error) {
	have := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(data), "\n") {
			have[strings.TrimSpace(l)] = true
		}
	}
	var bad []string
	for _, l := range lines {
		if !have[l.text] {
			bad = append(bad, fmt.Sprintf("%s:%d: not a line of %s: %s", where, l.n, strings.Join(files, ", "), l.text))
		}
	}
	return bad, nil
}
