package skel

import (
	"fmt"
	"sync/atomic"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
)

// classic is struct usb_skel of the kernel's skeleton (mainline
// usb-skeleton.c).
type classic struct {
	u            *usbsim.USB
	obj          *env.Object // the kzalloc'ed struct itself
	kref         atomic.Int32
	ioMutex      *kernel.Mutex     // synchronize I/O with disconnect
	udev         *usbsim.Device    // usb_get_dev'd in probe, put in skel_delete
	intf         *usbsim.Interface // usb_get_intf'd in probe, put in skel_delete
	disconnected bool              // set by disconnect; guarded by ioMutex
	bulkIn       usbsim.EndpointDescriptor
	bulkOut      usbsim.EndpointDescriptor
	buf          *usbsim.Buffer // bulk_in_buffer
	minor        int
	anchor       usbsim.Anchor // submitted
}

// NewClassic returns the kernel's usb-skeleton as a usb_driver named
// "skel-classic".
func NewClassic(u *usbsim.USB) *usbsim.Driver {
	drv := &usbsim.Driver{Name: string(Classic), IDTable: IDTable()}
	cd := classDriver(&chardev.FileOperations{
		Open:          func(f *chardev.File) error { return classicOpen(u, drv, f) },
		Read:          classicRead,
		Write:         classicWrite,
		UnlockedIoctl: classicIoctl,
		Release:       classicRelease,
	})
	drv.Probe = func(intf *usbsim.Interface, _ usbsim.DeviceID) error { return classicProbe(u, cd, intf) }
	drv.Disconnect = func(intf *usbsim.Interface) { classicDisconnect(u, cd, intf) }
	return drv
}

// classicProbe is skel_probe: allocate the state and take references on
// the usb_device and the interface, find the endpoints, allocate the
// bulk-in buffer, register a minor; any failure drops the probe's
// reference, which frees everything (skel_delete).
func classicProbe(u *usbsim.USB, cd *usbsim.ClassDriver, intf *usbsim.Interface) error {
	dev := &classic{u: u, obj: u.Memory().Alloc("struct usb_skel"), minor: -1}
	dev.kref.Store(1) // kref_init
	dev.ioMutex = kernel.NewMutex(u.Core(), "io_mutex")
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

// put is kref_put(&dev->kref, skel_delete).
func (dev *classic) put() {
	dev.obj.Access("kref_put dev->kref")
	if dev.kref.Add(-1) == 0 {
		emit(dev.u, dev.udev.Path(), "skel_delete", "freeing bulk_in_buffer and struct usb_skel")
		_ = dev.intf.Dev().Put() // usb_put_intf
		_ = dev.udev.Dev().Put() // usb_put_dev
		if dev.buf != nil {
			dev.buf.Free()
		}
		dev.obj.Free()
	}
}

// classicOpen is skel_open: find the interface by minor, take a reference.
func classicOpen(u *usbsim.USB, drv *usbsim.Driver, f *chardev.File) error {
	intf := u.FindInterface(drv, f.Minor()) // usb_find_interface
	if intf == nil {
		return fmt.Errorf("skel_open: can't find device for minor %d: %w", f.Minor(), usbsim.ErrNoDevice)
	}
	dev, _ := intf.Intfdata().(*classic)
	if dev == nil {
		return fmt.Errorf("skel_open: %w", usbsim.ErrNoDevice)
	}
	dev.obj.Access("skel_open: kref_get dev->kref")
	dev.kref.Add(1)
	f.Private = dev
	return nil
}

// classicRelease is skel_release: usb_autopm_put_interface on the
// interface it holds a reference to, then drop the file's reference; the
// last one frees the state.
func classicRelease(f *chardev.File) error {
	dev := f.Private.(*classic)
	dev.obj.Access("skel_release: dev->interface")
	dev.put()
	return nil
}

// classicRead is skel_read: under the io mutex, -ENODEV once disconnected,
// else a blocking bulk read into bulk_in_buffer and a copy out.
func classicRead(f *chardev.File, n int) ([]byte, error) {
	dev := f.Private.(*classic)
	dev.ioMutex.Lock()
	defer dev.ioMutex.Unlock()
	dev.obj.Access("skel_read: dev->disconnected")
	if dev.disconnected { // disconnect() was called
		return nil, fmt.Errorf("skel_read: %w", usbsim.ErrNoDevice)
	}
	got, err := dev.udev.BulkMsg(dev.bulkIn.Address, dev.buf, min(n, dev.buf.Len()), ReadTimeout)
	if err != nil {
		return nil, ioErr(err)
	}
	return append([]byte(nil), dev.buf.Bytes("skel_read: copy_to_user bulk_in_buffer")[:got]...), nil
}

// classicWrite is skel_write: the buffer is allocated and filled first,
// then, under the io mutex ("this lock makes sure we don't submit URBs to
// gone devices"), -ENODEV once disconnected, else an anchored asynchronous
// bulk-out URB.
func classicWrite(f *chardev.File, p []byte) (int, error) {
	dev := f.Private.(*classic)
	u := dev.u
	buf := u.AllocBuffer("skel write buffer", len(p))
	copy(buf.Bytes("skel_write: copy_from_user"), p)
	dev.ioMutex.Lock()
	dev.obj.Access("skel_write: dev->disconnected")
	if dev.disconnected {
		dev.ioMutex.Unlock()
		buf.Free()
		return 0, fmt.Errorf("skel_write: %w", usbsim.ErrNoDevice)
	}
	urb := u.AllocURB()
	urb.FillBulk(dev.udev, dev.bulkOut.Address, buf, len(p), writeCallback, nil)
	dev.anchor.Anchor(urb)
	err := urb.Submit()
	dev.ioMutex.Unlock()
	if err != nil {
		urb.Unanchor()
		buf.Free()
		return 0, ioErr(err)
	}
	return len(p), nil
}

// classicIoctl returns bulk_in_size, under the io mutex (the kernel's
// skeleton has no ioctl; this one reads the state the same way its read
// does).
func classicIoctl(f *chardev.File, cmd uint, _ any) (int, error) {
	dev := f.Private.(*classic)
	dev.ioMutex.Lock()
	defer dev.ioMutex.Unlock()
	dev.obj.Access("skel_ioctl: dev->disconnected")
	if dev.disconnected {
		return 0, fmt.Errorf("skel_ioctl: %w", usbsim.ErrNoDevice)
	}
	if cmd != IoctlBulkInSize {
		return 0, fmt.Errorf("skel_ioctl: cmd %#x: %w", cmd, chardev.ErrNoTTY)
	}
	return dev.buf.Len(), nil
}

// classicDisconnect is skel_disconnect: give the minor back, set
// disconnected under the io mutex (waiting for I/O in progress), kill the
// anchored URBs, drop the probe's reference, then say so.
func classicDisconnect(u *usbsim.USB, cd *usbsim.ClassDriver, intf *usbsim.Interface) {
	dev := intf.Intfdata().(*classic)
	minor := intf.Minor()
	u.DeregisterDev(intf, cd) // give back our minor
	dev.ioMutex.Lock()        // prevent more I/O from starting
	dev.obj.Access("skel_disconnect: dev->disconnected = 1")
	dev.disconnected = true
	dev.ioMutex.Unlock()
	dev.anchor.KillAll()
	dev.put()
	emit(u, intf.Path(), "skel_disconnect", fmt.Sprintf("USB Skeleton #%d now disconnected", minor))
}
