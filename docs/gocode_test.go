package docs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Go code on the pages is real code. Every ```go block of docs/*.md is
// marked, on the line right before its fence, with where it comes from
// (paths are relative to the repository's root):
//
//	<!-- go: file examples/firstdriver/ec.go -->
//	<!-- go: excerpt lifecycle/async.go -->
//	<!-- go: sketch -->
//
// A file block is a part of a file, to copy: a page's file blocks of one
// path, joined with one blank line between them, are the whole file, byte
// for byte, so that whoever copies them in order has the file. An excerpt
// block is consecutive lines of the file, compared without leading and
// trailing blanks (it may be indented differently); it leaves nothing out
// in its middle, so no "..." can hide a line a reader needs. A sketch is
// an outline of code, not code (a side-by-side comparison with C, an
// API's shape); the pages a reader follows literally (literalPages) have
// none.

// literalPages are the pages whose Go code is all real: every block is a
// file or an excerpt.
var literalPages = []string{"tutorial.md", "testing.md", "examples.md"}

// goMarkerRe matches a Go block's marker: kind, then the path (none for a
// sketch).
var goMarkerRe = regexp.MustCompile(`^<!--\s*go:\s*(file|excerpt|sketch)(?:\s+(\S+))?\s*-->\s*$`)

// parseGoMarker parses a Go block's marker line: a file or an excerpt
// names a path, a sketch none.
func parseGoMarker(l string) (kind, path string, ok bool) {
	m := goMarkerRe.FindStringSubmatch(l)
	if m == nil || (m[1] == "sketch") != (m[2] == "") {
		return "", "", false
	}
	return m[1], m[2], true
}

// goBlock is one ```go block of a page and its marker.
type goBlock struct {
	page string
	line int    // 1-based line of the opening fence
	kind string // file, excerpt or sketch
	path string // relative to the repository's root
	text string // the lines between the fences, joined with "\n"
}

// parseGoBlocks returns the ```go blocks of the page text, with their
// markers, and the problems found: a block without a marker, a marker not
// followed by a ```go block, a block never closed, a malformed marker.
func parseGoBlocks(page, text string) ([]goBlock, []string) {
	lines := strings.Split(text, "\n")
	var blocks []goBlock
	var problems []string
	inFence := false
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r")
		if inFence {
			if l == "```" {
				inFence = false
			}
			continue
		}
		if strings.HasPrefix(l, "<!--") && strings.Contains(l, "go:") {
			if _, _, ok := parseGoMarker(l); !ok {
				problems = append(problems, fmt.Sprintf("%s:%d: malformed Go marker %q (want <!-- go: file PATH -->, <!-- go: excerpt PATH --> or <!-- go: sketch -->)", page, i+1, l))
			} else if i+1 >= len(lines) || strings.TrimRight(lines[i+1], "\r") != "```go" {
				problems = append(problems, fmt.Sprintf("%s:%d: Go marker not followed by a ```go block", page, i+1))
			}
			continue
		}
		if !strings.HasPrefix(l, "```") {
			continue
		}
		if l != "```go" {
			inFence = true
			continue
		}
		b := goBlock{page: page, line: i + 1}
		ok := false
		if i > 0 {
			b.kind, b.path, ok = parseGoMarker(strings.TrimRight(lines[i-1], "\r"))
		}
		if !ok {
			b.kind = ""
			problems = append(problems, fmt.Sprintf("%s:%d: ```go block without a <!-- go: ... --> marker on the line before", page, i+1))
		}
		j := i + 1
		for j < len(lines) && strings.TrimRight(lines[j], "\r") != "```" {
			j++
		}
		if j == len(lines) {
			problems = append(problems, fmt.Sprintf("%s:%d: ```go block not closed by a ``` line", page, i+1))
			break
		}
		b.text = strings.Join(lines[i+1:j], "\n")
		if b.kind != "" {
			blocks = append(blocks, b)
		}
		i = j
	}
	return blocks, problems
}

// checkGoBlocks checks the ```go blocks of the pages dir/*.md against the
// files under root, and returns the problems found.
func checkGoBlocks(dir, root string, literal []string) ([]string, error) {
	pages, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	slices.Sort(pages)
	var problems []string
	for _, path := range pages {
		page := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		blocks, bad := parseGoBlocks(page, string(data))
		problems = append(problems, bad...)
		files := map[string][]string{} // path -> its file blocks, in page order
		var order []string
		for _, b := range blocks {
			where := fmt.Sprintf("%s:%d", b.page, b.line)
			if b.kind == "sketch" {
				if slices.Contains(literal, page) {
					problems = append(problems, where+": a sketch on a page whose code is followed literally: quote a file instead")
				}
				continue
			}
			src, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(b.path)))
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %s %s: %v", where, b.kind, b.path, err))
				continue
			}
			switch b.kind {
			case "file":
				if _, ok := files[b.path]; !ok {
					order = append(order, b.path)
				}
				files[b.path] = append(files[b.path], b.text)
			case "excerpt":
				if p := excerptProblem(b.text, string(src)); p != "" {
					problems = append(problems, fmt.Sprintf("%s: excerpt of %s: %s", where, b.path, p))
				}
			}
		}
		for _, f := range order {
			src, _ := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
			got := strings.Join(files[f], "\n\n") + "\n"
			if got != string(src) {
				problems = append(problems, fmt.Sprintf("%s: its blocks of %s, joined by blank lines, are not the file (- page, + file):\n%s",
					page, f, lineDiff(strings.Split(got, "\n"), strings.Split(string(src), "\n"))))
			}
		}
	}
	return problems, nil
}

// excerptProblem returns "" when the lines of excerpt are consecutive
// lines of src (compared without leading and trailing blanks), and
// otherwise says which line of the excerpt has no match where it should.
func excerptProblem(excerpt, src string) string {
	trim := func(text string) []string {
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimSpace(l)
		}
		return lines
	}
	want, have := trim(excerpt), trim(src)
	if len(want) == 0 || (len(want) == 1 && want[0] == "") {
		return "empty"
	}
	best, bestAt := -1, 0 // the longest run of matching lines, and where it stops
	for start := range have {
		n := 0
		for n < len(want) && start+n < len(have) && have[start+n] == want[n] {
			n++
		}
		if n == len(want) {
			return ""
		}
		if n > best {
			best, bestAt = n, start+n
		}
	}
	if best <= 0 {
		return fmt.Sprintf("its first line is no line of the file: %q", want[0])
	}
	return fmt.Sprintf("line %d of the excerpt, %q, does not follow line %d of the file (there: %q)",
		best+1, want[best], bestAt, lineAt(have, bestAt))
}

func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "end of file"
}

// TestGoBlocks checks every ```go block of docs/*.md against the code it
// quotes.
func TestGoBlocks(t *testing.T) {
	problems, err := checkGoBlocks(".", "..", literalPages)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestCheckGoBlocks runs the checker on pages of its own: a whole file in
// two blocks, an excerpt, and every kind of problem.
func TestCheckGoBlocks(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "docs")
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "x", "a.go"), "package x\n\nfunc A() {\n\tb()\n\tc()\n}\n")
	good := strings.Join([]string{
		"# good", "",
		"<!-- go: file x/a.go -->", "```go", "package x", "```", "",
		"<!-- go: file x/a.go -->", "```go", "func A() {", "\tb()", "\tc()", "}", "```", "",
		"<!-- go: excerpt x/a.go -->", "```go", "b()", "c()", "```", "",
		"```text", "<!-- go: sketch -->", "```", "",
	}, "\n")
	write(filepath.Join(dir, "good.md"), good)
	write(filepath.Join(dir, "literal.md"), strings.Join([]string{
		"<!-- go: sketch -->", "```go", "whatever()", "```", "",
	}, "\n"))
	write(filepath.Join(dir, "bad.md"), strings.Join([]string{
		"```go", "unmarked()", "```", // 1
		"<!-- go: excerpt x/a.go -->", "```go", "b()", "...", "c()", "```", // 5
		"<!-- go: file x/a.go -->", "```go", "package x", "```", // 11
		"<!-- go: excerpt x/none.go -->", "```go", "b()", "```", // 15
		"<!-- go: file -->", "```go", "```", // 18
		"<!-- go: sketch -->", "text", "",
	}, "\n"))
	problems, err := checkGoBlocks(dir, root, []string{"literal.md"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bad.md:1: ```go block without a <!-- go: ... --> marker on the line before",
		`bad.md:18: malformed Go marker "<!-- go: file -->" (want <!-- go: file PATH -->, <!-- go: excerpt PATH --> or <!-- go: sketch -->)`,
		"bad.md:19: ```go block without a <!-- go: ... --> marker on the line before",
		"bad.md:21: Go marker not followed by a ```go block",
		`bad.md:5: excerpt of x/a.go: line 2 of the excerpt, "...", does not follow line 4 of the file (there: "c()")`,
		"bad.md:15: excerpt x/none.go: open " + filepath.Join(root, "x", "none.go") + ": no such file or directory",
		"bad.md: its blocks of x/a.go, joined by blank lines, are not the file",
		"literal.md:2: a sketch on a page whose code is followed literally: quote a file instead",
	}
	for i := range problems {
		problems[i], _, _ = strings.Cut(problems[i], " (- page, + file)")
	}
	if !slices.Equal(problems, want) {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}
