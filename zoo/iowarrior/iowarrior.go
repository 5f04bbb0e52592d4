// Package iowarrior is drivers/usb/misc/iowarrior.c, the Code Mercenaries
// IO-Warrior USB I/O chips, twice: as it was before commit edc4746f253d
// ("USB: iowarrior: fix use-after-free on disconnect", Johan Hovold,
// 2019; syzbot, CVE-2019-19528) and after it, written against drvsim's
// USB core (drivers/usbsim) with the same calls in the same order.
//
// disconnect() and release() decide which of them frees the driver state
// by two flags: "present" (the device is there) and "opened" (a file is
// open). An earlier deadlock fix had moved the clearing of present out of
// the driver-data mutex, and disconnect tested opened without it: a
// release racing the disconnect could see the device gone, free the
// state, and leave disconnect going on in freed memory. The fix clears
// present and tests opened under the mutex, and unlocks it only after.
//
// The model keeps the IOW40's path (interrupt-in reports, a synchronous
// write the race does not involve is left out, as are the IOW56's write
// URBs and the ioctls); every touch of struct iowarrior is checked.
package iowarrior

import (
	"fmt"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// Ids and numbers (USB_VENDOR_ID_CODEMERCS, USB_DEVICE_ID_CODEMERCS_IOW40,
// IOWARRIOR_MINOR_BASE, MAX_INTERRUPT_BUFFER).
const (
	VendorID           = 1984
	ProductIOW40       = 0x1500
	MinorBase          = 208
	maxInterruptBuffer = 16
)

// Kind is the trace kind of the driver's own steps.
const Kind trace.Kind = "iowarrior"

// Variant is the driver before or after the fix.
type Variant int

// The variants.
const (
	// Before clears present outside the driver-data mutex and tests
	// opened without it.
	Before Variant = iota
	// After does both under the mutex.
	After
)

// Gadget returns an IOW40: one interface with an interrupt-in endpoint of
// 4-byte reports, answered by fn.
func Gadget(fn usbsim.Function) *usbsim.Gadget {
	return &usbsim.Gadget{
		Desc: usbsim.DeviceDescriptor{VendorID: VendorID, ProductID: ProductIOW40},
		Config: usbsim.ConfigDescriptor{Value: 1, Interfaces: []usbsim.InterfaceDescriptor{{
			Number: 0, Class: 3,
			Endpoints: []usbsim.EndpointDescriptor{{Address: usbsim.DirIn | 1, Type: usbsim.Interrupt, MaxPacket: 4}},
		}}},
		Function: fn,
	}
}

// iowarrior is struct iowarrior.
type iowarrior struct {
	obj        *env.Object
	mutex      *kernel.Mutex
	udev       *usbsim.Device
	intf       *usbsim.Interface
	minor      int
	intIn      usbsim.EndpointDescriptor
	intInURB   *usbsim.URB
	intInBuf   *usbsim.Buffer
	readQueue  *env.Object
	readWait   *kernel.WaitQueue
	writeWait  *kernel.WaitQueue
	readIdx    int
	intrIdx    int
	present    bool
	opened     int
	reportSize int
	productID  uint16
}

// module is the driver's statics: iowarrior_mutex, the open/disconnect
// lock, the class driver.
type module struct {
	v            Variant
	u            *usbsim.USB
	drv          *usbsim.Driver
	mutex        *kernel.Mutex // iowarrior_mutex
	openDiscLock *kernel.Mutex // iowarrior_open_disc_lock
	class        *usbsim.ClassDriver
}

// New returns the usb_driver "iowarrior" in variant v on u.
func New(v Variant, u *usbsim.USB) *usbsim.Driver {
	m := &module{v: v, u: u,
		mutex:        kernel.NewMutex(u, "iowarrior_mutex"),
		openDiscLock: kernel.NewMutex(u, "iowarrior_open_disc_lock")}
	m.class = &usbsim.ClassDriver{Name: "iowarrior%d", MinorBase: MinorBase,
		Devnode: func(dev *device.Device) string { return "usb/" + dev.Name() },
		Fops:    &chardev.FileOperations{Open: m.open, Read: m.read, Poll: m.poll, Release: m.release}}
	m.drv = &usbsim.Driver{Name: "iowarrior", IDTable: []usbsim.DeviceID{usbsim.ID(VendorID, ProductIOW40)},
		Probe: m.probe, Disconnect: m.disconnect}
	return m.drv
}

func (m *module) emit(dev, fn, msg string) {
	m.u.Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

// callback is iowarrior_callback: a report goes into the read queue and
// readers are woken; the URB is resubmitted. Unlinks are not errors.
func (dev *iowarrior) callback(urb *usbsim.URB) {
	switch {
	case urb.Status == nil:
	case usbsim.Errno(urb.Status) == "-ECONNRESET", usbsim.Errno(urb.Status) == "-ENOENT", usbsim.Errno(urb.Status) == "-ESHUTDOWN":
		return
	default:
		goto exit
	}
	dev.obj.Access("iowarrior_callback: dev->read_queue")
	dev.readQueue.Access("iowarrior_callback: memcpy to read_queue")
	dev.intrIdx = (dev.intrIdx + 1) % maxInterruptBuffer
	dev.readWait.WakeAll()
exit:
	if err := urb.Submit(); err != nil {
		dev.obj.Access("iowarrior_callback: dev->interface")
	}
}

// delete is iowarrior_delete: the buffers, the URB, the struct.
func (dev *iowarrior) delete() {
	dev.obj.Access("iowarrior_delete: dev->int_in_buffer")
	dev.intInBuf.Free()
	dev.readQueue.Free()
	dev.obj.Free()
}

// open is iowarrior_open: one opener at a time; the interrupt URB is
// submitted and opened counted, under the driver-data mutex.
func (m *module) open(f *chardev.File) error {
	m.mutex.Lock()
	defer m.mutex.Unlock()
	intf := m.u.FindInterface(m.drv, f.Minor())
	if intf == nil {
		return fmt.Errorf("iowarrior_open: can't find device for minor %d: %w", f.Minor(), usbsim.ErrNoDevice)
	}
	m.openDiscLock.Lock()
	dev, _ := intf.Intfdata().(*iowarrior)
	if dev == nil {
		m.openDiscLock.Unlock()
		return fmt.Errorf("iowarrior_open: %w", usbsim.ErrNoDevice)
	}
	dev.obj.Access("iowarrior_open: mutex_lock(&dev->mutex)")
	dev.mutex.Lock()
	m.openDiscLock.Unlock()
	defer dev.mutex.Unlock()
	dev.obj.Access("iowarrior_open: dev->opened")
	if dev.opened > 0 {
		return fmt.Errorf("iowarrior_open: %w", usbsim.ErrBusy)
	}
	if err := dev.intInURB.Submit(); err != nil {
		return fmt.Errorf("iowarrior_open: %w", device.ErrFault)
	}
	dev.opened++
	f.Private = dev
	return nil
}

// release is iowarrior_release: opened goes to 0; with the device still
// present only the I/O stops, otherwise the state is freed here.
func (m *module) release(f *chardev.File) error {
	dev, _ := f.Private.(*iowarrior)
	if dev == nil {
		return usbsim.ErrNoDevice
	}
	dev.obj.Access("iowarrior_release: mutex_lock(&dev->mutex)")
	dev.mutex.Lock()
	dev.obj.Access("iowarrior_release: dev->opened")
	if dev.opened <= 0 {
		dev.mutex.Unlock()
		return usbsim.ErrNoDevice
	}
	dev.opened = 0
	if dev.present {
		dev.intInURB.Kill()
		dev.readWait.WakeAll()
		dev.writeWait.WakeAll()
		dev.mutex.Unlock()
		return nil
	}
	dev.mutex.Unlock()
	m.emit(dev.intf.Path(), "iowarrior_release", "device unplugged: iowarrior_delete")
	dev.delete()
	return nil
}

// read is iowarrior_read: a report from the queue, waiting for one; -ENODEV
// once the device is gone.
func (m *module) read(f *chardev.File, n int) ([]byte, error) {
	dev, _ := f.Private.(*iowarrior)
	if dev == nil {
		return nil, usbsim.ErrNoDevice
	}
	dev.obj.Access("iowarrior_read: dev->present")
	if !dev.present {
		return nil, usbsim.ErrNoDevice
	}
	if n != dev.reportSize && n != dev.reportSize+1 {
		return nil, usbsim.ErrInvalid
	}
	dev.readWait.Wait("iowarrior read_wait", func() bool { return !dev.present || dev.readIdx != dev.intrIdx })
	dev.obj.Access("iowarrior_read: dev->present")
	if !dev.present {
		return nil, usbsim.ErrNoDevice
	}
	dev.readQueue.Access("iowarrior_read: copy_to_user")
	dev.readIdx = (dev.readIdx + 1) % maxInterruptBuffer
	return make([]byte, n), nil
}

// poll is iowarrior_poll.
func (m *module) poll(f *chardev.File) chardev.PollMask {
	dev, _ := f.Private.(*iowarrior)
	dev.obj.Access("iowarrior_poll: dev->present")
	if !dev.present {
		return chardev.PollErr | chardev.PollHup
	}
	mask := chardev.PollOut | chardev.PollWrNorm
	if dev.readIdx != dev.intrIdx {
		mask |= chardev.PollIn | chardev.PollRdNorm
	}
	return mask
}

// probe is iowarrior_probe.
func (m *module) probe(intf *usbsim.Interface, id usbsim.DeviceID) error {
	u := m.u
	udev := intf.Device()
	dev := &iowarrior{obj: u.Memory().Alloc("struct iowarrior"), minor: -1}
	dev.mutex = kernel.NewMutex(u, "iowarrior dev->mutex")
	dev.readWait = kernel.NewWaitQueue(u, "iowarrior read_wait")
	dev.writeWait = kernel.NewWaitQueue(u, "iowarrior write_wait")
	dev.udev, dev.intf = udev, intf
	dev.productID = udev.Descriptor().ProductID
	found := false
	for _, ep := range intf.Endpoints() { // usb_find_last_int_in_endpoint
		if ep.IsIntIn() {
			dev.intIn, found = ep, true
		}
	}
	if !found {
		dev.obj.Free()
		return fmt.Errorf("iowarrior_probe: no interrupt-in endpoint found: %w", usbsim.ErrNoDevice)
	}
	dev.reportSize = dev.intIn.MaxPacket
	dev.intInURB = u.AllocURB()
	dev.intInBuf = u.AllocBuffer("iowarrior int_in_buffer", dev.reportSize)
	dev.intInURB.FillInt(udev, dev.intIn.Address, dev.intInBuf, dev.reportSize, dev.callback, dev)
	dev.readQueue = u.Memory().Alloc("iowarrior read_queue")
	dev.present = true // allow device read and ioctl
	intf.SetIntfdata(dev)
	if err := u.RegisterDev(intf, m.class); err != nil {
		intf.SetIntfdata(nil)
		dev.delete()
		return err
	}
	dev.minor = intf.Minor()
	m.emit(intf.Path(), "iowarrior_probe", fmt.Sprintf("IOWarrior product=0x%x, serial= interface=0 now attached to iowarrior%d",
		dev.productID, dev.minor-MinorBase))
	return nil
}

// disconnect is iowarrior_disconnect, in the variant's order.
func (m *module) disconnect(intf *usbsim.Interface) {
	dev := intf.Intfdata().(*iowarrior)
	m.openDiscLock.Lock()
	intf.SetIntfdata(nil)
	if m.v == Before {
		// prevent device read, write and ioctl
		dev.obj.Access("iowarrior_disconnect: dev->present = 0")
		dev.present = false
	}
	dev.obj.Access("iowarrior_disconnect: dev->minor")
	minor := dev.minor
	m.openDiscLock.Unlock()
	// give back our minor - this will call close() locks need to be
	// dropped at this point
	m.u.DeregisterDev(intf, m.class)

	dev.obj.Access("iowarrior_disconnect: mutex_lock(&dev->mutex)")
	dev.mutex.Lock()
	if m.v == Before {
		dev.mutex.Unlock()
	} else {
		dev.obj.Access("iowarrior_disconnect: dev->present = 0")
		dev.present = false
	}
	dev.obj.Access("iowarrior_disconnect: dev->opened")
	if dev.opened > 0 {
		// A process holds a file descriptor to the device: only stop
		// the I/O; deleting the state is left to release().
		dev.obj.Access("iowarrior_disconnect: usb_kill_urb(dev->int_in_urb)")
		dev.intInURB.Kill()
		dev.readWait.WakeAll()
		dev.writeWait.WakeAll()
		if m.v == After {
			dev.mutex.Unlock()
		}
	} else {
		// no process is using the device, cleanup now
		if m.v == After {
			dev.mutex.Unlock()
		}
		dev.delete()
	}
	m.emit(intf.Path(), "iowarrior_disconnect", fmt.Sprintf("I/O-Warror #%d now disconnected", minor-MinorBase))
}
