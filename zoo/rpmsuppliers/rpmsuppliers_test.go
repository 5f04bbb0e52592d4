package rpmsuppliers_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/zoo/rpmsuppliers"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

const delay = 100 * time.Millisecond

// rig is a machine with the 2021 accounting: a supplier bound to its
// driver, and a consumer with a DL_FLAG_PM_RUNTIME link to it, whose
// runtime PM is enabled before it is added (it is active and holds the
// supplier, unbound).
type rig struct {
	sys      *drvsim.System
	c        *rpmsuppliers.Core
	sup, con *device.Device
	link     *device.Link
	// failSup and failCon make the next runtime resume of the supplier
	// or the consumer fail.
	failSup, failCon error
}

func newRig(t *testing.T, v rpmsuppliers.Variant) *rig {
	t.Helper()
	r := &rig{sys: drvsim.NewSystem()}
	t.Cleanup(r.sys.Close)
	c, err := rpmsuppliers.Install(r.sys, v)
	require.NoError(t, err)
	r.c = c
	resume := func(dev *device.Device) error {
		fail := &r.failCon
		if dev == r.sup {
			fail = &r.failSup
		}
		err := *fail
		*fail = nil
		return err
	}
	b := &bus.Bus{Name: "test", Match: func(dev *device.Device, drv *driver.Driver) bool { return dev.Name() == drv.Name },
		PM: c.Callbacks(&device.PMOps{RuntimeResume: resume})}
	require.NoError(t, r.sys.RegisterBus(b))
	require.NoError(t, r.sys.RegisterDriver(&driver.Driver{Name: "sup", Bus: "test"}))
	r.sup = device.New("sup", device.WithBus(b), device.WithRelease(func(*device.Device) {}))
	require.NoError(t, r.sys.RegisterDevice(r.sup))
	require.NoError(t, pm.Enable(r.sup))

	r.con = device.New("con", device.WithBus(b), device.WithRelease(func(*device.Device) {}))
	require.NoError(t, r.sys.InitializeDevice(r.con))
	r.link, err = r.sys.AddLink(r.con, r.sup, device.LinkPMRuntime|device.LinkStateless)
	require.NoError(t, err)
	require.NoError(t, pm.Enable(r.con))
	require.NoError(t, pm.GetSync(r.con))
	require.NoError(t, r.sys.AddDevice(r.con))
	r.expect(t, pm.Active, 1, pm.Active, 1, 2)
	return r
}

// expect checks the consumer's and the supplier's runtime status and
// usage count, and the link's rpm_active.
func (r *rig) expect(t *testing.T, con pm.Status, conUsage int, sup pm.Status, supUsage, rpmActive int) {
	t.Helper()
	cs, _ := pm.StateOf(r.con)
	ss, _ := pm.StateOf(r.sup)
	assert.Equal(t, con.String(), cs.Status.String(), "consumer")
	assert.Equal(t, conUsage, cs.Usage, "consumer usage")
	assert.Equal(t, sup.String(), ss.Status.String(), "supplier")
	assert.Equal(t, supUsage, ss.Usage, "supplier usage")
	assert.Equal(t, rpmActive, r.c.RPMActive(r.link), "rpm_active")
}

// probe is the consumer's driver: it resumes the device and puts it with
// autosuspend pending.
func probe(dev *device.Device) error {
	if err := pm.GetSync(dev); err != nil {
		return err
	}
	if err := pm.SetAutosuspendDelay(dev, delay); err != nil {
		return err
	}
	if err := pm.UseAutosuspend(dev); err != nil {
		return err
	}
	return pm.PutAutosuspend(dev)
}

// Without a race both versions count the supplier right: the consumer's
// suspend drops its hold, the probe takes one for itself (and the
// resumed consumer one more) and gives its own back, and the consumer's
// autosuspend lets the supplier suspend too.
func TestProbeHoldsTheSuppliers(t *testing.T) {
	for _, v := range []rpmsuppliers.Variant{rpmsuppliers.Before, rpmsuppliers.After} {
		t.Run(v.String(), func(t *testing.T) {
			r := newRig(t, v)
			assert.Equal(t, v, r.c.Variant())
			require.NoError(t, pm.Put(r.con)) // the idle check runs as the call returns
			r.expect(t, pm.Suspended, 0, pm.Suspended, 0, 1)

			require.NoError(t, r.sys.RegisterDriver(&driver.Driver{Name: "con", Bus: "test", Probe: probe}))
			require.Equal(t, "con", r.con.DriverName())
			if v == rpmsuppliers.Before {
				r.expect(t, pm.Active, 0, pm.Active, 1, 2) // the probe's count dropped
			} else {
				r.expect(t, pm.Active, 0, pm.Active, 2, 3) // left to the consumer's suspend
			}
			assert.NoError(t, rpmsuppliers.CheckSuppliers(r.con))

			r.sys.Advance(delay) // the consumer autosuspends
			r.expect(t, pm.Suspended, 0, pm.Suspended, 0, 1)
			log := r.sys.Log().String()
			for _, fn := range []string{"pm_runtime_new_link", "pm_runtime_get_suppliers", "pm_runtime_put_suppliers",
				"rpm_get_suppliers", "__rpm_put_suppliers"} {
				assert.Contains(t, log, fn+" /sys/devices/con:")
			}
			kept, _ := r.sys.Env().Reports()
			assert.Empty(t, kept)
		})
	}
}

// The race's order, by hand: the consumer suspends after the probe took
// its hold and before the probe resumes it. The old
// pm_runtime_put_suppliers then takes the resumed consumer's hold, and
// the supplier suspends under the active consumer, which CheckSuppliers
// reports; the fixed one leaves it. Both end balanced once the consumer
// autosuspends.
func TestRaceOrder(t *testing.T) {
	for _, v := range []rpmsuppliers.Variant{rpmsuppliers.Before, rpmsuppliers.After} {
		t.Run(v.String(), func(t *testing.T) {
			r := newRig(t, v)
			r.c.GetSuppliers(r.con) // pm_runtime_get_suppliers
			r.expect(t, pm.Active, 1, pm.Active, 2, 3)
			require.NoError(t, pm.Put(r.con)) // pm_wq suspends the consumer: both holds dropped
			r.expect(t, pm.Suspended, 0, pm.Suspended, 0, 1)
			pm.Barrier(r.con)
			require.NoError(t, probe(r.con)) // the probe resumes the consumer
			r.expect(t, pm.Active, 0, pm.Active, 1, 2)
			require.NoError(t, pm.RequestIdle(r.con))
			r.c.PutSuppliers(r.con) // pm_runtime_put_suppliers

			err := rpmsuppliers.CheckSuppliers(r.con)
			kept, _ := r.sys.Env().Reports()
			if v == rpmsuppliers.Before {
				r.expect(t, pm.Active, 0, pm.Suspended, 0, 1)
				require.Error(t, err)
				require.Len(t, kept, 1)
				assert.Equal(t, rpmsuppliers.BugSuspendedSupplier, kept[0].Kind)
				assert.Equal(t, "BUG: supplier sup runtime-suspended under active consumer con", kept[0].Title)
				assert.Contains(t, kept[0].Details, "consumer /sys/devices/con: rpm=active usage=0")
				assert.Contains(t, r.sys.Log().String(), "pm_runtime_put_suppliers /sys/devices/con: supplier sup: rpm_active 2 -> 1, pm_runtime_put")
			} else {
				r.expect(t, pm.Active, 0, pm.Active, 1, 2)
				assert.NoError(t, err)
				assert.Empty(t, kept)
				assert.Contains(t, r.sys.Log().String(), "pm_runtime_put_suppliers /sys/devices/con: supplier sup: consumer active, rpm_active 2 left to its suspend")
			}
			r.sys.Advance(delay)
			r.expect(t, pm.Suspended, 0, pm.Suspended, 0, 1)
			assert.NoError(t, rpmsuppliers.CheckSuppliers(r.con), "a suspended consumer passes")
		})
	}
}

// After the probe a consumer found suspended gives the probe's hold
// back in both versions; a second put finds nothing to drop.
func TestPutSuppliersOfASuspendedConsumer(t *testing.T) {
	for _, v := range []rpmsuppliers.Variant{rpmsuppliers.Before, rpmsuppliers.After} {
		r := newRig(t, v)
		require.NoError(t, pm.Put(r.con))
		r.c.GetSuppliers(r.con)
		r.expect(t, pm.Suspended, 0, pm.Active, 1, 2)
		r.c.PutSuppliers(r.con)
		r.expect(t, pm.Suspended, 0, pm.Suspended, 0, 1)
		r.c.PutSuppliers(r.con)
		r.expect(t, pm.Suspended, 0, pm.Suspended, 0, 1)
	}
}

// A consumer whose resume fails gives back the holds it took on its
// suppliers; one whose supplier fails to resume fails too, holding
// nothing.
func TestFailedResumeGivesTheSuppliersBack(t *testing.T) {
	r := newRig(t, rpmsuppliers.After)
	require.NoError(t, pm.Put(r.con))
	r.expect(t, pm.Suspended, 0, pm.Suspended, 0, 1)

	r.failCon = device.ErrIO
	assert.Error(t, pm.GetSync(r.con))
	require.NoError(t, pm.PutNoidle(r.con))
	cs, _ := pm.StateOf(r.con)
	require.ErrorIs(t, cs.Error, device.ErrIO)
	require.NoError(t, pm.SetSuspended(r.con)) // clears the runtime error
	// The supplier's hold is dropped without an idle check, as
	// __rpm_put_suppliers(dev, false) does.
	r.expect(t, pm.Suspended, 0, pm.Active, 0, 1)
	require.NoError(t, pm.RequestIdle(r.sup))
	r.expect(t, pm.Suspended, 0, pm.Suspended, 0, 1)

	r.failSup = device.ErrIO
	assert.ErrorIs(t, pm.GetSync(r.con), device.ErrIO)
	require.NoError(t, pm.PutNoidle(r.con))
	r.expect(t, pm.Suspended, 0, pm.Suspended, 0, 1)
	ss, _ := pm.StateOf(r.sup)
	assert.ErrorIs(t, ss.Error, device.ErrIO)
}

// Dropping a link gives back every hold the consumer took through it.
func TestDropLinkGivesTheHoldsBack(t *testing.T) {
	r := newRig(t, rpmsuppliers.Before)
	require.NoError(t, r.sys.DeleteLink(r.link))
	ss, _ := pm.StateOf(r.sup)
	assert.Equal(t, pm.Suspended, ss.Status)
	assert.Equal(t, 0, ss.Usage)
	assert.Equal(t, 1, r.c.RPMActive(r.link))
	assert.NoError(t, rpmsuppliers.CheckSuppliers(r.con), "no link, nothing to check")
}

// Install needs a machine with a PM core, once.
func TestInstallErrors(t *testing.T) {
	_, err := rpmsuppliers.Install(nil, rpmsuppliers.Before)
	assert.ErrorIs(t, err, device.ErrInvalid)
	bare := bus.NewCore(nil)
	defer bare.Close()
	_, err = rpmsuppliers.Install(bare, rpmsuppliers.Before)
	assert.ErrorIs(t, err, device.ErrInvalid)
	sys := drvsim.NewSystem()
	defer sys.Close()
	_, err = rpmsuppliers.Install(sys, rpmsuppliers.After)
	require.NoError(t, err)
	_, err = rpmsuppliers.Install(sys, rpmsuppliers.After)
	assert.ErrorIs(t, err, device.ErrBusy)
	assert.Equal(t, "before", rpmsuppliers.Before.String())
	assert.Equal(t, "after", rpmsuppliers.After.String())
}
