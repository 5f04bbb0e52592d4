package bus_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
)

var dotNode = regexp.MustCompile(`^\t("(?:[^"\\]|\\.)*") \[label="(?:[^"\\]|\\.)*"(, color=grey, fontcolor=grey)?\];$`)

// FuzzDOT: whatever names devices get (those device_add accepts), every
// node of the DOT graph is one line with a quoted id, and the ids are
// distinct: one per registered device. Names are separated by '|'; a name
// starting with '>' is a child of the device before it.
func FuzzDOT(f *testing.F) {
	f.Add("a|>b|a/b")
	f.Add("soc|>i2c0|>codec|say\"hi\\")
	f.Add("x\xff|x\\xff|\u202e|naïve ✓")
	f.Add("a!b|a/b|>c")
	f.Fuzz(func(t *testing.T, names string) {
		c, b := newCore(t)
		var prev, root *device.Device
		var devs []*device.Device
		for i, n := range strings.Split(names, "|") {
			if i == 16 {
				break
			}
			var opts []device.Option
			if strings.HasPrefix(n, ">") && prev != nil {
				n = n[1:]
				opts = append(opts, device.WithParent(prev))
			}
			d := platform.NewDevice(b, n, opts...)
			if err := c.RegisterDevice(d); err != nil {
				_ = d.Put()
				continue
			}
			if root == nil {
				root = d
			}
			devs = append(devs, d)
			prev = d
		}
		dot := c.DOT()
		if !utf8.ValidString(dot) {
			t.Fatalf("DOT is not UTF-8: %q", dot)
		}
		ids := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSuffix(dot, "\n"), "\n") {
			for _, r := range l {
				if r != '\t' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029') {
					t.Fatalf("control character %U in DOT line %q", r, l)
				}
			}
			if m := dotNode.FindStringSubmatch(l); m != nil {
				if ids[m[1]] {
					t.Fatalf("DOT id %s twice:\n%s", m[1], dot)
				}
				ids[m[1]] = true
			} else if strings.Contains(l, "[label=") && !strings.Contains(l, "->") {
				t.Fatalf("malformed node line %q", l)
			}
		}
		if len(ids) != len(devs) {
			t.Fatalf("%d DOT nodes for %d devices:\n%s", len(ids), len(devs), dot)
		}
		for i := len(devs) - 1; i >= 0; i-- {
			if devs[i].IsRegistered() {
				if err := c.UnregisterTree(devs[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
