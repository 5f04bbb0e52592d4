package pm_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/trace"
)

// warnings returns the trace's warn events of fn.
func warnings(sys *drvsim.System, fn string) []string {
	var out []string
	for _, e := range sys.Events() {
		if e.Kind == trace.Warn && e.Func == fn {
			out = append(out, e.Msg)
		}
	}
	return out
}

// rpmRig is a parent "hub" and a child "sensor", both bound, both with
// runtime PM enabled and active, recording their runtime callbacks.
func rpmRig(t *testing.T) (sys *drvsim.System, r *recorder, hub, sensor *device.Device) {
	t.Helper()
	sys = newSystem(t)
	r = &recorder{}
	enable := func(d *device.Device) error {
		if err := pm.SetActive(d); err != nil {
			return err
		}
		return pm.DevmEnable(d)
	}
	bindDriver(t, sys, "hub", r, enable, nil)
	bindDriver(t, sys, "sensor", r, enable, nil)
	hub = addDevice(t, sys, "hub", nil)
	sensor = addDevice(t, sys, "sensor", hub)
	return sys, r, hub, sensor
}

// GetSync resumes the parent first, then the device; Put lets the device
// suspend through pm_wq's idle check (no runtime_idle callback: suspend),
// and the parent follows once its last active child is suspended.
func TestRuntimeGetPutParentOrder(t *testing.T) {
	_, r, hub, sensor := rpmRig(t)
	// after each probe, pm_request_idle suspends the device (usage 0,
	// nothing holds it); the hub is resumed for its child's probe
	// (pm_runtime_get_sync(dev->parent)) and suspends after it
	assert.Equal(t, []string{"hub:runtime_suspend", "hub:runtime_resume", "sensor:runtime_suspend", "hub:runtime_suspend"}, r.take())
	assert.Equal(t, pm.Suspended, pm.RuntimeStatus(sensor))
	assert.Equal(t, pm.Suspended, pm.RuntimeStatus(hub))

	require.NoError(t, pm.GetSync(sensor))
	assert.Equal(t, []string{"hub:runtime_resume", "sensor:runtime_resume"}, r.take(), "parent resumed first")
	s, _ := pm.StateOf(sensor)
	assert.Equal(t, pm.State{Status: pm.Active, Usage: 1, Enabled: true, Auto: true, LastBusy: s.LastBusy}, s)
	h, _ := pm.StateOf(hub)
	assert.Equal(t, 1, h.Children, "the active child keeps the parent active")
	assert.Equal(t, 0, h.Usage)

	require.Error(t, pm.RuntimeSuspend(hub), "a parent with an active child may not suspend")
	assert.Equal(t, pm.Active, pm.RuntimeStatus(hub))

	require.NoError(t, pm.Put(sensor))
	assert.Equal(t, []string{"sensor:runtime_suspend", "hub:runtime_suspend"}, r.take(), "child first, then its parent")
	assert.Equal(t, 0, pm.UsageCount(sensor))
}

// Put below zero is the kernel's "Runtime PM usage count underflow!": a
// warning, ErrInvalid, and the count stays at zero. An enable with
// nothing to undo is "Unbalanced pm_runtime_enable!".
func TestRuntimeMisuseWarnings(t *testing.T) {
	sys, _, _, sensor := rpmRig(t)
	err := pm.Put(sensor)
	require.ErrorIs(t, err, device.ErrInvalid)
	assert.Equal(t, []string{"Runtime PM usage count underflow!"}, warnings(sys, "pm_runtime_put"))
	assert.Equal(t, 0, pm.UsageCount(sensor))
	require.NoError(t, pm.PutNoidle(sensor), "put_noidle at zero is silent")
	assert.Len(t, warnings(sys, "pm_runtime_put_noidle"), 0)

	require.NoError(t, pm.Enable(sensor))
	assert.Equal(t, []string{"Unbalanced pm_runtime_enable!"}, warnings(sys, "pm_runtime_enable"))
	s, _ := pm.StateOf(sensor)
	assert.Equal(t, 0, s.DisableDepth)
}

// pm_runtime_put_autosuspend waits for the autosuspend delay on the
// virtual clock: nothing suspends before it, the timer suspends the
// device after it; a new mark_last_busy pushes it back.
func TestRuntimeAutosuspendDelay(t *testing.T) {
	sys, r, _, sensor := rpmRig(t)
	r.take()
	require.NoError(t, pm.SetAutosuspendDelay(sensor, 2*time.Second))
	require.NoError(t, pm.UseAutosuspend(sensor))
	require.NoError(t, pm.GetSync(sensor))
	assert.Equal(t, []string{"hub:runtime_resume", "sensor:runtime_resume"}, r.take())
	require.NoError(t, pm.PutAutosuspend(sensor))
	s, _ := pm.StateOf(sensor)
	assert.Equal(t, sys.Now()+2*time.Second, s.TimerExpires, "suspend timer armed at last_busy + delay")

	sys.Advance(1500 * time.Millisecond)
	assert.Empty(t, r.take(), "not before the delay")
	require.NoError(t, pm.MarkLastBusy(sensor)) // busy again at 1.5 s: expires at 3.5 s
	sys.Advance(1 * time.Second)                // 2.5 s: the timer fires, finds the delay moved, re-arms
	assert.Empty(t, r.take(), "last_busy moved: not yet")
	assert.Equal(t, pm.Active, pm.RuntimeStatus(sensor))
	sys.Advance(1 * time.Second) // 3.5 s
	assert.Equal(t, []string{"sensor:runtime_suspend", "hub:runtime_suspend"}, r.take())
	assert.Equal(t, pm.Suspended, pm.RuntimeStatus(sensor))
}

// The driver core resumes a suspended device for its unbind
// (__device_release_driver's pm_runtime_get_sync), lets it suspend again
// before ->remove (pm_runtime_put_sync), and after devres (devm
// pm_runtime_enable undone) pm_runtime_reinit leaves it suspended and
// disabled.
func TestRuntimeAroundUnbind(t *testing.T) {
	sys, r, _, sensor := rpmRig(t)
	var during pm.Status
	sys.FindDriver("platform", "sensor").Remove = func(d *device.Device) {
		during = pm.RuntimeStatus(d)
		_ = r.add(d, "remove")
	}
	r.take()
	require.NoError(t, sys.Unbind(sensor))
	// the parent's idle check, queued on pm_wq when the sensor suspended,
	// runs when that PM call returns, before ->remove
	assert.Equal(t, []string{"hub:runtime_resume", "sensor:runtime_resume", "sensor:runtime_suspend", "hub:runtime_suspend",
		"sensor:remove"}, r.take())
	assert.Equal(t, pm.Suspended, during, "put_sync before ->remove may suspend it")
	s, _ := pm.StateOf(sensor)
	assert.Equal(t, pm.Suspended, s.Status)
	assert.False(t, s.Enabled, "devm_pm_runtime_enable undone at unbind")
	assert.Equal(t, 0, s.Usage)
	// bound again, the driver enables runtime PM again without a warning
	require.NoError(t, sys.Bind(sensor, "sensor"))
	assert.Empty(t, warnings(sys, "pm_runtime_enable"))
}

// The parent is resumed for the child's probe and held while it runs
// (__driver_probe_device's pm_runtime_get_sync(dev->parent)).
func TestRuntimeParentResumedForProbe(t *testing.T) {
	sys, r, hub, _ := rpmRig(t)
	var parentDuring pm.Status
	bindDriver(t, sys, "led", r, func(d *device.Device) error {
		parentDuring = pm.RuntimeStatus(d.Parent())
		return nil
	}, nil)
	r.take()
	require.Equal(t, pm.Suspended, pm.RuntimeStatus(hub))
	addDevice(t, sys, "led", hub)
	assert.Equal(t, pm.Active, parentDuring)
	assert.Equal(t, []string{"hub:runtime_resume", "hub:runtime_suspend"}, r.take(),
		"resumed for the probe, idle again after pm_runtime_put(parent)")
}

// A supplier of a DL_FLAG_PM_RUNTIME link is resumed around the
// consumer's probe (pm_runtime_get_suppliers) and before the consumer's
// runtime resume (rpm_get_suppliers), and may suspend once the consumer
// is suspended.
func TestRuntimeSupplierLink(t *testing.T) {
	sys, r, hub, _ := rpmRig(t)
	var supplierDuring pm.Status
	bindDriver(t, sys, "panel", r, func(d *device.Device) error {
		supplierDuring = pm.RuntimeStatus(hub)
		if err := pm.SetActive(d); err != nil {
			return err
		}
		return pm.DevmEnable(d)
	}, nil)
	panel := sys.NewPlatformDevice("panel")
	require.NoError(t, sys.InitializeDevice(panel))
	require.NoError(t, sys.AddDevice(panel))
	_, err := sys.AddLink(panel, hub, device.LinkPMRuntime)
	require.NoError(t, err)
	r.take()
	require.NoError(t, sys.Unbind(panel))
	require.NoError(t, sys.Bind(panel, "panel"))
	assert.Equal(t, pm.Active, supplierDuring)
	r.take()
	require.Equal(t, pm.Suspended, pm.RuntimeStatus(hub))
	require.NoError(t, pm.GetSync(panel))
	assert.Equal(t, []string{"hub:runtime_resume", "panel:runtime_resume"}, r.take(), "supplier first")
	require.NoError(t, pm.PutSync(panel))
	assert.Equal(t, []string{"panel:runtime_suspend", "hub:runtime_suspend"}, r.take(), "then the supplier may suspend")
}

// A DL_FLAG_PM_RUNTIME link dropped while its consumer probes gives back
// the hold pm_runtime_get_suppliers took for the probe, which
// pm_runtime_put_suppliers no longer finds (device_link_release_fn, since
// 887371066039): the supplier is not held for ever.
func TestRuntimeSupplierLinkDroppedDuringProbe(t *testing.T) {
	sys, r, hub, _ := rpmRig(t)
	var link *device.Link
	var usageDuring int
	bindDriver(t, sys, "panel", r, func(*device.Device) error {
		usageDuring = pm.UsageCount(hub)
		return sys.DeleteLink(link)
	}, nil)
	panel := sys.NewPlatformDevice("panel")
	require.NoError(t, sys.InitializeDevice(panel))
	var err error
	link, err = sys.AddLink(panel, hub, device.LinkPMRuntime|device.LinkStateless)
	require.NoError(t, err)
	require.NoError(t, sys.AddDevice(panel))
	require.Equal(t, "panel", panel.DriverName())
	assert.Equal(t, 1, usageDuring, "held for the probe")
	assert.Equal(t, 0, pm.UsageCount(hub), "given back with the link")
	assert.Equal(t, pm.Suspended, pm.RuntimeStatus(hub))
}

// A runtime_suspend error other than -EBUSY/-EAGAIN is sticky: every
// later runtime PM call fails with -EINVAL until the status is set again.
func TestRuntimeStickyError(t *testing.T) {
	_, r, _, sensor := rpmRig(t)
	require.NoError(t, pm.GetSync(sensor))
	r.fail = map[string]error{"sensor:runtime_suspend": device.ErrIO}
	require.NoError(t, pm.PutNoidle(sensor))
	require.ErrorIs(t, pm.RuntimeSuspend(sensor), device.ErrIO)
	s, _ := pm.StateOf(sensor)
	assert.ErrorIs(t, s.Error, device.ErrIO)
	assert.Equal(t, pm.Active, s.Status)
	assert.ErrorIs(t, pm.RuntimeResume(sensor), device.ErrInvalid)
	r.fail = nil
	require.NoError(t, pm.SetActive(sensor), "a runtime error allows set_active with runtime PM enabled")
	s, _ = pm.StateOf(sensor)
	assert.NoError(t, s.Error)
	assert.True(t, s.Enabled)
	require.NoError(t, pm.RuntimeSuspend(sensor))
	assert.Equal(t, pm.Suspended, pm.RuntimeStatus(sensor))
}

// Forbid (power/control = on) resumes and holds the device; Allow lets it
// suspend again.
func TestRuntimeForbidAllow(t *testing.T) {
	_, r, _, sensor := rpmRig(t)
	r.take()
	require.NoError(t, pm.Forbid(sensor))
	assert.Equal(t, []string{"hub:runtime_resume", "sensor:runtime_resume"}, r.take())
	assert.Equal(t, 1, pm.UsageCount(sensor))
	s, _ := pm.StateOf(sensor)
	assert.True(t, strings.Contains(s.String(), "forbidden"))
	require.NoError(t, pm.Allow(sensor))
	assert.Equal(t, []string{"sensor:runtime_suspend", "hub:runtime_suspend"}, r.take())
}

// A device of a machine without a PM core gets ErrInvalid.
func TestRuntimeNoPMCore(t *testing.T) {
	dev := device.New("lonely")
	assert.ErrorIs(t, pm.GetSync(dev), device.ErrInvalid)
	_, ok := pm.StateOf(dev)
	assert.False(t, ok)
	assert.ErrorIs(t, pm.Suspend(nil), device.ErrInvalid)
}
