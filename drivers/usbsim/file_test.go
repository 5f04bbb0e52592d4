package usbsim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/drivers/usbsim"
)

// lpDriver is a usb class driver in the style of usblp: its minors start
// at base, its nodes are /dev/usb/lp<N> (a devnode), its open finds the
// interface by minor (usb_find_interface). regErr records the last
// usb_register_dev error of a probe.
type lpDriver struct {
	u       *usbsim.USB
	drv     *usbsim.Driver
	cd      *usbsim.ClassDriver
	opened  []*usbsim.Interface
	regErrs []error
}

func newLP(u *usbsim.USB, base int, open bool) *lpDriver {
	lp := &lpDriver{u: u}
	fops := &chardev.FileOperations{}
	if open {
		fops.Open = func(f *chardev.File) error {
			intf := u.FindInterface(lp.drv, f.Minor())
			if intf == nil {
				return usbsim.ErrNoDevice
			}
			lp.opened = append(lp.opened, intf)
			return nil
		}
	}
	lp.cd = &usbsim.ClassDriver{Name: "lp%d", Fops: fops, MinorBase: base,
		Devnode: func(d *device.Device) string { return "usb/" + d.Name() }}
	lp.drv = &usbsim.Driver{Name: "lp", IDTable: []usbsim.DeviceID{usbsim.ID(0x1234, 0x0001)},
		Probe: func(intf *usbsim.Interface, _ usbsim.DeviceID) error {
			err := u.RegisterDev(intf, lp.cd)
			lp.regErrs = append(lp.regErrs, err)
			return err
		},
		Disconnect: func(intf *usbsim.Interface) { u.DeregisterDev(intf, lp.cd) },
	}
	return lp
}

// usb_register_dev hands out the minors from minor_base to 255, creates
// one usbmisc class device per interface (the class itself at the first
// registration, destroyed at the last deregistration) and its node;
// -EXFULL past 255; usb_open dispatches an open to the minor's driver.
func TestRegisterDevMinorsClassAndOpen(t *testing.T) {
	sys, u, h := newUSB(t)
	lp := newLP(u, 254, true)
	require.NoError(t, u.Register(lp.drv))
	assert.Nil(t, u.Class())
	var devs []*usbsim.Device
	for port := 1; port <= 3; port++ {
		d, err := h.RootHub().Plug(port, usbsim.BulkGadget(0x1234, 0x0001, 64, usbsim.NewLoopback(0)))
		require.NoError(t, err)
		devs = append(devs, d)
	}
	require.Len(t, lp.regErrs, 3)
	assert.NoError(t, lp.regErrs[0])
	assert.NoError(t, lp.regErrs[1])
	assert.ErrorIs(t, lp.regErrs[2], usbsim.ErrExFull, "minors 254 and 255 are taken")
	assert.Equal(t, "", devs[2].Interface(0).Dev().DriverName(), "its probe failed")
	assert.Equal(t, 254, devs[0].Interface(0).Minor())
	assert.Equal(t, 255, devs[1].Interface(0).Minor())
	require.NotNil(t, u.Class())
	assert.Equal(t, "usbmisc", u.Class().Name())
	var nodes []string
	for _, n := range sys.DevNodes() {
		nodes = append(nodes, n.Path()+" "+n.Devt.String()+" "+n.Dev.Path())
	}
	assert.Equal(t, []string{
		"/dev/usb/lp0 180:254 /sys/devices/usb1/1-1/1-1:1.0/usbmisc/lp0",
		"/dev/usb/lp1 180:255 /sys/devices/usb1/1-2/1-2:1.0/usbmisc/lp1",
	}, nodes)

	f, err := chardev.Open(sys, "/dev/usb/lp1")
	require.NoError(t, err)
	assert.Equal(t, []*usbsim.Interface{devs[1].Interface(0)}, lp.opened, "usb_open reached lp's open")
	require.NoError(t, f.Close())

	// A second usb_register_dev on the same interface, or without fops.
	assert.ErrorIs(t, u.RegisterDev(devs[0].Interface(0), lp.cd), usbsim.ErrAddrInUse)
	assert.ErrorIs(t, u.RegisterDev(devs[2].Interface(0), &usbsim.ClassDriver{Name: "x%d"}), usbsim.ErrInvalid)

	require.NoError(t, devs[0].Disconnect())
	assert.False(t, u.MinorTaken(254))
	_, err = chardev.OpenDevt(sys, device.MkDev(usbsim.Major, 254))
	assert.ErrorIs(t, err, usbsim.ErrNoDevice, "usb_open of a free minor")
	_, err = chardev.OpenDevt(sys, device.MkDev(usbsim.Major, 3))
	assert.ErrorIs(t, err, usbsim.ErrNoDevice)
	require.NotNil(t, u.Class(), "lp1 still holds the class")
	require.NoError(t, devs[1].Disconnect())
	assert.Nil(t, u.Class(), "destroy_usb_class at the last usb_deregister_dev")
	assert.Empty(t, sys.DevNodes())
	assert.Nil(t, u.FindInterface(lp.drv, 255))
	assert.Empty(t, chardev.Classes(sys))
	assert.Equal(t, []string{"180:0-255 usb"}, chardev.Regions(sys), "usb_major_init's region stays")
}

// A class driver whose fops have no open: usb_open answers -ENODEV.
func TestUSBOpenWithoutDriverOpen(t *testing.T) {
	sys, u, h := newUSB(t)
	lp := newLP(u, 192, false)
	require.NoError(t, u.Register(lp.drv))
	_, err := h.RootHub().Plug(1, usbsim.BulkGadget(0x1234, 0x0001, 64, usbsim.NewLoopback(0)))
	require.NoError(t, err)
	_, err = chardev.Open(sys, "/dev/usb/lp0")
	assert.ErrorIs(t, err, usbsim.ErrNoDevice)
}
