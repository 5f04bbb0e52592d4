package device_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/device"
)

// dev_set_name: a '/' in a name becomes '!' (kobject_set_name_vargs), so
// "a/b" is a sibling of "a", never its child "b".
func TestNameSlashBecomesBang(t *testing.T) {
	d := device.New("cciss/c0d0", device.WithBus(fakeBus{}))
	assert.Equal(t, "cciss!c0d0", d.Name())
	assert.Equal(t, "/sys/devices/fake/cciss!c0d0", d.Path())
	parent := device.New("a")
	child := device.New("b", device.WithParent(parent))
	slashed := device.New("a/b")
	assert.NotEqual(t, child.Path(), slashed.Path())
}

func TestValidateName(t *testing.T) {
	require.NoError(t, device.ValidateName("device", "uart.0"))
	require.NoError(t, device.ValidateName("device", strings.Repeat("x", device.NameMax)))
	require.NoError(t, device.ValidateName("device", "naïve ✓"))
	assert.ErrorIs(t, device.ValidateName("device", ""), device.ErrInvalid)
	assert.ErrorIs(t, device.ValidateName("device", strings.Repeat("x", device.NameMax+1)), device.ErrNameTooLong)
	assert.ErrorIs(t, device.ValidateName("device", "a/b"), device.ErrInvalid)
	for _, c := range []string{"\n", "\r", "\x1b[31m", "\x00", "\t", "\x7f"} {
		assert.ErrorIs(t, device.ValidateName("device", "bad"+c+"name"), device.ErrInvalid, "%q", c)
	}
}

// driver_set_override: the value ends at the first NUL and the first
// newline, an empty result clears, PAGE_SIZE-1 bytes or more is -EINVAL.
func TestDriverOverrideKernelRules(t *testing.T) {
	d := device.New("o")
	for _, c := range []struct{ in, want string }{
		{"vfio-pci\n", "vfio-pci"},
		{"vfio-pci", "vfio-pci"},
		{"a\nb", "a"},
		{"a\x00b", "a"},
		{"\n", ""},
		{"x", "x"},
		{"", ""},
		{"\x00\x00\x00", ""},
	} {
		require.NoError(t, d.SetDriverOverride(c.in))
		assert.Equal(t, c.want, d.DriverOverride(), "%q", c.in)
	}
	require.NoError(t, d.SetDriverOverride("keep"))
	require.NoError(t, d.SetDriverOverride(strings.Repeat("d", 4094)))
	assert.Len(t, d.DriverOverride(), 4094)
	require.NoError(t, d.SetDriverOverride("keep"))
	assert.ErrorIs(t, d.SetDriverOverride(strings.Repeat("d", 4095)), device.ErrInvalid)
	assert.Equal(t, "keep", d.DriverOverride(), "a refused value changes nothing")
}

// Attributes need a sysfs name and a value that fits a page.
func TestAttrLimits(t *testing.T) {
	d := device.New("attrs")
	assert.ErrorIs(t, d.SetAttr("", "v"), device.ErrInvalid)
	assert.ErrorIs(t, d.SetAttr("a/b", "v"), device.ErrInvalid)
	assert.ErrorIs(t, d.SetAttr("ok", strings.Repeat("v", 4097)), device.ErrInvalid)
	require.NoError(t, d.SetAttr("ok", strings.Repeat("v", 4096)))
	assert.Equal(t, []string{"ok"}, d.Attrs())
}

// A nil option, a typed nil bus and a nil environment are refused or
// ignored, never a panic.
func TestNilInputs(t *testing.T) {
	var nilBus *typedBus
	d := device.New("n", nil, device.WithBus(nilBus))
	assert.Nil(t, d.Bus())
	assert.Equal(t, "/sys/devices/n", d.Path())
	assert.ErrorIs(t, d.Core().Initialize(nil), device.ErrInvalid)
	assert.Equal(t, device.StateNew, d.State())
	assert.False(t, d.Core().RemoveLink(nil))
	assert.PanicsWithValue(t, "device: CoreAccess.AddLink: a link needs a consumer and a supplier", func() { d.Core().AddLink(nil) })
}

type typedBus struct{ name string }

func (b *typedBus) BusName() string     { return b.name }
func (b *typedBus) DevicesRoot() string { return b.name }
