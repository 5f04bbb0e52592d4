package udlsim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/internal/raceexit"

	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim/scenario"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// On plain goroutines: bind, flush to the display, unplug with the file
// open, -ENODEV afterwards, the last close frees the drm device.
func TestPlugFlushUnplugClose(t *testing.T) {
	for _, v := range []udlsim.Variant{udlsim.Classic, udlsim.Revocable, udlsim.Broken} {
		t.Run(v.String(), func(t *testing.T) {
			r, err := scenario.NewRig(v, drvsim.NewSystem())
			require.NoError(t, err)
			defer r.Close()
			_, err = r.Plug(1)
			require.NoError(t, err)
			assert.Equal(t, []string{"card0"}, r.Class.Nodes())
			f, err := r.Class.Open("card0")
			require.NoError(t, err)
			d := f.Device()
			cd := &drmsim.CreateDumbArgs{Width: 16, Height: 3, BPP: 32}
			require.NoError(t, f.Ioctl(drmsim.IoctlCreateDumb, cd))
			require.NoError(t, f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle}))
			require.NoError(t, f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle, Clip: drmsim.Rect{X1: 4, Y1: 1, X2: 8, Y2: 2}}))
			assert.Equal(t, 4, r.Display.Lines())
			assert.Equal(t, 3*64+16, r.Display.Bytes())

			require.NoError(t, r.Unplug(1))
			assert.True(t, d.Unplugged())
			assert.False(t, d.Released())
			assert.ErrorIs(t, f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle}), drmsim.ErrNoDevice)
			_, err = r.Class.Open("card0")
			assert.ErrorIs(t, err, drmsim.ErrNoEntry, "the node is gone")
			require.NoError(t, f.Close())
			assert.True(t, d.Released())
			assert.Empty(t, r.Memory().Reports())
			assert.Empty(t, r.Memory().Leaks())
		})
	}
}

// udl_usb_disconnect in the kernel's order: drm_dev_unplug (mark, grace
// period, drm_dev_unregister, unmap_mapping_range), then udl_drop_usb,
// which frees the URB list inside disconnect; only then does the USB core
// finish the unbind and devres drop the devm reference.
func TestDisconnectUnplugsThenDropsUSB(t *testing.T) {
	r, err := scenario.NewRig(udlsim.Classic, drvsim.NewSystem())
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Plug(1)
	require.NoError(t, err)
	f, err := r.Class.Open("card0")
	require.NoError(t, err)
	seq := r.Log().Seq()
	require.NoError(t, r.Unplug(1))
	var got []string
	for _, e := range r.Log().Since(seq) {
		switch {
		case e.Kind == drmsim.KindDevice, e.Kind == udlsim.Kind, e.Kind == trace.DevresRelease,
			e.Kind == env.Mem && e.Func == "kfree",
			e.Func == "usb_unbind_interface":
			got = append(got, e.Short())
		}
	}
	const intf, card = "/sys/devices/usb1/1-1/1-1:1.0", "/sys/devices/usb1/1-1/1-1:1.0/drm/card0"
	assert.Equal(t, []string{
		"usb_unbind_interface " + intf + ": driver=udl soft_unbind=false device_gone=true",
		"usb_unbind_interface " + intf + ": driver->disconnect",
		"drm_dev_unplug " + card + ": unplugged, waiting for drm_dev_enter sections",
		"drm_dev_unplug " + card + ": every drm_dev_enter section has ended",
		"drm_dev_unregister " + card,
		"drm_minor_unregister " + card + ": /dev/dri/card0",
		"unmap_mapping_range " + card + ": 0 user mappings zapped",
		"udl_drop_usb " + intf + ": udl_free_urb_list: 2 urbs",
		"kfree: udl urb 0 buffer (object #3)",
		"kfree: udl urb 1 buffer (object #4)",
		"usb_unbind_interface " + intf + ": unbound",
		"devres_release_all " + intf + ": 1 action",
		"devm_action_release " + intf + ": devm_drm_dev_init_release card0",
		"drm_dev_put " + card + ": refs=1",
		"devres_release_all /sys/devices/usb1/1-1: 0 actions", // the usb_device, unbound from "usb"
	}, got)
	require.NoError(t, f.Close())
	assert.Empty(t, r.Memory().Reports())
	assert.Empty(t, r.Memory().Leaks())
}
