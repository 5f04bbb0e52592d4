package docs_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// TestLinks checks the relative links of the Markdown pages a reader
// follows: README.md, CHANGELOG.md, docs/*.md and examples/*/README.md. Every link that
// is not a URL must name an existing file or directory, and every #anchor
// (on a link to a page, or alone, into the same page) a heading of that
// page, by GitHub's rules (see slug).
func TestLinks(t *testing.T) {
	var pages []string
	for _, pattern := range []string{"../README.md", "../CHANGELOG.md", "*.md", "../examples/*/README.md"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, m...)
	}
	if len(pages) < 2 {
		t.Fatalf("found only %q", pages)
	}
	anchors := map[string]map[string]bool{} // page -> its anchors
	anchorsOf := func(page string) (map[string]bool, error) {
		if a, ok := anchors[page]; ok {
			return a, nil
		}
		data, err := os.ReadFile(page)
		if err != nil {
			return nil, err
		}
		a := pageAnchors(string(data))
		anchors[page] = a
		return a, nil
	}
	checked := 0
	for _, page := range pages {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range pageLinks(string(data)) {
			checked++
			where := fmt.Sprintf("%s:%d: link %q", display(page), l.line, l.target)
			path, anchor, _ := strings.Cut(l.target, "#")
			target := page // "#anchor" alone: this page
			if path != "" {
				target = filepath.Join(filepath.Dir(page), filepath.FromSlash(path))
				fi, err := os.Stat(target)
				if err != nil {
					t.Errorf("%s: no such file or directory %s", where, display(target))
					continue
				}
				if anchor != "" && (fi.IsDir() || !strings.HasSuffix(target, ".md")) {
					t.Errorf("%s: an anchor on a link to something other than a Markdown page", where)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			a, err := anchorsOf(target)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if !a[anchor] {
				t.Errorf("%s: %s has no heading with the anchor #%s (anchors: %s)", where, display(target), anchor, strings.Join(sortedKeys(a), " "))
			}
		}
	}
	if checked == 0 {
		t.Error("no relative link found: the parser is broken")
	}
}

// display names a path of the test (run in docs/) from the module root.
func display(path string) string {
	return filepath.ToSlash(filepath.Join("docs", path))
}

// link is a relative link of a page.
type link struct {
	line   int
	target string
}

var (
	// linkRe matches an inline link or image, [text](target "title"), the
	// target in the second group.
	linkRe = regexp.MustCompile(`!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^()\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	// refDefRe matches a reference definition, [label]: target.
	refDefRe = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	// schemeRe matches the scheme of a URL (https:, mailto:, ...).
	schemeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	// headingRe matches an ATX heading; its text is the second group.
	headingRe = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	// anchorTagRe matches an explicit anchor, <a name="x"> or id="x".
	anchorTagRe = regexp.MustCompile(`<a\s+(?:name|id)="([^"]+)"`)
)

// fence reports whether line opens or closes a fenced code block, and
// with which fence ("```", "~~~~", ...).
func fence(line string) (string, bool) {
	s := strings.TrimLeft(line, " ")
	if len(line)-len(s) > 3 {
		return "", false
	}
	for _, c := range []string{"`", "~"} {
		n := len(s) - len(strings.TrimLeft(s, c))
		if n >= 3 {
			return strings.Repeat(c, n), true
		}
	}
	return "", false
}

// proseLines calls fn for every line of a page outside fenced code blocks,
// with the line's inline code spans removed.
func proseLines(page string, fn func(n int, line string)) {
	open := ""
	for i, l := range strings.Split(page, "\n") {
		l = strings.TrimRight(l, "\r")
		if f, ok := fence(l); ok {
			switch {
			case open == "":
				open = f
				continue
			case f[0] == open[0] && len(f) >= len(open) && strings.TrimSpace(l) == f:
				open = ""
				continue
			}
		}
		if open != "" {
			continue
		}
		fn(i+1, stripCodeSpans(l))
	}
}

// stripCodeSpans removes the inline code spans of a line: a run of N
// backticks up to the next run of exactly N. An unmatched run is text.
func stripCodeSpans(l string) string {
	var b strings.Builder
	for i := 0; i < len(l); {
		if l[i] != '`' {
			b.WriteByte(l[i])
			i++
			continue
		}
		n := 0
		for i+n < len(l) && l[i+n] == '`' {
			n++
		}
		run := l[i : i+n]
		end := -1
		for j := i + n; j < len(l); {
			k := strings.Index(l[j:], run)
			if k < 0 {
				break
			}
			k += j
			m := 0
			for k+m < len(l) && l[k+m] == '`' {
				m++
			}
			if m == n {
				end = k
				break
			}
			j = k + m
		}
		if end < 0 {
			b.WriteString(run)
			i += n
			continue
		}
		b.WriteString("CODE") // keeps "[`x`](y)" a link with some text
		i = end + n
	}
	return b.String()
}

// pageLinks returns the relative links of a page (inline links, images and
// reference definitions, outside code): not URLs, not empty.
func pageLinks(page string) []link {
	var out []link
	add := func(n int, target string) {
		if target == "" || schemeRe.MatchString(target) || strings.HasPrefix(target, "//") {
			return
		}
		out = append(out, link{n, target})
	}
	proseLines(page, func(n int, l string) {
		for _, m := range linkRe.FindAllStringSubmatch(l, -1) {
			add(n, m[2])
		}
		if m := refDefRe.FindStringSubmatch(l); m != nil {
			add(n, m[1])
		}
	})
	return out
}

// pageAnchors returns the anchors of a page: the slug of every heading
// (a repeated slug gets -1, -2, ... as on GitHub) and explicit <a name>s.
func pageAnchors(page string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	proseLines(page, func(_ int, l string) {
		for _, m := range anchorTagRe.FindAllStringSubmatch(l, -1) {
			out[m[1]] = true
		}
	})
	// Headings are slugged from their text with code spans kept, so walk
	// the raw lines again.
	open := ""
	for _, l := range strings.Split(page, "\n") {
		l = strings.TrimRight(l, "\r")
		if f, ok := fence(l); ok {
			if open == "" {
				open = f
				continue
			}
			if f[0] == open[0] && len(f) >= len(open) && strings.TrimSpace(l) == f {
				open = ""
				continue
			}
		}
		if open != "" {
			continue
		}
		m := headingRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := slug(m[2])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// inlineLinkRe matches a link or image in a heading, to keep its text.
var inlineLinkRe = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// slug is GitHub's anchor for a heading's text: the text as rendered
// (links reduced to their text, code spans to their content), lowercased,
// every character that is not a letter, a digit, a space, '-' or '_'
// dropped, and each space turned into '-'.
func slug(heading string) string {
	text := inlineLinkRe.ReplaceAllString(heading, "$1")
	text = strings.ReplaceAll(text, "`", "")
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(text)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"How the traces stay current":                 "how-the-traces-stay-current",
		"Step 4: a race test (sim.Explore)":           "step-4-a-race-test-simexplore",
		"Formats: -format text|json|mermaid":          "formats--format-textjsonmermaid",
		"tree --format dot":                           "tree---format-dot",
		"`drvsim explore`: the explorer":              "drvsim-explore-the-explorer",
		"Fault injection and sweeps":                  "fault-injection-and-sweeps",
		"[docs](docs/) and `snake_case` names":        "docs-and-snake_case-names",
		"Ünïcode héading, 2 words":                    "ünïcode-héading-2-words",
		"drm_dev_enter/exit on revocable":             "drm_dev_enterexit-on-revocable",
		"What `-EPROBE_DEFER` means, and why it's ok": "what--eprobe_defer-means-and-why-its-ok",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

func TestPageLinksAndAnchors(t *testing.T) {
	page := strings.Join([]string{
		"# Title",
		"See [a](a.md#x), ![img](img.png \"t\"), [`code`](c.md) and [web](https://x.org/y.md).",
		"Not a link: `[b](b.md)`; ``[c](c.md)``.",
		"```",
		"[d](d.md)",
		"## Inside a fence",
		"```",
		"[ref]: e.md",
		"## Usage",
		"## Usage",
		"### `go test` (race) ##",
		"<a name=\"custom\"></a>",
		"[self](#usage-1)",
	}, "\n")
	var got []string
	for _, l := range pageLinks(page) {
		got = append(got, fmt.Sprintf("%d:%s", l.line, l.target))
	}
	want := []string{"2:a.md#x", "2:img.png", "2:c.md", "8:e.md", "13:#usage-1"}
	if !slices.Equal(got, want) {
		t.Errorf("links: got %q, want %q", got, want)
	}
	anchors := sortedKeys(pageAnchors(page))
	wantAnchors := []string{"custom", "go-test-race", "title", "usage", "usage-1"}
	if !slices.Equal(anchors, wantAnchors) {
		t.Errorf("anchors: got %q, want %q", anchors, wantAnchors)
	}
}
