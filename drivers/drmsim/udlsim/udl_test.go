package udlsim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
)

// On plain goroutines: bind, flush to the display, unplug with the file
// open, -ENODEV afterwards, the last close frees the drm device.
func TestPlugFlushUnplugClose(t *testing.T) {
	for _, v := range []udlsim.Variant{udlsim.Classic, udlsim.Revocable, udlsim.Broken} {
		t.Run(v.String(), func(t *testing.T) {
			r, err := udlsim.NewRig(v, nil, nil)
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
			assert.ErrorIs(t, err, drmsim.ErrNoDevice)
			require.NoError(t, f.Close())
			assert.True(t, d.Released())
			assert.Empty(t, r.Memory().Reports())
			assert.Empty(t, r.Memory().Leaks())
		})
	}
}
