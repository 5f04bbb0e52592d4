package drvsim_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/revocable"
	"github.com/drvsim/drvsim/revocable/srcu"
)

// Every exported entry point of the driver core's packages, called with
// nil and zero arguments, returns an error (when it returns one), or does
// nothing harmful, or panics with a clear message where that is its
// documented contract. The packages' exported names are listed from their
// source (go/parser), so a new function or method without an entry here
// fails the test.

// apiPackages are the packages walked, by directory and import name.
var apiPackages = map[string]string{
	".":              "drvsim",
	"bus":            "bus",
	"bus/platform":   "platform",
	"device":         "device",
	"driver":         "driver",
	"devres":         "devres",
	"revocable":      "revocable",
	"revocable/srcu": "srcu",
}

// exportedAPI lists "pkg.Func" and "pkg.Type.Method" for every exported
// function and every exported method of an exported type.
func exportedAPI(t *testing.T) (funcs, methods []string) {
	t.Helper()
	fset := token.NewFileSet()
	for dir, name := range apiPackages {
		files := parsePackage(t, fset, dir, name)
		require.NotEmpty(t, files, dir)
		for _, f := range files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || !fd.Name.IsExported() {
					continue
				}
				if fd.Recv == nil {
					funcs = append(funcs, name+"."+fd.Name.Name)
					continue
				}
				typ := fd.Recv.List[0].Type
				if s, ok := typ.(*ast.StarExpr); ok {
					typ = s.X
				}
				switch x := typ.(type) {
				case *ast.IndexExpr:
					typ = x.X
				case *ast.IndexListExpr:
					typ = x.X
				}
				id, ok := typ.(*ast.Ident)
				if ok && id.IsExported() {
					methods = append(methods, name+"."+id.Name+"."+fd.Name.Name)
				}
			}
		}
	}
	sort.Strings(funcs)
	sort.Strings(methods)
	return funcs, methods
}

// receivers builds a fresh receiver of each exported type with methods,
// and what to do after the call.
var receivers = map[string]func(t *testing.T) (recv any, cleanup func()){
	"drvsim.System": func(*testing.T) (any, func()) { s := drvsim.NewSystem(); return s, s.Close },
	"drvsim.Runs":   func(*testing.T) (any, func()) { r := &drvsim.Runs{}; return r, r.Close },
	"bus.Core": func(*testing.T) (any, func()) {
		s := drvsim.NewSystem()
		return s.Core, s.Close
	},
	"bus.Bus":    func(*testing.T) (any, func()) { return platform.NewBus(), nil },
	"bus.Action": func(*testing.T) (any, func()) { return bus.NotifyAddDevice, nil },
	"device.Device": func(t *testing.T) (any, func()) {
		s := drvsim.NewSystem()
		d := s.NewPlatformDevice("walk")
		require.NoError(t, s.RegisterDevice(d))
		return d, s.Close
	},
	"device.CoreAccess":  func(*testing.T) (any, func()) { return device.New("walk").Core(), nil },
	"device.Errno":       func(*testing.T) (any, func()) { return new(device.Errno), nil },
	"device.DevT":        func(*testing.T) (any, func()) { return device.DevT(0), nil },
	"bus.DevNode":        func(*testing.T) (any, func()) { return bus.DevNode{}, nil },
	"bus.FwDevlinkMode":  func(*testing.T) (any, func()) { return bus.FwDevlinkMode(0), nil },
	"device.Fwnode":      func(*testing.T) (any, func()) { return device.NewFwnode(nil), nil },
	"device.FwnodeCore":  func(*testing.T) (any, func()) { return device.NewFwnode(nil).Core(), nil },
	"device.FwnodeFlags": func(*testing.T) (any, func()) { return device.FwnodeFlags(0), nil },
	"device.FwlinkFlags": func(*testing.T) (any, func()) { return device.FwlinkFlags(0), nil },
	"device.FwnodeLink":  func(*testing.T) (any, func()) { return &device.FwnodeLink{}, nil },
	"device.Link":        func(*testing.T) (any, func()) { return &device.Link{}, nil },
	"device.LinkFlags":   func(*testing.T) (any, func()) { return device.LinkFlags(0), nil },
	"device.State":       func(*testing.T) (any, func()) { return device.State(0), nil },
	"driver.Driver": func(*testing.T) (any, func()) {
		return &driver.Driver{Name: "walk", Bus: platform.Name}, nil
	},
	"driver.ProbeType": func(*testing.T) (any, func()) { return driver.ProbeType(0), nil },
	"devres.List":      func(*testing.T) (any, func()) { return devres.NewList(""), nil },
	"devres.Handle":    func(*testing.T) (any, func()) { return devres.Handle{}, nil },
	"devres.Group":     func(*testing.T) (any, func()) { return &devres.Group{}, nil },
	"revocable.Provider": func(*testing.T) (any, func()) {
		return revocable.NewProvider[int](nil, nil), nil
	},
	"revocable.Consumer": func(t *testing.T) (any, func()) {
		c, err := revocable.New(revocable.NewProvider[int](nil, nil))
		require.NoError(t, err)
		return c, nil
	},
	"revocable.Access": func(*testing.T) (any, func()) { return revocable.Access{}, nil },
	"srcu.Domain":      func(*testing.T) (any, func()) { return srcu.New(nil, ""), nil },
	"srcu.Slot":        func(*testing.T) (any, func()) { return srcu.New(nil, "").NewSlot(), nil },
	"srcu.Guard":       func(*testing.T) (any, func()) { return srcu.Guard{}, nil },
}

// functions calls each exported function with nil and zero arguments and
// returns its error result (nil when it has none).
var functions = map[string]func() error{
	"drvsim.NewSystem":           func() error { drvsim.NewSystem(nil).Close(); return nil },
	"drvsim.OnSim":               func() error { drvsim.NewSystem(drvsim.OnSim(nil)).Close(); return nil },
	"drvsim.WithLockdep":         func() error { drvsim.NewSystem(drvsim.WithLockdep(false)).Close(); return nil },
	"drvsim.WithTraceLimit":      func() error { drvsim.NewSystem(drvsim.WithTraceLimit(0)).Close(); return nil },
	"drvsim.WithHungTaskTimeout": func() error { drvsim.NewSystem(drvsim.WithHungTaskTimeout(0)).Close(); return nil },
	"drvsim.WithHungTaskPanic":   func() error { drvsim.NewSystem(drvsim.WithHungTaskPanic(false)).Close(); return nil },
	"bus.NewCore":                func() error { bus.NewCore(nil).Close(); return nil },
	"bus.CoreOf":                 func() error { bus.CoreOf(nil); return nil },
	"device.MkDev":               func() error { _ = device.MkDev(0, 0); return nil },
	"device.WithClass":           func() error { device.New("x", device.WithClass(nil)); return nil },
	"device.WithDevt":            func() error { device.New("x", device.WithDevt(0)); return nil },
	"platform.ID":                func() error { _, _ = platform.ID(nil, nil); return nil },
	"platform.Match":             func() error { platform.Match(nil, nil); return nil },
	"platform.NewBus":            func() error { platform.NewBus(); return nil },
	"platform.NewDevice":         func() error { platform.NewDevice(nil, ""); return nil },
	"platform.NewDriver":         func() error { platform.NewDriver("", nil, nil); return nil },
	"platform.Uevent":            func() error { platform.Uevent(nil); return nil },
	"device.ErrnoName":           func() error { device.ErrnoName(nil); return nil },
	"device.New":                 func() error { device.New("", nil); return nil },
	"device.WithBus":             func() error { device.New("x", device.WithBus(nil)); return nil },
	"device.WithParent":          func() error { device.New("x", device.WithParent(nil)); return nil },
	"device.WithRelease":         func() error { device.New("x", device.WithRelease(nil)); return nil },
	"device.WithPlatformData":    func() error { device.New("x", device.WithPlatformData(nil)); return nil },
	"device.WithFwnode":          func() error { device.New("x", device.WithFwnode(nil)); return nil },
	"device.NewFwnode":           func() error { device.NewFwnode(nil); return nil },
	"device.AddFwnodeLink":       func() error { device.AddFwnodeLink(nil, nil, 0); return nil },
	"device.DelFwnodeLink":       func() error { device.DelFwnodeLink(nil); return nil },
	"device.ValidateName":        func() error { return device.ValidateName("", "") },
	"driver.BaseName":            func() error { _ = driver.BaseName(""); return nil },
	"driver.IsQuiet":             func() error { driver.IsQuiet(nil); return nil },
	"devres.Count":               func() error { devres.Count(0); return nil },
	"devres.NewList":             func() error { devres.NewList(""); return nil },
	"revocable.New":              func() error { _, err := revocable.New[int](nil); return err },
	"revocable.NewProvider":      func() error { revocable.NewProvider[int](nil, nil, nil); return nil },
	"revocable.NewShared":        func() error { _, err := revocable.NewShared[int](nil); return err },
	"revocable.DevmProvider":     func() error { _, err := revocable.DevmProvider[int](nil, nil); return err },
	"revocable.WithName":         func() error { revocable.NewProvider[int](nil, nil, revocable.WithName("")); return nil },
	"srcu.New":                   func() error { srcu.New(nil, ""); return nil },
}

// functionsZeroValid are the functions with an error result for which nil
// and zero arguments are valid (none).
var functionsZeroValid = map[string]string{}

// documentedPanics are the methods whose contract is to panic on their
// zero arguments (or zero receiver), with the message they panic with.
var documentedPanics = map[string]string{
	"revocable.Access.Release":  "revocable: Release of a zero Access (Release without TryAccess)",
	"srcu.Guard.Unlock":         "srcu: srcu_read_unlock of a zero Guard (unlock without a matching lock)",
	"device.CoreAccess.AddLink": "device: CoreAccess.AddLink: a link needs a consumer and a supplier",
}

// methodsZeroValid are the methods with parameters and an error result
// for which nil and zero arguments are valid, and why.
var methodsZeroValid = map[string]string{
	"device.Device.SetDriverOverride": `an empty driver_override clears it (driver_set_override)`,
	"devres.List.OpenGroup":           `devres_open_group with a NULL id is a group named by its address`,
}

// call runs fn with a deadline: no entry point may hang on zero input.
func call(t *testing.T, name string, fn func()) (panicked any) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		fn()
	}()
	select {
	case p := <-done:
		return p
	case <-time.After(10 * time.Second):
		t.Fatalf("%s hangs on zero arguments", name)
		return nil
	}
}

func TestExportedAPIWithNilAndZeroArguments(t *testing.T) {
	funcs, methods := exportedAPI(t)
	require.NotEmpty(t, funcs)
	require.NotEmpty(t, methods)
	t.Logf("%d functions, %d methods", len(funcs), len(methods))

	// Functions: the table covers exactly the exported functions.
	var table []string
	for name := range functions {
		table = append(table, name)
	}
	sort.Strings(table)
	assert.Equal(t, funcs, table, "the functions table must list every exported function")
	for _, name := range funcs {
		fn := functions[name]
		if fn == nil {
			continue
		}
		var err error
		if p := call(t, name, func() { err = fn() }); p != nil {
			t.Errorf("%s panics on nil/zero arguments: %v", name, p)
			continue
		}
		if err == nil && hasErrorResult(t, name) {
			if _, ok := functionsZeroValid[name]; !ok {
				t.Errorf("%s accepts nil/zero arguments without an error", name)
			}
		}
	}

	// Methods: every one, on a fresh receiver, with zero arguments.
	for _, m := range methods {
		typ := m[:strings.LastIndexByte(m, '.')]
		mname := m[len(typ)+1:]
		mk := receivers[typ]
		if mk == nil {
			t.Errorf("no receiver for %s (add one to receivers)", typ)
			continue
		}
		recv, cleanup := mk(t)
		meth := reflect.ValueOf(recv).MethodByName(mname)
		if !meth.IsValid() {
			t.Errorf("%s: no such method on %T", m, recv)
			continue
		}
		mt := meth.Type()
		args := make([]reflect.Value, 0, mt.NumIn())
		for i := range mt.NumIn() {
			if mt.IsVariadic() && i == mt.NumIn()-1 {
				break
			}
			args = append(args, reflect.Zero(mt.In(i)))
		}
		var out []reflect.Value
		p := call(t, m, func() { out = meth.Call(args) })
		if cleanup != nil {
			cleanup()
		}
		if p != nil {
			want, ok := documentedPanics[m]
			switch {
			case !ok:
				t.Errorf("%s panics on zero arguments: %v", m, p)
			default:
				assert.Equal(t, want, fmt.Sprint(p), m)
			}
			continue
		}
		if _, ok := documentedPanics[m]; ok {
			t.Errorf("%s: documented to panic on zero arguments, did not", m)
		}
		errIdx := -1
		for i := range mt.NumOut() {
			if mt.Out(i) == reflect.TypeFor[error]() {
				errIdx = i
			}
		}
		if len(args) == 0 || errIdx < 0 {
			continue // nothing to pass, or no error to return: not panicking is the contract
		}
		if out[errIdx].IsNil() {
			if _, ok := methodsZeroValid[m]; !ok {
				t.Errorf("%s accepts zero arguments without an error", m)
			}
		} else if _, ok := methodsZeroValid[m]; ok {
			t.Errorf("%s is listed as accepting zero arguments but returns %v", m, out[errIdx])
		}
	}
	for name := range documentedPanics {
		assert.True(t, slices.Contains(methods, name), "documentedPanics lists %s, not an exported method", name)
	}
	for name := range methodsZeroValid {
		assert.True(t, slices.Contains(methods, name), "methodsZeroValid lists %s, not an exported method", name)
	}
}

// hasErrorResult reports whether the exported function name returns an
// error, from its source.
func hasErrorResult(t *testing.T, name string) bool {
	t.Helper()
	dot := strings.IndexByte(name, '.')
	pkgName, fn := name[:dot], name[dot+1:]
	for dir, n := range apiPackages {
		if n != pkgName {
			continue
		}
		for _, f := range parsePackage(t, token.NewFileSet(), dir, n) {
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == fn && fd.Type.Results != nil {
					for _, r := range fd.Type.Results.List {
						if id, ok := r.Type.(*ast.Ident); ok && id.Name == "error" {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// parsePackage parses the non-test Go files of package name in dir.
func parsePackage(t *testing.T, fset *token.FileSet, dir, name string) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		require.NoError(t, err)
		if f.Name.Name == name {
			files = append(files, f)
		}
	}
	return files
}
