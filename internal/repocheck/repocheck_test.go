package repocheck_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// root is the module's root directory, from this package's.
const root = "../.."

// sourceFiles returns the paths of the repository's files whose names end
// in one of exts, skipping testdata and hidden directories.
func sourceFiles(t *testing.T, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		for _, ext := range exts {
			if strings.HasSuffix(path, ext) {
				out = append(out, path)
				break
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, out, "no %v files under %s", exts, root)
	return out
}

// The module is under the Apache License 2.0: LICENSE holds the standard
// text, whole (pkg.go.dev recognises it and shows the documentation).
func TestLicense(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	require.NoError(t, err)
	text := string(data)
	for _, want := range []string{
		"Apache License",
		"Version 2.0, January 2004",
		"TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
		"9. Accepting Warranty or Additional Liability.",
		"END OF TERMS AND CONDITIONS",
		"APPENDIX: How to apply the Apache License to your work.",
	} {
		assert.Contains(t, text, want)
	}
	assert.Len(t, strings.Fields(text), 1581, "the standard text, word for word")
}

// LICENSE is the one place the licence is stated: no source file starts
// with a licence or copyright header.
func TestNoLicenceHeaders(t *testing.T) {
	for _, path := range sourceFiles(t, ".go", ".s") {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		// The header is what comes before the first line that is not a
		// comment or blank (the package clause, a build constraint is a
		// comment and stays in).
		var head []string
		for _, l := range strings.Split(string(data), "\n") {
			s := strings.TrimSpace(l)
			if s != "" && !strings.HasPrefix(s, "//") && !strings.HasPrefix(s, "/*") && !strings.HasPrefix(s, "*") {
				break
			}
			head = append(head, s)
		}
		h := strings.ToLower(strings.Join(head, "\n"))
		for _, word := range []string{"copyright", "spdx-license-identifier", "licensed under", "all rights reserved"} {
			assert.NotContains(t, h, word, "%s: a licence header; LICENSE covers every file", path)
		}
	}
}

// testingParam names a function's *testing.T, *testing.B or testing.TB
// parameter ("" for none, or when it is unnamed or _).
func testingParam(ft *ast.FuncType) string {
	for _, f := range ft.Params.List {
		var typ string
		switch x := f.Type.(type) {
		case *ast.StarExpr:
			if sel, ok := x.X.(*ast.SelectorExpr); ok {
				typ = "*" + exprName(sel)
			}
		case *ast.SelectorExpr:
			typ = exprName(x)
		}
		if typ != "*testing.T" && typ != "*testing.B" && typ != "testing.TB" {
			continue
		}
		for _, n := range f.Names {
			if n.Name != "_" {
				return n.Name
			}
		}
	}
	return ""
}

func exprName(sel *ast.SelectorExpr) string {
	if id, ok := sel.X.(*ast.Ident); ok {
		return id.Name + "." + sel.Sel.Name
	}
	return ""
}

// callsHelper reports whether body calls NAME.Helper().
func callsHelper(body *ast.BlockStmt, name string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Helper" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == name {
					found = true
				}
			}
		}
		return !found
	})
	return found
}

// Every test helper (a function of a _test.go file that takes a
// *testing.T, *testing.B or testing.TB and is not itself a test, benchmark
// or fuzz target) calls Helper, so that a failure it reports points at the
// test's line, not the helper's. Function literals bound to a name count
// too (check := func(t *testing.T, ...)); those passed to t.Run are
// subtests, not helpers.
func TestHelpersCallHelper(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, path := range sourceFiles(t, "_test.go") {
		f, err := parser.ParseFile(fset, path, nil, 0)
		require.NoError(t, err)
		check := func(name string, ft *ast.FuncType, body *ast.BlockStmt, pos token.Pos) {
			for _, prefix := range []string{"Test", "Benchmark", "Fuzz", "Example"} {
				if strings.HasPrefix(name, prefix) {
					return
				}
			}
			param := testingParam(ft)
			if body == nil || param == "" {
				return
			}
			checked++
			assert.True(t, callsHelper(body, param), "%s: %s takes %s but does not call %s.Helper()",
				fset.Position(pos), name, param, param)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch d := n.(type) {
			case *ast.FuncDecl:
				check(d.Name.Name, d.Type, d.Body, d.Pos())
			case *ast.AssignStmt:
				for i, rhs := range d.Rhs {
					fl, ok := rhs.(*ast.FuncLit)
					if !ok || i >= len(d.Lhs) {
						continue
					}
					if id, ok := d.Lhs[i].(*ast.Ident); ok {
						check(id.Name, fl.Type, fl.Body, fl.Pos())
					}
				}
			}
			return true
		})
	}
	assert.Greater(t, checked, 20, "the walk found the helpers")
}
