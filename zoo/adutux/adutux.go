// Package adutux is drivers/usb/misc/adutux.c, the driver of Ontrak's
// ADU data-acquisition and relay boxes, twice: as it was before commit
// 123a0f125fa3 ("USB: adutux: fix use-after-free on release", Johan
// Hovold, 2019) and after it, written against drvsim's USB core
// (drivers/usbsim) with the same calls in the same order.
//
// The driver kept a pointer to its struct usb_device (dev->udev) for its
// debug messages but took no reference on it. Once the device was
// unplugged with /dev/adutux0 still open, the USB core's last put_device
// freed the usb_device, and the final close's release() printed through
// the stale pointer (dev_dbg(&dev->udev->dev, ...)): a use-after-free.
// The fix takes the reference at probe (usb_get_dev) and drops it where
// the driver state is freed (adu_delete).
//
// The model keeps open, release, the interrupt-in completion, probe and
// disconnect, and the abort of both URBs; read and write (the
// double-buffered reads, the interrupt-out writes whose completion
// adu_interrupt_out_callback handles) are left out: the out URB is
// allocated and stopped where the C does, but never submitted. Probe's
// usb_string of the serial number is left out (usbsim has no string
// descriptors): the serial is empty. The usb_device is a checked
// allocation only on a USB core with usbsim's SetCheckedDevices on.
package adutux

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
)

// Ids and numbers (ADU_VENDOR_ID, ADU_PRODUCT_ID, ADU_MINOR_BASE,
// COMMAND_TIMEOUT).
const (
	VendorID       = 0x0a07
	ProductADU100  = 0x0064
	MinorBase      = 67
	commandTimeout = 2 * time.Second
)

// Variant is the driver before or after the fix.
type Variant int

// The variants.
const (
	// Before: dev->udev is a plain pointer.
	Before Variant = iota
	// After: probe takes a reference on the usb_device, adu_delete
	// drops it.
	After
)

// Gadget returns an ADU100: one interface with an interrupt-in and an
// interrupt-out endpoint of 8 bytes, answered by fn.
func Gadget(fn usbsim.Function) *usbsim.Gadget {
	return &usbsim.Gadget{
		Desc: usbsim.DeviceDescriptor{VendorID: VendorID, ProductID: ProductADU100},
		Config: usbsim.ConfigDescriptor{Value: 1, Interfaces: []usbsim.InterfaceDescriptor{{
			Number: 0, Class: 3,
			Endpoints: []usbsim.EndpointDescriptor{
				{Address: usbsim.DirIn | 1, Type: usbsim.Interrupt, MaxPacket: 8},
				{Address: 2, Type: usbsim.Interrupt, MaxPacket: 8},
			},
		}}},
		Function: fn,
	}
}

// aduDevice is struct adu_device.
type aduDevice struct {
	obj          *env.Object
	mtx          *kernel.Mutex
	udev         *usbsim.Device
	minor        int
	serialNumber string
	openCount    int
	disconnected bool

	readBufferPrimary   *env.Object
	readBufferLength    int
	readBufferSecondary *env.Object
	buflock             *kernel.SpinLock

	readWait  *kernel.WaitQueue
	writeWait *kernel.WaitQueue

	intInBuffer     *usbsim.Buffer
	intInEndpoint   usbsim.EndpointDescriptor
	intInURB        *usbsim.URB
	readURBFinished bool

	intOutBuffer   *usbsim.Buffer
	intOutURB      *usbsim.URB
	outURBFinished bool
}

// module is the driver's statics: adutux_mutex, the usb_driver and its
// class driver.
type module struct {
	v     Variant
	u     *usbsim.USB
	drv   *usbsim.Driver
	mutex *kernel.Mutex // adutux_mutex
	class *usbsim.ClassDriver
}

// New returns the usb_driver "adutux" in variant v on u.
func New(v Variant, u *usbsim.USB) *usbsim.Driver {
	m := &module{v: v, u: u, mutex: kernel.NewMutex(u, "adutux_mutex")}
	m.class = &usbsim.ClassDriver{Name: "usb/adutux%d", MinorBase: MinorBase,
		Fops: &chardev.FileOperations{Open: m.open, Release: m.release}}
	m.drv = &usbsim.Driver{Name: "adutux", IDTable: []usbsim.DeviceID{usbsim.ID(VendorID, ProductADU100)},
		Probe: m.probe, Disconnect: m.disconnect}
	return m.drv
}

// dbg is dev_dbg(&dev->udev->dev, ...) in function fn: the message is
// about the usb_device, read through the driver's pointer to it.
func (dev *aduDevice) dbg(fn, format string, args ...any) {
	dev.udev.Access(fn + ": dev_dbg(&dev->udev->dev)")
	kernel.DevDbg(dev.udev.Dev(), "%s"+format, append([]any{fn}, args...)...)
}

// abortTransfers is adu_abort_transfers: nothing once disconnected (the
// URBs are poisoned); else the read URB is killed if in flight and a
// write in flight is waited for, then killed.
func (m *module) abortTransfers(dev *aduDevice) {
	dev.obj.Access("adu_abort_transfers: dev->disconnected")
	if dev.disconnected {
		return
	}
	// shutdown transfer
	flags := dev.buflock.LockIRQSave()
	if !dev.readURBFinished {
		dev.buflock.UnlockIRQRestore(flags)
		dev.intInURB.Kill()
	} else {
		dev.buflock.UnlockIRQRestore(flags)
	}
	flags = dev.buflock.LockIRQSave()
	if !dev.outURBFinished {
		dev.buflock.UnlockIRQRestore(flags)
		dev.writeWait.WaitTimeout("adutux write_wait", func() bool { return dev.outURBFinished }, commandTimeout)
		dev.intOutURB.Kill()
	} else {
		dev.buflock.UnlockIRQRestore(flags)
	}
}

// delete is adu_delete: the URBs, the buffers, after the fix the
// usb_device reference, then the struct.
func (m *module) delete(dev *aduDevice) {
	// free data structures (usb_free_urb needs nothing of the model)
	dev.readBufferPrimary.Free()
	dev.readBufferSecondary.Free()
	dev.intInBuffer.Free()
	dev.intOutBuffer.Free()
	if m.v == After {
		_ = dev.udev.Dev().Put() // usb_put_dev
	}
	dev.obj.Free()
}

// interruptInCallback is adu_interrupt_in_callback: a report whose first
// byte is not zero is appended to the primary read buffer, while it has
// room; readers are woken.
func (m *module) interruptInCallback(urb *usbsim.URB) {
	dev := urb.Context.(*aduDevice)
	dev.obj.Access("adu_interrupt_in_callback: dev->udev")
	data := urb.Buffer.Bytes("adu_interrupt_in_callback: transfer_buffer")[:urb.Actual]
	dev.dbg("adu_interrupt_in_callback", " - length = %d, data = % x", urb.Actual, data) // adu_debug_data
	flags := dev.buflock.LockIRQSave()
	if urb.Status != nil {
		switch usbsim.Errno(urb.Status) {
		case "-ENOENT", "-ECONNRESET", "-ESHUTDOWN":
		default:
			dev.dbg("adu_interrupt_in_callback", " : nonzero status received: %s", usbsim.Errno(urb.Status))
		}
	} else if urb.Actual > 0 && data[0] != 0x00 {
		if dev.readBufferLength < 4*dev.intInEndpoint.MaxPacket-urb.Actual {
			dev.readBufferPrimary.Access("adu_interrupt_in_callback: memcpy to read_buffer_primary")
			dev.readBufferLength += urb.Actual
			dev.dbg("adu_interrupt_in_callback", " reading  %d", urb.Actual)
		} else {
			dev.dbg("adu_interrupt_in_callback", " : read_buffer overflow")
		}
	}
	// exit:
	dev.readURBFinished = true
	dev.buflock.UnlockIRQRestore(flags)
	// always wake up so we recover from errors
	dev.readWait.WakeAll()
}

// open is adu_open: under adutux_mutex, one opener; the interrupt-in URB
// is filled and submitted (a failure is ignored).
func (m *module) open(f *chardev.File) error {
	m.mutex.Lock() // mutex_lock_interruptible
	defer m.mutex.Unlock()
	intf := m.u.FindInterface(m.drv, f.Minor())
	if intf == nil {
		return fmt.Errorf("adu_open: error, can't find device for minor %d: %w", f.Minor(), usbsim.ErrNoDevice)
	}
	dev, _ := intf.Intfdata().(*aduDevice)
	if dev == nil {
		return fmt.Errorf("adu_open: %w", usbsim.ErrNoDevice)
	}
	dev.obj.Access("adu_open: dev->open_count")
	if dev.openCount != 0 { // check that nobody else is using the device
		return fmt.Errorf("adu_open: %w", usbsim.ErrBusy)
	}
	dev.openCount++
	dev.dbg("adu_open", ": open count %d", dev.openCount)
	f.Private = dev // save device in the file's private structure
	dev.readBufferLength = 0
	// fixup first read by having urb waiting for it
	dev.intInURB.FillInt(dev.udev, dev.intInEndpoint.Address, dev.intInBuffer, dev.intInEndpoint.MaxPacket, m.interruptInCallback, dev)
	dev.readURBFinished = false
	if err := dev.intInURB.Submit(); err != nil {
		dev.readURBFinished = true // we ignore failure
	}
	// initialize out direction
	dev.outURBFinished = true
	return nil
}

// releaseInternal is adu_release_internal: the last close stops the
// transfers.
func (m *module) releaseInternal(dev *aduDevice) {
	// decrement our usage count for the device
	dev.openCount--
	dev.dbg("adu_release_internal", " : open count %d", dev.openCount)
	if dev.openCount <= 0 {
		m.abortTransfers(dev)
		dev.openCount = 0
	}
}

// release is adu_release: under adutux_mutex; the state is freed here
// when the device was unplugged first.
func (m *module) release(f *chardev.File) error {
	dev, _ := f.Private.(*aduDevice)
	if dev == nil {
		return usbsim.ErrNoDevice
	}
	m.mutex.Lock() // not interruptible
	defer m.mutex.Unlock()
	dev.obj.Access("adu_release: dev->open_count")
	if dev.openCount <= 0 {
		dev.dbg("adu_release", " : device not opened")
		return usbsim.ErrNoDevice
	}
	m.releaseInternal(dev)
	if dev.disconnected {
		// the device was unplugged before the file was released
		if dev.openCount == 0 { // ... and we're the last user
			m.delete(dev)
		}
	}
	return nil
}

// probe is adu_probe.
func (m *module) probe(intf *usbsim.Interface, _ usbsim.DeviceID) error {
	u := m.u
	udev := intf.Device()
	// allocate memory for our device state and initialize it
	dev := &aduDevice{obj: u.Memory().Alloc("struct adu_device")}
	dev.mtx = kernel.NewMutex(u, "adu_device mtx")
	dev.buflock = kernel.NewSpinLock(u, "adu_device buflock")
	dev.udev = udev
	if m.v == After {
		udev.Dev().Get() // usb_get_dev
	}
	dev.readWait = kernel.NewWaitQueue(u, "adutux read_wait")
	dev.writeWait = kernel.NewWaitQueue(u, "adutux write_wait")
	inFound, outSize := false, 0
	for _, ep := range intf.Endpoints() { // usb_find_common_endpoints_reverse
		switch {
		case ep.IsIntIn():
			dev.intInEndpoint, inFound = ep, true
		case ep.Type == usbsim.Interrupt && !ep.In():
			outSize = ep.MaxPacket
		}
	}
	if !inFound || outSize == 0 {
		kernel.DevErr(intf.Dev(), "interrupt endpoints not found")
		if m.v == After {
			_ = udev.Dev().Put() // adu_delete's usb_put_dev
		}
		dev.obj.Free() // adu_delete: nothing else is allocated yet
		return fmt.Errorf("adu_probe: %w", usbsim.ErrNoDevice)
	}
	inSize := dev.intInEndpoint.MaxPacket
	dev.readBufferPrimary = u.Memory().Alloc("adutux read_buffer_primary")
	dev.readBufferSecondary = u.Memory().Alloc("adutux read_buffer_secondary")
	dev.intInBuffer = u.AllocBuffer("adutux interrupt_in_buffer", inSize)
	dev.intInURB = u.AllocURB()
	dev.intOutBuffer = u.AllocBuffer("adutux interrupt_out_buffer", outSize)
	dev.intOutURB = u.AllocURB()
	kernel.DevDbg(intf.Dev(), "serial_number=%s", dev.serialNumber)
	// we can register the device now, as it is ready
	intf.SetIntfdata(dev)
	if err := u.RegisterDev(intf, m.class); err != nil {
		// something prevented us from registering this driver
		kernel.DevErr(intf.Dev(), "Not able to get a minor for this device.")
		intf.SetIntfdata(nil)
		m.delete(dev)
		return err
	}
	dev.minor = intf.Minor()
	// let the user know what node this device is now attached to
	kernel.DevInfo(intf.Dev(), "ADU%d %s now attached to /dev/usb/adutux%d",
		udev.Descriptor().ProductID, dev.serialNumber, dev.minor-MinorBase)
	return nil
}

// disconnect is adu_disconnect: the minor is given back, the URBs
// poisoned, and under adutux_mutex the state is marked disconnected, and
// freed if no file is open.
func (m *module) disconnect(intf *usbsim.Interface) {
	dev := intf.Intfdata().(*aduDevice)
	m.u.DeregisterDev(intf, m.class)
	dev.intInURB.Poison()
	dev.intOutURB.Poison()
	m.mutex.Lock()
	intf.SetIntfdata(nil)
	dev.obj.Access("adu_disconnect: mutex_lock(&dev->mtx)")
	dev.mtx.Lock() // not interruptible
	dev.disconnected = true
	dev.mtx.Unlock()
	// if the device is not opened, then we clean up right now
	if dev.openCount == 0 {
		m.delete(dev)
	}
	m.mutex.Unlock()
}
