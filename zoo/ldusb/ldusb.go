// Package ldusb is drivers/usb/misc/ldusb.c, the driver of LD Didactic's
// CASSY and other report-based interrupt-in/out USB devices, twice: as it
// was before commit 58ecf131e746 ("USB: ldusb: fix NULL-derefs on driver
// unbind", Johan Hovold, 2019) and after it, written against drvsim's
// USB core (drivers/usbsim) with the same calls in the same order.
//
// The driver used its struct usb_interface pointer as an inverted
// "disconnected" flag: with a file open, disconnect set dev->intf to NULL
// and left the state for release() to free. It did so without making sure
// the URB completion handlers were done, and they print through the
// pointer (dev_dbg, dev_warn, dev_err on &dev->intf->dev). After a driver
// unbind, a completion the host controller's bottom half had still to
// give back dereferenced NULL. The fix poisons both interrupt URBs in
// disconnect (which waits for their completions and stops resubmission)
// and uses a dedicated disconnected flag, so the pointer stays valid.
//
// The model keeps open, release, read, poll, the interrupt-in path and
// disconnect; the write path (its interrupt-out URB, or the
// HID_REQ_SET_REPORT control message of a device without an interrupt-out
// endpoint) is left out: the out URB is allocated, killed and poisoned
// where the C does, but never submitted. usb_string's early-firmware
// workaround at probe is left out too.
package ldusb

import (
	"fmt"
	"time"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// Ids and numbers (USB_VENDOR_ID_LD, USB_DEVICE_ID_LD_CASSY,
// USB_LD_MINOR_BASE, the ring_buffer_size module parameter's default).
const (
	VendorID       = 0x0f11
	ProductCASSY   = 0x1000
	MinorBase      = 176
	ringBufferSize = 128
)

// Kind is the trace kind of the driver's own steps.
const Kind trace.Kind = "ldusb"

// Variant is the driver before or after the fix.
type Variant int

// The variants.
const (
	// Before: disconnect sets dev->intf to NULL with a file open, and
	// the completion handlers may still run.
	Before Variant = iota
	// After: disconnect poisons the URBs and sets dev->disconnected.
	After
)

// Gadget returns a CASSY-S: one interface with an interrupt-in and an
// interrupt-out endpoint of 8-byte reports, answered by fn.
func Gadget(fn usbsim.Function) *usbsim.Gadget {
	return &usbsim.Gadget{
		Desc: usbsim.DeviceDescriptor{VendorID: VendorID, ProductID: ProductCASSY},
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

// ldUSB is struct ld_usb.
type ldUSB struct {
	obj          *env.Object
	mutex        *kernel.Mutex // locks this structure
	intf         *usbsim.Interface
	disconnected bool // After only
	openCount    int

	ringBuffer *env.Object
	ring       [ringBufferSize][]byte // each entry: the report's actual_length bytes
	ringHead   int
	ringTail   int

	readWait  *kernel.WaitQueue
	writeWait *kernel.WaitQueue

	intInBuffer    *usbsim.Buffer
	intInEndpoint  usbsim.EndpointDescriptor
	intInURB       *usbsim.URB
	intInSize      int
	intInRunning   bool
	intInDone      bool
	bufferOverflow bool
	rbsl           *kernel.SpinLock

	intOutBuffer *usbsim.Buffer
	intOutURB    *usbsim.URB
	intOutBusy   bool
}

// module is the driver's statics: the usb_driver and its class driver.
type module struct {
	v     Variant
	u     *usbsim.USB
	drv   *usbsim.Driver
	class *usbsim.ClassDriver
}

// New returns the usb_driver "ldusb" in variant v on u.
func New(v Variant, u *usbsim.USB) *usbsim.Driver {
	m := &module{v: v, u: u}
	m.class = &usbsim.ClassDriver{Name: "ldusb%d", MinorBase: MinorBase,
		Fops: &chardev.FileOperations{Open: m.open, Read: m.read, Poll: m.poll, Release: m.release}}
	m.drv = &usbsim.Driver{Name: "ldusb", IDTable: []usbsim.DeviceID{usbsim.ID(VendorID, ProductCASSY)},
		Probe: m.probe, Disconnect: m.disconnect}
	return m.drv
}

func (m *module) emit(dev, fn, msg string) {
	m.u.Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

// gone is the variant's "the device was unplugged" test: dev->intf ==
// NULL before the fix, dev->disconnected after.
func (m *module) gone(dev *ldUSB) bool {
	if m.v == Before {
		return dev.intf == nil
	}
	return dev.disconnected
}

// abortTransfers is ld_usb_abort_transfers. Before the fix it kills the
// URBs only while dev->intf is set.
func (m *module) abortTransfers(dev *ldUSB) {
	dev.obj.Access("ld_usb_abort_transfers: dev->interrupt_in_running")
	if dev.intInRunning { // shutdown transfer
		dev.intInRunning = false
		if m.v == After || dev.intf != nil {
			dev.intInURB.Kill()
		}
	}
	if dev.intOutBusy && (m.v == After || dev.intf != nil) {
		dev.intOutURB.Kill()
	}
}

// delete is ld_usb_delete: before the fix it aborts the transfers first.
func (m *module) delete(dev *ldUSB) {
	if m.v == Before {
		m.abortTransfers(dev)
	}
	// free data structures (usb_free_urb needs nothing of the model)
	dev.ringBuffer.Free()
	dev.intInBuffer.Free()
	dev.intOutBuffer.Free()
	dev.obj.Free()
}

// interruptInCallback is ld_usb_interrupt_in_callback: a report goes into
// the ring buffer and the URB is resubmitted while reading runs; the
// messages go through dev->intf.
func (m *module) interruptInCallback(urb *usbsim.URB) {
	dev := urb.Context.(*ldUSB)
	dev.obj.Access("ld_usb_interrupt_in_callback: dev->intf")
	var flags kernel.IRQSaveFlags
	if urb.Status != nil {
		switch usbsim.Errno(urb.Status) {
		case "-ENOENT", "-ECONNRESET", "-ESHUTDOWN":
			goto exit
		}
		kernel.DevDbg(dev.intf.Dev(), "%s: nonzero status received: %s", "ld_usb_interrupt_in_callback", usbsim.Errno(urb.Status))
		flags = dev.rbsl.LockIRQSave()
		goto resubmit // maybe we can recover
	}
	flags = dev.rbsl.LockIRQSave()
	if urb.Actual > 0 {
		next := (dev.ringHead + 1) % ringBufferSize
		if next != dev.ringTail {
			// the entry gets urb->actual_length and interrupt_in_buffer
			dev.ringBuffer.Access("ld_usb_interrupt_in_callback: memcpy to ring_buffer")
			dev.ring[dev.ringHead] = append([]byte(nil), dev.intInBuffer.Bytes("ld_usb_interrupt_in_callback: interrupt_in_buffer")[:urb.Actual]...)
			dev.ringHead = next
			kernel.DevDbg(dev.intf.Dev(), "%s: received %d bytes", "ld_usb_interrupt_in_callback", urb.Actual)
		} else {
			kernel.DevWarn(dev.intf.Dev(), "Ring buffer overflow, %d bytes dropped", urb.Actual)
			dev.bufferOverflow = true
		}
	}
resubmit:
	// resubmit if we're still running
	if dev.intInRunning && !dev.bufferOverflow && (m.v == After || dev.intf != nil) {
		if err := dev.intInURB.Submit(); err != nil {
			kernel.DevErr(dev.intf.Dev(), "usb_submit_urb failed (%s)", usbsim.Errno(err))
			dev.bufferOverflow = true
		}
	}
	dev.rbsl.UnlockIRQRestore(flags)
exit:
	dev.intInDone = true
	dev.readWait.WakeAll()
}

// open is ld_usb_open: one opener; the ring is reset and the interrupt-in
// URB submitted.
func (m *module) open(f *chardev.File) error {
	intf := m.u.FindInterface(m.drv, f.Minor())
	if intf == nil {
		return fmt.Errorf("ld_usb_open: error, can't find device for minor %d: %w", f.Minor(), usbsim.ErrNoDevice)
	}
	dev, _ := intf.Intfdata().(*ldUSB)
	if dev == nil {
		return fmt.Errorf("ld_usb_open: %w", usbsim.ErrNoDevice)
	}
	dev.obj.Access("ld_usb_open: mutex_lock_interruptible(&dev->mutex)")
	dev.mutex.Lock() // lock this device
	defer dev.mutex.Unlock()
	if dev.openCount != 0 { // allow opening only once
		return fmt.Errorf("ld_usb_open: %w", usbsim.ErrBusy)
	}
	dev.openCount = 1
	// initialize in direction
	dev.ringHead, dev.ringTail = 0, 0
	dev.bufferOverflow = false
	dev.intInURB.FillInt(intf.Device(), dev.intInEndpoint.Address, dev.intInBuffer, dev.intInSize, m.interruptInCallback, dev)
	dev.intInRunning = true
	dev.intInDone = false
	if err := dev.intInURB.Submit(); err != nil {
		kernel.DevErr(intf.Dev(), "Couldn't submit interrupt_in_urb %s", usbsim.Errno(err))
		dev.intInRunning = false
		dev.openCount = 0
		return err
	}
	f.Private = dev // save device in the file's private structure
	return nil
}

// release is ld_usb_release: with the device gone the state is freed
// here, else the transfers stop.
func (m *module) release(f *chardev.File) error {
	dev, _ := f.Private.(*ldUSB)
	if dev == nil {
		return usbsim.ErrNoDevice
	}
	dev.obj.Access("ld_usb_release: mutex_lock_interruptible(&dev->mutex)")
	dev.mutex.Lock()
	if dev.openCount != 1 {
		dev.mutex.Unlock()
		return usbsim.ErrNoDevice
	}
	if m.gone(dev) {
		// the device was unplugged before the file was released
		dev.mutex.Unlock()
		// unlock here as ld_usb_delete frees dev
		m.delete(dev)
		return nil
	}
	// wait until write transfer is finished
	if dev.intOutBusy {
		dev.writeWait.WaitTimeout("ldusb write_wait", func() bool { return !dev.intOutBusy }, 2*time.Second)
	}
	m.abortTransfers(dev)
	dev.openCount = 0
	dev.mutex.Unlock()
	return nil
}

// poll is ld_usb_poll.
func (m *module) poll(f *chardev.File) chardev.PollMask {
	dev := f.Private.(*ldUSB)
	dev.obj.Access("ld_usb_poll: dev->intf")
	if m.gone(dev) {
		return chardev.PollErr | chardev.PollHup
	}
	var mask chardev.PollMask
	if dev.ringHead != dev.ringTail {
		mask |= chardev.PollIn | chardev.PollRdNorm
	}
	if !dev.intOutBusy {
		mask |= chardev.PollOut | chardev.PollWrNorm
	}
	return mask
}

// read is ld_usb_read: one report from the ring buffer, waiting for one;
// the URB is resubmitted when an overflow had stopped it.
func (m *module) read(f *chardev.File, count int) ([]byte, error) {
	dev := f.Private.(*ldUSB)
	if count == 0 { // verify that we actually have some data to read
		return nil, nil
	}
	dev.obj.Access("ld_usb_read: mutex_lock_interruptible(&dev->mutex)")
	dev.mutex.Lock() // lock this object
	defer dev.mutex.Unlock()
	if m.gone(dev) { // verify that the device wasn't unplugged
		m.emit(f.Path(), "ld_usb_read", "ldusb: No device or device unplugged -ENODEV")
		return nil, usbsim.ErrNoDevice
	}
	// wait for data
	flags := dev.rbsl.LockIRQSave() // spin_lock_irq
	if dev.ringHead == dev.ringTail {
		dev.intInDone = false
		dev.rbsl.UnlockIRQRestore(flags)
		dev.readWait.Wait("ldusb read_wait", func() bool { return dev.intInDone })
	} else {
		dev.rbsl.UnlockIRQRestore(flags)
	}
	// the entry holds actual_length and the report
	dev.ringBuffer.Access("ld_usb_read: copy_to_user from ring_buffer")
	entry := dev.ring[dev.ringTail]
	n := min(count, len(entry))
	if n < len(entry) {
		kernel.DevWarn(dev.intf.Dev(), "Read buffer overflow, %d bytes dropped", len(entry)-n)
	}
	out := append([]byte(nil), entry[:n]...)
	dev.ringTail = (dev.ringTail + 1) % ringBufferSize
	flags = dev.rbsl.LockIRQSave()
	if dev.bufferOverflow {
		dev.bufferOverflow = false
		dev.rbsl.UnlockIRQRestore(flags)
		if err := dev.intInURB.Submit(); err != nil {
			dev.bufferOverflow = true
		}
	} else {
		dev.rbsl.UnlockIRQRestore(flags)
	}
	return out, nil
}

// probe is ld_usb_probe.
func (m *module) probe(intf *usbsim.Interface, _ usbsim.DeviceID) error {
	u := m.u
	// allocate memory for our device state and initialize it
	dev := &ldUSB{obj: u.Memory().Alloc("struct ld_usb")}
	dev.mutex = kernel.NewMutex(u, "ld_usb mutex")
	dev.rbsl = kernel.NewSpinLock(u, "ld_usb rbsl")
	dev.intf = intf
	dev.readWait = kernel.NewWaitQueue(u, "ldusb read_wait")
	dev.writeWait = kernel.NewWaitQueue(u, "ldusb write_wait")
	inFound, outSize := false, 0
	for _, ep := range intf.Endpoints() { // usb_find_last_int_{in,out}_endpoint
		switch {
		case ep.IsIntIn():
			dev.intInEndpoint, inFound = ep, true
		case ep.Type == usbsim.Interrupt && !ep.In():
			outSize = ep.MaxPacket
		}
	}
	if !inFound {
		kernel.DevErr(intf.Dev(), "Interrupt in endpoint not found")
		dev.obj.Free() // ld_usb_delete: nothing else is allocated yet
		return fmt.Errorf("ld_usb_probe: %w", usbsim.ErrNoDevice)
	}
	if outSize == 0 {
		kernel.DevWarn(intf.Dev(), "Interrupt out endpoint not found (using control endpoint instead)")
		outSize = 64 // udev->descriptor.bMaxPacketSize0
	}
	dev.intInSize = dev.intInEndpoint.MaxPacket
	dev.ringBuffer = u.Memory().Alloc("ld_usb ring_buffer")
	dev.intInBuffer = u.AllocBuffer("ld_usb interrupt_in_buffer", dev.intInSize)
	dev.intInURB = u.AllocURB()
	dev.intOutBuffer = u.AllocBuffer("ld_usb interrupt_out_buffer", 10*outSize) // write_buffer_size reports
	dev.intOutURB = u.AllocURB()
	// we can register the device now, as it is ready
	intf.SetIntfdata(dev)
	if err := u.RegisterDev(intf, m.class); err != nil {
		// something prevented us from registering this driver
		kernel.DevErr(intf.Dev(), "Not able to get a minor for this device.")
		intf.SetIntfdata(nil)
		m.delete(dev)
		return err
	}
	// let the user know what node this device is now attached to
	kernel.DevInfo(intf.Dev(), "LD USB Device #%d now attached to major %d minor %d",
		intf.Minor()-MinorBase, usbsim.Major, intf.Minor())
	return nil
}

// disconnect is ld_usb_disconnect, in the variant's order.
func (m *module) disconnect(intf *usbsim.Interface) {
	dev := intf.Intfdata().(*ldUSB)
	intf.SetIntfdata(nil)
	minor := intf.Minor()
	m.u.DeregisterDev(intf, m.class) // give back our minor
	if m.v == After {
		dev.intInURB.Poison()
		dev.intOutURB.Poison()
	}
	dev.obj.Access("ld_usb_disconnect: mutex_lock(&dev->mutex)")
	dev.mutex.Lock()
	if dev.openCount == 0 {
		// if the device is not opened, then we clean up right now
		dev.mutex.Unlock()
		m.delete(dev)
	} else {
		if m.v == Before {
			dev.intf = nil
		} else {
			dev.disconnected = true
		}
		// wake up pollers
		dev.readWait.WakeAll()
		dev.writeWait.WakeAll()
		dev.mutex.Unlock()
	}
	kernel.DevInfo(intf.Dev(), "LD USB Device #%d now disconnected", minor-MinorBase)
}
