package drmsim

import (
	"fmt"

	"github.com/drvsim/drvsim/trace"
)

// KindModeset is the kind of mode-setting events: the ioctl's commit
// (drm_atomic_commit), drm_mode_config_helper_suspend and _resume and
// what they call.
const KindModeset trace.Kind = "drm.modeset"

// CRTCState is the model's atomic state (struct drm_atomic_state reduced
// to one CRTC and its primary plane): whether the display pipe is on, and
// which buffer object (by GEM handle of the file that set it) it scans out.
type CRTCState struct {
	// Active is crtc_state->active.
	Active bool
	// FB is the GEM handle of the buffer on the primary plane, 0 for none.
	FB uint32
}

// String renders the state, e.g. "crtc active fb=1" or "crtc off".
func (s CRTCState) String() string {
	if !s.Active {
		return "crtc off"
	}
	return fmt.Sprintf("crtc active fb=%d", s.FB)
}

// modeConfig is struct drm_mode_config's part the helpers use.
type modeConfig struct {
	state        CRTCState  // the committed state
	suspendState *CRTCState // mode_config.suspend_state
	pollEnabled  bool       // output polling (drm_kms_helper_poll_enable)
	clientOn     bool       // the fbdev client is not suspended
}

// IoctlSetCRTC is DRM_IOCTL_MODE_SETCRTC (drm_mode_setcrtc): set the
// display pipe on, scanning out a buffer, or off. arg *SetCRTCArgs.
const IoctlSetCRTC Cmd = 0xA2

// SetCRTCArgs is struct drm_mode_crtc, reduced: Active turns the pipe on
// with the buffer object Handle (of the calling file) on its primary
// plane, or off.
type SetCRTCArgs struct {
	Handle uint32
	Active bool
}

// ioctlSetCRTC is drm_mode_setcrtc: a commit of the new state
// (drm_atomic_commit).
func ioctlSetCRTC(f *File, arg any) error {
	a, err := argOf[SetCRTCArgs](arg, "drm_mode_setcrtc")
	if err != nil {
		return err
	}
	s := CRTCState{Active: a.Active}
	if a.Active {
		if _, err := f.Lookup(a.Handle); err != nil {
			return err
		}
		s.FB = a.Handle
	}
	f.dev.commit("drm_mode_setcrtc", s)
	return nil
}

// commit is drm_atomic_commit of s.
func (d *Device) commit(fn string, s CRTCState) {
	d.mu.Lock()
	d.mode.state = s
	d.mu.Unlock()
	d.emit(KindModeset, "drm_atomic_commit", fn+": "+s.String())
}

// CRTC returns the committed display state.
func (d *Device) CRTC() CRTCState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mode.state
}

// ModeConfigHelperSuspend is drm_mode_config_helper_suspend, what a
// display driver calls from its suspend callback: output polling stops
// (drm_kms_helper_poll_disable), the fbdev client is suspended
// (drm_client_dev_suspend), and drm_atomic_helper_suspend saves the
// current state (duplicates it into mode_config.suspend_state) and
// commits every CRTC off. Open files stay open, with their buffer
// objects. Calling it again before ModeConfigHelperResume is refused with
// ErrBusy and a warning: the kernel does not check, and would save the
// disabled state over the first one, leaking it, so that the resume
// restores a dark screen.
func (d *Device) ModeConfigHelperSuspend() error {
	d.mu.Lock()
	if d.mode.suspendState != nil {
		d.mu.Unlock()
		d.emit(trace.Warn, "drm_mode_config_helper_suspend", "a suspend state is saved already")
		return fmt.Errorf("drm_mode_config_helper_suspend %s: %w", d.path, ErrBusy)
	}
	d.mode.pollEnabled, d.mode.clientOn = false, false
	saved := d.mode.state
	d.mode.suspendState = &saved
	d.mu.Unlock()
	d.emit(KindModeset, "drm_mode_config_helper_suspend", "drm_kms_helper_poll_disable, drm_client_dev_suspend")
	d.emit(KindModeset, "drm_atomic_helper_suspend", "state saved: "+saved.String())
	d.commit("drm_atomic_helper_disable_all", CRTCState{})
	return nil
}

// ModeConfigHelperResume is drm_mode_config_helper_resume: the saved
// state is committed again (drm_atomic_helper_resume, after
// drm_mode_config_reset), then the fbdev client resumes and polling
// starts. With no saved state it is the kernel's WARN_ON and ErrInvalid.
func (d *Device) ModeConfigHelperResume() error {
	d.mu.Lock()
	saved := d.mode.suspendState
	d.mode.suspendState = nil
	if saved != nil {
		d.mode.pollEnabled, d.mode.clientOn = true, true
	}
	d.mu.Unlock()
	if saved == nil {
		d.emit(trace.Warn, "drm_mode_config_helper_resume", "WARN_ON(!dev->mode_config.suspend_state)")
		return fmt.Errorf("drm_mode_config_helper_resume %s: no suspend state: %w", d.path, ErrInvalid)
	}
	d.emit(KindModeset, "drm_atomic_helper_resume", "drm_mode_config_reset, committing the saved state")
	d.commit("drm_atomic_helper_commit_duplicated_state", *saved)
	d.emit(KindModeset, "drm_mode_config_helper_resume", "drm_client_dev_resume, drm_kms_helper_poll_enable")
	return nil
}

// Suspended reports whether a mode-config suspend state is saved
// (between ModeConfigHelperSuspend and ModeConfigHelperResume).
func (d *Device) Suspended() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mode.suspendState != nil
}
