package skel

import (
	"fmt"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
)

// drained is the skeleton's state in the drain variant: plain
// device-managed memory, neither reference counted nor checked by the file
// operations, because no file operation can run once disconnect has
// revoked them.
type drained struct {
	u       *usbsim.USB
	obj     *env.Object   // devm_kzalloc'ed: freed by devres after disconnect
	ioMutex *kernel.Mutex // one reader at a time on bulk_in_buffer
	udev    *usbsim.Device
	bulkIn  usbsim.EndpointDescriptor
	bulkOut usbsim.EndpointDescriptor
	buf     *usbsim.Buffer // devm: freed with the state
	anchor  usbsim.Anchor
	fops    *chardev.Active // the file operations, revoked at disconnect
	cd      *usbsim.ClassDriver
}

// NewDrain returns the skeleton on revocable file operations
// (chardev.Active, the fops-level drain the revocable series' reviewers
// proposed instead of a try-access in every operation), as a usb_driver
// named "skel-drain".
func NewDrain(u *usbsim.USB) *usbsim.Driver {
	drv := &usbsim.Driver{Name: string(Drain), IDTable: IDTable()}
	drv.Probe = func(intf *usbsim.Interface, _ usbsim.DeviceID) error { return drainProbe(u, intf) }
	drv.Disconnect = func(intf *usbsim.Interface) { drainDisconnect(u, intf) }
	return drv
}

// drainProbe allocates the state with devm (freed after disconnect, when
// devres is released), wraps this device's file operations in an Active
// and registers them for a minor. The operations are the device's own
// (closures over its state), so open needs no lookup and takes no
// reference.
func drainProbe(u *usbsim.USB, intf *usbsim.Interface) error {
	in, out, ok := intf.FindBulkInOut()
	if !ok {
		return fmt.Errorf("skel_probe: could not find both bulk-in and bulk-out endpoints: %w", usbsim.ErrNoDevice)
	}
	dev := &drained{u: u, obj: u.Memory().Alloc("struct usb_skel"), udev: intf.Device(), bulkIn: in, bulkOut: out}
	dev.ioMutex = kernel.NewMutex(u.Core(), "io_mutex")
	dev.buf = u.AllocBuffer("bulk_in_buffer", in.MaxPacket)
	if _, err := intf.Dev().Devres().AddOrReset("devm_kfree struct usb_skel", func() { dev.buf.Free(); dev.obj.Free() }); err != nil {
		return err
	}
	dev.fops = chardev.NewActive(u.Core(), intf.Name(), &chardev.FileOperations{
		Read:          dev.read,
		Write:         dev.write,
		UnlockedIoctl: dev.ioctl,
	})
	dev.cd = classDriver(dev.fops.Fops())
	intf.SetIntfdata(dev)
	if err := u.RegisterDev(intf, dev.cd); err != nil {
		return err
	}
	emit(u, intf.Path(), "skel_probe", fmt.Sprintf("USB Skeleton device now attached to USBSkel-%d", intf.Minor()))
	return nil
}

// drainDisconnect gives the minor back (no new open), revokes the file
// operations (waits for those in flight; later ones fail with -ENODEV;
// the open files are released), and kills the write URBs submitted before
// the revoke. devres frees the state when disconnect returns.
func drainDisconnect(u *usbsim.USB, intf *usbsim.Interface) {
	dev := intf.Intfdata().(*drained)
	minor := intf.Minor()
	u.DeregisterDev(intf, dev.cd)
	dev.fops.Revoke()
	dev.anchor.KillAll()
	emit(u, intf.Path(), "skel_disconnect", fmt.Sprintf("USB Skeleton #%d now disconnected", minor))
}

func (dev *drained) read(_ *chardev.File, n int) ([]byte, error) {
	if n == 0 { // if (!count) return 0, once the drain let the call in
		return nil, nil
	}
	dev.ioMutex.Lock()
	defer dev.ioMutex.Unlock()
	dev.obj.Access("skel_read: dev->udev")
	got, err := dev.udev.BulkMsg(dev.bulkIn.Address, dev.buf, min(n, dev.buf.Len()), ReadTimeout)
	if err != nil {
		return nil, ioErr(err)
	}
	return append([]byte(nil), dev.buf.Bytes("skel_read: copy_to_user bulk_in_buffer")[:got]...), nil
}

func (dev *drained) write(_ *chardev.File, p []byte) (int, error) {
	dev.obj.Access("skel_write: dev->udev")
	return submitWrite(dev.u, dev.udev, dev.bulkOut.Address, &dev.anchor, p)
}

func (dev *drained) ioctl(_ *chardev.File, cmd uint, _ any) (int, error) {
	dev.obj.Access("skel_ioctl: dev->bulk_in_size")
	if cmd != IoctlBulkInSize {
		return 0, fmt.Errorf("skel_ioctl: cmd %#x: %w", cmd, chardev.ErrNoTTY)
	}
	return dev.buf.Len(), nil
}
