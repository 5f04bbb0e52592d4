// Package skelread is drivers/usb/usb-skeleton.c as of 2019, twice: before
// commit 6353001852776 ("USB: usb-skeleton: fix use-after-free after
// driver unbind", Johan Hovold, 2019) and after it, written against
// drvsim's USB core (drivers/usbsim) with the same calls in the same
// order. (The skeleton of package drivers/usbsim/skel is a teaching
// driver of drvsim's own; this one is the kernel's code of the time, with
// its read URB and its completion handler.)
//
// skel_read reads through one URB, bulk_in_urb, whose completion handler
// (skel_read_bulk_callback) records the result in the driver state; when
// the buffer holds less than asked it starts the next read and returns
// without waiting. disconnect killed the anchored write URBs but not the
// read URB, and the USB core only flushes the interface's endpoints
// before disconnect: on a host controller that gives URBs back in a
// bottom half the flush does not wait for their completions. So, after a
// driver unbind, the read URB's completion could run once the last file
// reference had dropped the last kref, in freed memory. The fix kills
// the read URB in disconnect.
//
// The write path, runtime PM (usb_autopm_*), suspend, resume and reset
// are left out: the race involves read, flush, release, the completion
// and disconnect.
package skelread

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// The skeleton's ids and minor base.
const (
	VendorID  = 0xfff0
	ProductID = 0xfff0
	MinorBase = 192
)

// Kind is the trace kind of the driver's own steps.
const Kind trace.Kind = "skel"

// Variant is the driver before or after the fix.
type Variant int

// The variants.
const (
	// Before: disconnect kills the anchored URBs only.
	Before Variant = iota
	// After: disconnect kills bulk_in_urb too.
	After
)

// Gadget returns the skeleton's device, a bulk IN and a bulk OUT endpoint
// of 64 bytes, answered by fn.
func Gadget(fn usbsim.Function) *usbsim.Gadget { return usbsim.BulkGadget(VendorID, ProductID, 64, fn) }

// usbSkel is struct usb_skel.
type usbSkel struct {
	obj          *env.Object
	kref         *kernel.Kref
	udev         *usbsim.Device
	intf         *usbsim.Interface
	submitted    usbsim.Anchor
	bulkInURB    *usbsim.URB
	bulkInBuffer *usbsim.Buffer
	bulkInSize   int
	bulkInFilled int
	bulkInCopied int
	bulkInAddr   uint8
	errors       error
	ongoingRead  atomic.Bool // a bool under err_lock in C, read unlocked by wait_event
	errLock      *kernel.SpinLock
	ioMutex      *kernel.Mutex
	disconnected bool
	bulkInWait   *kernel.WaitQueue
	emitter      func(fn, msg string)
	intfPath     string
}

type module struct {
	v     Variant
	u     *usbsim.USB
	drv   *usbsim.Driver
	class *usbsim.ClassDriver
}

// New returns the usb_driver "skeleton" in variant v on u.
func New(v Variant, u *usbsim.USB) *usbsim.Driver {
	m := &module{v: v, u: u}
	m.class = &usbsim.ClassDriver{Name: "skel%d", MinorBase: MinorBase,
		Fops: &chardev.FileOperations{Open: m.open, Read: m.read, Flush: m.flush, Release: m.release}}
	m.drv = &usbsim.Driver{Name: "skeleton", IDTable: []usbsim.DeviceID{usbsim.ID(VendorID, ProductID)},
		Probe: m.probe, Disconnect: m.disconnect}
	return m.drv
}

func (m *module) emit(dev, fn, msg string) {
	m.u.Log().Emit(trace.Event{Kind: Kind, Dev: dev, Func: fn, Msg: msg})
}

// delete is skel_delete, the kref's release: the URB, the references,
// the buffer, the struct.
func (m *module) delete(dev *usbSkel) {
	m.emit(dev.intfPath, "skel_delete", "usb_free_urb, usb_put_intf, usb_put_dev, kfree")
	_ = dev.intf.Dev().Put() // usb_put_intf
	_ = dev.udev.Dev().Put() // usb_put_dev
	dev.bulkInBuffer.Free()
	dev.obj.Free()
}

func (m *module) put(dev *usbSkel) {
	dev.obj.Access("kref_put(&dev->kref, skel_delete)")
	dev.kref.Put(func() { m.delete(dev) })
}

// open is skel_open.
func (m *module) open(f *chardev.File) error {
	intf := m.u.FindInterface(m.drv, f.Minor())
	if intf == nil {
		return fmt.Errorf("skel_open: error, can't find device for minor %d: %w", f.Minor(), usbsim.ErrNoDevice)
	}
	dev, _ := intf.Intfdata().(*usbSkel)
	if dev == nil {
		return fmt.Errorf("skel_open: %w", usbsim.ErrNoDevice)
	}
	dev.obj.Access("skel_open: kref_get(&dev->kref)")
	dev.kref.Get()
	f.Private = dev
	return nil
}

// release is skel_release: drop the file's kref.
func (m *module) release(f *chardev.File) error {
	dev, _ := f.Private.(*usbSkel)
	if dev == nil {
		return usbsim.ErrNoDevice
	}
	m.put(dev)
	return nil
}

// flush is skel_flush: under io_mutex, stop the I/O (skel_draw_down) and
// read out the errors.
func (m *module) flush(f *chardev.File) error {
	dev, _ := f.Private.(*usbSkel)
	if dev == nil {
		return usbsim.ErrNoDevice
	}
	dev.obj.Access("skel_flush: mutex_lock(&dev->io_mutex)")
	dev.ioMutex.Lock()
	defer dev.ioMutex.Unlock()
	m.drawDown(dev)
	flags := dev.errLock.LockIRQSave()
	res := dev.errors
	dev.errors = nil
	dev.errLock.UnlockIRQRestore(flags)
	if res != nil {
		if errors.Is(res, usbsim.ErrPipe) {
			return usbsim.ErrPipe
		}
		return usbsim.ErrIO
	}
	return nil
}

// drawDown is skel_draw_down: the write URBs (usb_wait_anchor_empty_timeout
// then usb_kill_anchored_urbs; the model has no writes, so the wait
// returns at once), then the read URB.
func (m *module) drawDown(dev *usbSkel) {
	dev.obj.Access("skel_draw_down: &dev->submitted")
	if !dev.submitted.Empty() {
		dev.submitted.KillAll()
	}
	dev.bulkInURB.Kill()
}

// readBulkCallback is skel_read_bulk_callback, run from the host
// controller's giveback.
func (dev *usbSkel) readBulkCallback(urb *usbsim.URB) {
	dev.obj.Access("skel_read_bulk_callback: spin_lock_irqsave(&dev->err_lock)")
	flags := dev.errLock.LockIRQSave()
	if urb.Status != nil {
		switch usbsim.Errno(urb.Status) {
		case "-ENOENT", "-ECONNRESET", "-ESHUTDOWN":
		default:
			dev.emitter("skel_read_bulk_callback", "nonzero write bulk status received: "+usbsim.Errno(urb.Status))
		}
		dev.errors = urb.Status
	} else {
		dev.bulkInFilled = urb.Actual
	}
	dev.ongoingRead.Store(false)
	dev.errLock.UnlockIRQRestore(flags)
	dev.bulkInWait.WakeAll()
}

// doReadIO is skel_do_read_io: fill and submit the read URB.
func (m *module) doReadIO(dev *usbSkel, count int) error {
	dev.obj.Access("skel_do_read_io: dev->bulk_in_urb")
	dev.bulkInURB.FillBulk(dev.udev, dev.bulkInAddr, dev.bulkInBuffer, min(dev.bulkInSize, count), dev.readBulkCallback, dev)
	flags := dev.errLock.LockIRQSave()
	dev.ongoingRead.Store(true)
	dev.errLock.UnlockIRQRestore(flags)
	dev.bulkInFilled = 0
	dev.bulkInCopied = 0
	if err := dev.bulkInURB.Submit(); err != nil {
		m.emit(dev.intfPath, "skel_do_read_io", "failed submitting read urb, error "+usbsim.Errno(err))
		flags := dev.errLock.LockIRQSave()
		dev.ongoingRead.Store(false)
		dev.errLock.UnlockIRQRestore(flags)
		return usbsim.ErrIO
	}
	return nil
}

// read is skel_read: serve what the buffer holds, starting I/O when it is
// used up; when more is asked than was there, the next read is started
// and not waited for.
func (m *module) read(f *chardev.File, count int) ([]byte, error) {
	dev := f.Private.(*usbSkel)
	dev.obj.Access("skel_read: dev->bulk_in_urb")
	if count == 0 {
		return nil, nil
	}
	dev.ioMutex.Lock()
	defer dev.ioMutex.Unlock()
	dev.obj.Access("skel_read: dev->disconnected")
	if dev.disconnected {
		return nil, usbsim.ErrNoDevice
	}
	for {
		flags := dev.errLock.LockIRQSave()
		ongoing := dev.ongoingRead.Load()
		dev.errLock.UnlockIRQRestore(flags)
		if ongoing {
			dev.bulkInWait.Wait("skel bulk_in_wait", func() bool { return !dev.ongoingRead.Load() })
		}
		dev.obj.Access("skel_read: dev->errors")
		if rv := dev.errors; rv != nil {
			dev.errors = nil
			if errors.Is(rv, usbsim.ErrPipe) {
				return nil, usbsim.ErrPipe
			}
			return nil, usbsim.ErrIO
		}
		if dev.bulkInFilled == 0 {
			if err := m.doReadIO(dev, count); err != nil {
				return nil, err
			}
			continue // retry
		}
		available := dev.bulkInFilled - dev.bulkInCopied
		if available == 0 {
			if err := m.doReadIO(dev, count); err != nil {
				return nil, err
			}
			continue
		}
		chunk := min(available, count)
		out := append([]byte(nil), dev.bulkInBuffer.Bytes("skel_read: copy_to_user")[dev.bulkInCopied:dev.bulkInCopied+chunk]...)
		dev.bulkInCopied += chunk
		if available < count {
			_ = m.doReadIO(dev, count-chunk) // start IO but don't wait
		}
		return out, nil
	}
}

// probe is skel_probe.
func (m *module) probe(intf *usbsim.Interface, _ usbsim.DeviceID) error {
	u := m.u
	dev := &usbSkel{obj: u.Memory().Alloc("struct usb_skel"), intf: intf, intfPath: intf.Path()}
	dev.kref = kernel.NewKref(u, "usb_skel kref").EmbedIn(dev.obj)
	dev.ioMutex = kernel.NewMutex(u, "io_mutex")
	dev.errLock = kernel.NewSpinLock(u, "err_lock")
	dev.bulkInWait = kernel.NewWaitQueue(u, "bulk_in_wait")
	dev.emitter = func(fn, msg string) { m.emit(dev.intfPath, fn, msg) }
	dev.udev = intf.Device()
	dev.udev.Dev().Get() // usb_get_dev
	intf.Dev().Get()     // usb_get_intf
	in, _, ok := intf.FindBulkInOut()
	if !ok {
		m.put(dev)
		return fmt.Errorf("skel_probe: could not find both bulk-in and bulk-out endpoints: %w", usbsim.ErrNoDevice)
	}
	dev.bulkInSize = in.MaxPacket
	dev.bulkInAddr = in.Address
	dev.bulkInBuffer = u.AllocBuffer("bulk_in_buffer", dev.bulkInSize)
	dev.bulkInURB = u.AllocURB()
	intf.SetIntfdata(dev)
	if err := u.RegisterDev(intf, m.class); err != nil {
		intf.SetIntfdata(nil)
		m.put(dev)
		return err
	}
	m.emit(intf.Path(), "skel_probe", fmt.Sprintf("USB Skeleton device now attached to USBSkel-%d", intf.Minor()))
	return nil
}

// disconnect is skel_disconnect, in the variant's order.
func (m *module) disconnect(intf *usbsim.Interface) {
	dev := intf.Intfdata().(*usbSkel)
	minor := intf.Minor()
	intf.SetIntfdata(nil)
	m.u.DeregisterDev(intf, m.class) // give back our minor
	dev.obj.Access("skel_disconnect: mutex_lock(&dev->io_mutex)")
	dev.ioMutex.Lock() // prevent more I/O from starting
	dev.disconnected = true
	dev.ioMutex.Unlock()
	if m.v == After {
		dev.bulkInURB.Kill()
	}
	dev.submitted.KillAll()
	m.put(dev) // decrement our usage count
	m.emit(intf.Path(), "skel_disconnect", fmt.Sprintf("USB Skeleton #%d now disconnected", minor))
}
