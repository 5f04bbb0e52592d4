package udlsim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim"
	"github.com/drvsim/drvsim/drivers/drmsim/udlsim/scenario"
	"github.com/drvsim/drvsim/drivers/usbsim"
	"github.com/drvsim/drvsim/pm"
)

// A system sleep with /dev/dri/card0 open and the display on: udl's
// suspend saves the mode and turns the pipe off
// (drm_mode_config_helper_suspend), the file stays open with its buffer
// objects, a flush that reaches the suspended device fails with
// -EHOSTUNREACH, and resume commits the saved state again.
func TestUDLSystemSleepKeepsFilesAndMode(t *testing.T) {
	r, err := scenario.NewRig(udlsim.Classic, drvsim.NewSystem())
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Plug(1)
	require.NoError(t, err)
	f, err := r.Class.Open("card0")
	require.NoError(t, err)
	d := f.Device()
	cd := &drmsim.CreateDumbArgs{Width: 16, Height: 2, BPP: 32}
	require.NoError(t, f.Ioctl(drmsim.IoctlCreateDumb, cd))
	require.NoError(t, f.Ioctl(drmsim.IoctlSetCRTC, &drmsim.SetCRTCArgs{Handle: cd.Handle, Active: true}))
	on := drmsim.CRTCState{Active: true, FB: cd.Handle}
	assert.Equal(t, on, d.CRTC())

	require.NoError(t, pm.Suspend(r.Sys))
	assert.True(t, d.Suspended())
	assert.Equal(t, drmsim.CRTCState{}, d.CRTC(), "drm_atomic_helper_suspend turned the pipe off")
	assert.Equal(t, 1, d.Files(), "the file stays open across the suspend")
	err = f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle})
	assert.ErrorIs(t, err, usbsim.ErrHostUnreach, "user space is not frozen in drvsim: the flush reaches a suspended device")

	require.NoError(t, pm.Resume(r.Sys))
	assert.False(t, d.Suspended())
	assert.Equal(t, on, d.CRTC(), "the saved state committed again")
	require.NoError(t, f.Ioctl(drmsim.IoctlDirtyFB, &drmsim.DirtyFBArgs{Handle: cd.Handle}), "the buffer object survived")
	require.NoError(t, f.Close())
	assert.Empty(t, r.Memory().Reports())
}

// drm_mode_config_helper_resume without a saved state is the kernel's
// WARN_ON and -EINVAL; suspending twice is refused.
func TestModeConfigHelperMisuse(t *testing.T) {
	r, err := scenario.NewRig(udlsim.Classic, drvsim.NewSystem())
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Plug(1)
	require.NoError(t, err)
	f, err := r.Class.Open("card0")
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	d := f.Device()
	assert.ErrorIs(t, d.ModeConfigHelperResume(), drmsim.ErrInvalid)
	require.NoError(t, d.ModeConfigHelperSuspend())
	assert.ErrorIs(t, d.ModeConfigHelperSuspend(), drmsim.ErrBusy)
	require.NoError(t, d.ModeConfigHelperResume())
}
