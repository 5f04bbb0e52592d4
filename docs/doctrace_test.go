// Package docs_test keeps the traces quoted in docs/*.md current.
//
// A trace block in a page is marked with an HTML comment naming its
// generator, on the line right before the block's opening fence:
//
//	<!-- trace: devres-release-order -->
//	```text
//	   1 devm_add_action /sys/devices/platform/serial0: clk_disable_unprepare
//	...
//	```
//
// TestDocTraces walks docs/*.md, runs the generator of every marker (a Go
// function in this package that performs a real run through drvsim's public
// API and renders its output, filtered as the page quotes it) and fails
// with a line diff when a block differs from what the generator prints
// now. The generators of the drvsim command's and the example programs'
// outputs do not build and run the programs: they read the golden
// transcripts the programs' own tests keep equal to a real run
// (cmd/drvsim/testdata/*.golden, examples/*/testdata/*.golden). Every marker must name a registered generator, and every generator
// must be used by exactly one marker.
//
// To rewrite the blocks from the generators:
//
//	go test ./docs -run TestDocTraces -update
package docs_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite the marked trace blocks of docs/*.md from their generators")

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// markerRe matches a marker line; the name is its first group.
var markerRe = regexp.MustCompile(`^<!--\s*trace:\s*([A-Za-z0-9._-]+)\s*-->\s*$`)

// block is one marked trace block of a page.
type block struct {
	name string
	// line is the 1-based line number of the marker.
	line int
	// start and end delimit the block's content: lines[start:end] of the
	// page, between the opening and the closing fence.
	start, end int
}

// parseBlocks finds the marked blocks of a page given as lines. A marker
// is a line of its own outside fenced code; it must be followed, on the
// next line, by an opening fence (``` with an optional info string), and
// the block must be closed by a line that is exactly ```. Markers inside
// fenced code (a page showing the syntax) are text.
func parseBlocks(lines []string) ([]block, error) {
	var out []block
	inFence := false
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		if strings.HasPrefix(l, "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(strings.TrimSpace(l), "<!--") || !strings.Contains(l, "trace:") {
			continue
		}
		m := markerRe.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("line %d: malformed trace marker %q (want <!-- trace: NAME -->)", i+1, l)
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			return nil, fmt.Errorf("line %d: trace marker %q is not followed by a ``` fence", i+1, m[1])
		}
		b := block{name: m[1], line: i + 1, start: i + 2}
		j := b.start
		for j < len(lines) && strings.TrimRight(lines[j], "\r") != "```" {
			j++
		}
		if j == len(lines) {
			return nil, fmt.Errorf("line %d: trace block %q is not closed by a ``` line", i+1, m[1])
		}
		b.end = j
		out = append(out, b)
		i = j
	}
	return out, nil
}

// frameLine matches the file:line of a stack frame, e.g. "(probe.go:169)".
var frameLine = regexp.MustCompile(`\.go:[0-9]+\)`)

// maskFrameLines replaces the line numbers of stack frames with N.
func maskFrameLines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = frameLine.ReplaceAllString(l, ".go:N)")
	}
	return out
}

// checkDocs checks every marked block of the pages dir/*.md against the
// generators gens and returns the problems found, one per entry: a marker
// without a generator, a generator without a marker (or with two), a
// generator that fails, a stale block (with a diff). With update, stale
// blocks are rewritten instead of reported, and their places returned in
// rewritten.
func checkDocs(dir string, gens map[string]generator, update bool) (problems, rewritten []string, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(files)
	used := map[string]string{} // generator name -> page:line of its marker
	for _, path := range files {
		page := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		lines := strings.Split(string(data), "\n")
		blocks, err := parseBlocks(lines)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", page, err))
			continue
		}
		type fix struct {
			b     block
			lines []string
		}
		var fixes []fix
		for _, b := range blocks {
			where := fmt.Sprintf("%s:%d", page, b.line)
			if prev, dup := used[b.name]; dup {
				problems = append(problems, fmt.Sprintf("%s: trace %q is already quoted at %s; give each block its own generator", where, b.name, prev))
				continue
			}
			used[b.name] = where
			gen, ok := gens[b.name]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: no generator for trace %q (add one to generators in docs/generators_test.go)", where, b.name))
				continue
			}
			got, err := gen()
			if err == nil && got == "" {
				err = errors.New("empty output")
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: generator %q: %v", where, b.name, err))
				continue
			}
			gotLines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			if slices.Equal(gotLines, lines[b.start:b.end]) {
				continue
			}
			// A block that differs only in the line numbers of stack
			// frames is not stale: editing a source file must not fail
			// the docs. -update still refreshes the numbers.
			if !update && slices.Equal(maskFrameLines(gotLines), maskFrameLines(lines[b.start:b.end])) {
				continue
			}
			if update {
				fixes = append(fixes, fix{b, gotLines})
				rewritten = append(rewritten, fmt.Sprintf("%s: trace %q", where, b.name))
				continue
			}
			problems = append(problems, fmt.Sprintf("%s: trace %q is stale (- page, + generated; rerun with -update to rewrite):\n%s",
				where, b.name, lineDiff(lines[b.start:b.end], gotLines)))
		}
		if len(fixes) == 0 {
			continue
		}
		for k := len(fixes) - 1; k >= 0; k-- { // from the end, so earlier indices hold
			f := fixes[k]
			lines = slices.Concat(lines[:f.b.start], f.lines, lines[f.b.end:])
		}
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			return nil, nil, err
		}
	}
	for _, name := range sortedKeys(gens) {
		if _, ok := used[name]; !ok {
			problems = append(problems, fmt.Sprintf("generator %q has no <!-- trace: %s --> block in any page", name, name))
		}
	}
	return problems, rewritten, nil
}

// TestDocTraces regenerates every marked trace block of docs/*.md and
// compares it with the page (or rewrites it, with -update).
func TestDocTraces(t *testing.T) {
	problems, rewritten, err := checkDocs(".", twice(generators), *update)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	for _, r := range rewritten {
		t.Logf("%s: rewritten", r)
	}
}

// twice wraps every generator so that it runs two times and fails when the
// two outputs differ: a trace that changes between runs could never be
// kept current.
func twice(gens map[string]generator) map[string]generator {
	out := make(map[string]generator, len(gens))
	for name, gen := range gens {
		out[name] = func() (string, error) {
			a, err := gen()
			if err != nil {
				return "", err
			}
			b, err := gen()
			if err != nil {
				return "", err
			}
			if a != b {
				return "", fmt.Errorf("two runs differ (- first, + second):\n%s",
					lineDiff(strings.Split(a, "\n"), strings.Split(b, "\n")))
			}
			return a, nil
		}
	}
	return out
}

// TestCheckDocs runs the checker on a page of its own: every kind of
// problem is reported, and -update rewrites only the stale block.
func TestCheckDocs(t *testing.T) {
	dir := t.TempDir()
	page := strings.Join([]string{
		"# page",
		"<!-- trace: good -->", "```text", "a", "b", "```",
		"<!-- trace: stale -->", "```text", "old", "```",
		"<!-- trace: missing -->", "```text", "x", "```",
		"<!-- trace: good -->", "```text", "a", "b", "```",
		"<!-- trace: broken -->", "```", "```",
		"<!-- trace: moved -->", "```text", "f (x.go:1)", "```",
		"end", "",
	}, "\n")
	path := filepath.Join(dir, "page.md")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	gens := map[string]generator{
		"good":   func() (string, error) { return "a\nb\n", nil },
		"stale":  func() (string, error) { return "new\n", nil },
		"broken": func() (string, error) { return "", errors.New("no run") },
		"unused": func() (string, error) { return "u\n", nil },
		"moved":  func() (string, error) { return "f (x.go:2)\n", nil },
	}
	problems, rewritten, err := checkDocs(dir, gens, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`page.md:7: trace "stale" is stale (- page, + generated; rerun with -update to rewrite):` + "\n- old\n+ new\n",
		`page.md:11: no generator for trace "missing" (add one to generators in docs/generators_test.go)`,
		`page.md:15: trace "good" is already quoted at page.md:2; give each block its own generator`,
		`page.md:20: generator "broken": no run`,
		`generator "unused" has no <!-- trace: unused --> block in any page`,
	}
	if !slices.Equal(problems, want) || len(rewritten) != 0 {
		t.Fatalf("problems:\n%s\nrewritten: %q", strings.Join(problems, "\n"), rewritten)
	}
	_, rewritten, err = checkDocs(dir, gens, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rewritten, []string{`page.md:7: trace "stale"`, `page.md:23: trace "moved"`}) {
		t.Fatalf("rewritten: %q", rewritten)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), strings.NewReplacer("old", "new", "x.go:1", "x.go:2").Replace(page); got != want {
		t.Fatalf("page after -update:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseBlocks(t *testing.T) {
	page := "# t\n\n<!-- trace: one -->\n```text\na\nb\n```\n\ntext\n<!-- trace: two-2 -->\n```\n```\n"
	blocks, err := parseBlocks(strings.Split(page, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []block{{name: "one", line: 3, start: 4, end: 6}, {name: "two-2", line: 10, start: 11, end: 11}}
	if !slices.Equal(blocks, want) {
		t.Fatalf("got %+v, want %+v", blocks, want)
	}
	for _, bad := range []string{
		"<!-- trace: x -->\ntext\n",          // no fence
		"<!-- trace: x -->\n```text\na\n",    // not closed
		"<!-- trace: bad name -->\n```\n```", // malformed name
	} {
		if _, err := parseBlocks(strings.Split(bad, "\n")); err == nil {
			t.Errorf("parseBlocks(%q): no error", bad)
		}
	}
	// A mention of the syntax in a code span or a fenced block is not a marker.
	for _, text := range []string{
		"Mark a block with `<!-- trace: NAME -->`.",
		"```text\n<!-- trace: NAME -->\n```\n",
	} {
		if b, err := parseBlocks(strings.Split(text, "\n")); err != nil || len(b) != 0 {
			t.Errorf("%q: %v %v", text, b, err)
		}
	}
}

func TestLineDiff(t *testing.T) {
	got := lineDiff([]string{"a", "b", "c"}, []string{"a", "x", "c", "d"})
	want := "  a\n- b\n+ x\n  c\n+ d\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// lineDiff renders a minimal line diff of a (the page) and b (generated):
// "  " common, "- " only in a, "+ " only in b. Runs of more than three
// common lines are shortened to their first and last line.
func lineDiff(a, b []string) string {
	n, m := len(a), len(b)
	// lcs[i][j] is the length of the longest common subsequence of a[i:], b[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, "  "+a[i])
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+a[i])
			i++
		default:
			out = append(out, "+ "+b[j])
			j++
		}
	}
	var buf bytes.Buffer
	for k := 0; k < len(out); {
		if !strings.HasPrefix(out[k], "  ") {
			buf.WriteString(out[k] + "\n")
			k++
			continue
		}
		e := k
		for e < len(out) && strings.HasPrefix(out[e], "  ") {
			e++
		}
		if e-k > 3 {
			fmt.Fprintf(&buf, "%s\n  ... (%d common lines)\n%s\n", out[k], e-k-2, out[e-1])
		} else {
			for _, l := range out[k:e] {
				buf.WriteString(l + "\n")
			}
		}
		k = e
	}
	return buf.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// A generator whose output changes from run to run is reported.
func TestTwiceCatchesNondeterminism(t *testing.T) {
	n := 0
	gen := twice(map[string]generator{"flaky": func() (string, error) { n++; return fmt.Sprint(n), nil }})["flaky"]
	if _, err := gen(); err == nil || !strings.Contains(err.Error(), "two runs differ") {
		t.Fatalf("err = %v", err)
	}
}
