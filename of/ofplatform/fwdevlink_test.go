package ofplatform_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/of"
	"github.com/drvsim/drvsim/of/ofplatform"
	"github.com/drvsim/drvsim/trace"
)

// dtRig is a machine with a device tree and test drivers that record
// their probes, removes and sync_states.
type dtRig struct {
	t      *testing.T
	sys    *drvsim.System
	events []string
}

func newDTRig(t *testing.T, dts string) *dtRig {
	t.Helper()
	r := &dtRig{t: t, sys: drvsim.NewSystem()}
	t.Cleanup(r.sys.Close)
	_, err := of.Load(r.sys, "test.dts", []byte("/dts-v1/;\n"+dts))
	require.NoError(t, err)
	return r
}

// driver registers a recording driver for compat; with sync it has a
// sync_state.
func (r *dtRig) driver(name, compat string, sync bool) *driver.Driver {
	d := platform.NewDriver(name, func(dev *device.Device) error {
		r.events = append(r.events, "probe "+dev.Name())
		return nil
	}, func(dev *device.Device) { r.events = append(r.events, "remove "+dev.Name()) })
	d.OFMatchTable = []driver.OFDeviceID{{Compatible: compat}}
	if sync {
		d.SyncState = func(dev *device.Device) { r.events = append(r.events, "sync_state "+dev.Name()) }
	}
	require.NoError(r.t, r.sys.RegisterDriver(d))
	return d
}

func (r *dtRig) dev(name string) *device.Device {
	d := r.sys.FindDevice(platform.Name, name)
	require.NotNil(r.t, d, name)
	return d
}

func (r *dtRig) traceHas(fn, msg string) bool {
	for _, e := range r.sys.Events() {
		if e.Func == fn && strings.Contains(e.Msg, msg) {
			return true
		}
	}
	return false
}

func (r *dtRig) node(path string) *of.Node { return of.TreeOf(r.sys).FindByPath(path) }

const supplierConsumer = `/ {
	s: supplier { compatible = "t,sup"; #clock-cells = <0>; };
	consumer { compatible = "t,con"; clocks = <&s>; };
};`

// A consumer added before its supplier's device waits for it ("wait for
// supplier", probe never called); once the supplier's device is added,
// the fwnode link becomes a device link, and when the supplier binds the
// consumer is probed again and binds.
func TestConsumerWaitsForSupplier(t *testing.T) {
	r := newDTRig(t, supplierConsumer)
	r.driver("sup", "t,sup", false)
	r.driver("con", "t,con", false)
	con, err := ofplatform.DeviceCreate(r.node("/consumer"), nil)
	require.NoError(t, err)
	assert.Empty(t, r.events, "the consumer's probe is not called")
	assert.True(t, r.traceHas("device_links_check_suppliers", "wait for supplier /supplier"))
	assert.Contains(t, r.sys.DeferredDevices(), con)
	assert.Contains(t, r.sys.Tree(), "  platform/consumer bus=platform of_node=/consumer state=added rpm=unsupported\n")
	assert.Contains(t, r.sys.Tree(), "fwnode links\n  /consumer -> /supplier\n")
	assert.Contains(t, r.sys.DOT(), `label="consumer\nbus=platform\nno driver\nof_node=/consumer"`)
	_, err = ofplatform.DeviceCreate(r.node("/supplier"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"probe supplier", "probe consumer"}, r.events)
	require.Len(t, con.Suppliers(), 1)
	assert.Equal(t, device.LinkInferred|device.LinkAutoprobeConsumer, con.Suppliers()[0].Flags)
	assert.Empty(t, r.node("/consumer").Fwnode().Suppliers(), "the fwnode link is gone once the device link is made")
	assert.NotContains(t, r.sys.Tree(), "fwnode links")
	assert.Contains(t, r.sys.Tree(), "links\n  consumer -> supplier flags=AUTOPROBE_CONSUMER|INFERRED\n")
}

// A disabled supplier never holds its consumer back: no link, the
// consumer probes at once.
func TestDisabledSupplierIsNoSupplier(t *testing.T) {
	r := newDTRig(t, strings.Replace(supplierConsumer, `compatible = "t,sup";`, `compatible = "t,sup"; status = "disabled";`, 1))
	r.driver("con", "t,con", false)
	require.NoError(t, ofplatform.Populate(r.sys))
	assert.Equal(t, []string{"probe consumer"}, r.events)
	assert.Empty(t, r.dev("consumer").Suppliers())
	assert.Nil(t, r.sys.FindDevice(platform.Name, "supplier"))
}

// Two nodes that name each other: the cycle is found when the second
// device is added ("Fixed dependency cycle(s)"), the links relaxed to
// SYNC_STATE_ONLY|CYCLE, and both bind.
func TestCycleRelaxed(t *testing.T) {
	r := newDTRig(t, `/ {
	a: a { compatible = "t,a"; #clock-cells = <0>; clocks = <&b>; };
	b: b { compatible = "t,b"; #clock-cells = <0>; clocks = <&a>; };
};`)
	r.driver("a", "t,a", false)
	r.driver("b", "t,b", false)
	require.NoError(t, ofplatform.Populate(r.sys))
	assert.ElementsMatch(t, []string{"probe a", "probe b"}, r.events)
	assert.True(t, r.traceHas("fw_devlink_create_devlink", "Fixed dependency cycle(s) with /a"))
	for _, name := range []string{"a", "b"} {
		for _, l := range r.dev(name).Suppliers() {
			assert.Equal(t, device.LinkInferred|device.LinkSyncStateOnly|device.LinkCycle, l.Flags, name)
		}
	}
}

const syncBoard = `/ {
	s: supplier { compatible = "t,sup"; #clock-cells = <0>; };
	a { compatible = "t,con"; clocks = <&s>; };
	b { compatible = "t,other"; clocks = <&s>; };
};`

// sync_state runs once, when both consumers have bound, not before: and
// not while of_platform_populate holds it paused.
func TestSyncStateAfterAllConsumers(t *testing.T) {
	r := newDTRig(t, syncBoard)
	r.driver("sup", "t,sup", true)
	r.driver("con", "t,con", false)
	require.NoError(t, ofplatform.Populate(r.sys))
	assert.Equal(t, []string{"probe supplier", "probe a"}, r.events, "b has no driver: no sync_state yet")
	assert.False(t, r.sys.StateSynced(r.dev("supplier")))
	r.driver("other", "t,other", false)
	assert.Equal(t, []string{"probe supplier", "probe a", "probe b", "sync_state supplier"}, r.events)
	assert.True(t, r.sys.StateSynced(r.dev("supplier")))
	// Once synced, never again.
	require.NoError(t, r.sys.Unbind(r.dev("b")))
	_, err := r.sys.Attach(r.dev("b"))
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(strings.Join(r.events, ","), "sync_state"))
}

// A consumer without a driver holds sync_state back forever in strict
// mode (the timeout only says so), and until the deferred-probe timeout
// in timeout mode, which forces it.
func TestSyncStateTimeout(t *testing.T) {
	for _, mode := range []bus.SyncStateMode{bus.SyncStateStrict, bus.SyncStateTimeout} {
		r := newDTRig(t, syncBoard)
		r.sys.SetFwDevlinkSyncState(mode)
		r.driver("sup", "t,sup", true)
		r.driver("con", "t,con", false)
		require.NoError(t, ofplatform.Populate(r.sys))
		r.sys.TimeoutDeferred()
		if mode == bus.SyncStateStrict {
			assert.NotContains(t, r.events, "sync_state supplier")
			assert.True(t, r.traceHas("fw_devlink_dev_sync_state", "sync_state() pending due to b"))
		} else {
			assert.Contains(t, r.events, "sync_state supplier")
			assert.True(t, r.traceHas("fw_devlink_dev_sync_state", "Timed out. Forcing sync_state()"))
		}
	}
}

// A consumer of a supplier no driver ever matches waits; at the
// deferred-probe timeout fw_devlink relaxes the inferred link
// (fw_devlink_drivers_done) and the consumer probes; the relaxed link,
// SYNC_STATE_ONLY now, goes when it binds.
func TestDriverlessSupplierRelaxedAtTimeout(t *testing.T) {
	r := newDTRig(t, supplierConsumer)
	r.driver("con", "t,con", false)
	require.NoError(t, ofplatform.Populate(r.sys))
	assert.Empty(t, r.events)
	assert.True(t, r.traceHas("device_links_check_suppliers", "probe deferral - supplier supplier not ready"))
	r.sys.Advance(bus.DefaultDeferredProbeTimeout)
	assert.Equal(t, []string{"probe consumer"}, r.events)
	assert.True(t, r.traceHas("fw_devlink_relax_link", "Relaxing link with supplier"))
	assert.Empty(t, r.dev("consumer").Suppliers(), "relaxed to SYNC_STATE_ONLY, the link went when the consumer bound")
}

// fw_devlink=permissive: the consumer probes before its supplier; the
// link only holds sync_state back.
func TestPermissiveProbesFirst(t *testing.T) {
	r := newDTRig(t, syncBoard)
	r.sys.SetFwDevlink(bus.FwDevlinkPermissive)
	r.driver("con", "t,con", false)
	require.NoError(t, ofplatform.Populate(r.sys))
	assert.Equal(t, []string{"probe a"}, r.events)
}

// Unbinding a supplier unbinds its consumer first, and its consumer's
// consumer before that; binding it again probes them again, in order.
func TestUnbindSupplierChain(t *testing.T) {
	r := newDTRig(t, `/ {
	s: s { compatible = "t,s"; #clock-cells = <0>; };
	a: a { compatible = "t,a"; #clock-cells = <0>; clocks = <&s>; };
	x { compatible = "t,x"; clocks = <&a>; };
};`)
	r.driver("s", "t,s", false)
	r.driver("a", "t,a", false)
	r.driver("x", "t,x", false)
	require.NoError(t, ofplatform.Populate(r.sys))
	r.events = nil
	require.NoError(t, r.sys.Unbind(r.dev("s")))
	assert.Equal(t, []string{"remove x", "remove a", "remove s"}, r.events)
	r.events = nil
	require.NoError(t, r.sys.Bind(r.dev("s"), "s"))
	assert.Equal(t, []string{"probe s", "probe a", "probe x"}, r.events)
}

// Populate's rules: a disabled bus gets no device and neither do its
// children; "ok" is available, "OKAY" is not; a node without compatible
// is skipped with its subtree; children of a non-bus are left to its
// driver.
func TestPopulateRules(t *testing.T) {
	r := newDTRig(t, `/ {
	bus1 { compatible = "simple-bus"; status = "disabled"; c1 { compatible = "t,c"; }; };
	bus2 { compatible = "simple-bus"; c2 { compatible = "t,c"; status = "ok"; }; c3 { compatible = "t,c"; status = "OKAY"; }; };
	nocompat { c4 { compatible = "t,c"; }; };
	dev5 { compatible = "t,d"; c5 { compatible = "t,c"; }; };
};`)
	require.NoError(t, ofplatform.Populate(r.sys))
	var names []string
	for _, d := range r.sys.BusDevices(platform.Name) {
		names = append(names, d.Name())
	}
	assert.Equal(t, []string{"bus2", "bus2:c2", "dev5"}, names)
}

// of_match_device: the best-scoring entry for the node's compatible list,
// whatever the table's order; of_device_get_match_data gives its data.
// Between drivers, the first registered whose probe succeeds binds.
func TestMatchScoreAndOrder(t *testing.T) {
	r := newDTRig(t, `/ { n { compatible = "v,foo-v2", "v,foo"; }; };`)
	var got any
	generic := platform.NewDriver("generic", func(dev *device.Device) error { return device.ErrNoDevice }, nil)
	generic.OFMatchTable = []driver.OFDeviceID{{Compatible: "v,foo"}}
	d := platform.NewDriver("foo", func(dev *device.Device) error {
		got = of.DeviceGetMatchData(dev)
		return nil
	}, nil)
	d.OFMatchTable = []driver.OFDeviceID{{Compatible: "v,foo", Data: "v1"}, {Compatible: "V,FOO-V2", Data: "v2"}}
	require.NoError(t, r.sys.RegisterDriver(generic))
	require.NoError(t, r.sys.RegisterDriver(d))
	require.NoError(t, ofplatform.Populate(r.sys))
	assert.Equal(t, "v2", got)
	assert.Equal(t, "foo", r.dev("n").DriverName(), "generic refused it (-ENODEV), foo was next")
}

// driver_override decides alone: a driver without a matching table binds,
// and the matching one does not.
func TestDriverOverride(t *testing.T) {
	r := newDTRig(t, `/ { n { compatible = "v,foo"; }; };`)
	r.driver("foo", "v,foo", false)
	require.NoError(t, r.sys.UnregisterDriver(r.sys.FindDriver(platform.Name, "foo")))
	require.NoError(t, ofplatform.Populate(r.sys))
	n := r.dev("n")
	n.SetDriverOverride("bar")
	r.driver("foo", "v,foo", false)
	assert.Empty(t, n.DriverName())
	require.NoError(t, r.sys.RegisterDriver(platform.NewDriver("bar", nil, nil)))
	assert.Equal(t, "bar", n.DriverName())
}

// Depopulating a bus destroys its children last first, and a child bus's
// children (first first) before the child bus.
func TestDepopulateOrder(t *testing.T) {
	r := newDTRig(t, `/ {
	top { compatible = "simple-bus";
		c1 { compatible = "t,c"; };
		c2 { compatible = "simple-bus"; g1 { compatible = "t,c"; }; g2 { compatible = "t,c"; }; };
		c3 { compatible = "t,c"; };
	};
};`)
	require.NoError(t, ofplatform.Populate(r.sys))
	seq := r.sys.Log().Seq()
	require.NoError(t, ofplatform.Depopulate(r.dev("top")))
	var order []string
	for _, e := range r.sys.Log().Since(seq) {
		if e.Kind == trace.DeviceDel {
			order = append(order, e.Dev[strings.LastIndexByte(e.Dev, '/')+1:])
		}
	}
	assert.Equal(t, []string{"top:c3", "top:c2:g1", "top:c2:g2", "top:c2", "top:c1"}, order)
}

// Overlays and fw_devlink. An overlay that adds a supplier and then its
// consumer: the consumer binds after the supplier, and the removal (the
// changeset reversed) destroys the consumer first. A supplier added by one
// overlay and its consumer by a later one: removing the supplier's overlay
// unbinds the consumer first (its device link), which stays, unbound. And
// the kernel's pitfall (6.6): in one overlay a consumer before its
// supplier is created while the supplier's node is still NOT_DEVICE, so
// fw_devlink links it to the nearest device, its parent bus, and it probes
// first.
func TestOverlaySupplierAndConsumer(t *testing.T) {
	pair := func(first, second string) []byte {
		return []byte("/dts-v1/;\n/plugin/;\n&bus {\n" + first + second + "};\n")
	}
	const con = `	con { compatible = "t,con"; clocks = <&s>; };` + "\n"
	const sup = `	s: sup { compatible = "t,sup"; #clock-cells = <0>; };` + "\n"
	setup := func(t *testing.T) (*dtRig, *of.Tree) {
		t.Helper()
		r := newDTRig(t, `/ { bus: bus { compatible = "simple-bus"; }; };`)
		r.driver("sup", "t,sup", false)
		r.driver("con", "t,con", false)
		require.NoError(t, ofplatform.Populate(r.sys))
		r.events = nil
		return r, of.TreeOf(r.sys)
	}

	t.Run("supplier first", func(t *testing.T) {
		r, tree := setup(t)
		ov, err := tree.ApplyOverlay("pair.dtso", pair(sup, con))
		require.NoError(t, err)
		assert.Equal(t, []string{"probe bus:sup", "probe bus:con"}, r.events)
		require.Len(t, r.dev("bus:con").Suppliers(), 1)
		assert.Equal(t, "bus:sup", r.dev("bus:con").Suppliers()[0].Supplier.Name())
		r.events = nil
		require.NoError(t, tree.RemoveOverlay(ov.ID()))
		assert.Equal(t, []string{"remove bus:con", "remove bus:sup"}, r.events)
		assert.Nil(t, r.sys.FindDevice(platform.Name, "bus:con"))
		assert.Nil(t, r.sys.FindDevice(platform.Name, "bus:sup"))
	})

	t.Run("two overlays", func(t *testing.T) {
		r, tree := setup(t)
		ov1, err := tree.ApplyOverlay("sup.dtso", pair(sup, ""))
		require.NoError(t, err)
		ov2, err := tree.ApplyOverlay("con.dtso", pair(con, ""))
		require.NoError(t, err)
		assert.Equal(t, []string{"probe bus:sup", "probe bus:con"}, r.events)
		r.events = nil
		require.NoError(t, tree.RemoveOverlay(ov1.ID()))
		assert.Equal(t, []string{"remove bus:con", "remove bus:sup"}, r.events, "the consumer is unbound first")
		assert.Equal(t, device.StateAdded, r.dev("bus:con").State())
		require.NoError(t, tree.RemoveOverlay(ov2.ID()))
		assert.Nil(t, r.sys.FindDevice(platform.Name, "bus:con"))
	})

	t.Run("consumer first", func(t *testing.T) {
		r, tree := setup(t)
		ov, err := tree.ApplyOverlay("pair.dtso", pair(con, sup))
		require.NoError(t, err)
		assert.Equal(t, []string{"probe bus:con", "probe bus:sup"}, r.events)
		require.Len(t, r.dev("bus:con").Suppliers(), 1)
		assert.Equal(t, "bus", r.dev("bus:con").Suppliers()[0].Supplier.Name())
		conNode := tree.FindByPath("/bus/con")
		require.NoError(t, tree.RemoveOverlay(ov.ID()))
		assert.Empty(t, conNode.Fwnode().Suppliers(), "the node's fwnode links go with it")
	})
}
