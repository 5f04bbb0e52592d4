package usbsim_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// intDriver submits an interrupt-IN URB in probe, as a HID or hub driver
// does, with a checked buffer that its completion frees.
type intDriver struct {
	mu       sync.Mutex
	statuses []error
	urb      *usbsim.URB
	buf      *usbsim.Buffer
	resubmit bool
}

func (d *intDriver) complete(urb *usbsim.URB) {
	d.mu.Lock()
	d.statuses = append(d.statuses, urb.Status)
	again := d.resubmit && urb.Status == nil
	d.mu.Unlock()
	if again {
		_ = urb.Submit()
		return
	}
	urb.Buffer.Free() // the buffer is the completion's to free
}

func (d *intDriver) got() []error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]error(nil), d.statuses...)
}

func (d *intDriver) driver(u *usbsim.USB) *usbsim.Driver {
	return &usbsim.Driver{Name: "int", IDTable: []usbsim.DeviceID{usbsim.ID(0xaaaa, 0xbbbb)},
		Probe: func(i *usbsim.Interface, _ usbsim.DeviceID) error {
			d.buf = u.AllocBuffer("int buffer", 8)
			d.urb = u.AllocURB()
			d.urb.FillInt(i.Device(), usbsim.DirIn|3, d.buf, 8, d.complete, d)
			return d.urb.Submit()
		},
		Disconnect: func(*usbsim.Interface) {},
	}
}

func intGadget(fn usbsim.Function) *usbsim.Gadget {
	return &usbsim.Gadget{
		Desc: usbsim.DeviceDescriptor{VendorID: 0xaaaa, ProductID: 0xbbbb},
		Config: usbsim.ConfigDescriptor{Interfaces: []usbsim.InterfaceDescriptor{{Class: 3,
			Endpoints: []usbsim.EndpointDescriptor{{Address: usbsim.DirIn | 3, Type: usbsim.Interrupt, MaxPacket: 8}}}}},
		Function: fn,
	}
}

// Scenario 5: an URB in flight at unplug completes with -ESHUTDOWN before
// the driver's disconnect, exactly once, and its buffer (freed by the
// completion) is never touched afterwards; a later submission fails with
// -ENODEV.
func TestURBInFlightAtUnplug(t *testing.T) {
	sys, u, h := newUSB(t)
	var d intDriver
	require.NoError(t, u.Register(d.driver(u)))
	dev, err := h.RootHub().Plug(1, intGadget(usbsim.NewLoopback(0))) // interrupts never come
	require.NoError(t, err)
	require.True(t, d.urb.InFlight())
	assert.Equal(t, 0, h.Flush())
	assert.Empty(t, d.got())

	seq := sys.Log().Seq()
	require.NoError(t, dev.Disconnect())
	assert.Equal(t, []error{usbsim.ErrShutdown}, d.got())
	assert.True(t, d.buf.Object().Freed())
	assert.Empty(t, u.Memory().Reports(), "no access to the freed buffer")
	ev := usbEvents(sys, seq)
	assert.Subset(t, ev, []string{
		"usb_hcd_flush_endpoint /sys/devices/usb1/1-1: ep83: 1 URB(s)",
		"usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep83 status=-ESHUTDOWN actual=0",
	})
	assert.Less(t, indexOf(ev, "usb_hcd_giveback_urb /sys/devices/usb1/1-1: urb 1 ep83 status=-ESHUTDOWN actual=0"),
		indexOf(ev, "usb_unbind_interface /sys/devices/usb1/1-1/1-1:1.0: driver->disconnect"))

	d.urb.Buffer = usbsim.NewBuffer(make([]byte, 8))
	assert.ErrorIs(t, d.urb.Submit(), usbsim.ErrNoDevice)
	assert.Len(t, d.got(), 1)
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// Completions run from the controller's giveback, not from the submit;
// a completion may resubmit.
func TestCompletionDeliveredByFlush(t *testing.T) {
	_, u, h := newUSB(t)
	d := intDriver{resubmit: true}
	require.NoError(t, u.Register(d.driver(u)))
	var c usbsim.Counter
	_, err := h.RootHub().Plug(1, intGadget(&c))
	require.NoError(t, err)
	assert.Equal(t, 1, h.Pending(), "the device answered; the handler has not run")
	assert.Empty(t, d.got())
	assert.Equal(t, 1, h.Flush())
	assert.Equal(t, []error{nil}, d.got())
	assert.Equal(t, 1, h.Pending(), "resubmitted and answered again")
	d.mu.Lock()
	d.resubmit = false
	d.mu.Unlock()
	h.Flush()
	assert.Equal(t, []error{nil, nil}, d.got())
	assert.False(t, d.urb.InFlight())
}

// usb_kill_urb: a queued URB completes with -ENOENT, a resubmission from
// its completion is refused with -EPERM, and after Kill it can be
// submitted again.
func TestKillURB(t *testing.T) {
	_, u, h := newUSB(t)
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	urb := u.AllocURB()
	var statuses []error
	var resubmit error
	urb.FillBulk(dev, usbsim.DirIn|1, usbsim.NewBuffer(make([]byte, 4)), 4, func(x *usbsim.URB) {
		statuses = append(statuses, x.Status)
		resubmit = x.Submit()
	}, nil)
	require.NoError(t, urb.Submit())
	assert.ErrorIs(t, urb.Submit(), usbsim.ErrBusy)
	urb.Kill()
	assert.Equal(t, []error{usbsim.ErrNoEntry}, statuses)
	assert.ErrorIs(t, resubmit, usbsim.ErrPerm)
	assert.False(t, urb.InFlight())
	urb.Kill() // idle: returns at once
	assert.Len(t, statuses, 1)

	urb.Complete = func(x *usbsim.URB) { statuses = append(statuses, x.Status) }
	require.NoError(t, urb.Submit())
	urb.Poison()
	assert.ErrorIs(t, urb.Submit(), usbsim.ErrPerm)
	urb.Unpoison()
	require.NoError(t, urb.Submit())
	// the hardware finishes it; Kill delivers the real status
	lbFeed(dev, "ab")
	urb.Kill()
	assert.Equal(t, []error{usbsim.ErrNoEntry, usbsim.ErrNoEntry, nil}, statuses)
	assert.Equal(t, 2, urb.Actual)
	assert.ErrorIs(t, urb.Unlink(), usbsim.ErrIdentifierRemoved)
}

func lbFeed(dev *usbsim.Device, s string) {
	dev.Gadget().Function.(*usbsim.Loopback).Feed([]byte(s))
	dev.Kick()
}

// usb_unlink_urb: asynchronous, -ECONNRESET at the next giveback.
func TestUnlinkURB(t *testing.T) {
	_, u, h := newUSB(t)
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	urb := u.AllocURB()
	var statuses []error
	urb.FillBulk(dev, usbsim.DirIn|1, usbsim.NewBuffer(make([]byte, 4)), 0, func(x *usbsim.URB) { statuses = append(statuses, x.Status) }, nil)
	require.NoError(t, urb.Submit())
	require.NoError(t, urb.Unlink())
	assert.Empty(t, statuses)
	assert.Equal(t, 1, h.Flush())
	assert.Equal(t, []error{usbsim.ErrConnReset}, statuses)
}

// usb_kill_anchored_urbs kills every anchored URB; given-back URBs leave
// their anchor by themselves.
func TestAnchor(t *testing.T) {
	_, u, h := newUSB(t)
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	var a usbsim.Anchor
	var statuses []error
	for range 3 {
		urb := u.AllocURB()
		urb.FillBulk(dev, usbsim.DirIn|1, usbsim.NewBuffer(make([]byte, 1)), 0, func(x *usbsim.URB) { statuses = append(statuses, x.Status) }, nil)
		a.Anchor(urb)
		require.NoError(t, urb.Submit())
	}
	lbFeed(dev, "x") // completes the first
	h.Flush()
	assert.Equal(t, 2, a.Len())
	a.KillAll()
	assert.True(t, a.Empty())
	assert.Equal(t, []error{nil, usbsim.ErrNoEntry, usbsim.ErrNoEntry}, statuses)

	never := u.AllocURB()
	a.Anchor(never)
	a.PoisonAll()
	assert.True(t, a.Empty())
}

// Loopback through usb_bulk_msg; -ENOENT for an endpoint that does not
// exist.
func TestBulkMsgLoopback(t *testing.T) {
	_, _, h := newUSB(t)
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	n, err := dev.BulkMsg(2, usbsim.NewBuffer([]byte("hello")), 0, 0)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	buf := usbsim.NewBuffer(make([]byte, 16))
	n, err = dev.BulkMsg(usbsim.DirIn|1, buf, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(buf.Bytes("test")[:n]))
	_, err = dev.BulkMsg(usbsim.DirIn|7, buf, 0, 0)
	assert.ErrorIs(t, err, usbsim.ErrNoEntry)
}

// A read blocked in usb_bulk_msg on another goroutine is woken by the
// device's data, and by the unplug with -ESHUTDOWN.
func TestBulkMsgWokenAcrossGoroutines(t *testing.T) {
	_, _, h := newUSB(t)
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	read := func() chan error {
		ch := make(chan error, 1)
		go func() {
			_, err := dev.BulkMsg(usbsim.DirIn|1, usbsim.NewBuffer(make([]byte, 4)), 0, 0)
			ch <- err
		}()
		return ch
	}
	ch := read()
	lbFeed(dev, "data")
	require.NoError(t, <-ch)
	ch = read()
	require.NoError(t, dev.Disconnect())
	// terminated in flight (-ESHUTDOWN), or refused when the goroutine
	// submitted after the unplug started (-ENODEV)
	err = <-ch
	assert.True(t, errors.Is(err, usbsim.ErrShutdown) || errors.Is(err, usbsim.ErrNoDevice), "got %v", err)
}

// Soft unbind: on a manual unbind with the device present, the driver's
// disconnect runs with its URBs still in flight, and cancels them itself.
func TestSoftUnbind(t *testing.T) {
	sys, u, h := newUSB(t)
	var inFlightAtDisconnect bool
	var status error
	var urb *usbsim.URB
	d := &usbsim.Driver{Name: "soft", SoftUnbind: true, IDTable: []usbsim.DeviceID{usbsim.ID(1, 2)},
		Probe: func(i *usbsim.Interface, _ usbsim.DeviceID) error {
			urb = u.AllocURB()
			urb.FillBulk(i.Device(), usbsim.DirIn|1, usbsim.NewBuffer(make([]byte, 4)), 0, func(x *usbsim.URB) { status = x.Status }, nil)
			return urb.Submit()
		},
		Disconnect: func(i *usbsim.Interface) {
			inFlightAtDisconnect = urb.InFlight()
			urb.Kill()
		},
	}
	require.NoError(t, u.Register(d))
	dev, err := h.RootHub().Plug(1, usbsim.BulkGadget(1, 2, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	require.NoError(t, sys.Unbind(dev.Interface(0).Dev()))
	assert.True(t, inFlightAtDisconnect)
	assert.ErrorIs(t, status, usbsim.ErrNoEntry)
	// rebinding works: the endpoints were re-enabled
	bound, err := sys.Attach(dev.Interface(0).Dev())
	require.NoError(t, err)
	assert.True(t, bound)
	// at a real disconnect the URBs are terminated first, soft unbind or not
	require.NoError(t, dev.Disconnect())
	assert.False(t, inFlightAtDisconnect)
	assert.ErrorIs(t, status, usbsim.ErrShutdown)
}
