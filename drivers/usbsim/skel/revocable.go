package skel

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/drivers/usbsim/chardev"
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

// revState is the interface data: the provider and the minor.
type revState struct {
	prov  *revocable.Provider[hw]
	minor int
}

// NewRevocable returns the skeleton converted onto package revocable, as a
// usb_driver named "skel-revocable".
func NewRevocable(u *usbsim.USB, reg *chardev.Registry) *usbsim.Driver {
	ops := &chardev.Operations{}
	drv := &usbsim.Driver{Name: string(Revocable), IDTable: IDTable()}
	drv.Probe = func(intf *usbsim.Interface, _ usbsim.DeviceID) error { return revProbe(u, reg, ops, intf) }
	drv.Disconnect = func(intf *usbsim.Interface) { revDisconnect(u, reg, intf) }
	ops.Open = func(f *chardev.File) error { return revOpen(reg, f) }
	ops.Read = revRead
	ops.Write = revWrite
	ops.Ioctl = revIoctl
	ops.Release = revRelease
	return drv
}

// revProbe: allocate the hardware state, register its free and its
// provider as devm actions (released in reverse: revoke, then free), then
// take a minor. Any failure is unwound by devres.
func revProbe(u *usbsim.USB, reg *chardev.Registry, ops *chardev.Operations, intf *usbsim.Interface) error {
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
	prov, err := revocable.DevmProvider(intf.Dev(), h, revocable.WithName("skel "+intf.Name()))
	if err != nil {
		return err
	}
	if _, err := res.AddOrReset("usb_kill_anchored_urbs", h.anchor.KillAll); err != nil {
		return err
	}
	minor, err := reg.Register(NodeName, ops, prov)
	if err != nil {
		return err
	}
	intf.SetMinor(minor)
	intf.SetIntfdata(&revState{prov: prov, minor: minor})
	emit(u, intf.Path(), "skel_probe", fmt.Sprintf("USB Skeleton device now attached to USBSkel-%d", minor))
	return nil
}

// revDisconnect gives the minor back. That is all: the devres release
// after it kills the URBs, revokes the provider (waiting for every file
// operation in flight) and frees the hardware state.
func revDisconnect(u *usbsim.USB, reg *chardev.Registry, intf *usbsim.Interface) {
	st := intf.Intfdata().(*revState)
	reg.Deregister(st.minor)
	intf.SetMinor(-1)
	emit(u, intf.Path(), "skel_disconnect", fmt.Sprintf("USB Skeleton #%d now disconnected", st.minor))
}

// revOpen takes a consumer handle on the minor's provider; a revoked
// provider gives -ENODEV.
func revOpen(reg *chardev.Registry, f *chardev.File) error {
	prov, _ := reg.Data(f.Minor()).(*revocable.Provider[hw])
	c, err := revocable.New(prov)
	if err != nil {
		return fmt.Errorf("skel_open: %w (%w)", chardev.ErrNoDevice, err)
	}
	f.Private = c
	return nil
}

// with runs fn on the hardware state inside a read section; a revoked
// provider gives -ENODEV.
func with(f *chardev.File, op string, fn func(h *hw) error) error {
	c := f.Private.(*revocable.Consumer[hw])
	err := c.With(fn)
	if errors.Is(err, revocable.ErrRevoked) {
		return fmt.Errorf("%s: %w (%w)", op, chardev.ErrNoDevice, err)
	}
	return err
}

func revRead(f *chardev.File, n int) ([]byte, error) {
	var out []byte
	err := with(f, "skel_read", func(h *hw) error {
		h.ioMutex.Lock()
		defer h.ioMutex.Unlock()
		h.obj.Access("skel_read: hw->udev")
		got, err := h.udev.BulkMsg(h.bulkIn.Address, h.buf, min(n, h.buf.Len()))
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

func revIoctl(f *chardev.File, cmd uint, _ int) (int, error) {
	var n int
	err := with(f, "skel_ioctl", func(h *hw) error {
		h.obj.Access("skel_ioctl: hw->bulk_in_size")
		if cmd != IoctlBulkInSize {
			return chardev.ErrNotSupported
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
