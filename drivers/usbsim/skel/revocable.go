package skel

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/devres"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable"
)

// hw is the hardware state the revocable skeleton hands out through its
// provider: everything a file operation needs to reach the device. It is
// allocated in probe and freed by devres at unbind, after the revoke.
type hw struct {
	u       *usbsim.USB
	obj     *env.Object
	ioMutex *kernel.Mutex // serialises I/O on bulk_in_buffer (disconnect never takes it)
	udev    *usbsim.Device
	bulkIn  usbsim.EndpointDescriptor
	bulkOut usbsim.EndpointDescriptor
	buf     *usbsim.Buffer
	anchor  usbsim.Anchor
}

// revState is the interface data: the provider, the devm action that
// revokes it, and (for disconnect only) the hardware state behind it.
type revState struct {
	prov   *revocable.Provider[hw]
	revoke devres.Handle
	hw     *hw
}

// NewRevocable returns the skeleton converted onto package revocable, as a
// usb_driver named "skel-revocable".
func NewRevocable(u *usbsim.USB) *usbsim.Driver {
	drv := &usbsim.Driver{Name: string(Revocable), IDTable: IDTable()}
	cd := classDriver(&chardev.FileOperations{
		Open:          func(f *chardev.File) error { return revOpen(u, drv, f) },
		Read:          revRead,
		Write:         revWrite,
		UnlockedIoctl: revIoctl,
		Release:       revRelease,
	})
	drv.Probe = func(intf *usbsim.Interface, _ usbsim.DeviceID) error { return revProbe(u, cd, intf) }
	drv.Disconnect = func(intf *usbsim.Interface) { revDisconnect(u, cd, intf) }
	return drv
}

// revProbe: allocate the hardware state, register its free as a devm
// action, publish it through a provider whose revoke is a devm action too
// (devres runs them in reverse: revoke, then free), then take a minor. Any
// failure is unwound by devres.
func revProbe(u *usbsim.USB, cd *usbsim.ClassDriver, intf *usbsim.Interface) error {
	in, out, ok := intf.FindBulkInOut()
	if !ok {
		return fmt.Errorf("skel_probe: could not find both bulk-in and bulk-out endpoints: %w", usbsim.ErrNoDevice)
	}
	h := &hw{u: u, obj: u.Memory().Alloc("skel hw state"), udev: intf.Device(), bulkIn: in, bulkOut: out}
	h.ioMutex = kernel.NewMutex(u.Core(), "io_mutex")
	h.buf = u.AllocBuffer("bulk_in_buffer", in.MaxPacket)
	res := intf.Dev().Devres()
	if _, err := res.AddOrReset("skel_free_hw", func() { h.buf.Free(); h.obj.Free() }); err != nil {
		return err
	}
	// devm_revocable_provider_alloc, keeping the action's handle so that
	// disconnect can run it early (devm_release_action)
	prov := revocable.NewProvider(intf.Dev(), h, revocable.WithName("skel "+intf.Name()))
	revoke, err := res.AddOrReset("revocable_provider_revoke "+prov.Name(), prov.Revoke)
	if err != nil {
		return err
	}
	intf.SetIntfdata(&revState{prov: prov, revoke: revoke, hw: h})
	if err := u.RegisterDev(intf, cd); err != nil {
		return err
	}
	emit(u, intf.Path(), "skel_probe", fmt.Sprintf("USB Skeleton device now attached to USBSkel-%d", intf.Minor()))
	return nil
}

// revDisconnect gives the minor back, revokes the provider now
// (devm_release_action of the revoke: it waits for every file operation
// inside its section, and no later one reaches the hardware), then kills
// the URBs the writes submitted before the revoke. The revoke cannot wait
// for devres: on an unbind with the device still plugged in (rmmod),
// usb_unbind_interface enables the interface's endpoints again as soon as
// disconnect returns, before devres_release_all, and a file operation
// still inside its section would submit to them after the kill. devres
// then only frees the hardware state.
func revDisconnect(u *usbsim.USB, cd *usbsim.ClassDriver, intf *usbsim.Interface) {
	st := intf.Intfdata().(*revState)
	minor := intf.Minor()
	u.DeregisterDev(intf, cd) // no new opens
	if err := intf.Dev().Devres().Release(st.revoke); err != nil {
		panic(fmt.Sprintf("skel_disconnect: %v", err)) // the action is the driver's own: a bug
	}
	st.hw.anchor.KillAll()
	emit(u, intf.Path(), "skel_disconnect", fmt.Sprintf("USB Skeleton #%d now disconnected", minor))
}

// revOpen takes a consumer handle on the provider of the minor's
// interface; a revoked provider gives -ENODEV.
func revOpen(u *usbsim.USB, drv *usbsim.Driver, f *chardev.File) error {
	intf := u.FindInterface(drv, f.Minor())
	if intf == nil {
		return fmt.Errorf("skel_open: can't find device for minor %d: %w", f.Minor(), usbsim.ErrNoDevice)
	}
	st, _ := intf.Intfdata().(*revState)
	if st == nil {
		return fmt.Errorf("skel_open: %w", usbsim.ErrNoDevice)
	}
	c, err := revocable.New(st.prov)
	if err != nil {
		return fmt.Errorf("skel_open: %w (%w)", usbsim.ErrNoDevice, err)
	}
	f.Private = c
	return nil
}

// with runs fn on the hardware state inside a read section; a revoked
// provider gives -ENODEV.
func with(f *chardev.File, op string, fn func(h *hw) error) error {
	c := f.Private.(*revocable.Consumer[hw])
	err := c.OrReturn(fn)
	if errors.Is(err, revocable.ErrRevoked) {
		return fmt.Errorf("%s: %w (%w)", op, usbsim.ErrNoDevice, err)
	}
	return err
}

func revRead(f *chardev.File, n int) ([]byte, error) {
	var out []byte
	err := with(f, "skel_read", func(h *hw) error {
		h.ioMutex.Lock()
		defer h.ioMutex.Unlock()
		h.obj.Access("skel_read: hw->udev")
		got, err := h.udev.BulkMsg(h.bulkIn.Address, h.buf, min(n, h.buf.Len()), ReadTimeout)
		if err != nil {
			return ioErr(err)
		}
		out = append([]byte(nil), h.buf.Bytes("skel_read: copy_to_user bulk_in_buffer")[:got]...)
		return nil
	})
	return out, err
}

func revWrite(f *chardev.File, p []byte) (int, error) {
	var n int
	err := with(f, "skel_write", func(h *hw) error {
		h.obj.Access("skel_write: hw->udev")
		var err error
		n, err = submitWrite(h.u, h.udev, h.bulkOut.Address, &h.anchor, p)
		return err
	})
	return n, err
}

func revIoctl(f *chardev.File, cmd uint, _ any) (int, error) {
	var n int
	err := with(f, "skel_ioctl", func(h *hw) error {
		h.obj.Access("skel_ioctl: hw->bulk_in_size")
		if cmd != IoctlBulkInSize {
			return fmt.Errorf("skel_ioctl: cmd %#x: %w", cmd, chardev.ErrNoTTY)
		}
		n = h.buf.Len()
		return nil
	})
	return n, err
}

// revRelease closes the consumer handle.
func revRelease(f *chardev.File) error {
	return f.Private.(*revocable.Consumer[hw]).Close()
}
