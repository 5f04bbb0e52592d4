package dtc_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/of/dtc"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func parseFile(t *testing.T, name string) *dtc.Tree {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	tree, err := dtc.Parse(name, src)
	require.NoError(t, err)
	return tree
}

func u32s(v []byte) []uint32 {
	out := make([]uint32, len(v)/4)
	for i := range out {
		out[i] = binary.BigEndian.Uint32(v[4*i:])
	}
	return out
}

// The board parses into its nodes in source order; labels find their
// nodes; phandles go to the nodes referred to, in the order dtc's
// fixup_phandle_references meets the references (vdd_3v3 first, from the
// i2c controller's vcc-supply), with a phandle property added.
func TestParseBoard(t *testing.T) {
	tree := parseFile(t, "board.dts")
	assert.False(t, tree.Plugin)
	var names []string
	for _, c := range tree.Lookup("/soc").Children {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"gpio@10000000", "i2c@10001000", "led@10002000", "uart@10003000"}, names)

	reg := tree.Label("vdd_3v3")
	require.NotNil(t, reg)
	assert.Equal(t, "/regulator-3v3", reg.Path())
	assert.Equal(t, uint32(1), reg.Phandle)
	assert.Equal(t, []uint32{1}, u32s(reg.Prop("phandle").Value))
	gpio := tree.Label("gpio0")
	assert.Equal(t, "/soc/gpio@10000000", gpio.Path())
	assert.Equal(t, uint32(2), gpio.Phandle)
	assert.Equal(t, uint32(3), tree.Label("i2c0").Phandle, "nothing refers to i2c0: it gets one as a label (dtc -@)")

	sensor := tree.Lookup("/soc/i2c@10001000/sensor@48")
	require.NotNil(t, sensor)
	compat, ok := sensor.Prop("compatible").Strings()
	require.True(t, ok)
	assert.Equal(t, []string{"acme,tmp117", "acme,sensor"}, compat)
	assert.Equal(t, []uint32{0x48}, u32s(sensor.Prop("reg").Value))
	assert.Equal(t, []uint32{2}, u32s(sensor.Prop("interrupt-parent").Value))
	led := tree.Lookup("/soc/led@10002000")
	p := led.Prop("enable-gpios")
	assert.Equal(t, []uint32{2, 3, 0}, u32s(p.Value))
	require.Len(t, p.Refs, 1)
	assert.Equal(t, dtc.Ref{Offset: 0, Label: "gpio0", Pos: dtc.Pos{Line: 53, Col: 20}, Target: gpio}, p.Refs[0])
	assert.Equal(t, dtc.Pos{Line: 53, Col: 4}, p.Pos)
	assert.True(t, tree.Lookup("/soc").Prop("ranges").Value == nil)
	assert.Nil(t, tree.Lookup("/soc/nothing"))
	assert.Nil(t, tree.Lookup("soc"))
}

// Every kind of value lays out as dtc lays it out in a blob.
func TestParseValues(t *testing.T) {
	tree := parseFile(t, "values.dts")
	r := tree.Root
	assert.Empty(t, r.Prop("empty").Value)
	assert.Equal(t, "a\tb\x00c\"d\x00", string(r.Prop("str").Value))
	assert.Equal(t, []uint32{1, 0x20, 017, 'A', 7, 17, 9}, u32s(r.Prop("cells").Value))
	assert.Equal(t, []byte{1, 0xff}, r.Prop("b8").Value)
	assert.Equal(t, []byte{0x12, 0x34}, r.Prop("b16").Value)
	assert.Equal(t, []byte{0, 0, 0, 1, 0x23, 0x45, 0x67, 0x89}, r.Prop("b64").Value)
	assert.Equal(t, []byte{0x0a, 0x1b, 0x2c}, r.Prop("bytes").Value)
	assert.Equal(t, []byte{'x', 0, 0, 0, 0, 2, 0xff}, r.Prop("mixed").Value)
	assert.Equal(t, "/node@1\x00", string(r.Prop("path").Value))
	assert.Equal(t, []uint32{0xffffffff}, u32s(r.Prop("neg").Value))
	assert.Equal(t, uint32(1), tree.Label("n").Phandle, "a path reference assigns none; the label does (dtc -@)")
}

// Later definitions merge into earlier ones: a second "/ { }", &label { }
// and &{/path} { } add and replace properties and children;
// /delete-property/ and /delete-node/ take them away.
func TestParseMerge(t *testing.T) {
	src := `/dts-v1/;
/ {
	a = <1>;
	x: n { p = "old"; q; k { }; gone { }; };
};
/ { b = <2>; };
&x { p = "new"; /delete-property/ q; /delete-node/ gone; m { }; };
&{/n/k} { z; };
/delete-node/ &{/n/m};
`
	tree, err := dtc.Parse("merge.dts", []byte(src))
	require.NoError(t, err)
	n := tree.Label("x")
	assert.Equal(t, "new\x00", string(n.Prop("p").Value))
	assert.Nil(t, n.Prop("q"))
	assert.Nil(t, n.Child("gone"))
	assert.Nil(t, n.Child("m"))
	assert.NotNil(t, tree.Lookup("/n/k").Prop("z"))
	assert.NotNil(t, tree.Root.Prop("b"))
	assert.NotNil(t, tree.Root.Prop("a"))
}

// An overlay's top-level &label { } and &{/path} { } become fragments with
// target (a fixup: the base tree resolves the label) or target-path, the
// body under __overlay__; labels the overlay does not define stay fixups.
func TestParseOverlay(t *testing.T) {
	tree := parseFile(t, "overlay.dtso")
	require.True(t, tree.Plugin)
	f0 := tree.Lookup("/fragment@0")
	require.NotNil(t, f0)
	target := f0.Prop("target")
	require.Len(t, target.Refs, 1)
	assert.Equal(t, "i2c0", target.Refs[0].Label)
	assert.Nil(t, target.Refs[0].Target, "a fixup")
	assert.Equal(t, []uint32{0xffffffff}, u32s(target.Value))
	s := tree.Lookup("/fragment@0/__overlay__/sensor@49")
	require.NotNil(t, s)
	refs := s.Prop("vdd-supply").Refs
	require.Len(t, refs, 1)
	assert.Equal(t, "vdd_3v3", refs[0].Label)
	f1 := tree.Lookup("/fragment@1")
	assert.Equal(t, "/soc/uart@10003000\x00", string(f1.Prop("target-path").Value))
	assert.Equal(t, "okay\x00", string(f1.Child("__overlay__").Prop("status").Value))

	// Labels the overlay defines resolve inside it.
	local, err := dtc.Parse("local.dtso", []byte("/dts-v1/; /plugin/; &base { l: a { }; b { p = <&l>; }; };"))
	require.NoError(t, err)
	a := local.Lookup("/fragment@0/__overlay__/a")
	p := local.Lookup("/fragment@0/__overlay__/b").Prop("p")
	assert.Equal(t, a, p.Refs[0].Target)
	assert.Equal(t, []uint32{a.Phandle}, u32s(p.Value))
}

// Format writes a tree that parses back to the same text: the board, the
// values and the overlay.
func TestFormatRoundTrip(t *testing.T) {
	for _, name := range []string{"board.dts", "values.dts", "overlay.dtso"} {
		t.Run(name, func(t *testing.T) {
			first := dtc.Format(parseFile(t, name))
			again, err := dtc.Parse("formatted", []byte(first))
			require.NoError(t, err, first)
			assert.Equal(t, first, dtc.Format(again))
		})
	}
	out := dtc.Format(parseFile(t, "board.dts"))
	assert.Contains(t, out, "\t\t\tenable-gpios = <&gpio0 0x3 0x0>;\n")
	assert.Contains(t, out, "\tvdd_3v3: regulator-3v3 {\n")
	assert.Contains(t, out, "\t\tranges;\n")
	assert.Contains(t, dtc.Format(parseFile(t, "values.dts")), "\t#size-cells = <0x0>;\n", "four NULs are a cell, not four empty strings")
}
