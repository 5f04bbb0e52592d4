package layers_test

import (
	"errors"
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/internal/raceexit"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

const module = "github.com/drvsim/drvsim"

// layer is a package's place in the stack: it may import packages of
// lower layers only. model marks a package that models the kernel (the
// driver core, its library, the simulated subsystems and drivers): the
// simulator implements the interfaces a model uses, so a model never
// depends on package sim, not even through another package.
type layer struct {
	rank  int
	model bool
}

// layers places every package of the module (by path relative to the
// module root; "." is package drvsim), bottom up, as docs say it:
// trace -> sched -> env -> devres, kernel, revocable/srcu -> revocable ->
// device -> driver -> bus (+ bus/platform) -> the subsystems and drivers
// -> drvsim (System) -> scenario packages -> the registry -> commands.
// sim sits beside the kernel library: it imports env, sched and trace
// only. Packages under internal/ import nothing of the module and may be
// imported from any layer. Docs and examples are the top.
var layers = map[string]layer{
	"trace":          {0, true},
	"sched":          {1, true},
	"env":            {2, true},
	"devres":         {3, true},
	"revocable/srcu": {3, true},
	"sim":            {3, false},
	"revocable":      {4, true},
	"device":         {5, true},
	"driver":         {6, true},
	"kernel":         {6, true},
	"of/dtc":         {6, true}, // the DTS compiler: device's errnos only
	"bus":            {7, true},
	"of":             {7, true}, // the live device tree: no driver core
	"of/ofplatform":  {9, true},
	"bus/platform":   {8, true},
	"pm":             {8, true},
	"chardev":        {8, true},

	"drivers/usbsim":         {9, true},
	"drivers/drmsim":         {9, true},
	"drivers/sensor":         {9, true},
	"drivers/i2csim":         {9, true},
	"drivers/powersupplysim": {9, true},
	"drivers/pcisim":         {9, true},
	"drivers/inputsim":       {9, true},
	"drivers/hidsim":         {10, true},
	"drivers/usbsim/skel":    {10, true},
	"drivers/drmsim/udlsim":  {10, true},
	"of/board":               {10, true},

	".": {11, false}, // drvsim.System: NewSystem(OnSim(s))

	// The bug zoo's drivers, rebuilt before and after their fixes.
	"zoo/adutux":       {11, true},
	"zoo/appleir":      {11, true},
	"zoo/bq24190":      {11, true},
	"zoo/bwctrl":       {11, true},
	"zoo/deferral":     {11, true},
	"zoo/gpiolib":      {11, true},
	"zoo/i2cdev":       {11, true},
	"zoo/iowarrior":    {11, true},
	"zoo/ldusb":        {11, true},
	"zoo/rpmsuppliers": {11, true}, // the 2021 PM core's supplier counting
	"zoo/skelread":     {11, true},

	// The design lab's models run on sim by design.
	"revocable/kernelmodel/klib":   {4, false},
	"revocable/kernelmodel/v3":     {5, false},
	"revocable/kernelmodel/merged": {5, false},
	"revocable/kernelmodel/v8":     {5, false},
	"revocable/kernelmodel/v10":    {7, false}, // its release work is the kernel library's
	"revocable/kernelmodel":        {8, false},
	"sim/toy":                      {7, false},

	// Scenarios, then the registry of them all.
	"lifecycle":                      {12, false},
	"drivers/usbsim/scenario":        {12, false},
	"drivers/drmsim/udlsim/scenario": {12, false},
	"of/scenario":                    {12, false},
	"drivers/sensor/scenario":        {12, false},
	"pm/scenario":                    {12, false},
	"zoo":                            {12, false},
	"scenarios":                      {13, false},

	"cmd/drvsim":                 {14, false},
	"examples/drm-unplug":        {14, false},
	"examples/dt-sensor":         {14, false},
	"examples/firstdriver":       {14, false},
	"examples/lifecycle-test":    {14, false},
	"examples/platform-driver":   {14, false},
	"examples/revocable":         {14, false},
	"examples/usb-unplug":        {14, false},
	"examples/internal/outcheck": {14, false},
	"internal/layers":            {14, false},
}

// modulePackages returns the module's packages with code outside tests,
// by relative path, with their imports of module packages (tests
// excluded): what go list -deps follows.
func modulePackages(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
			return filepath.SkipDir
		}
		p, err := build.ImportDir(path, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil // no Go files
		}
		if err != nil {
			return err
		}
		if len(p.GoFiles)+len(p.CgoFiles) == 0 {
			return nil // tests only (docs)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		var imports []string
		for _, imp := range p.Imports {
			switch {
			case imp == module:
				imports = append(imports, ".")
			case strings.HasPrefix(imp, module+"/"):
				imports = append(imports, strings.TrimPrefix(imp, module+"/"))
			}
		}
		pkgs[rel] = imports
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("found %d packages from %s: not the module root?", len(pkgs), root)
	}
	return pkgs
}

func internalPkg(rel string) bool {
	return strings.HasPrefix(rel, "internal/") && rel != "internal/layers"
}

// Imports only go down: every package has a layer, and imports packages
// of lower layers only (and internal helpers, which import nothing of the
// module).
func TestImportsGoDown(t *testing.T) {
	pkgs := modulePackages(t)
	for rel, imports := range pkgs {
		if internalPkg(rel) {
			if len(imports) > 0 {
				t.Errorf("%s: an internal helper imports %v; it must import nothing of the module", rel, imports)
			}
			continue
		}
		l, ok := layers[rel]
		if !ok {
			t.Errorf("%s: not in the layer table of internal/layers; add it in its place", rel)
			continue
		}
		for _, imp := range imports {
			if internalPkg(imp) {
				continue
			}
			il, ok := layers[imp]
			if ok && il.rank >= l.rank {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports only go down", rel, l.rank, imp, il.rank)
			}
		}
	}
	for rel := range layers {
		if _, ok := pkgs[rel]; !ok {
			t.Errorf("%s: in the layer table but not in the module; remove it", rel)
		}
	}
}

// The models of the kernel never depend on the simulator, directly or
// through another package (go list -deps of each shows no sim): the
// simulator implements the interfaces they use (sched.Scheduler,
// env.Bugger), and scenarios that need a Sim live in packages of their
// own.
func TestModelsDoNotImportSim(t *testing.T) {
	pkgs := modulePackages(t)
	var models []string
	for rel, l := range layers {
		if l.model {
			models = append(models, rel)
		}
	}
	slices.Sort(models)
	for _, want := range []string{"drivers/usbsim", "drivers/usbsim/skel", "drivers/drmsim", "drivers/drmsim/udlsim", "bus", "revocable"} {
		if !slices.Contains(models, want) {
			t.Errorf("%s must be marked a model", want)
		}
	}
	for _, rel := range models {
		if path := depPath(pkgs, rel, "sim"); path != nil {
			t.Errorf("%s depends on sim: %s", rel, strings.Join(path, " -> "))
		}
	}
}

// depPath returns an import path from package from to package to in
// pkgs, from included, or nil when from does not depend on to.
func depPath(pkgs map[string][]string, from, to string) []string {
	seen := map[string]bool{}
	var walk func(p string) []string
	walk = func(p string) []string {
		if p == to {
			return []string{p}
		}
		if seen[p] {
			return nil
		}
		seen[p] = true
		for _, imp := range pkgs[p] {
			if rest := walk(imp); rest != nil {
				return append([]string{p}, rest...)
			}
		}
		return nil
	}
	return walk(from)
}

// The checks see what they check: depPath finds a dependency two steps
// away, and the root package, which builds machines on a Sim, depends on
// sim.
func TestDepPath(t *testing.T) {
	pkgs := modulePackages(t)
	if got := depPath(pkgs, "cmd/drvsim", "sim"); len(got) < 2 {
		t.Errorf("cmd/drvsim -> sim: %v", got)
	}
	if got := depPath(pkgs, ".", "sim"); !slices.Equal(got, []string{".", "sim"}) {
		t.Errorf(". -> sim: %v", got)
	}
	if got := depPath(map[string][]string{"a": {"b"}, "b": {"c"}}, "a", "c"); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("a -> c: %v", got)
	}
	if got := depPath(map[string][]string{"a": {"b"}, "b": {"a"}}, "a", "c"); got != nil {
		t.Errorf("a -> c in a cycle without c: %v", got)
	}
}
