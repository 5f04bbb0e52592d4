package udlsim

import (
	"errors"
	"fmt"

	"github.com/drvsim/drvsim/drivers/drmsim"
	"github.com/drvsim/drvsim/drivers/usbsim"
)

// handleDamage is udl_handle_damage: render every damaged line of bo into
// an URB of the pool and send it as a bulk OUT transfer, NumURBs lines at a
// time, waiting for each batch to complete (udl_sync_pending_urbs). A
// submission refused or an URB terminated because the device is going away
// (-ENODEV, -ESHUTDOWN, -ENOENT, -EPERM) makes the flush fail with
// -ENODEV.
func (ud *udl) handleDamage(bo *drmsim.GEMObject, clip drmsim.Rect) error {
	ud.lock.Lock()
	defer ud.lock.Unlock()
	cpp := bo.Pitch() / bo.Width()
	lines := 0
	for y := clip.Y1; y < clip.Y2; y += len(ud.urbs) {
		var sent []*usbsim.URB
		var err error
		for i := 0; i < len(ud.urbs) && y+i < clip.Y2; i++ {
			urb := ud.urbs[i]
			fb := bo.Bytes("udl_render_hline: read framebuffer")
			line := fb[(y+i)*bo.Pitch()+clip.X1*cpp : (y+i)*bo.Pitch()+clip.X2*cpp]
			n := copy(urb.Buffer.Bytes("udl_render_hline: write urb transfer_buffer"), line)
			urb.Length = n
			if err = urb.Submit(); err != nil {
				break
			}
			sent = append(sent, urb)
		}
		for _, urb := range sent {
			if werr := ud.usb.WaitURB(urb, 0); err == nil && werr != nil {
				err = werr
			}
		}
		lines += len(sent)
		if err != nil {
			return damageErr(err)
		}
	}
	st := ud.state.Load("udl_handle_damage: udl->stats")
	st.Flushes++
	st.Lines += lines
	ud.state.Store("udl_handle_damage: udl->stats", st)
	return nil
}

// damageErr maps a USB failure to the flush's result.
func damageErr(err error) error {
	for _, gone := range []error{usbsim.ErrNoDevice, usbsim.ErrShutdown, usbsim.ErrNoEntry, usbsim.ErrPerm} {
		if errors.Is(err, gone) {
			return fmt.Errorf("udl_handle_damage: device gone (%s): %w", usbsim.Errno(err), drmsim.ErrNoDevice)
		}
	}
	return fmt.Errorf("udl_handle_damage: %w", err)
}
