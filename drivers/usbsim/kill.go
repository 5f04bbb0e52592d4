package usbsim

import "fmt"

// Kill is usb_kill_urb: cancel the URB and wait until its completion
// handler has finished. A queued URB completes with -ENOENT (ErrNoEntry),
// run by the caller; one the hardware already finished completes with its
// own status; a completion running elsewhere is waited for. While Kill
// runs, resubmission fails with -EPERM. Kill of an idle URB returns at
// once. It must not be called from the URB's own completion handler (the
// kernel would deadlock; under sim the run reports it).
func (urb *URB) Kill() {
	urb.kill("usb_kill_urb", false)
}

// Poison is usb_poison_urb: Kill, and keep rejecting submissions until
// Unpoison.
func (urb *URB) Poison() {
	urb.kill("usb_poison_urb", true)
}

// Unpoison is usb_unpoison_urb.
func (urb *URB) Unpoison() {
	if urb == nil {
		return
	}
	urb.reject.Add(-1)
}

func (urb *URB) kill(fn string, poison bool) {
	if urb == nil {
		return
	}
	if urb.Dev == nil {
		// usb_poison_urb marks even an URB that was never filled in;
		// usb_kill_urb returns at once
		if poison {
			urb.reject.Add(1)
		}
		return
	}
	u := urb.Dev.u
	u.yield("urb", fn, urb.String())
	u.mu.Lock()
	urb.reject.Add(1)
	claimed := false
	switch urb.state {
	case urbQueued:
		q := urb.ep.queue
		for i, x := range q {
			if x == urb {
				urb.ep.queue = append(q[:i:i], q[i+1:]...)
				break
			}
		}
		urb.state, urb.Status = urbIdle, ErrNoEntry
		urb.claimLocked()
		claimed = true
	case urbDone:
		h := urb.Dev.hcd
		for i, x := range h.done {
			if x == urb {
				h.done = append(h.done[:i:i], h.done[i+1:]...)
				break
			}
		}
		urb.state = urbIdle
		urb.claimLocked()
		claimed = true
	}
	busy := urb.claims > 0
	u.mu.Unlock()
	if claimed || busy {
		u.emit(KindURB, urb.Dev.Path(), fn, urb.String())
	}
	if claimed {
		u.giveback(urb)
	}
	u.killq.Wait(fn+" "+urb.String(), func() bool {
		u.mu.Lock()
		defer u.mu.Unlock()
		return urb.state == urbIdle && urb.claims == 0
	})
	if !poison {
		urb.reject.Add(-1)
	}
}

// Unlink is usb_unlink_urb: cancel the URB without waiting. A queued URB
// is taken off its endpoint with -ECONNRESET (ErrConnReset) and its
// completion runs at the controller's next giveback; the kernel returns
// -EINPROGRESS for this success, Unlink returns nil. An URB that is not
// queued gives ErrIdentifierRemoved (-EIDRM).
func (urb *URB) Unlink() error {
	if urb == nil || urb.Dev == nil {
		return fmt.Errorf("usb_unlink_urb: %w", ErrInvalid)
	}
	u := urb.Dev.u
	u.mu.Lock()
	if urb.state != urbQueued {
		u.mu.Unlock()
		return fmt.Errorf("usb_unlink_urb %s: not queued: %w", urb, ErrIdentifierRemoved)
	}
	q := urb.ep.queue
	for i, x := range q {
		if x == urb {
			urb.ep.queue = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	urb.state, urb.Status = urbDone, ErrConnReset
	urb.Dev.hcd.done = append(urb.Dev.hcd.done, urb)
	u.mu.Unlock()
	u.emit(KindURB, urb.Dev.Path(), "usb_unlink_urb", urb.String()+": -ECONNRESET")
	u.killq.WakeAll()
	return nil
}
