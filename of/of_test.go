package of_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/dtc"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func load(t *testing.T, body string) *of.Tree {
	t.Helper()
	tree, err := of.Load(env.New(), "t.dts", []byte("/dts-v1/;\n"+body))
	require.NoError(t, err)
	return tree
}

const props = `/ {
	#address-cells = <1>;
	#size-cells = <1>;
	u = <7 8>;
	e;
	short = [01 02];
	s = "a", "b";
	b = [ff];
	osc: osc { #clock-cells = <1>; };
	nocells: nc { };
	dev {
		clocks = <&osc 3 0 &osc 4>;
		bad = <&nocells 1>;
		holes = <&nocells 0 &nocells>;
	};
};`

// The property readers and their errnos: absent is -EINVAL, empty
// -ENODATA, short -EOVERFLOW; phandle lists with their argument cells.
func TestPropertyReaders(t *testing.T) {
	tree := load(t, props)
	r := tree.Root()
	v, err := r.ReadU32("u")
	require.NoError(t, err)
	assert.Equal(t, uint32(7), v)
	_, err = r.ReadU32("absent")
	assert.ErrorIs(t, err, of.ErrInvalid)
	_, err = r.ReadU32("e")
	assert.ErrorIs(t, err, of.ErrNoData)
	_, err = r.ReadU32("short")
	assert.ErrorIs(t, err, of.ErrOverflow)
	_, err = r.ReadU32Array("u", 3)
	assert.ErrorIs(t, err, of.ErrOverflow)
	s, err := r.ReadStrings("s")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, s)
	_, err = r.ReadString("b")
	assert.ErrorIs(t, err, of.ErrNoData)
	assert.True(t, r.ReadBool("e"))
	assert.False(t, r.ReadBool("absent"))

	dev := tree.FindByPath("/dev")
	// #clock-cells is 1: <&osc 3>, then a zero phandle (an empty entry),
	// then <&osc 4>.
	a, err := dev.ParsePhandleWithArgs("clocks", "#clock-cells", 2)
	require.NoError(t, err)
	assert.Equal(t, "/osc", a.Node.Path())
	assert.Equal(t, []uint32{4}, a.Args)
	_, err = dev.ParsePhandleWithArgs("clocks", "#clock-cells", 1)
	assert.ErrorIs(t, err, of.ErrNoEntry)
	n, err := dev.CountPhandleWithArgs("clocks", "#clock-cells")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	_, err = dev.ParsePhandleWithArgs("clocks", "#clock-cells", 5)
	assert.ErrorIs(t, err, of.ErrNoEntry)
	_, err = dev.ParsePhandleWithArgs("bad", "#clock-cells", 0)
	assert.ErrorIs(t, err, of.ErrInvalid)
	assert.Contains(t, err.Error(), "could not get #clock-cells for /nc")
	assert.Equal(t, "/nc", dev.ParsePhandle("holes", 0).Path())
	_, err = dev.ParsePhandleWithArgs("holes", "", 1)
	assert.ErrorIs(t, err, of.ErrNoEntry, "a zero phandle is an empty entry")
}

// status: absent, "okay" and "ok" are available; anything else is not.
func TestAvailable(t *testing.T) {
	for status, want := range map[string]bool{"": true, `"okay"`: true, `"ok"`: true, `"OKAY"`: false,
		`"disabled"`: false, `"fail"`: false, `"fail-x"`: false, `"reserved"`: false, `""`: false} {
		body := "/ { n { }; };"
		if status != "" {
			body = "/ { n { status = " + status + "; }; };"
		}
		assert.Equal(t, want, load(t, body).FindByPath("/n").Available(), "status %s", status)
	}
}

// __of_device_is_compatible's score and of_match_node's choice: the
// earliest compatible of the node wins, case does not matter, type and
// name add to the score or veto it; a tie keeps the earlier entry.
func TestMatchNode(t *testing.T) {
	tree := load(t, `/ { serial@1 { compatible = "v,foo-v2", "v,foo"; device_type = "serial"; }; };`)
	n := tree.FindByPath("/serial@1")
	table := []driver.OFDeviceID{{Compatible: "v,foo", Data: 1}, {Compatible: "v,FOO-v2", Data: 2}}
	id, ok := of.MatchNode(table, n)
	require.True(t, ok)
	assert.Equal(t, 2, id.Data)
	id, _ = of.MatchNode([]driver.OFDeviceID{table[1], table[0]}, n)
	assert.Equal(t, 2, id.Data, "whatever the table's order")
	assert.Greater(t, n.Score("v,foo", "serial", ""), n.Score("v,foo", "", ""))
	assert.Zero(t, n.Score("v,foo", "network", ""))
	assert.Greater(t, n.Score("v,foo", "", "serial"), n.Score("v,foo", "", ""))
	assert.Zero(t, n.Score("v,foo", "", "uart"))
	id, _ = of.MatchNode([]driver.OFDeviceID{{Compatible: "v,foo", Data: "first"}, {Compatible: "v,foo", Data: "second"}}, n)
	assert.Equal(t, "first", id.Data)
	_, ok = of.MatchNode([]driver.OFDeviceID{{Compatible: "v,bar"}, {}, {Compatible: "v,foo"}}, n)
	assert.False(t, ok, "the table ends at its empty entry")
}

// of_device_make_bus_id and of_translate_address: reg through ranges, an
// untranslatable child named after its parent.
func TestDeviceNames(t *testing.T) {
	tree := load(t, `/ {
	#address-cells = <1>;
	#size-cells = <1>;
	soc {
		#address-cells = <1>;
		#size-cells = <1>;
		ranges = <0x0 0x40000000 0x100000>;
		uart@1000 { reg = <0x1000 0x100>; };
		i2c@2000 { reg = <0x2000 0x100>; #address-cells = <1>; #size-cells = <0>; chip@50 { reg = <0x50>; }; };
		leds { led0 { }; };
	};
	flat { #address-cells = <1>; #size-cells = <1>; x@10 { reg = <0x10 4>; }; };
};`)
	for path, want := range map[string]string{
		"/soc/uart@1000":        "40001000.uart",
		"/soc/i2c@2000/chip@50": "40002000.i2c:chip@50",
		"/soc/leds/led0":        "soc:leds:led0",
		"/flat/x@10":            "flat:x@10",
		"/soc":                  "soc",
	} {
		assert.Equal(t, want, tree.FindByPath(path).DeviceName(), path)
	}
	assert.Equal(t, []of.Resource{{Start: 0x40001000, Size: 0x100}}, tree.FindByPath("/soc/uart@1000").Resources())
	assert.Equal(t, "[mem 0x40001000-0x400010ff]", tree.FindByPath("/soc/uart@1000").Resources()[0].String())
}

// Load refuses a bad source with its line, an overlay, and a second tree.
func TestLoadErrors(t *testing.T) {
	e := env.New()
	_, err := of.Load(e, "bad.dts", []byte("/dts-v1/;\n/ {\n\tp = <&x>;\n};"))
	var de *dtc.Error
	require.True(t, errors.As(err, &de))
	assert.Equal(t, 3, de.Pos.Line)
	_, err = of.Load(e, "ov.dtso", []byte("/dts-v1/;\n/plugin/;\n&x { };"))
	assert.ErrorIs(t, err, of.ErrInvalid)
	assert.Nil(t, of.TreeOf(e))
	_, err = of.Load(e, "a.dts", []byte("/dts-v1/; / { };"))
	require.NoError(t, err)
	_, err = of.Load(e, "b.dts", []byte("/dts-v1/; / { };"))
	assert.ErrorIs(t, err, of.ErrBusy)
	assert.Equal(t, "a.dts", of.TreeOf(e).File())
}

const ovBase = `/ {
	#address-cells = <1>;
	#size-cells = <1>;
	bus: bus { #address-cells = <1>; #size-cells = <1>; old { }; };
	other: other { };
};`

// record registers a notifier that records every notification.
func record(tree *of.Tree) *[]string {
	var got []string
	tree.RegisterReconfigNotifier(func(a of.ReconfigAction, rd of.ReconfigData) error {
		s := a.String() + " " + rd.Node.Path()
		if rd.Prop != nil {
			s += " " + rd.Prop.Name
		}
		got = append(got, s)
		return nil
	})
	return &got
}

// An overlay applies every entry, then notifies in changeset order
// (target properties, then each new node and its properties); a new node
// goes at the head of its parent's children; its labels become symbols a
// later overlay resolves. Removal notifies the inverse actions in reverse.
func TestOverlayApplyRemove(t *testing.T) {
	tree := load(t, ovBase)
	got := record(tree)
	ov, err := tree.ApplyOverlay("a.dtso", []byte(`/dts-v1/; /plugin/;
&bus { p = <1>; n: new { q; c { }; }; };`))
	require.NoError(t, err)
	assert.Equal(t, []string{"ADD_PROPERTY /bus p", "ATTACH_NODE /bus/new", "ADD_PROPERTY /bus/new q",
		"ADD_PROPERTY /bus/new phandle", "ATTACH_NODE /bus/new/c"}, *got, "a new node's phandle is one of its properties")
	var kids []string
	for _, c := range tree.FindByPath("/bus").Children() {
		kids = append(kids, c.Name())
	}
	assert.Equal(t, []string{"new", "old"}, kids, "__of_attach_node puts a node first")
	assert.Equal(t, "/bus/new", tree.FindByLabel("n").Path())
	newNode := tree.FindByPath("/bus/new")
	assert.Equal(t, of.FlagDynamic|of.FlagOverlay, newNode.Flags())

	ov2, err := tree.ApplyOverlay("b.dtso", []byte(`/dts-v1/; /plugin/; &n { r = <&other>; };`))
	require.NoError(t, err)
	r, err := tree.FindByPath("/bus/new").ReadU32("r")
	require.NoError(t, err)
	assert.Equal(t, tree.FindByLabel("other").Phandle(), r)

	err = tree.RemoveOverlay(ov.ID())
	assert.ErrorIs(t, err, of.ErrBusy, "b overlaps a: remove it first")
	require.NoError(t, tree.RemoveOverlay(ov2.ID()))
	*got = nil
	require.NoError(t, tree.RemoveOverlay(ov.ID()))
	assert.Equal(t, []string{"DETACH_NODE /bus/new/c", "REMOVE_PROPERTY /bus/new phandle", "REMOVE_PROPERTY /bus/new q",
		"DETACH_NODE /bus/new", "REMOVE_PROPERTY /bus p"}, *got)
	assert.Nil(t, tree.FindByPath("/bus/new"))
	assert.Nil(t, tree.FindByLabel("n"))
	assert.ErrorIs(t, tree.RemoveOverlay(ov.ID()), of.ErrNoDevice)
	assert.Empty(t, tree.Overlays())
}

// Bad overlays change nothing: an unknown label (the resolver's message),
// a target not in the tree, #address-cells changed, a node two fragments
// add, a source without /plugin/, a parse error with its line.
func TestOverlayErrors(t *testing.T) {
	tree := load(t, ovBase)
	before := tree.String()
	for _, tc := range []struct{ src, msg string }{
		{"/dts-v1/; /plugin/; &nosuch { p; };", "node label 'nosuch' not found in live devicetree symbols table"},
		{"/dts-v1/; /plugin/; &{/nowhere} { p; };", "the fragment's target is not in the live tree"},
		{"/dts-v1/; /plugin/; &bus { #address-cells = <2>; };", "ERROR: changing value of /bus/#address-cells not allowed"},
		{"/dts-v1/; /plugin/; &bus { x { }; }; &{/bus} { x { }; };", "ERROR: multiple fragments add and/or delete node /bus/x"},
		{"/dts-v1/; / { };", "not an overlay"},
		{"/dts-v1/; /plugin/;\n&bus { p = <1> };", "ov.dtso:2:16: syntax error"},
	} {
		_, err := tree.ApplyOverlay("ov.dtso", []byte(tc.src))
		require.Error(t, err, tc.src)
		assert.Contains(t, err.Error(), tc.msg)
		assert.ErrorIs(t, err, of.ErrInvalid)
		assert.Equal(t, before, tree.String(), "nothing changed")
	}
}

// A node an overlay added that someone still holds when the overlay goes
// is reported, as of_changeset_destroy reports it.
func TestOverlayNodeStillReferenced(t *testing.T) {
	e := env.New()
	tree, err := of.Load(e, "t.dts", []byte("/dts-v1/;\n"+ovBase))
	require.NoError(t, err)
	ov, err := tree.ApplyOverlay("a.dtso", []byte(`/dts-v1/; /plugin/; &bus { held { }; };`))
	require.NoError(t, err)
	held := tree.FindByPath("/bus/held").Get()
	require.NoError(t, tree.RemoveOverlay(ov.ID()))
	var warns []string
	for _, ev := range e.Log().Events() {
		if ev.Kind == trace.Warn {
			warns = append(warns, ev.Msg)
		}
	}
	require.Len(t, warns, 1)
	assert.True(t, strings.HasPrefix(warns[0], "ERROR: memory leak, expected refcount 1 instead of 2"), warns[0])
	held.Put()
}

// of_reconfig_get_state_change.
func TestReconfigStateChange(t *testing.T) {
	tree := load(t, `/ { on { }; off { status = "disabled"; }; };`)
	on, off := tree.FindByPath("/on"), tree.FindByPath("/off")
	okay := &of.Property{Name: "status", Value: []byte("okay\x00")}
	dis := &of.Property{Name: "status", Value: []byte("disabled\x00")}
	other := &of.Property{Name: "x"}
	for i, tc := range []struct {
		a    of.ReconfigAction
		rd   of.ReconfigData
		want of.StateChange
	}{
		{of.AttachNode, of.ReconfigData{Node: on}, of.ChangeAdd},
		{of.AttachNode, of.ReconfigData{Node: off}, of.NoChange},
		{of.DetachNode, of.ReconfigData{Node: on}, of.ChangeRemove},
		{of.DetachNode, of.ReconfigData{Node: off}, of.NoChange},
		{of.AddProperty, of.ReconfigData{Node: on, Prop: dis}, of.ChangeRemove},
		{of.AddProperty, of.ReconfigData{Node: on, Prop: okay}, of.NoChange},
		{of.RemoveProperty, of.ReconfigData{Node: on, Prop: dis}, of.ChangeAdd},
		{of.UpdateProperty, of.ReconfigData{Node: off, Prop: okay, OldProp: dis}, of.ChangeAdd},
		{of.UpdateProperty, of.ReconfigData{Node: on, Prop: dis, OldProp: okay}, of.ChangeRemove},
		{of.UpdateProperty, of.ReconfigData{Node: on, Prop: other, OldProp: other}, of.NoChange},
	} {
		assert.Equal(t, tc.want, of.ReconfigGetStateChange(tc.a, tc.rd), fmt.Sprint(i))
	}
}

// The supplier bindings: cells per binding, -supply and -gpios by suffix
// (not ,nr-gpios), interrupts through the interrupt parent, a disabled
// supplier left out, each supplier once.
func TestSuppliers(t *testing.T) {
	tree := load(t, `/ {
	clk: clk { #clock-cells = <1>; };
	reg: reg { };
	gpio: gpio { #gpio-cells = <2>; };
	intc: intc { interrupt-controller; #interrupt-cells = <1>; };
	off: off { status = "disabled"; #clock-cells = <0>; };
	dev {
		interrupt-parent = <&intc>;
		clocks = <&clk 1 &off>;
		vdd-supply = <&reg>;
		reset-gpios = <&gpio 1 0>;
		acme,nr-gpios = <3>;
		interrupts = <9>;
		other = <&clk>;
	};
};`)
	var got []string
	for _, s := range tree.FindByPath("/dev").Suppliers() {
		got = append(got, s.Path())
	}
	assert.Equal(t, []string{"/intc", "/clk", "/reg", "/gpio"}, got)
}
