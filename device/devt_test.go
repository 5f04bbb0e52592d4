package device_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/drvsim/drvsim/device"
)

func TestDevT(t *testing.T) {
	d := device.MkDev(180, 192)
	assert.Equal(t, uint32(180), d.Major())
	assert.Equal(t, uint32(192), d.Minor())
	assert.Equal(t, "180:192", d.String())
	assert.Equal(t, device.DevT(180<<20|192), d)
	assert.Equal(t, uint32(device.MinorMask), device.MkDev(1, device.MinorMask).Minor())
	assert.Equal(t, device.MkDev(1, 0), device.MkDev(1, device.MinorMask+1), "MKDEV does not check its fields: a minor's overflow is cut")
}

type class struct{ name string }

func (c class) ClassName() string             { return c.name }
func (c class) DevNode(*device.Device) string { return "" }

// A class device's sysfs path: below its parent's class directory (the
// glue directory), below a class parent directly, or under
// /sys/devices/virtual; its node name is its name with '!' as '/'.
func TestClassDevicePathsAndNodes(t *testing.T) {
	parent := device.New("1-1:1.0")
	usbmisc := class{"usbmisc"}
	d := device.New("skel0", device.WithParent(parent), device.WithClass(usbmisc), device.WithDevt(device.MkDev(180, 192)))
	assert.Equal(t, "/sys/devices/1-1:1.0/usbmisc/skel0", d.Path())
	assert.Equal(t, "usbmisc", d.ClassName())
	assert.Equal(t, usbmisc, d.Class())
	assert.Equal(t, device.MkDev(180, 192), d.Devt())
	assert.Equal(t, "skel0", d.DevNode())
	child := device.New("input0", device.WithParent(d), device.WithClass(class{"input"}))
	assert.Equal(t, "/sys/devices/1-1:1.0/usbmisc/skel0/input0", child.Path(), "a class parent: no glue directory")
	assert.Equal(t, "", child.DevNode(), "no number, no node")
	v := device.New("bus!x", device.WithClass(class{"misc"}), device.WithDevt(device.MkDev(10, 1)))
	assert.Equal(t, "/sys/devices/virtual/misc/bus!x", v.Path())
	assert.Equal(t, "bus/x", v.DevNode())
	assert.Equal(t, "", device.New("plain").ClassName())
}
