package docs_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// traceLine matches one line of a text trace, "  42 [task] func_name ...",
// and not a line of a schedule listing ("   2 reader     cond_resched"),
// whose task name is padded with spaces.
var traceLine = regexp.MustCompile(`^\s*\d+ (?:\[[^\]]+\] )?([A-Za-z_][A-Za-z0-9_]*)(?::|$| [^ ])`)

// notKernel are the names traces show that are no kernel function: the
// example and demo drivers' own callbacks, and the notes a demo or test
// adds (Func "say", "demo", "main"), so kernel-map.md does not list them.
var notKernel = []string{
	"ec_probe", "ec_remove", "gpio_remove", "lcdc_probe", "lcdc_remove", "panel_probe", "panel_remove",
	"pwm_probe", "pwm_remove", "sensor_probe", "sensor_remove", "tmp102_probe", "tmp102_remove",
	"say", "demo", "main", "reader",
}

// Every kernel function a trace on a docs page or in the drvsim command's
// golden transcripts shows is in kernel-map.md, so a reader who meets a
// name in a trace can look it up.
func TestKernelMapCoversTraces(t *testing.T) {
	kmap, err := os.ReadFile("kernel-map.md")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("*.md")
	goldens, _ := filepath.Glob(filepath.Join("..", "cmd", "drvsim", "testdata", "*.golden"))
	seen := map[string]string{} // func -> first file showing it
	for _, f := range append(files, goldens...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inText := strings.HasSuffix(f, ".golden")
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "```") && !strings.HasSuffix(f, ".golden") {
				inText = l == "```text" // a fence opens a text block or closes one
				continue
			}
			if !inText {
				continue
			}
			if m := traceLine.FindStringSubmatch(l); m != nil {
				if _, ok := seen[m[1]]; !ok {
					seen[m[1]] = f
				}
			}
		}
	}
	var missing []string
	for fn, f := range seen {
		if slices.Contains(notKernel, fn) || strings.Contains(string(kmap), "`"+fn) {
			continue
		}
		missing = append(missing, fn+" (shown in "+f+")")
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("kernel-map.md does not name %d function(s) the traces show:\n%s", len(missing), strings.Join(missing, "\n"))
	}
	if len(seen) < 50 {
		t.Errorf("only %d functions found in the traces: is the parser broken?", len(seen))
	}
}
