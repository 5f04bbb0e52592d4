package chardev_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/chardev"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

func newSystem(t *testing.T) *drvsim.System {
	t.Helper()
	sys := drvsim.NewSystem()
	t.Cleanup(sys.Close)
	return sys
}

func warns(sys *drvsim.System) []string {
	return trace.Shorts(trace.Filter(sys.Events(), trace.OfKind(trace.Warn)))
}

// register_chrdev_region reserves exact ranges; overlaps are -EBUSY and out
// of range requests -EINVAL, state intact; unregister gives the range back.
func TestRegisterRegion(t *testing.T) {
	sys := newSystem(t)
	require.NoError(t, chardev.RegisterRegion(sys, device.MkDev(100, 0), 4, "a"))
	require.NoError(t, chardev.RegisterRegion(sys, device.MkDev(100, 4), 4, "b"), "adjacent ranges do not overlap")
	assert.ErrorIs(t, chardev.RegisterRegion(sys, device.MkDev(100, 3), 2, "c"), chardev.ErrBusy)
	assert.ErrorIs(t, chardev.RegisterRegion(sys, device.MkDev(511, device.MinorMask), 2, "d"), chardev.ErrInvalid,
		"the second major of the range is past CHRDEV_MAJOR_MAX")
	assert.ErrorIs(t, chardev.RegisterRegion(sys, device.MkDev(100, 0), 0, "e"), chardev.ErrInvalid)
	assert.ErrorIs(t, chardev.RegisterRegion(sys, device.MkDev(101, 0), 1, ""), chardev.ErrInvalid)
	assert.ErrorIs(t, chardev.RegisterRegion(sys, device.MkDev(101, 0), 1, string(make([]byte, 64))), chardev.ErrInvalid)
	assert.Equal(t, []string{"100:0-3 a", "100:4-7 b"}, chardev.Regions(sys))

	// A range across two majors is two regions; a failure in the second
	// gives the first back.
	require.NoError(t, chardev.RegisterRegion(sys, device.MkDev(102, device.MinorMask-1), 4, "wide"))
	assert.Equal(t, []string{"100:0-3 a", "100:4-7 b", "102:1048574-1048575 wide", "103:0-1 wide"}, chardev.Regions(sys))
	require.NoError(t, chardev.RegisterRegion(sys, device.MkDev(105, 1), 1, "blocker"))
	assert.ErrorIs(t, chardev.RegisterRegion(sys, device.MkDev(104, device.MinorMask), 3, "rolled-back"), chardev.ErrBusy)
	assert.NotContains(t, chardev.Regions(sys), "104:1048575 rolled-back")

	chardev.UnregisterRegion(sys, device.MkDev(102, device.MinorMask-1), 4)
	chardev.UnregisterRegion(sys, device.MkDev(100, 0), 4)
	assert.Equal(t, []string{"100:4-7 b", "105:1 blocker"}, chardev.Regions(sys))
	chardev.UnregisterRegion(sys, device.MkDev(100, 0), 4) // not registered any more
	assert.Contains(t, warns(sys), "unregister_chrdev_region: 100:0-3 was not registered")
}

// alloc_chrdev_region takes the highest free hash slot from 254 down to
// 234 (a slot is taken by any major of that hash: 509 takes 254), then
// the highest free major from 511 down to 384, then -EBUSY.
func TestAllocRegionDynamicMajors(t *testing.T) {
	sys := newSystem(t)
	require.NoError(t, chardev.RegisterRegion(sys, device.MkDev(509, 0), 1, "slot 254"))
	d, err := chardev.AllocRegion(sys, 3, 2, "first")
	require.NoError(t, err)
	assert.Equal(t, device.MkDev(253, 3), d)
	var majors []uint32
	for {
		d, err := chardev.AllocRegion(sys, 0, 1, "more")
		if err != nil {
			assert.ErrorIs(t, err, chardev.ErrBusy)
			break
		}
		majors = append(majors, d.Major())
		require.Less(t, len(majors), 200, "the dynamic range is bounded")
	}
	// 252..234 (19 slots), then 511..384 except 509 (127 majors).
	require.Len(t, majors, 19+127)
	assert.Equal(t, uint32(252), majors[0])
	assert.Equal(t, uint32(234), majors[18])
	assert.Equal(t, uint32(511), majors[19])
	assert.Equal(t, uint32(510), majors[20])
	assert.Equal(t, uint32(508), majors[21])
	assert.Equal(t, uint32(384), majors[len(majors)-1])
	_, err = chardev.AllocRegion(sys, -1, 1, "bad")
	assert.ErrorIs(t, err, chardev.ErrInvalid)
	_, err = chardev.AllocRegion(sys, 0, device.MinorMask+2, "bad")
	assert.ErrorIs(t, err, chardev.ErrInvalid)
}

// Two machines share no numbers: each can take major 180.
func TestRegionsArePerMachine(t *testing.T) {
	a, b := newSystem(t), newSystem(t)
	_, err := chardev.RegisterChrdev(a, 180, "usb", &chardev.FileOperations{})
	require.NoError(t, err)
	_, err = chardev.RegisterChrdev(b, 180, "usb", &chardev.FileOperations{})
	require.NoError(t, err)
	_, err = chardev.RegisterChrdev(a, 180, "again", &chardev.FileOperations{})
	assert.ErrorIs(t, err, chardev.ErrBusy)
	assert.Equal(t, []string{"180:0-255 usb"}, chardev.Regions(b))
	mj, err := chardev.RegisterChrdev(a, 0, "dyn", &chardev.FileOperations{})
	require.NoError(t, err)
	assert.Equal(t, 254, mj)
	chardev.UnregisterChrdev(a, 180, "usb")
	assert.Equal(t, []string{"254:0-255 dyn"}, chardev.Regions(a))
	chardev.UnregisterChrdev(a, 180, "usb")
	assert.Contains(t, warns(a), `unregister_chrdev: "usb" major 180 was not registered`)
}
