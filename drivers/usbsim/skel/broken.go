package skel

import (
	"fmt"
	"sync/atomic"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
)

// broken is struct usb_skel of a skeleton with the classic race: its
// bulk_in_buffer is device-managed (freed by devres when the interface is
// unbound) and its file operations check dev->disconnected under the io
// mutex but do their I/O after dropping it, under a read mutex of their
// own that disconnect never takes.
type broken struct {
	u            *usbsim.USB
	obj          *env.Object
	kref         atomic.Int32
	ioMutex      *kernel.Mutex
	rdMutex      *kernel.Mutex // one reader at a time on bulk_in_buffer
	udev         *usbsim.Device
	intf         *usbsim.Interface
	disconnected bool // guarded by ioMutex
	bulkIn       usbsim.EndpointDescriptor
	bulkOut      usbsim.EndpointDescriptor
	buf          *usbsim.Buffer // devm-managed: freed at unbind, whatever files are open
	minor        int
	anchor       usbsim.Anchor
}

// NewBroken returns the racy skeleton as a usb_driver named "skel-broken".
// Do not copy it: it is here to be caught.
func NewBroken(u *usbsim.USB) *usbsim.Driver {
	drv := &usbsim.Driver{Name: string(Broken), IDTable: IDTable()}
	cd := classDriver(&chardev.FileOperations{
		Open:          func(f *chardev.File) error { return brokenOpen(u, drv, f) },
		Read:          brokenRead,
		Write:         brokenWrite,
		UnlockedIoctl: brokenIoctl,
		Release:       brokenRelease,
	})
	drv.Probe = func(intf *usbsim.Interface, _ usbsim.DeviceID) error { return brokenProbe(u, cd, intf) }
	drv.Disconnect = func(intf *usbsim.Interface) { brokenDisconnect(u, cd, intf) }
	return drv
}

func brokenProbe(u *usbsim.USB, cd *usbsim.ClassDriver, intf *usbsim.Interface) error {
	dev := &broken{u: u, obj: u.Memory().Alloc("struct usb_skel"), minor: -1}
	dev.kref.Store(1)
	dev.ioMutex = kernel.NewMutex(u.Core(), "io_mutex")
	dev.rdMutex = kernel.NewMutex(u.Core(), "rd_mutex")
	dev.udev = intf.Device()
	dev.udev.Dev().Get() // usb_get_dev
	dev.intf = intf
	intf.Dev().Get() // usb_get_intf
	in, out, ok := intf.FindBulkInOut()
	if !ok {
		dev.put()
		return fmt.Errorf("skel_probe: could not find both bulk-in and bulk-out endpoints: %w", usbsim.ErrNoDevice)
	}
	dev.bulkIn, dev.bulkOut = in, out
	dev.buf = u.AllocBuffer("bulk_in_buffer", in.MaxPacket)
	// BUG: the buffer open files use is freed at unbind (devm_kmalloc).
	if _, err := intf.Dev().Devres().AddOrReset("devm_kfree bulk_in_buffer", dev.buf.Free); err != nil {
		dev.put()
		return err
	}
	intf.SetIntfdata(dev)
	if err := u.RegisterDev(intf, cd); err != nil {
		intf.SetIntfdata(nil)
		dev.put()
		return err
	}
	dev.minor = intf.Minor()
	emit(u, intf.Path(), "skel_probe", fmt.Sprintf("USB Skeleton device now attached to USBSkel-%d", dev.minor))
	return nil
}

func (dev *broken) put() {
	if dev.kref.Add(-1) == 0 {
		emit(dev.u, dev.udev.Path(), "skel_delete", "freeing struct usb_skel")
		_ = dev.intf.Dev().Put()
		_ = dev.udev.Dev().Put()
		dev.obj.Free()
	}
}

// connected checks dev->disconnected under the io mutex, then drops it:
// the answer is stale by the time the caller acts on it.
func (dev *broken) connected() bool {
	dev.ioMutex.Lock()
	defer dev.ioMutex.Unlock()
	return !dev.disconnected
}

func brokenOpen(u *usbsim.USB, drv *usbsim.Driver, f *chardev.File) error {
	intf := u.FindInterface(drv, f.Minor())
	if intf == nil {
		return fmt.Errorf("skel_open: %w", usbsim.ErrNoDevice)
	}
	dev, _ := intf.Intfdata().(*broken)
	if dev == nil {
		return fmt.Errorf("skel_open: %w", usbsim.ErrNoDevice)
	}
	dev.kref.Add(1)
	f.Private = dev
	return nil
}

func brokenRelease(f *chardev.File) error {
	f.Private.(*broken).put()
	return nil
}

func brokenRead(f *chardev.File, n int) ([]byte, error) {
	dev := f.Private.(*broken)
	if !dev.connected() {
		return nil, fmt.Errorf("skel_read: %w", usbsim.ErrNoDevice)
	}
	// BUG: the io mutex is dropped; the read mutex only keeps readers
	// apart, and disconnect and the devres release can run at any point
	// below. The stale bytes of the last read are cleared first (the
	// buffer may be freed by now), then the transfer (to a gone device
	// usb_submit_urb fails with -ENODEV before it touches the buffer),
	// then the copy out (the buffer may have been freed since the
	// transfer completed).
	dev.rdMutex.Lock()
	defer dev.rdMutex.Unlock()
	count := min(n, dev.buf.Len())
	clear(dev.buf.Bytes("skel_read: memset bulk_in_buffer")[:count])
	got, err := dev.udev.BulkMsg(dev.bulkIn.Address, dev.buf, count, ReadTimeout)
	if err != nil {
		return nil, ioErr(err)
	}
	return append([]byte(nil), dev.buf.Bytes("skel_read: copy_to_user bulk_in_buffer")[:got]...), nil
}

func brokenWrite(f *chardev.File, p []byte) (int, error) {
	dev := f.Private.(*broken)
	if !dev.connected() {
		return 0, fmt.Errorf("skel_write: %w", usbsim.ErrNoDevice)
	}
	return submitWrite(dev.u, dev.udev, dev.bulkOut.Address, &dev.anchor, p)
}

func brokenIoctl(f *chardev.File, cmd uint, _ any) (int, error) {
	dev := f.Private.(*broken)
	if !dev.connected() {
		return 0, fmt.Errorf("skel_ioctl: %w", usbsim.ErrNoDevice)
	}
	if cmd != IoctlBulkInSize {
		return 0, fmt.Errorf("skel_ioctl: cmd %#x: %w", cmd, chardev.ErrNoTTY)
	}
	dev.buf.Bytes("skel_ioctl: bulk_in_size")
	return dev.buf.Len(), nil
}

func brokenDisconnect(u *usbsim.USB, cd *usbsim.ClassDriver, intf *usbsim.Interface) {
	dev := intf.Intfdata().(*broken)
	minor := intf.Minor()
	u.DeregisterDev(intf, cd)
	dev.ioMutex.Lock()
	dev.disconnected = true
	dev.ioMutex.Unlock()
	dev.anchor.KillAll()
	dev.put()
	emit(u, intf.Path(), "skel_disconnect", fmt.Sprintf("USB Skeleton #%d now disconnected", minor))
}
