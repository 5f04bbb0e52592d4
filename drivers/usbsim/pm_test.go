package usbsim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/pm"
)

// pmDriver returns an interface driver that supports autosuspend and
// records its PM callbacks.
func pmDriver(rec *recorder) *usbsim.Driver {
	d := rec.driver("pm", usbsim.ID(1, 2))
	d.SupportsAutosuspend = true
	d.Suspend = func(i *usbsim.Interface) error { rec.add("suspend " + i.Name()); return nil }
	d.Resume = func(i *usbsim.Interface) error { rec.add("resume " + i.Name()); return nil }
	return d
}

// plugPM plugs a bulk device bound to d and allows its autosuspend
// (echo auto > power/control).
func plugPM(t *testing.T, sys *drvsim.System, u *usbsim.USB, h *usbsim.HCD, d *usbsim.Driver) *usbsim.Device {
	t.Helper()
	require.NoError(t, u.Register(d))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err)
	require.NoError(t, dev.EnableAutosuspend())
	return dev
}

// An idle device autosuspends once usbcore.autosuspend (2 s) has passed
// since its last use: its driver's suspend runs, the device is SUSPENDED,
// URBs are refused with -EHOSTUNREACH; usb_autopm_get_interface resumes
// it, and the put lets it autosuspend again after the delay.
func TestUSBAutosuspend(t *testing.T) {
	sys, u, h := newUSB(t)
	var rec recorder
	dev := plugPM(t, sys, u, h, pmDriver(&rec))
	intf := dev.Interface(0)
	assert.Equal(t, usbsim.StateConfigured, dev.State())
	sys.Advance(1900 * time.Millisecond)
	assert.Equal(t, usbsim.StateConfigured, dev.State(), "not before the autosuspend delay")
	sys.Advance(200 * time.Millisecond)
	assert.Equal(t, usbsim.StateSuspended, dev.State())
	assert.Equal(t, pm.Suspended, pm.RuntimeStatus(dev.Dev()))

	urb := u.AllocURB()
	buf := u.AllocBuffer("buf", 8)
	defer buf.Free()
	urb.FillBulk(dev, usbsim.DirIn|1, buf, 0, func(*usbsim.URB) {}, nil)
	require.ErrorIs(t, urb.Submit(), usbsim.ErrHostUnreach, "a suspended device refuses URBs")

	require.NoError(t, intf.AutopmGetInterface())
	assert.Equal(t, usbsim.StateConfigured, dev.State())
	assert.Equal(t, 1, intf.PMUsage())
	sys.Advance(5 * time.Second)
	assert.Equal(t, usbsim.StateConfigured, dev.State(), "held by the interface's usage count")
	require.NoError(t, urb.Submit())
	urb.Kill()
	require.NoError(t, intf.AutopmPutInterface())
	sys.Advance(2 * time.Second)
	assert.Equal(t, usbsim.StateSuspended, dev.State())
	assert.Equal(t, []string{"probe 1-1:1.0", "suspend 1-1:1.0", "resume 1-1:1.0", "suspend 1-1:1.0"}, rec.get())
}

// A driver without supports_autosuspend keeps its device active: the
// bound interface is a permanently active child.
func TestUSBNoAutosuspendSupport(t *testing.T) {
	sys, u, h := newUSB(t)
	var rec recorder
	d := pmDriver(&rec)
	d.SupportsAutosuspend = false
	dev := plugPM(t, sys, u, h, d)
	sys.Advance(10 * time.Second)
	assert.Equal(t, usbsim.StateConfigured, dev.State())
}

// New devices start with autosuspend forbidden (usb_disable_autosuspend):
// nothing suspends until power/control is "auto".
func TestUSBAutosuspendForbiddenByDefault(t *testing.T) {
	sys, u, h := newUSB(t)
	var rec recorder
	require.NoError(t, u.Register(pmDriver(&rec)))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err)
	sys.Advance(10 * time.Second)
	assert.Equal(t, usbsim.StateConfigured, dev.State())
	s, _ := pm.StateOf(dev.Dev())
	assert.False(t, s.Auto)
}

// Remote wakeup: a driver that needs it lets the device autosuspend only
// if the device can wake itself; its resume signalling resumes it
// (usb_remote_wakeup), and it autosuspends again after the delay.
func TestUSBRemoteWakeup(t *testing.T) {
	sys, u, h := newUSB(t)
	var rec recorder
	d := pmDriver(&rec)
	require.NoError(t, u.Register(d))
	g := usbsim.BulkGadget(1, 2, 8, nil)
	dev, err := h.RootHub().Plug(1, g)
	require.NoError(t, err)
	dev.Interface(0).SetNeedsRemoteWakeup(true)
	require.NoError(t, dev.EnableAutosuspend())
	sys.Advance(5 * time.Second)
	assert.Equal(t, usbsim.StateConfigured, dev.State(), "needs remote wakeup, the device has none: -EOPNOTSUPP")

	sys2, u2, h2 := newUSB(t)
	var rec2 recorder
	require.NoError(t, u2.Register(pmDriver(&rec2)))
	g2 := usbsim.BulkGadget(1, 2, 8, nil)
	g2.RemoteWakeup = true
	dev2, err := h2.RootHub().Plug(1, g2)
	require.NoError(t, err)
	dev2.Interface(0).SetNeedsRemoteWakeup(true)
	require.NoError(t, dev2.EnableAutosuspend())
	sys2.Advance(3 * time.Second)
	require.Equal(t, usbsim.StateSuspended, dev2.State())
	assert.True(t, dev2.RemoteWakeupEnabled())
	require.NoError(t, dev2.RemoteWakeup())
	assert.Equal(t, usbsim.StateConfigured, dev2.State())
	sys2.Advance(3 * time.Second)
	assert.Equal(t, usbsim.StateSuspended, dev2.State())
	assert.Equal(t, []string{"probe 1-1:1.0", "suspend 1-1:1.0", "resume 1-1:1.0", "suspend 1-1:1.0"}, rec2.get())
	assert.ErrorIs(t, dev.RemoteWakeup(), usbsim.ErrInvalid, "not suspended")
}

// usb_reset_device: drivers with pre_reset and post_reset stay bound,
// pre_reset in interface order, post_reset in reverse; a driver without
// them is unbound and bound again. A root hub is -EISDIR, a device gone
// -EINVAL.
func TestUSBResetDevice(t *testing.T) {
	sys, u, h := newUSB(t)
	var rec recorder
	d := rec.driver("keep", usbsim.ID(1, 2))
	d.PreReset = func(i *usbsim.Interface) error { rec.add("pre_reset " + i.Name()); return nil }
	d.PostReset = func(i *usbsim.Interface) error { rec.add("post_reset " + i.Name()); return nil }
	require.NoError(t, u.Register(d))
	g := usbsim.BulkGadget(1, 2, 8, nil)
	second := g.Config.Interfaces[0]
	second.Number = 1
	g.Config.Interfaces = append(g.Config.Interfaces, second)
	dev, err := h.RootHub().Plug(1, g)
	require.NoError(t, err)
	require.NoError(t, dev.Reset())
	assert.Equal(t, []string{"probe 1-1:1.0", "probe 1-1:1.1", "pre_reset 1-1:1.0", "pre_reset 1-1:1.1",
		"post_reset 1-1:1.1", "post_reset 1-1:1.0"}, rec.get())

	var rec2 recorder
	plain := rec2.driver("plain", usbsim.ID(3, 4))
	require.NoError(t, u.Register(plain))
	dev2, err := h.RootHub().Plug(2, usbsim.BulkGadget(3, 4, 8, nil))
	require.NoError(t, err)
	require.NoError(t, dev2.Reset())
	assert.Equal(t, []string{"probe 1-2:1.0", "disconnect 1-2:1.0", "probe 1-2:1.0"}, rec2.get())
	assert.Equal(t, "plain", dev2.Interface(0).Dev().DriverName())

	assert.ErrorIs(t, h.RootHub().Reset(), usbsim.ErrIsDir)
	require.NoError(t, dev2.Disconnect())
	assert.ErrorIs(t, dev2.Reset(), usbsim.ErrInvalid)
	_ = sys
}

// System sleep suspends every USB device, interfaces' drivers first,
// children before their hub, and resumes them in reverse; a driver
// without suspend and resume is unbound for the sleep and bound again in
// dpm_complete (usb_resume_complete).
func TestUSBSystemSleep(t *testing.T) {
	sys, u, h := newUSB(t)
	var rec recorder
	require.NoError(t, u.Register(pmDriver(&rec)))
	var rec2 recorder
	require.NoError(t, u.Register(rec2.driver("nopm", usbsim.ID(3, 4))))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err)
	dev2, err := h.RootHub().Plug(2, usbsim.BulkGadget(3, 4, 8, nil))
	require.NoError(t, err)
	require.NoError(t, pm.Suspend(sys))
	assert.Equal(t, usbsim.StateSuspended, dev.State())
	assert.Equal(t, usbsim.StateSuspended, dev2.State())
	assert.Equal(t, usbsim.StateSuspended, h.RootHub().State())
	assert.Equal(t, "", dev2.Interface(0).Dev().DriverName(), "unbound for the sleep")
	require.NoError(t, pm.Resume(sys))
	assert.Equal(t, usbsim.StateConfigured, dev.State())
	assert.Equal(t, usbsim.StateConfigured, h.RootHub().State())
	assert.Equal(t, "nopm", dev2.Interface(0).Dev().DriverName(), "bound again")
	assert.Equal(t, []string{"probe 1-1:1.0", "suspend 1-1:1.0", "resume 1-1:1.0"}, rec.get())
	assert.Equal(t, []string{"probe 1-2:1.0", "disconnect 1-2:1.0", "probe 1-2:1.0"}, rec2.get())
}

// A device that lost power while suspended is reset as it resumes: its
// drivers get reset_resume; a driver without it is unbound and bound
// again after the system resume.
func TestUSBResetResume(t *testing.T) {
	sys, u, h := newUSB(t)
	var rec recorder
	d := pmDriver(&rec)
	d.ResetResume = func(i *usbsim.Interface) error { rec.add("reset_resume " + i.Name()); return nil }
	require.NoError(t, u.Register(d))
	var rec2 recorder
	d2 := pmDriver(&rec2)
	d2.Name, d2.IDTable = "plain", []usbsim.DeviceID{usbsim.ID(3, 4)}
	require.NoError(t, u.Register(d2))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err)
	dev2, err := h.RootHub().Plug(2, usbsim.BulkGadget(3, 4, 8, nil))
	require.NoError(t, err)
	assert.ErrorIs(t, dev.LosePower(), usbsim.ErrInvalid, "not suspended")
	require.NoError(t, pm.Suspend(sys))
	require.NoError(t, dev.LosePower())
	require.NoError(t, dev2.LosePower())
	require.NoError(t, pm.Resume(sys))
	assert.Equal(t, []string{"probe 1-1:1.0", "suspend 1-1:1.0", "reset_resume 1-1:1.0"}, rec.get())
	assert.Equal(t, []string{"probe 1-2:1.0", "suspend 1-2:1.0", "disconnect 1-2:1.0", "probe 1-2:1.0"}, rec2.get())
	assert.Equal(t, "plain", dev2.Interface(0).Dev().DriverName())
}

// Autosuspend gives back the URBs still queued (usb_hcd_flush_endpoint,
// -ESHUTDOWN) before the device refuses new ones.
func TestUSBSuspendFlushesURBs(t *testing.T) {
	_, u, h := newUSB(t)
	var rec recorder
	require.NoError(t, u.Register(pmDriver(&rec)))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil)) // answers nothing: the URB stays queued
	require.NoError(t, err)
	buf := u.AllocBuffer("buf", 8)
	defer buf.Free()
	var status error
	urb := u.AllocURB()
	urb.FillBulk(dev, usbsim.DirIn|1, buf, 0, func(x *usbsim.URB) { status = x.Status }, nil)
	require.NoError(t, urb.Submit())
	require.NoError(t, dev.Suspend())
	assert.ErrorIs(t, status, usbsim.ErrShutdown)
	assert.False(t, urb.InFlight())
	assert.ErrorIs(t, urb.Submit(), usbsim.ErrHostUnreach)
}

// A suspended device takes no URBs: usb_suspend_both clears can_submit
// and flushes every endpoint (usb_hcd_flush_endpoint: what is queued is
// given back with -ESHUTDOWN), and usb_hcd_link_urb_to_ep refuses new
// submissions with -EHOSTUNREACH, after the controller mapped the buffer.
// usb_resume_both sets can_submit again.
func TestSuspendStopsSubmissions(t *testing.T) {
	sys, u, h := newUSB(t)
	var d intDriver
	require.NoError(t, u.Register(d.driver(u)))
	dev, err := h.RootHub().Plug(1, intGadget(usbsim.NewLoopback(0))) // the interrupt never comes
	require.NoError(t, err)
	require.True(t, d.urb.InFlight())

	seq := sys.Log().Seq()
	require.NoError(t, dev.Suspend())
	assert.Equal(t, []error{usbsim.ErrShutdown}, d.got(), "the queued URB is given back")
	assert.False(t, d.urb.InFlight())
	assert.Subset(t, usbEvents(sys, seq), []string{
		"usb_hcd_flush_endpoint /sys/devices/usb1/1-1: ep83: 1 URB(s)",
		"usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep83 status=-ESHUTDOWN actual=0",
	})

	d.urb.Buffer = u.AllocBuffer("suspended buffer", 8)
	assert.ErrorIs(t, d.urb.Submit(), usbsim.ErrHostUnreach)
	_, err = dev.BulkMsg(0, usbsim.NewBuffer(nil), 0, 0)
	assert.ErrorIs(t, err, usbsim.ErrHostUnreach, "ep0 too")

	require.NoError(t, dev.Resume())
	require.NoError(t, d.urb.Submit())
	assert.True(t, d.urb.InFlight())
	require.NoError(t, dev.Disconnect())
	assert.Equal(t, []error{usbsim.ErrShutdown, usbsim.ErrShutdown}, d.got())
	assert.Empty(t, u.Memory().Reports())
}
