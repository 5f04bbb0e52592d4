package usbsim

import (
	"fmt"
	"time"
)

// BulkMsg is usb_bulk_msg: submit a bulk (or interrupt) transfer of
// length bytes of buf to endpoint ep and wait for its completion, at most
// timeout of the machine's virtual clock (0: no timeout, as the kernel's
// MAX_SCHEDULE_TIMEOUT). While it waits the caller drives the host
// controller: it gives back every URB the hardware has finished, its own
// included (the kernel's BH running on this CPU). It returns the bytes
// transferred and the URB's status (ErrShutdown when the endpoint was
// disabled under it, ErrNoEntry when killed by someone else), ErrTimedOut
// when the timeout expired first (the URB is killed, as usb_start_wait_urb
// does), or the submission error.
func (d *Device) BulkMsg(ep uint8, buf *Buffer, length int, timeout time.Duration) (int, error) {
	u := d.u
	urb := u.AllocURB()
	urb.FillBulk(d, ep, buf, length, func(*URB) {}, nil) // usb_api_blocking_completion
	if err := urb.Submit(); err != nil {
		return 0, err
	}
	err := u.WaitURB(urb, timeout)
	return urb.Actual, err
}

// WaitURB is usb_start_wait_urb's wait for an URB already submitted: it
// waits until urb is no longer in flight, at most timeout of the virtual
// clock (0: no timeout), giving back finished URBs of the URB's controller
// meanwhile, and returns the URB's status. When the timeout expires first
// the URB is killed (usb_kill_urb) and the result is ErrTimedOut, unless
// the URB had completed with a status of its own in the meantime.
func (u *USB) WaitURB(urb *URB, timeout time.Duration) error {
	h := urb.Dev.hcd
	e := u.Env()
	deadline := e.Now() + timeout
	what := "usb_start_wait_urb " + urb.String()
	ready := func() bool {
		u.mu.Lock()
		defer u.mu.Unlock()
		return len(h.done) > 0 || (urb.state == urbIdle && urb.claims == 0)
	}
	for {
		if !urb.InFlight() {
			return urb.Status
		}
		if next := u.claimDone(h, nil); next != nil {
			u.giveback(next) // FIFO: urb's own turn comes
			continue
		}
		if timeout <= 0 {
			u.killq.Wait(what, ready)
			continue
		}
		if left := deadline - e.Now(); left > 0 && u.killq.WaitTimeout(what, ready, left) {
			continue
		}
		if !urb.InFlight() {
			return urb.Status
		}
		urb.Kill()
		status := urb.Status
		u.emit(KindURB, urb.Dev.Path(), "usb_start_wait_urb", fmt.Sprintf("%s timed out on ep%d%s len=%d/%d",
			urb, urb.Endpoint&0x0f, dirName(urb.Endpoint), urb.Actual, urb.length()))
		if status == ErrNoEntry {
			return ErrTimedOut
		}
		return status
	}
}

// dirName is "in" or "out" for an endpoint address, as usb_urb_dir_in
// tells them apart in the kernel's messages.
func dirName(ep uint8) string {
	if ep&DirIn != 0 {
		return "in"
	}
	return "out"
}
