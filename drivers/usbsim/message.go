package usbsim

// BulkMsg is usb_bulk_msg: submit a bulk (or interrupt) transfer of
// length bytes of buf to endpoint ep and wait for its completion. While it
// waits the caller drives the host controller: it gives back every URB the
// hardware has finished, its own included (the kernel's BH running on
// this CPU). It returns the bytes transferred and the URB's status
// (ErrShutdown when the endpoint was disabled under it, ErrNoEntry when
// killed) or the submission error. A timeout is not modelled: the wait ends
// when the device answers or the URB is terminated.
func (d *Device) BulkMsg(ep uint8, buf *Buffer, length int) (int, error) {
	u := d.u
	urb := u.AllocURB()
	urb.FillBulk(d, ep, buf, length, func(*URB) {}, nil) // usb_api_blocking_completion
	if err := urb.Submit(); err != nil {
		return 0, err
	}
	u.WaitURB(urb)
	return urb.Actual, urb.Status
}

// WaitURB waits until urb is no longer in flight (usb_start_wait_urb's
// wait_for_completion), giving back finished URBs of the URB's controller
// meanwhile.
func (u *USB) WaitURB(urb *URB) {
	h := urb.Dev.hcd
	for {
		if !urb.InFlight() {
			return
		}
		if next := u.claimDone(h, nil); next != nil {
			u.giveback(next) // FIFO: urb's own turn comes
			continue
		}
		u.killq.Wait("usb_start_wait_urb "+urb.String(), func() bool {
			u.mu.Lock()
			defer u.mu.Unlock()
			return len(h.done) > 0 || (urb.state == urbIdle && urb.claims == 0)
		})
	}
}
