package usbsim

import "fmt"

// Suspend is usb_suspend_both (system sleep of one device): every bound
// interface driver's Suspend runs, last interface first, then the device
// is SUSPENDED, takes no more URBs (udev->can_submit cleared: submissions
// fail with -EHOSTUNREACH) and every endpoint is flushed
// (usb_hcd_flush_endpoint: the URBs still queued are given back with
// -ESHUTDOWN). A driver's error aborts it: the interfaces already
// suspended (those after it) are resumed, in interface order, and the
// error is returned.
func (d *Device) Suspend() error {
	u := d.u
	if st := d.State(); st != StateConfigured {
		return fmt.Errorf("usb_suspend_both %s: state %s: %w", d.Name(), st, ErrInvalid)
	}
	intfs := d.Interfaces()
	for i := len(intfs) - 1; i >= 0; i-- {
		intf := intfs[i]
		drv := intf.Driver()
		if drv == nil || drv.Suspend == nil {
			continue
		}
		u.emit(KindDriver, intf.Path(), "usb_suspend_interface", "driver="+drv.Name)
		if err := drv.Suspend(intf); err != nil {
			u.emit(KindDriver, intf.Path(), "usb_suspend_interface", "failed: "+Errno(err))
			for _, back := range intfs[i+1:] {
				if bd := back.Driver(); bd != nil && bd.Resume != nil {
					u.emit(KindDriver, back.Path(), "usb_resume_interface", "driver="+bd.Name)
					_ = bd.Resume(back)
				}
			}
			return fmt.Errorf("usb_suspend_both %s: %w", d.Name(), err)
		}
	}
	u.setState(d, StateSuspended)
	u.mu.Lock()
	d.noSubmit = true
	eps := sortEndpoints(d.eps)
	u.mu.Unlock()
	for _, ep := range eps {
		u.flushEndpoint(ep)
	}
	return nil
}

// Resume is usb_resume_both: the device takes URBs again (can_submit),
// is CONFIGURED again and every bound interface driver's Resume runs, in
// interface order. The first error is returned after all have run.
func (d *Device) Resume() error {
	u := d.u
	if st := d.State(); st != StateSuspended {
		return fmt.Errorf("usb_resume_both %s: state %s: %w", d.Name(), st, ErrInvalid)
	}
	u.mu.Lock()
	d.noSubmit = false
	u.mu.Unlock()
	u.setState(d, StateConfigured)
	var first error
	for _, intf := range d.Interfaces() {
		drv := intf.Driver()
		if drv == nil || drv.Resume == nil {
			continue
		}
		u.emit(KindDriver, intf.Path(), "usb_resume_interface", "driver="+drv.Name)
		if err := drv.Resume(intf); err != nil && first == nil {
			first = fmt.Errorf("usb_resume_both %s: %w", d.Name(), err)
		}
	}
	return first
}
