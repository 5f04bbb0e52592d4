package usbsim_test

import (
	"testing"

	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// usb_probe_interface looks the id up in the dynamic ids first, then in
// the static table (usb_device_match does it the other way round): the
// id a driver's probe gets is the new_id one when both match.
func TestProbeGetsDynamicIDFirst(t *testing.T) {
	_, u, h := newUSB(t)
	static := usbsim.ID(1, 2)
	static.DriverInfo = "static"
	var got []usbsim.DeviceID
	d := &usbsim.Driver{Name: "dyn", IDTable: []usbsim.DeviceID{static},
		Probe: func(_ *usbsim.Interface, id usbsim.DeviceID) error { got = append(got, id); return nil }}
	require.NoError(t, u.Register(d))
	require.NoError(t, d.NewID(1, 2))
	_, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Nil(t, got[0].DriverInfo, "the dynamic id, not the table's")
	assert.Equal(t, usbsim.MatchDevice, got[0].Flags)
}

// new_id: an interface class of 0 is no class (usb_store_new_id only sets
// USB_DEVICE_ID_MATCH_INT_CLASS for a nonzero one); remove_id drops one
// dynamic id, the first that matches; usb_deregister frees the dynamic
// ids.
func TestNewIDRemoveIDSemantics(t *testing.T) {
	sys, u, h := newUSB(t)
	var rec recorder
	d := rec.driver("t") // empty id table
	require.NoError(t, u.Register(d))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil)) // interface class 0xff
	require.NoError(t, err)
	intf := dev.Interface(0).Dev()
	require.NoError(t, d.NewID(1, 2, 0))
	assert.Equal(t, "t", intf.DriverName(), "class 0 means any interface class")

	require.NoError(t, d.NewID(1, 2)) // a second entry for the same ids
	d.RemoveID(1, 2)
	require.NoError(t, sys.Unbind(intf))
	bound, err := sys.Attach(intf)
	require.NoError(t, err)
	assert.True(t, bound, "one dynamic id left")
	d.RemoveID(1, 2)
	require.NoError(t, sys.Unbind(intf))
	bound, err = sys.Attach(intf)
	require.NoError(t, err)
	assert.False(t, bound, "none left")

	require.NoError(t, d.NewID(1, 2))
	require.NoError(t, u.Deregister(d))
	require.NoError(t, u.Register(d))
	assert.Empty(t, intf.DriverName(), "usb_deregister freed the dynamic ids")
}

// usb_poison_anchored_urbs marks the anchor: an URB anchored afterwards is
// poisoned as it is anchored, until usb_unpoison_anchored_urbs.
// usb_poison_urb marks even an URB that was never filled in.
func TestPoisonedAnchorAndURB(t *testing.T) {
	_, u, h := newUSB(t)
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	var a usbsim.Anchor
	a.PoisonAll()
	urb := u.AllocURB()
	urb.FillBulk(dev, usbsim.DirIn|1, usbsim.NewBuffer(make([]byte, 4)), 0, func(*usbsim.URB) {}, nil)
	a.Anchor(urb)
	assert.ErrorIs(t, urb.Submit(), usbsim.ErrPerm)
	a.UnpoisonAll()
	require.NoError(t, urb.Submit())
	a.KillAll()
	assert.True(t, a.Empty())

	blank := u.AllocURB()
	blank.Poison()
	blank.FillBulk(dev, usbsim.DirIn|1, usbsim.NewBuffer(make([]byte, 4)), 0, func(*usbsim.URB) {}, nil)
	assert.ErrorIs(t, blank.Submit(), usbsim.ErrPerm)
	blank.Unpoison()
	require.NoError(t, blank.Submit())
	blank.Kill()
}

// usb_submit_urb's checks come in the kernel's order: the device state and
// the pipe's endpoint first, then (in usb_hcd_link_urb_to_ep, after the
// controller mapped the buffer) reject, enabled, controller running. A
// submission to a gone device never touches the transfer buffer.
func TestSubmitCheckOrder(t *testing.T) {
	_, u, h := newUSB(t)
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)

	// poisoned, to an endpoint the device does not have: -ENOENT
	// (usb_pipe_endpoint is checked before urb->reject)
	urb := u.AllocURB()
	urb.FillBulk(dev, usbsim.DirIn|7, usbsim.NewBuffer(make([]byte, 4)), 0, func(*usbsim.URB) {}, nil)
	urb.Poison()
	assert.ErrorIs(t, urb.Submit(), usbsim.ErrNoEntry)

	// to a gone device, with a freed buffer: -ENODEV, and no access
	buf := u.AllocBuffer("late buffer", 4)
	buf.Free()
	late := u.AllocURB()
	late.FillBulk(dev, usbsim.DirIn|1, buf, 0, func(*usbsim.URB) {}, nil)
	require.NoError(t, dev.Disconnect())
	assert.ErrorIs(t, late.Submit(), usbsim.ErrNoDevice)
	assert.Empty(t, u.Memory().Reports(), "usb_submit_urb returns -ENODEV before map_urb_for_dma")
}

// A disabled endpoint (an interface's, between usb_disable_interface and
// usb_enable_interface: in the driver's disconnect) refuses submissions
// with -ENOENT, after the controller was handed the buffer.
func TestSubmitToDisabledEndpointMapsFirst(t *testing.T) {
	sys, u, h := newUSB(t)
	var submitErr error
	buf := u.AllocBuffer("disconnect buffer", 4)
	d := &usbsim.Driver{Name: "late", IDTable: []usbsim.DeviceID{usbsim.ID(1, 2)},
		Probe: func(*usbsim.Interface, usbsim.DeviceID) error { return nil },
		Disconnect: func(i *usbsim.Interface) {
			buf.Free()
			urb := u.AllocURB()
			urb.FillBulk(i.Device(), usbsim.DirIn|1, buf, 0, func(*usbsim.URB) {}, nil)
			submitErr = urb.Submit()
		}}
	require.NoError(t, u.Register(d))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	require.NoError(t, sys.Unbind(dev.Interface(0).Dev()))
	assert.ErrorIs(t, submitErr, usbsim.ErrNoEntry)
	reps := u.Memory().Reports()
	require.Len(t, reps, 1, "map_urb_for_dma runs before usb_hcd_link_urb_to_ep refuses the URB")
	assert.Contains(t, reps[0].Title, "usb_submit_urb: map")
}

// Deconfiguring a device (unbinding the generic driver:
// usb_set_configuration(udev, -1) -> usb_disable_device(udev, 1))
// terminates what a soft-unbind driver left queued and forgets every
// endpoint but ep0.
func TestDeconfigureDisablesNonEP0Endpoints(t *testing.T) {
	sys, u, h := newUSB(t)
	var urb *usbsim.URB
	var status error
	d := &usbsim.Driver{Name: "soft", SoftUnbind: true, IDTable: []usbsim.DeviceID{usbsim.ID(1, 2)},
		Probe: func(i *usbsim.Interface, _ usbsim.DeviceID) error {
			urb = u.AllocURB()
			urb.FillBulk(i.Device(), usbsim.DirIn|1, usbsim.NewBuffer(make([]byte, 4)), 0, func(x *usbsim.URB) { status = x.Status }, nil)
			return urb.Submit()
		},
		Disconnect: func(*usbsim.Interface) {}, // leaves its URB queued
	}
	require.NoError(t, u.Register(d))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	seq := sys.Log().Seq()
	require.NoError(t, sys.Unbind(dev.Dev()))
	requireInOrder(t, usbEvents(sys, seq),
		"usb_unbind_device /sys/devices/usb1/1-1: driver=usb",
		"usb_set_configuration /sys/devices/usb1/1-1: config -1 (deconfigure)",
		"usb_disable_device /sys/devices/usb1/1-1",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver=soft soft_unbind=true device_gone=false",
		"usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver->disconnect",
		"usb_set_device_state /sys/devices/usb1/1-1: configured -> addressed",
		"usb_disable_device /sys/devices/usb1/1-1: nuking non-ep0 URBs",
		"usb_hcd_flush_endpoint /sys/devices/usb1/1-1: ep81: 1 URB(s)",
		"usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep81 status=-ESHUTDOWN actual=0",
	)
	assert.ErrorIs(t, status, usbsim.ErrShutdown)
	assert.Equal(t, usbsim.StateAddress, dev.State())
	assert.ErrorIs(t, urb.Submit(), usbsim.ErrNoEntry, "no configuration, no ep81")
	ctl := u.AllocURB()
	ctl.FillBulk(dev, 0, usbsim.NewBuffer(nil), 0, func(*usbsim.URB) {}, nil)
	require.NoError(t, ctl.Submit(), "ep0 stays")
	h.Flush()
}

// usb_suspend_both suspends the interfaces last first; when one fails,
// those already suspended are resumed. usb_resume_both resumes them in
// order.
func TestSuspendInterfaceOrder(t *testing.T) {
	_, u, h := newUSB(t)
	var rec recorder
	var failOn string
	d := rec.driver("pm", usbsim.ID(1, 2))
	d.Suspend = func(i *usbsim.Interface) error {
		rec.add("suspend " + i.Name())
		if i.Name() == failOn {
			return usbsim.ErrBusy
		}
		return nil
	}
	d.Resume = func(i *usbsim.Interface) error { rec.add("resume " + i.Name()); return nil }
	require.NoError(t, u.Register(d))
	g := usbsim.BulkGadget(1, 2, 8, nil)
	second := g.Config.Interfaces[0]
	second.Number = 1
	g.Config.Interfaces = append(g.Config.Interfaces, second)
	dev, err := h.RootHub().Plug(1, g)
	require.NoError(t, err)
	require.NoError(t, dev.Suspend())
	require.NoError(t, dev.Resume())
	failOn = "1-1:1.0"
	assert.ErrorIs(t, dev.Suspend(), usbsim.ErrBusy)
	assert.Equal(t, []string{
		"probe 1-1:1.0", "probe 1-1:1.1",
		"suspend 1-1:1.1", "suspend 1-1:1.0",
		"resume 1-1:1.0", "resume 1-1:1.1",
		"suspend 1-1:1.1", "suspend 1-1:1.0", "resume 1-1:1.1",
	}, rec.get())
	assert.Equal(t, usbsim.StateConfigured, dev.State())
}

// usb_submit_urb: an URB without a completion handler is -EINVAL, one
// without a device -ENODEV (the kernel's "(!dev) || dev->state <
// USB_STATE_UNAUTHENTICATED" check), and neither touches the buffer.
func TestSubmitWithoutDevice(t *testing.T) {
	_, u, h := newUSB(t)
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	buf := u.AllocBuffer("orphan buffer", 4)
	buf.Free()

	urb := u.AllocURB()
	urb.FillBulk(nil, usbsim.DirIn|1, buf, 0, func(*usbsim.URB) {}, nil)
	assert.ErrorIs(t, urb.Submit(), usbsim.ErrNoDevice)

	urb.FillBulk(dev, usbsim.DirIn|1, buf, 0, nil, nil)
	assert.ErrorIs(t, urb.Submit(), usbsim.ErrInvalid, "no completion handler")
	var nilURB *usbsim.URB
	assert.ErrorIs(t, nilURB.Submit(), usbsim.ErrInvalid)
	assert.Empty(t, u.Memory().Reports(), "refused before map_urb_for_dma")
}

// new_id attaches the driver it was written to and no other
// (usb_store_new_id -> driver_attach(driver)): an unbound interface that
// another driver's id table matches is bound to the driver with the new
// id.
func TestNewIDAttachesOnlyThatDriver(t *testing.T) {
	_, u, h := newUSB(t)
	var rec recorder
	refuse := true
	first := rec.driver("first", usbsim.ID(1, 2))
	first.Probe = func(i *usbsim.Interface, _ usbsim.DeviceID) error {
		rec.add("probe first " + i.Name())
		if refuse {
			return usbsim.ErrNoDevice // not this time: the interface stays unbound
		}
		return nil
	}
	second := rec.driver("second") // no static ids
	require.NoError(t, u.Register(first))
	require.NoError(t, u.Register(second))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 8, nil))
	require.NoError(t, err)
	intf := dev.Interface(0)
	require.Empty(t, intf.Dev().DriverName())

	refuse = false
	require.NoError(t, second.NewID(1, 2))
	assert.Equal(t, "second", intf.Dev().DriverName())
	assert.Equal(t, []string{"probe first 1-1:1.0", "probe 1-1:1.0"}, rec.get(),
		"first is not offered the interface again")
}
