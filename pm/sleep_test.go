package pm_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/pm"
	"github.com/drvsim/drvsim/trace"
)

// sleepRig is a machine whose devices follow the kernel's ordering
// rules: ctrl with two children port0 and port1, registered first; then
// panel and clk, and a device link making panel a consumer of clk, which
// moves panel to the end of the list (device_reorder_to_tail). Every
// device is bound to a driver of its name whose dev_pm_ops record into r.
type sleepRig struct {
	sys                            *drvsim.System
	r                              *recorder
	ctrl, port0, port1, panel, clk *device.Device
}

func newSleepRig(t *testing.T) *sleepRig {
	t.Helper()
	sys := newSystem(t)
	x := &sleepRig{sys: sys, r: &recorder{}}
	for _, n := range []string{"ctrl", "port0", "port1", "panel", "clk"} {
		bindDriver(t, sys, n, x.r, nil, nil)
	}
	x.ctrl = addDevice(t, sys, "ctrl", nil)
	x.port0 = addDevice(t, sys, "port0", x.ctrl)
	x.port1 = addDevice(t, sys, "port1", x.ctrl)
	x.panel = addDevice(t, sys, "panel", nil)
	x.clk = addDevice(t, sys, "clk", nil)
	_, err := sys.AddLink(x.panel, x.clk, 0)
	require.NoError(t, err)
	x.r.take()
	return x
}

func names(devs []*device.Device) []string {
	out := make([]string, len(devs))
	for i, d := range devs {
		out[i] = d.Name()
	}
	return out
}

// each returns "name:what" for every name, in order.
func each(what string, order ...string) []string {
	out := make([]string, len(order))
	for i, n := range order {
		out[i] = n + ":" + what
	}
	return out
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// The kernel's orders (drivers/base/power/main.c): dpm_list is the order
// of device_add with a link's consumer moved after its supplier;
// dpm_prepare walks it from the head (parents first); dpm_suspend,
// dpm_suspend_late and dpm_suspend_noirq from the tail (children and
// consumers first); the resume phases from the head again; dpm_complete
// from the tail; and the list ends as it began.
func TestSystemSleepOrder(t *testing.T) {
	x := newSleepRig(t)
	list := []string{"ctrl", "port0", "port1", "clk", "panel"}
	rev := []string{"panel", "clk", "port1", "port0", "ctrl"}
	assert.Equal(t, list, names(pm.Devices(x.sys)), "dpm_list")
	assert.Equal(t, list, names(x.sys.Devices()), "devices_kset, reordered the same way")

	require.NoError(t, pm.Suspend(x.sys))
	assert.True(t, pm.Asleep(x.sys))
	assert.Equal(t, cat(each("prepare", list...), each("suspend", rev...), each("suspend_late", rev...),
		each("suspend_noirq", rev...)), x.r.take())

	require.NoError(t, pm.Resume(x.sys))
	assert.False(t, pm.Asleep(x.sys))
	assert.Equal(t, cat(each("resume_noirq", list...), each("resume_early", list...), each("resume", list...),
		each("complete", rev...)), x.r.take())
	assert.Equal(t, list, names(pm.Devices(x.sys)), "dpm_complete splices the devices back in order")
	assert.False(t, x.sys.ProbingBlocked())

	// the trace names the kernel's phases in order
	var phases []string
	for _, e := range x.sys.Events() {
		if e.Kind == pm.KindSleep && e.Dev == "" && strings.HasPrefix(e.Func, "dpm_") {
			phases = append(phases, e.Func)
		}
	}
	assert.Equal(t, []string{"dpm_prepare", "dpm_suspend", "dpm_suspend_late", "dpm_suspend_noirq",
		"dpm_resume_noirq", "dpm_resume_early", "dpm_resume", "dpm_complete"}, phases)
}

// A failing ->suspend aborts the transition (dpm_suspend_start fails):
// the devices already suspended (the ones after it in the list) are
// resumed in list order, the failing one is not, and every prepared
// device is completed (dpm_resume_end).
func TestSystemSuspendFailureUnwinds(t *testing.T) {
	x := newSleepRig(t)
	x.r.fail = map[string]error{"port1:suspend": device.ErrIO}
	err := pm.Suspend(x.sys)
	require.ErrorIs(t, err, device.ErrIO)
	assert.False(t, pm.Asleep(x.sys))
	assert.Equal(t, cat(each("prepare", "ctrl", "port0", "port1", "clk", "panel"),
		each("suspend", "panel", "clk", "port1"),
		each("resume", "clk", "panel"),
		each("complete", "panel", "clk", "port1", "port0", "ctrl")), x.r.take())
	assert.Equal(t, []string{"ctrl", "port0", "port1", "clk", "panel"}, names(pm.Devices(x.sys)))
	assert.False(t, x.sys.ProbingBlocked())
	// the machine can try again
	x.r.fail = nil
	require.NoError(t, pm.SystemSleep(x.sys))
}

// A failing ->suspend_late: dpm_suspend_late resumes the devices it did
// (dpm_resume_early: the failing one gets no resume_early), then
// dpm_resume_end resumes and completes every device.
func TestSystemSuspendLateFailureUnwinds(t *testing.T) {
	x := newSleepRig(t)
	x.r.fail = map[string]error{"clk:suspend_late": device.ErrBusy}
	require.ErrorIs(t, pm.Suspend(x.sys), device.ErrBusy)
	list := []string{"ctrl", "port0", "port1", "clk", "panel"}
	rev := []string{"panel", "clk", "port1", "port0", "ctrl"}
	assert.Equal(t, cat(each("prepare", list...), each("suspend", rev...),
		each("suspend_late", "panel", "clk"),
		each("resume_early", "panel"),
		each("resume", list...), each("complete", rev...)), x.r.take())
	for _, d := range []*device.Device{x.ctrl, x.clk, x.panel} {
		s, _ := pm.StateOf(d)
		assert.Equal(t, 1, s.DisableDepth, "%s: runtime PM back to its depth after device_resume_early", d.Name())
	}
}

// A failing ->suspend_noirq: the failing device stays where it was, the
// ones done are resumed (dpm_resume_noirq), then every device goes
// through resume_early, resume and complete.
func TestSystemSuspendNoirqFailureUnwinds(t *testing.T) {
	x := newSleepRig(t)
	x.r.fail = map[string]error{"port1:suspend_noirq": device.ErrIO}
	require.ErrorIs(t, pm.Suspend(x.sys), device.ErrIO)
	list := []string{"ctrl", "port0", "port1", "clk", "panel"}
	rev := []string{"panel", "clk", "port1", "port0", "ctrl"}
	assert.Equal(t, cat(each("prepare", list...), each("suspend", rev...), each("suspend_late", rev...),
		each("suspend_noirq", "panel", "clk", "port1"),
		each("resume_noirq", "clk", "panel"),
		each("resume_early", list...), each("resume", list...), each("complete", rev...)), x.r.take())
	assert.Equal(t, list, names(pm.Devices(x.sys)))
}

// A failing ->prepare stops dpm_prepare: the devices prepared before it
// are completed, in reverse, and nothing is suspended.
func TestSystemPrepareFailure(t *testing.T) {
	x := newSleepRig(t)
	x.r.fail = map[string]error{"port1:prepare": device.ErrAgain}
	require.ErrorIs(t, pm.Suspend(x.sys), device.ErrAgain)
	assert.Equal(t, cat(each("prepare", "ctrl", "port0", "port1"), each("complete", "port0", "ctrl")), x.r.take())
	assert.Equal(t, []string{"ctrl", "port0", "port1", "clk", "panel"}, names(pm.Devices(x.sys)))
}

// Probes are held off while the machine suspends (dpm_prepare's
// device_block_probing): a device added while it sleeps defers, and binds
// once dpm_complete unblocks probing. A child added below a prepared
// parent draws device_pm_add's warning.
func TestProbesHeldOffWhileAsleep(t *testing.T) {
	x := newSleepRig(t)
	require.NoError(t, pm.Suspend(x.sys))
	assert.True(t, x.sys.ProbingBlocked())
	bindDriver(t, x.sys, "late", x.r, nil, nil)
	late := addDevice(t, x.sys, "late", x.ctrl)
	assert.Equal(t, device.StateAdded, late.State(), "probe deferred while suspended")
	assert.Contains(t, names(x.sys.DeferredDevices()), "late")
	warned := false
	for _, e := range x.sys.Events() {
		if e.Kind == trace.Warn && e.Func == "device_pm_add" && strings.Contains(e.Msg, "parent ctrl should not be sleeping") {
			warned = true
		}
	}
	assert.True(t, warned, "device_pm_add warns about a child of a sleeping parent")
	err := x.sys.Bind(x.port0, "late")
	assert.Error(t, err)
	require.NoError(t, pm.Resume(x.sys))
	assert.Equal(t, device.StateBound, late.State(), "bound after dpm_complete unblocked probing")
	assert.Equal(t, []string{"ctrl", "port0", "port1", "clk", "panel", "late"}, names(pm.Devices(x.sys)))
}

// Suspend twice, or Resume without Suspend, is refused.
func TestSystemSleepMisuse(t *testing.T) {
	x := newSleepRig(t)
	assert.ErrorIs(t, pm.Resume(x.sys), pm.ErrAsleep)
	require.NoError(t, pm.Suspend(x.sys))
	assert.ErrorIs(t, pm.Suspend(x.sys), pm.ErrAsleep)
	require.NoError(t, pm.Resume(x.sys))
	assert.Empty(t, reports(x.sys))
}

// A wakeup event during the transition aborts it with -EBUSY
// (pm_wakeup_pending in device_suspend), and the machine resumes.
func TestWakeupEventAbortsSuspend(t *testing.T) {
	x := newSleepRig(t)
	// clk's suspend reports a wakeup event, as a device's interrupt would
	x.sys.FindDriver("platform", "clk").PM.Suspend = func(d *device.Device) error {
		_ = x.r.add(d, "suspend")
		return pm.WakeupEvent(d)
	}
	err := pm.Suspend(x.sys)
	require.ErrorIs(t, err, device.ErrBusy)
	assert.Equal(t, cat(each("prepare", "ctrl", "port0", "port1", "clk", "panel"),
		each("suspend", "panel", "clk"),
		each("resume", "clk", "panel"),
		each("complete", "panel", "clk", "port1", "port0", "ctrl")), x.r.take())
}

func reports(sys *drvsim.System) []string {
	rs, _ := sys.Env().Reports()
	var out []string
	for _, r := range rs {
		out = append(out, r.Title)
	}
	return out
}
