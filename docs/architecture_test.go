package docs_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// architecture.md's layer table is internal/layers' table: the layering
// test's map of every package to its layer, read from its source (it is
// test code, so the docs cannot import it).
const layersSource = "../internal/layers/layers_test.go"

// layerTable reads the layer of every package from the composite literal
// of the variable "layers" in src: path (relative to the module; "." is
// the root) to layer.
func layerTable(src string) (map[string]int, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "layers_test.go", src, 0)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	found := false
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "layers" || len(vs.Values) != 1 {
			return true
		}
		lit, ok := vs.Values[0].(*ast.CompositeLit)
		if !ok {
			return true
		}
		found = true
		for _, elt := range lit.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				err = fmt.Errorf("layers: an element that is no key: value")
				return false
			}
			key, ok := kv.Key.(*ast.BasicLit)
			val, ok2 := kv.Value.(*ast.CompositeLit)
			if !ok || !ok2 || key.Kind != token.STRING || len(val.Elts) == 0 {
				err = fmt.Errorf("layers: an entry that is no \"path\": {rank, model}")
				return false
			}
			rank, ok := val.Elts[0].(*ast.BasicLit)
			if !ok || rank.Kind != token.INT {
				err = fmt.Errorf("layers: the rank of an entry is no integer literal")
				return false
			}
			path, _ := strconv.Unquote(key.Value)
			out[path], _ = strconv.Atoi(rank.Value)
		}
		return false
	})
	if err == nil && !found {
		err = fmt.Errorf("no var layers = map[...]...{...} in %s", layersSource)
	}
	return out, err
}

// codeSpan matches a `code` span of a table cell.
var codeSpan = regexp.MustCompile("`([^`]+)`")

// pageLayers reads the table under "## The layers" of the page: package
// to the layer of its row; "drvsim" is the root package, ".".
func pageLayers(page string) (map[string]int, error) {
	_, section, ok := strings.Cut(page, "\n## The layers\n")
	if !ok {
		return nil, fmt.Errorf("no \"## The layers\" section")
	}
	out := map[string]int{}
	rows := 0
	for _, l := range strings.Split(section, "\n") {
		if strings.HasPrefix(l, "## ") {
			break
		}
		cells := strings.Split(l, "|")
		if !strings.HasPrefix(l, "|") || len(cells) < 4 {
			continue
		}
		rank, err := strconv.Atoi(strings.TrimSpace(cells[1]))
		if err != nil {
			continue // the header and the separator
		}
		rows++
		for _, m := range codeSpan.FindAllStringSubmatch(cells[2], -1) {
			path := m[1]
			if path == "drvsim" {
				path = "."
			}
			if prev, dup := out[path]; dup {
				return nil, fmt.Errorf("%s is in the rows of layers %d and %d", path, prev, rank)
			}
			out[path] = rank
		}
	}
	if rows == 0 {
		return nil, fmt.Errorf("no table rows under \"## The layers\"")
	}
	return out, nil
}

// layerDiff lists how page differs from want: a package missing, one too
// many, one in the wrong layer.
func layerDiff(want, page map[string]int) []string {
	var out []string
	for _, p := range sortedKeys(want) {
		got, ok := page[p]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s (layer %d) is not in the table", p, want[p]))
		case got != want[p]:
			out = append(out, fmt.Sprintf("%s is in layer %d, the table says %d", p, want[p], got))
		}
	}
	for _, p := range sortedKeys(page) {
		if _, ok := want[p]; !ok {
			out = append(out, fmt.Sprintf("%s (layer %d in the table) is no package of internal/layers", p, page[p]))
		}
	}
	return out
}

// TestArchitectureLayers checks that architecture.md's layer table has
// every package of internal/layers' table, each in its layer, and no
// other.
func TestArchitectureLayers(t *testing.T) {
	src, err := os.ReadFile(layersSource)
	if err != nil {
		t.Fatal(err)
	}
	want, err := layerTable(string(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < 20 {
		t.Fatalf("only %d packages read from %s: is the parser broken?", len(want), layersSource)
	}
	page, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pageLayers(string(page))
	if err != nil {
		t.Fatalf("architecture.md: %v", err)
	}
	for _, d := range layerDiff(want, got) {
		t.Errorf("architecture.md, the layer table: %s (update it from %s)", d, layersSource)
	}
}

// The check sees a package moved, missing or added.
func TestLayerDiff(t *testing.T) {
	src := "package x\nvar layers = map[string]layer{\n\t\"trace\": {0, true},\n\t\"sched\": {1, true},\n\t\".\": {2, false}, // the root\n}\n"
	want, err := layerTable(src)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sortedKeys(want), []string{".", "sched", "trace"}) || want["sched"] != 1 {
		t.Fatalf("layerTable: %v", want)
	}
	page := "# A\n\n## The layers\n\n| layer | packages | what |\n| --- | --- | --- |\n| 0 | `trace`, `env` | log |\n| 2 | `sched`, `drvsim` | x |\n\n## Next\n| 9 | `ignored` | |\n"
	got, err := pageLayers(page)
	if err != nil {
		t.Fatal(err)
	}
	diff := layerDiff(want, got)
	wantDiff := []string{"sched is in layer 1, the table says 2", "env (layer 0 in the table) is no package of internal/layers"}
	if !slices.Equal(diff, wantDiff) {
		t.Fatalf("diff: %q, want %q", diff, wantDiff)
	}
	if _, err := pageLayers("# no table\n"); err == nil {
		t.Error("a page without the section: no error")
	}
	if _, err := layerTable("package x\n"); err == nil {
		t.Error("a source without the table: no error")
	}
}
